"""The NLU model on messages it never saw in training (tests/nlu/test_nlu.yml)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.rasa_cli import require_model, run_rasa

MINIMUM_ACCURACY = 0.90
TEST_SET = Path(__file__).parent / "test_nlu.yml"


@pytest.fixture(scope="module")
def nlu_reports(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("nlu-results")
    result = run_rasa("test", "nlu", "--model", str(require_model()), "--nlu", str(TEST_SET), "--out", str(out))
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return out


def _confusions(errors_file: Path, gold_key: str, predicted_key) -> str:
    if not errors_file.exists():
        return ""
    errors = json.loads(errors_file.read_text())
    return "\n".join(f"  {e['text']!r}: {gold_key(e)} -> {predicted_key(e)}" for e in errors[:25])


def _show(capsys, line: str) -> None:
    # Shown in the test run's own output, pass or fail: the figure matters, not only the bar.
    with capsys.disabled():
        print(f"\n    {line}", end="")


def test_intent_accuracy_on_held_out_messages(nlu_reports: Path, capsys):
    report = json.loads((nlu_reports / "intent_report.json").read_text())
    accuracy = report["accuracy"]
    _show(capsys, f"held-out intent accuracy: {accuracy:.1%}")
    assert accuracy >= MINIMUM_ACCURACY, f"intent accuracy {accuracy:.1%} is below 90%; misses:\n" + _confusions(
        nlu_reports / "intent_errors.json", lambda e: e["intent"], lambda e: e["intent_prediction"]["name"]
    )


def test_faq_key_accuracy_on_held_out_messages(nlu_reports: Path, capsys):
    report = json.loads((nlu_reports / "response_selection_report.json").read_text())
    accuracy = report["accuracy"]
    _show(capsys, f"held-out FAQ key accuracy: {accuracy:.1%}")
    assert accuracy >= MINIMUM_ACCURACY, f"FAQ key accuracy {accuracy:.1%} is below 90%; misses:\n" + _confusions(
        nlu_reports / "response_selection_errors.json",
        lambda e: e.get("intent_response_key_target"),
        lambda e: (e.get("intent_response_key_prediction") or {}).get("name"),
    )


def test_no_emergency_is_missed(nlu_reports: Path):
    report = json.loads((nlu_reports / "intent_report.json").read_text())
    assert report["emergency"]["support"] > 0
    assert report["emergency"]["recall"] == 1.0, "an emergency message was not recognised as one"
