"""Whether a message really carries a cost, availability or booking request beside its question.

DIET learns "faq+inquire_cost" and its kin from examples (data/nlu/two_requests.yml), and with
them it sometimes hears a second request in a long question that has none ("I broke my wrist in
2019. How can I make my wrists stronger?"). A second request is only read where the message
says it in words of its own; and a question followed by a plain booking request ("how common
are falls? I want to sign my dad up") is read as both.

`requested_kinds(text)` names the inquiry intents the wording supports; `booking_part(text)`
tells whether a part of the message after its first asks to book; `rescued_request(text)` names
the inquiry a message the classifier could not place asks for in plain words ("whats the cost
and do yall have anything thursday").
"""

from __future__ import annotations

import re

CUES = {
    "inquire_cost": re.compile(
        r"\b(?:cost\w*|price\w*|pricey|charge\w*|pay|paying|fee\w*|expensive|afford\w*|insurance|insured|medicare|"
        r"medicaid|medigap|covered|cover|coverage|copay\w*|co-pay\w*|bill\w*|out of pocket|how much (?:is|are|for|would|will|do)|"
        r"aetna|cigna|humana|blue cross|tricare|rate|rates)\b|\$",
        re.IGNORECASE,
    ),
    "inquire_availability": re.compile(
        r"\b(?:open\w*|availab\w*|slots?|soonest|next (?:week|month)|this week|tomorrow|today|wait\w*|"
        r"when can|how soon|fit (?:me|him|her) in|free (?:time|times)|new (?:patients|people)|"
        r"mon|tues?|wed|thu|thurs|fri|sat|sun)(?:days?)?\b|\b(?:mornings?|afternoons?|evenings?)\b",
        re.IGNORECASE,
    ),
    "request_appointment": re.compile(
        r"\b(?:book\w*|appointments?|appts?|schedul\w*|consult\w*|sign (?:me|him|her|them|my \w+) up|come in|"
        r"get (?:me|him|her) in|set (?:me |him |her )?up|evaluation|make a visit|see (?:a|one of your|your) therapist)\b",
        re.IGNORECASE,
    ),
}
# Words that ask for an inquiry on their own, even where the classifier was unsure of the message.
STRONG_CUES = {
    "inquire_cost": re.compile(
        r"\b(?:cost\w*|price\w*|pricey|charge\w*|fees?|expensive|afford\w*|insurance|medicare|medicaid|medigap|"
        r"copay\w*|co-pay\w*|out of pocket|how much (?:is|are|for|4|would|will|do|does) (?:it|a|an|the|one|you|your|visit|session))\b",
        re.IGNORECASE,
    ),
    "inquire_availability": re.compile(
        r"\b(?:openings?|availab\w*|slots?|soonest|taking new|fit (?:me|him|her) in|anything (?:on |this |next )?"
        r"(?:mon|tues?|wed|thu|thurs|fri|sat|sun)\w*|anything (?:this|next) week)\b"
        # "anything dec 10", "whats open around lunchtime", "can i get in tmrw", "room for one more"
        r"|\b(?:anything|something) (?:on |for |at |around |before |after |in |early |late |the )?"
        r"(?:\d|today|tomorrow|tmrw|tonight|morning|afternoon|evening|lunch|this|next|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
        r"|\bwhat(?:'?s| is| are| times?)? (?:do you have )?(?:open|free|available)\b|\bwhat times? do you have\b"
        r"|\bwhat do you have\b|\b(?:can|could) (?:i|we|he|she|my \w+) (?:get|come) in\b|\broom for\b"
        # A short question that is only a day or a time: "tommorow afternon?", "wed the 23rd at 2:30?"
        r"|^(?=[^?]{1,40}\?+\s*$)(?=.*(?:\b(?:mon|tue|wed|thu|fri|sat|sun|tom+or+ow|tmrw|today|morning|aft\w*|evening|"
        r"jan|feb|mar|apr|jun|jul|aug|sep|oct|nov|dec)|\d(?:st|nd|rd|th|am|pm|:\d\d)|\d\s*(?:am|pm)\b))",
        re.IGNORECASE,
    ),
    "request_appointment": re.compile(
        r"\b(?:book\w*|appointments?|appts?|schedul\w*|consult\w*)\b"
        r"|\b(?:request|arrange|set up|get|want|like) (?:an? |my |his |her )?(?:first |initial )?(?:evaluation|eval|visit|assessment)\b",
        re.IGNORECASE,
    ),
}
_PARTS = re.compile(r"[?.;!]+\s*|\s*,\s*(?:and |also |plus )?|\s+(?:and also|also|plus)\s+", re.IGNORECASE)
_BOOKING = re.compile(
    r"^(?:and |so |also |but )?(?:i(?:'d| would)? (?:like|want|wanna|need) to|can i|could i|please|i'?m looking to|"
    r"how do i|can you|i want you to)\b.{0,30}\b(?:book\w*|schedul\w*|sign (?:me|him|her|them|my \w+) up|"
    r"make an appointment|set up (?:a|an) (?:appointment|visit|consult\w*)|get (?:a|an) (?:appointment|consult\w*))\b",
    re.IGNORECASE,
)


# A message that asks or requests something: a question, a request, or a letter that opens like one.
_ASKS = re.compile(
    r"\?|^\W*(?:can|could|do|does|is|are|any|anything|what|whats|when|how|i'?d like|i would like|i want|i need|"
    r"need|looking|dear|hi|hello|hey|to whom|subject|please)\b|\b(?:i'?d like|i would like|i am writing|i'?m writing)\b",
    re.IGNORECASE,
)


# Personal medical questions keep their answer (medical_advice), whatever else the message asks.
_ADVICE = re.compile(
    r"\bshould (?:i|she|he|we|my \w+)\b|\bis (?:it|that|this|my \w+) (?:safe|ok|okay|bad|normal|serious|dangerous)\b"
    r"|\bdo i need\b|\bcan i (?:take|stop|keep taking|skip)\b",
    re.IGNORECASE,
)


def asks_for_advice(text: str) -> bool:
    """True when the message asks a personal medical question ("should I stop my pills?")."""
    return bool(_ADVICE.search(text))


def asks_something(text: str) -> bool:
    """True when the message is a question or a request, not a plain statement."""
    return bool(_ASKS.search(text))


def requested_kinds(text: str) -> set[str]:
    """The inquiry intents whose wording appears in the message."""
    return {intent for intent, cue in CUES.items() if cue.search(text)}


def rescued_request(text: str) -> str | None:
    """For a message the classifier could not place: the inquiry its own words ask for, first named first."""
    found = [(match.start(), intent) for intent, cue in STRONG_CUES.items() if (match := cue.search(text))]
    return min(found)[1] if found else None


def booking_part(text: str) -> bool:
    """True when a part after the first asks to book ("... ? I want to sign my dad up for therapy")."""
    parts = [p for p in _PARTS.split(text) if p and p.strip()]
    return any(_BOOKING.search(part.strip()) for part in parts[1:])
