"""The Rasa project itself: its data validates, and every test story plays out as written."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.settings import PROJECT_ROOT
from tests.rasa_cli import require_model, run_rasa

UNUSED_UTTERANCE = re.compile(r"The utterance '(\w+)' is not used in any story or rule")
# Rasa 3.6 merges the retrieval intents it finds in the NLU data into the domain and reports the
# domain's own `faq` as a duplicate; listing it in domain.yml is still required by the rules.
RETRIEVAL_INTENT_MERGE = "duplicated intents have been found across multiple domain files: faq"


def _responses_said_by_forms_and_actions() -> set[str]:
    """Responses Rasa's validator cannot see being used: form questions and those our actions send."""
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
    asked = {f"utter_ask_{slot}" for form in domain["forms"].values() for slot in form["required_slots"]}
    actions_source = "\n".join(p.read_text() for p in (PROJECT_ROOT / "actions").glob("*.py"))
    sent = set(re.findall(r'response="(utter_\w+)"', actions_source))
    intros = {name for name in domain["responses"] if name.startswith("utter_inquiry_intro_")}
    if 'f"utter_inquiry_intro_{kind}"' in actions_source:
        sent |= intros
    return asked | sent | {"utter_default"}


def test_training_data_and_domain_validate_cleanly():
    result = run_rasa("data", "validate", "--fail-on-warnings")
    output = result.stdout + result.stderr
    warnings = [line for line in output.splitlines() if "UserWarning" in line]
    explained = _responses_said_by_forms_and_actions()
    unexplained = [
        line for line in warnings
        if not ((m := UNUSED_UTTERANCE.search(line)) and m.group(1) in explained)
        and RETRIEVAL_INTENT_MERGE not in line
    ]
    assert result.returncode == 0, output[-3000:]
    assert "No story structure conflicts found" in output, output[-3000:]
    assert "Validating intents" in output, output[-3000:]
    assert "Traceback" not in output and "Exception" not in output, output[-3000:]
    assert not unexplained, "rasa data validate warned:\n" + "\n".join(unexplained)


def test_every_test_story_plays_out_as_written(tmp_path: Path):
    model = require_model()
    # --e2e: the visitor's words go through the NLU model too, so each story also checks the
    # intent, the FAQ key and the body areas the model finds in them.
    result = run_rasa(
        "test", "core", "--e2e", "--model", str(model), "--stories", "tests/stories",
        "--fail-on-prediction-errors", "--out", str(tmp_path), "--no-plot",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"A test story failed:\n{output[output.find('WrongPrediction'):][:3000]}"
    stories = sum(len(yaml.safe_load(p.read_text())["stories"]) for p in (PROJECT_ROOT / "tests/stories").glob("test_*.yml"))
    conversations = re.search(r"CONVERSATION level:.*?Correct:\s+(\d+) / (\d+)", output, re.S)
    assert conversations, output[-3000:]
    assert conversations.groups() == (str(stories), str(stories)), output[-3000:]
