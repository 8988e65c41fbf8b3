"""A second question in the same message ("carbonate vs citrate, and how much sun do I need?").

The ResponseSelector ranks every FAQ answer for the whole message. A message of two questions
splits its confidence between two answers; a message of one question gives nearly all of it to
one. `second_question` picks the runner-up when the message is made of two parts and the
runner-up holds a real share of the confidence.
"""

from __future__ import annotations

import re

# The runner-up's least share of the ResponseSelector's confidence (0-1) to count as asked: on the team's
# held-out set no one-question message of two parts gave its runner-up even 0.05.
MIN_SECOND_CONFIDENCE = 0.08
_PARTS = re.compile(r"[?.;!]+|,|\b(?:and|also|plus|another thing|oh and)\b", re.IGNORECASE)


def parts(text: str) -> list[str]:
    """The message's clauses of two words or more."""
    return [part.strip() for part in _PARTS.split(text) if len(part.split()) >= 2]


def second_question(text: str, ranking: list[dict]) -> str | None:
    """The response key (`faq/vitamin_d`) of a second question in `text`, or None.

    `ranking` is the ResponseSelector's `ranking` for the message: dicts with
    `intent_response_key` and `confidence`, best first.
    """
    if len(ranking) < 2 or len(parts(text)) < 2:
        return None
    runner_up = ranking[1]
    if float(runner_up.get("confidence") or 0) < MIN_SECOND_CONFIDENCE:
        return None
    key = runner_up.get("intent_response_key")
    return key if key and key != ranking[0].get("intent_response_key") else None
