"""The question in a long, rambling message.

A visitor may write 800 characters of story with one question in it. DIET here pools word and
character features over the whole message, so the story drowns the question. For a message
longer than LONG_MESSAGE characters, `question_part` keeps the sentences that ask something
(a question mark, "my question is", "I want to know", "can you tell me" ...) and the sentence
before each, which often names what "it" is; a long message asking nothing keeps its last two
sentences. Short messages are left as they are.
"""

from __future__ import annotations

import re

LONG_MESSAGE = 200
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+|\n+")
_ASKS = re.compile(
    r"\?\s*$|\b(?:my question is|question is|what i'?m (?:really )?asking|i (?:want|would like|'d like|need) to know|"
    r"can you (?:tell|explain)|could you (?:tell|explain)|wondering|i'?d like to (?:book|schedule|know|ask)|"
    r"is there (?:something|anything)|what (?:is|are|should|can|does|do)|how (?:do|does|can|should|much|often|long)|"
    r"why (?:is|are|do|does)|should (?:i|he|she|we)|can (?:i|he|she|we))\b",
    re.IGNORECASE,
)


def sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text) if part and part.strip()]


def question_part(text: str) -> str:
    """The part of a long message that asks; the message itself when it is short."""
    if len(text) <= LONG_MESSAGE:
        return text
    parts = sentences(text)
    asking = [index for index, part in enumerate(parts) if _ASKS.search(part)]
    if not asking:
        return " ".join(parts[-2:])
    keep = sorted({i for index in asking[-2:] for i in (index - 1, index) if i >= 0})
    return " ".join(parts[i] for i in keep)
