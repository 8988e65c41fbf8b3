"""`python -m bench [--quick]`: train, score and serve our configuration and Rasa's stock one.

A full run trains both configurations from scratch, scores them on tests/nlu/test_nlu.yml,
serves each through the web app at 1, 10 and 50 concurrent visitors, then moves one lever at a
time (epochs, DIET's size, TensorFlow threads, Sanic workers, the policy ensemble). `--quick`
reuses models trained earlier with the same inputs, sends fewer conversations and skips the levers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench import configs, nlu, report, serving
from bench.procs import RASA_BIN, BenchError
from bot.settings import PROJECT_ROOT

REPORT_DIR = Path(__file__).parent
MODEL_CACHE = Path(tempfile.gettempdir()) / "clinic-bench-models"

FULL_LEVELS = [serving.Level(1, 8, 60), serving.Level(10, 40, 90), serving.Level(50, 100, 120)]
QUICK_LEVELS = [serving.Level(1, 3, 30), serving.Level(10, 10, 45), serving.Level(50, 50, 60)]
LEVER_LEVELS = [serving.Level(10, 40, 90), serving.Level(50, 100, 120)]

NLU_LEVERS = [
    configs.ConfigVariant("epochs-50", "DIET and ResponseSelector at 50 epochs instead of 100",
                          configs.with_epochs(50)),
    configs.ConfigVariant("diet-no-transformer", "DIET without its transformer layers (feed-forward 256-128)",
                          configs.without_diet_transformer),
]
POLICY_LEVER = configs.ConfigVariant("with-ted", "our pipeline with TEDPolicy added to RulePolicy + MemoizationPolicy",
                                     configs.with_ted_policy)
ONE_TF_THREAD = {"TF_INTRA_OP_PARALLELISM_THREADS": "1", "TF_INTER_OP_PARALLELISM_THREADS": "1"}


class Clock:
    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self, message: str) -> None:
        elapsed = int(time.monotonic() - self.started)
        print(f"[{elapsed // 60:2d}:{elapsed % 60:02d}] {message}", flush=True)

    @property
    def seconds(self) -> float:
        return round(time.monotonic() - self.started, 1)


def _machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    rasa_version = subprocess.run([str(RASA_BIN.parent / "python"), "-c", "import rasa; print(rasa.__version__)"],
                                  capture_output=True, text=True).stdout.strip()
    return {"cores": os.cpu_count(), "cpu": cpu, "python": platform.python_version(), "rasa": rasa_version,
            "load_average_at_start": [round(value, 2) for value in os.getloadavg()]}


def _model(variant: configs.ConfigVariant, base: Path, work: Path, reuse: bool, say: Clock,
           nlu_only: bool = False) -> nlu.Trained:
    """A trained model for the variant: trained now, or with --quick reused from an earlier run."""
    config = variant.write(work / "configs", base)
    kind = "nlu" if nlu_only else "full"
    cached = MODEL_CACHE / f"{variant.name}-{kind}-{configs.fingerprint(config)}.tar.gz"
    facts = cached.with_suffix("").with_suffix(".json")
    if reuse and cached.exists() and facts.exists():
        seconds = json.loads(facts.read_text())["seconds"]
        say(f"{variant.name}: reusing the model trained earlier from the same inputs ({seconds} s to train)")
        return nlu.Trained(model=cached, seconds=seconds, nlu_only=nlu_only, cached=True)
    say(f"{variant.name}: training ({'NLU only' if nlu_only else 'NLU and dialogue'})")
    trained = nlu.train(config, work / "models", variant.name, work / "logs" / f"train-{variant.name}.log", nlu_only)
    say(f"{variant.name}: trained in {trained.seconds} s")
    MODEL_CACHE.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(trained.model, cached)
    facts.write_text(json.dumps({"seconds": trained.seconds}))
    return trained


def _score(name: str, trained: nlu.Trained, work: Path, say: Clock) -> nlu.NluResult:
    result = nlu.evaluate(trained.model, work / "nlu" / name, work / "logs" / f"test-{name}.log")
    say(f"{name}: intent accuracy {result.intent_accuracy:.1%}, macro-F1 {result.macro_f1:.3f}, "
        f"FAQ key accuracy {result.faq_key_accuracy:.1%}, emergency recall {result.emergency_recall:.0%}")
    return result


def _serve(variant: serving.ServeVariant, levels: list[serving.Level], parse_count: int, say: Clock) -> dict:
    say(f"serving {variant.label}{f' ({variant.note})' if variant.note else ''}")
    return serving.measure(variant, levels, parse_count, lambda line: say(f"  {variant.label}: {line}")).as_dict()


def run(args: argparse.Namespace) -> dict:
    say = Clock()
    work = Path(tempfile.mkdtemp(prefix="clinic-bench-"))
    quick = args.quick
    levels = QUICK_LEVELS if quick else FULL_LEVELS
    parse_count = 10 if quick else 30
    result: dict = {
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "mode": "quick" if quick else "full",
        "machine": _machine(),
        "configs": {"ours": str(configs.OURS.relative_to(PROJECT_ROOT)),
                    "stock": str(configs.STOCK.relative_to(PROJECT_ROOT))},
        "training": {}, "nlu": {}, "serving": {}, "levers": {"nlu": {}, "serving": {}, "policy": {}},
    }
    try:
        ours_variant = configs.ConfigVariant("ours", "config.yml as it is")
        stock_variant = configs.ConfigVariant("stock", "the configuration `rasa init` writes")
        trained = {
            "ours": _model(ours_variant, configs.OURS, work, quick, say),
            "stock": _model(stock_variant, configs.STOCK, work, quick, say),
        }
        for name, model in trained.items():
            result["training"][name] = {"seconds": model.seconds, "reused": model.cached, "scope": "NLU and dialogue"}
        for name, model in trained.items():
            result["nlu"][name] = _score(name, model, work, say).as_dict()

        for name, model in trained.items():
            result["serving"][name] = _serve(serving.ServeVariant(name, model.model), levels, parse_count, say)

        if not quick and not args.no_levers:
            for variant in NLU_LEVERS:
                lever_model = _model(variant, configs.OURS, work, False, say, nlu_only=True)
                scored = _score(variant.name, lever_model, work, say).as_dict()
                result["levers"]["nlu"][variant.name] = {
                    "description": variant.description, "training_seconds": lever_model.seconds,
                    "scope": "NLU only", **scored,
                }
            serve_levers = [
                serving.ServeVariant("tf-1-thread", trained["ours"].model, dict(ONE_TF_THREAD),
                                     note="TensorFlow intra-op and inter-op threads 1"),
                serving.ServeVariant("2-sanic-workers", trained["ours"].model, dict(ONE_TF_THREAD), rasa_workers=2,
                                     note="SANIC_WORKERS=2 with the Redis lock store, TensorFlow threads 1"),
            ]
            for variant in serve_levers:
                result["levers"]["serving"][variant.label] = _serve(variant, LEVER_LEVELS, parse_count, say)
            if not args.no_policy_lever:
                ted = _model(POLICY_LEVER, configs.OURS, work, False, say)
                result["levers"]["policy"][POLICY_LEVER.name] = {
                    "description": POLICY_LEVER.description, "training_seconds": ted.seconds,
                    "serving": _serve(serving.ServeVariant(POLICY_LEVER.name, ted.model), LEVER_LEVELS, parse_count,
                                      say),
                }
    finally:
        result["machine"]["load_average_at_end"] = [round(value, 2) for value in os.getloadavg()]
        result["seconds"] = say.seconds
        if args.keep:
            result["work_dir"] = str(work)
            say(f"logs and models kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="reuse models trained earlier from the same inputs, fewer conversations, no levers")
    parser.add_argument("--no-levers", action="store_true", help="ours and stock only")
    parser.add_argument("--no-policy-lever", action="store_true", help="skip training ours with TEDPolicy added")
    parser.add_argument("--keep", action="store_true", help="keep the training and test logs and the models")
    parser.add_argument("--out", type=Path, default=REPORT_DIR, help="where report.md and report.json go")
    args = parser.parse_args(argv)
    try:
        result = run(args)
    except BenchError as error:
        print(f"The bench stopped: {error}", file=sys.stderr)
        return 1
    result["targets"] = report.targets(result)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    markdown = report.markdown(result)
    (args.out / "report.md").write_text(markdown, encoding="utf-8")
    print()
    print(report.summary(result))
    print(f"\nFull report: {args.out / 'report.md'} (data: {args.out / 'report.json'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
