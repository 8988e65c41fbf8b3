"""Build the spaCy pipeline Rasa loads, from installed packages only (no downloads).

blank English + the lookup lemmatizer (tables from spacy-lookups-data) + an
EntityRuler that labels the body areas in nlp/body_areas.json as `body_area`.
Runs in .venv-rasa:  .venv-rasa/bin/python nlp/build_spacy_model.py OUTPUT_DIR
"""

import json
import sys
from pathlib import Path

import spacy

AREAS_FILE = Path(__file__).resolve().parent / "body_areas.json"


def ruler_patterns() -> list[dict]:
    areas = json.loads(AREAS_FILE.read_text(encoding="utf-8"))
    return [
        {"label": "body_area", "pattern": phrase, "id": canonical}
        for canonical, phrases in areas.items()
        if not canonical.startswith("_")
        for phrase in phrases
    ]


def build(output: Path) -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    nlp.initialize()
    # initialize() resets the ruler, so its patterns go in afterwards.
    ruler.add_patterns(ruler_patterns())
    nlp.meta["name"] = "clinic_en"
    nlp.meta["description"] = "Blank English with lookup lemmas and body-area patterns"
    nlp.to_disk(output)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: build_spacy_model.py OUTPUT_DIR")
    build(Path(sys.argv[1]))
    print(f"spaCy pipeline written to {sys.argv[1]}")
