"""The configurations the bench trains: ours, Rasa's stock one, and ours with one lever moved.

Variants are written to a temporary directory; config.yml itself is never changed.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml

from bot.settings import PROJECT_ROOT

OURS = PROJECT_ROOT / "config.yml"
# Exactly the config.yml `rasa init` writes for Rasa 3.6: no pipeline and no policies given,
# so Rasa trains its default ones.
STOCK = Path(__file__).parent / "stock-config.yml"


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _component(config: dict, name: str, section: str = "pipeline") -> dict:
    for component in config.get(section) or []:
        if component.get("name") == name:
            return component
    raise KeyError(f"{name} is not in the {section} of the configuration")


def with_epochs(epochs: int) -> Callable[[dict], dict]:
    def change(config: dict) -> dict:
        config = copy.deepcopy(config)
        _component(config, "DIETClassifier")["epochs"] = epochs
        _component(config, "ResponseSelector")["epochs"] = epochs
        return config
    return change


ENCODER_DIR = "build/minilm"


def with_sentence_encoder(config: dict) -> dict:
    """all-MiniLM-L6-v2 sentence embeddings (nlp/sentence_encoder.py) beside the sparse features."""
    config = copy.deepcopy(config)
    pipeline = config["pipeline"]
    last_featurizer = max(i for i, c in enumerate(pipeline) if c["name"] == "CountVectorsFeaturizer")
    pipeline.insert(last_featurizer + 1, {"name": "nlp.sentence_encoder.SentenceEncoderFeaturizer", "model_dir": ENCODER_DIR})
    return config


def without_diet_transformer(config: dict) -> dict:
    """DIET as a feed-forward classifier over the sparse features, like the ResponseSelector is."""
    config = copy.deepcopy(config)
    diet = _component(config, "DIETClassifier")
    diet["number_of_transformer_layers"] = 0
    diet["hidden_layers_sizes"] = {"text": [256, 128]}
    return config


def with_diet_transformer(config: dict) -> dict:
    """DIET as Rasa ships it: two transformer layers over the features, its default hidden layers."""
    config = copy.deepcopy(config)
    diet = _component(config, "DIETClassifier")
    diet.pop("number_of_transformer_layers", None)
    diet.pop("hidden_layers_sizes", None)
    return config


def has_diet_transformer(config: dict) -> bool:
    # DIET's default is two transformer layers.
    return int(_component(config, "DIETClassifier").get("number_of_transformer_layers", 2)) > 0


def diet_epochs(config: dict) -> int:
    return int(_component(config, "DIETClassifier").get("epochs", 300))


def with_ted_policy(config: dict) -> dict:
    """Our pipeline with the stock learned dialogue policy added to the rules and memoization."""
    config = copy.deepcopy(config)
    config["policies"] = [*config.get("policies", []),
                          {"name": "TEDPolicy", "max_history": 5, "epochs": 100, "constrain_similarities": True}]
    return config


@dataclass(frozen=True)
class ConfigVariant:
    name: str
    description: str
    change: Callable[[dict], dict] | None = None

    def write(self, directory: Path, base: Path = OURS) -> Path:
        """The variant as a config file in `directory`; with no change, a byte-for-byte copy of `base`."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.name}.yml"
        if self.change is None:
            path.write_bytes(base.read_bytes())
        else:
            path.write_text(yaml.safe_dump(self.change(load(base)), sort_keys=False), encoding="utf-8")
        return path


def fingerprint(config: Path, domain: Path, data: Path) -> str:
    """Changes whenever the configuration or anything trained from changes: the cache key of a model."""
    digest = hashlib.sha256(config.read_bytes())
    digest.update(domain.read_bytes())
    for path in sorted(data.rglob("*.yml")):
        digest.update(str(path.relative_to(data)).encode())
        digest.update(path.read_bytes())
    spacy_model = PROJECT_ROOT / "build" / "spacy-en"
    for path in sorted(spacy_model.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(spacy_model)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Inputs:
    """A copy of what the models train and are scored on, taken once at the start of a run.

    The data may change while a run takes its half hour; every model of the run must see the same.
    """

    domain: Path
    data: Path
    test_set: Path

    @classmethod
    def snapshot(cls, directory: Path) -> "Inputs":
        import shutil

        from bench.nlu import DATA, DOMAIN, HELD_OUT

        directory.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DOMAIN, directory / "domain.yml")
        shutil.copytree(DATA, directory / "data", ignore=shutil.ignore_patterns("*.pyc", "__pycache__"))
        shutil.copyfile(HELD_OUT, directory / "test_nlu.yml")
        return cls(domain=directory / "domain.yml", data=directory / "data", test_set=directory / "test_nlu.yml")

    def digest(self) -> str:
        digest = hashlib.sha256(self.domain.read_bytes())
        for path in [*sorted(self.data.rglob("*.yml")), self.test_set]:
            digest.update(path.read_bytes())
        return digest.hexdigest()[:12]
