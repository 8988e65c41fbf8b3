"""The training data keeps the names in `../shared/faq-topics.md` and gives every intent and FAQ key enough examples.

Evaluation tools and readers of `/model/parse` rely on those names, so a renamed or missing one
must fail here rather than in a report nobody reads.
"""

import re
from collections import Counter

import pytest
import yaml

from bot.settings import PROJECT_ROOT, Settings

MIN_EXAMPLES = 15


def _contract() -> tuple[set[str], set[str]]:
    text = (Settings.from_env({}).content_dir.parent / "faq-topics.md").read_text(encoding="utf-8")
    faq_keys = set(re.findall(r"`faq/(\w+)`", text))
    others = text.split("## Other intents", 1)[1]
    intents = {
        name
        for row in others.splitlines()
        if row.startswith("|")
        for name in re.findall(r"`(\w+)`", row.split("|")[1])
    }
    return faq_keys, intents


def _yaml_files(folder: str) -> list[dict]:
    return [yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted((PROJECT_ROOT / folder).glob("*.yml"))]


def _examples_per_intent() -> Counter[str]:
    counts: Counter[str] = Counter()
    for document in _yaml_files("data/nlu"):
        for block in document.get("nlu", []):
            if "intent" in block:
                counts[block["intent"]] += sum(1 for line in block["examples"].splitlines() if line.lstrip().startswith("- "))
    return counts


FAQ_KEYS, OTHER_INTENTS = _contract()
EXAMPLES = _examples_per_intent()


def test_the_contract_was_read():
    assert len(FAQ_KEYS) == 19
    assert {"inquire_cost", "emergency", "out_of_scope", "greet", "stop"} <= OTHER_INTENTS


def test_faq_keys_in_training_data_and_answers_are_exactly_the_contracts():
    trained = {intent.split("/", 1)[1] for intent in EXAMPLES if intent.startswith("faq/")}
    answered = {
        name.split("/", 1)[1]
        for document in _yaml_files("data/responses")
        for name in document.get("responses", {})
        if name.startswith("utter_faq/")
    }
    assert trained == FAQ_KEYS
    assert answered == FAQ_KEYS


def test_every_named_intent_is_in_the_domain_and_trained():
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert OTHER_INTENTS | {"faq"} <= set(domain["intents"])
    assert OTHER_INTENTS <= set(EXAMPLES)


@pytest.mark.parametrize("intent", sorted(EXAMPLES))
def test_enough_examples(intent):
    assert EXAMPLES[intent] >= MIN_EXAMPLES
