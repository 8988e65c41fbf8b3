"""Body areas a visitor names, mapped to the canonical names staff see.

The phrases live in nlp/body_areas.json, which also feeds the spaCy EntityRuler in Rasa's
pipeline, so the chat's entity and the stored value always agree.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

AREAS_FILE = Path(__file__).resolve().parent.parent / "nlp" / "body_areas.json"


@cache
def _phrase_index() -> dict[str, str]:
    """Phrases that name an area anywhere in a sentence."""
    areas = json.loads(AREAS_FILE.read_text(encoding="utf-8"))
    answer_only = {p.lower() for phrases in areas.get("_only_as_an_answer", {}).values() for p in phrases}
    index: dict[str, str] = {}
    for canonical, phrases in areas.items():
        if canonical.startswith("_"):
            continue
        if canonical.lower() not in answer_only:
            index[canonical.lower()] = canonical
        for phrase in phrases:
            index[phrase.lower()] = canonical
    return index


@cache
def _answer_index() -> dict[str, str]:
    """Phrases that name an area as a whole answer: those above, and a bare "back"."""
    answers = json.loads(AREAS_FILE.read_text(encoding="utf-8")).get("_only_as_an_answer", {})
    index = {phrase.lower(): canonical for canonical, phrases in answers.items() for phrase in phrases}
    return {**_phrase_index(), **index}


def canonical_areas() -> list[str]:
    return sorted(set(_phrase_index().values()))


def canonical_area(text: str) -> str | None:
    """The canonical area for a phrase ("my lower back" -> "Lower back"), or None."""
    index = _answer_index()
    cleaned = " ".join(re.sub(r"[^a-z' -]", " ", text.lower()).split())
    if cleaned in index:
        return index[cleaned]
    cleaned = re.sub(r"\b(my|the|both|left|right|in|on|a|an|and|or|it's|its|is)\b", " ", cleaned)
    return index.get(" ".join(cleaned.split()))


def find_area(text: str) -> str | None:
    """The first area named anywhere in a sentence, longest phrase first."""
    lowered = " " + re.sub(r"[^a-z' ]", " ", text.lower()) + " "
    for phrase in sorted(_phrase_index(), key=len, reverse=True):
        if f" {phrase} " in lowered:
            return _phrase_index()[phrase]
    return None
