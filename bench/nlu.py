"""Training a configuration and scoring it on the held-out NLU set with Rasa's own commands."""

from __future__ import annotations

import json
import re
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.procs import RASA_BIN, run_logged
from bot.settings import PROJECT_ROOT

HELD_OUT = PROJECT_ROOT / "tests" / "nlu" / "test_nlu.yml"
DOMAIN = PROJECT_ROOT / "domain.yml"
DATA = PROJECT_ROOT / "data"
FAQ_INTENT = "faq"


@dataclass
class Trained:
    model: Path
    seconds: float
    nlu_only: bool
    cached: bool = False
    # The components this training trained itself (not restored from Rasa's cache), from its log.
    components_trained: list[str] = field(default_factory=list)


def components_trained(log_path: Path) -> list[str]:
    try:
        text = log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return re.findall(r"Starting to train component '([^']+)'", text)


def train(config: Path, out_dir: Path, name: str, log_path: Path, nlu_only: bool = False,
          cache_dir: Path | None = None, domain: Path = DOMAIN, data: Path = DATA) -> Trained:
    """`rasa train` (or `rasa train nlu`) with an empty cache of its own, so nothing is reused.

    With `cache_dir`, Rasa's training cache is that directory instead: components another
    training there already trained with the same inputs are reused rather than trained again.
    """
    argv = [str(RASA_BIN), "train"]
    if nlu_only:
        # The FAQ answers live in data/responses; the ResponseSelector needs them next to the NLU data.
        argv += ["nlu", "--nlu", str(data)]
    else:
        argv += ["--data", str(data)]
    argv += ["--config", str(config), "--domain", str(domain), "--out", str(out_dir), "--fixed-model-name", name]
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        seconds = run_logged(argv, log_path, env={"RASA_CACHE_DIRECTORY": str(cache_dir)})
    else:
        with tempfile.TemporaryDirectory(prefix="clinic-bench-cache-") as cache:
            seconds = run_logged(argv, log_path, env={"RASA_CACHE_DIRECTORY": cache})
    model = out_dir / f"{name}.tar.gz"
    return Trained(model=model, seconds=round(seconds, 1), nlu_only=nlu_only,
                   components_trained=components_trained(log_path))


@dataclass
class Confusion:
    target: str
    predicted: str
    count: int
    example: str


@dataclass
class NluResult:
    examples: int
    intent_accuracy: float
    macro_f1: float
    weighted_f1: float
    faq_examples: int
    faq_key_accuracy: float
    faq_answer_accuracy: float
    emergency_recall: float
    emergency_support: int
    fallbacks: int
    intent_confusions: list[Confusion] = field(default_factory=list)
    faq_confusions: list[Confusion] = field(default_factory=list)
    per_intent_recall: dict[str, float] = field(default_factory=dict)
    # Emergency messages classified as something else: "text -> predicted intent".
    emergency_misses: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def _read(path: Path) -> list | dict:
    if not path.exists():
        return []
    return json.loads(path.read_text(encoding="utf-8"))


def _top_confusions(pairs: list[tuple[str, str, str]], limit: int) -> list[Confusion]:
    counts = Counter((target, predicted) for target, predicted, _ in pairs)
    examples = {}
    for target, predicted, text in pairs:
        examples.setdefault((target, predicted), text)
    return [Confusion(target, predicted, count, examples[(target, predicted)])
            for (target, predicted), count in counts.most_common(limit)]


def evaluate(model: Path, out_dir: Path, log_path: Path, confusions: int = 8, test_set: Path = HELD_OUT) -> NluResult:
    """`rasa test nlu` on the held-out set, read back from the reports Rasa writes."""
    argv = [str(RASA_BIN), "test", "nlu", "--model", str(model), "--nlu", str(test_set), "--out", str(out_dir),
            "--no-plot", "--successes"]
    seconds = run_logged(argv, log_path)

    report = _read(out_dir / "intent_report.json")
    intent_rows = [*_read(out_dir / "intent_errors.json"), *_read(out_dir / "intent_successes.json")]
    predicted_intent = {row["text"]: (row["intent_prediction"] or {}).get("name") or "" for row in intent_rows}
    selection_rows = [*_read(out_dir / "response_selection_errors.json"),
                      *_read(out_dir / "response_selection_successes.json")]

    # What a visitor sees: the right answer needs the intent `faq` and the right key, both.
    right_answers = sum(
        1 for row in selection_rows
        if predicted_intent.get(row["text"]) == FAQ_INTENT
        and (row["intent_response_key_prediction"] or {}).get("name") == row["intent_response_key_target"]
    )
    intent_pairs = [
        (row["intent"], (row["intent_prediction"] or {}).get("name") or "(none)", row["text"])
        for row in _read(out_dir / "intent_errors.json")
    ]
    faq_pairs = [
        (row["intent_response_key_target"], (row["intent_response_key_prediction"] or {}).get("name") or "(none)",
         row["text"])
        for row in _read(out_dir / "response_selection_errors.json")
    ]
    emergency = report.get("emergency", {})
    summary_keys = {"accuracy", "macro avg", "weighted avg", "micro avg"}
    return NluResult(
        examples=len(intent_rows),
        intent_accuracy=round(len(_read(out_dir / "intent_successes.json")) / len(intent_rows), 4) if intent_rows else 0.0,
        macro_f1=round(float(report.get("macro avg", {}).get("f1-score", 0.0)), 4),
        weighted_f1=round(float(report.get("weighted avg", {}).get("f1-score", 0.0)), 4),
        faq_examples=len(selection_rows),
        faq_key_accuracy=(round(len(_read(out_dir / "response_selection_successes.json")) / len(selection_rows), 4)
                          if selection_rows else 0.0),
        faq_answer_accuracy=round(right_answers / len(selection_rows), 4) if selection_rows else 0.0,
        emergency_recall=round(float(emergency.get("recall", 0.0)), 4),
        emergency_support=int(emergency.get("support", 0)),
        fallbacks=sum(1 for name in predicted_intent.values() if name == "nlu_fallback"),
        intent_confusions=_top_confusions(intent_pairs, confusions),
        faq_confusions=_top_confusions(faq_pairs, confusions),
        per_intent_recall={name: round(float(row.get("recall", 0.0)), 4) for name, row in report.items()
                           if name not in summary_keys and isinstance(row, dict)},
        emergency_misses=[f"{text} -> {predicted}" for target, predicted, text in intent_pairs
                          if target == "emergency"],
        seconds=round(seconds, 1),
    )
