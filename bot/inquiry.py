"""The inquiry conversation's rules: what counts as a valid answer, the read-back, what happens next.

Pure functions over plain values, so the rasa_sdk actions stay thin and this stays testable
without a tracker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.areas import canonical_area, find_area
from bot.leads.contact import find_email, find_phone, format_phone
from bot.names import is_given_name, looks_like_name

KINDS_BY_INTENT = {
    "inquire_cost": "cost",
    "inquire_availability": "availability",
    "request_appointment": "appointment",
}
CALLBACK = "callback"
# Intents answered in the middle of the form before it resumes; never taken as an answer.
INTERJECTION_INTENTS = frozenset(
    {"faq", "emergency", "self_harm", "stop", "medical_advice", "bot_challenge", "clinic_contact", "human_handoff",
     "request_callback", "non_english"}
)
# Always something other than an answer, however the reply looks.
SAFETY_AND_STOP_INTENTS = frozenset({"emergency", "self_harm", "stop"})
# Free-text answers the form reads in context: the reply is the answer unless it clearly is not.
FREE_TEXT_SLOTS = ("lead_name", "contact", "area_of_concern", "preferred_times", "insurance")
# Why the assistant asks for each detail, for "why do you need that?".
REASONS = {
    "lead_name": "So our front desk knows who they're calling back. A first name is fine, or say stop to leave this.",
    "contact": "So our front desk can reach you about this inquiry, and for nothing else. "
               "If you'd rather not share it here, say stop, and call us at {phone} whenever it suits you.",
    "area_of_concern": "So the right physical therapist looks at your inquiry. A word or two is enough, or say skip.",
    "preferred_times": "So staff can suggest a time that suits you when they contact you.",
    "insurance": "So staff can check your coverage before they call. You can skip it.",
    "consent": "We only contact people who say yes, and we use your details for this inquiry alone. "
               "If you'd rather not, say no and nothing is saved; you can always call us at {phone}.",
}
_REFUSED = re.compile(
    r"\b(?:i'?d|i would) rather not\b|\bprefer not\b|\b(?:don't|do not|dont) (?:want|wish|like) to (?:give|share|say|tell|put)\b"
    r"|\bnot comfortable (?:giving|sharing|with)\b|\bnone of your business\b|\bwhy should i\b",
    re.IGNORECASE,
)
_WHY_ASKED = re.compile(
    r"^\s*(?:but |and |ok |okay )?(?:why|what for|how come|what(?:'s| is| do you need| will you do with)\b.{0,20}\b(?:for|with it|with that))"
    r"|\bwhy do you (?:need|want|ask)|\bwhat do you need (?:it|that|this|my \w+) for\b|\bwhat'?s (?:it|that|this) for\b",
    re.IGNORECASE,
)
_QUESTION_START = re.compile(
    r"^\s*(?:what|whats|what's|how|why|when|where|who|which|is|are|can|could|do|does|did|should|would|will|may|"
    r"tell me|explain)\b",
    re.IGNORECASE,
)
# What the read-back and the lead show for a detail the visitor chose not to give.
NOT_GIVEN = "not given"
MAX_FAILURES_BEFORE_PHONE = 3

# Slots the inquiry form fills, cleared when an inquiry starts, ends or is stopped.
FORM_SLOTS = (
    "inquiry_kind",
    "lead_name",
    "contact",
    "contact_phone",
    "contact_email",
    "area_of_concern",
    "preferred_times",
    "offered_times",
    "booking_id",
    "requested_start",
    "times_asked",
    "times_other",
    "insurance",
    "consent",
    "details_confirmed",
    "correction_requested",
)

_NAME_PREFIX = re.compile(
    r"^(?:(?:hi|hello|hey|sure|ok|okay|yes)[,!. ]+)?(?:(?:my|her|his|their|our|the|the patient's|my \w+'s) "
    r"(?:full |first )?name(?:'s| is)|name is|name's|i am|i'm|im|it is|it's|its|"
    r"this is|call me|you can call me|she is|he is|she's|he's|change (?:the |my )?name to|actually)\s+",
    re.IGNORECASE,
)
_SKIP_WORDS = {"skip", "no", "none", "n/a", "na", "not now", "rather not say", "prefer not to say", "pass"}
_NO_INSURANCE = {"no insurance", "i don't have insurance", "i dont have insurance", "uninsured", "self pay", "self-pay", "cash"}


def kind_for_intent(intent: str | None) -> str:
    """The inquiry kind an intent starts ("faq+inquire_cost" too); an accepted call-back offer is a call-back."""
    for part in (intent or "").split("+"):
        if part in KINDS_BY_INTENT:
            return KINDS_BY_INTENT[part]
    return CALLBACK


def clean_name(text: str) -> str | None:
    """The visitor's name from their answer ("my name is maria lopez" -> "Maria Lopez"), or None."""
    candidate = text.strip()
    for _ in range(2):
        candidate = _NAME_PREFIX.sub("", candidate).strip()
    # A closing full stop stays after "Jr." or an initial ("Calvin Reed Jr.", "Mary J.").
    keeps_stop = bool(re.search(r"(?:\b(?:jr|sr|st|dr)|\b\w)\.$", candidate.strip(), re.IGNORECASE))
    candidate = candidate.strip(" .,!;:\"'") + ("." if keeps_stop else "")
    if not looks_like_name(candidate):
        return None
    if candidate == candidate.lower():
        candidate = " ".join(part[:1].upper() + part[1:] for part in candidate.split())
    return candidate


def reason_for(slot: str, clinic_phone: str) -> str:
    """Why the form asks for `slot`, in one or two sentences."""
    return REASONS[slot].format(phone=clinic_phone)


def mentions_time(text: str) -> bool:
    """True when the text names a day or a time of day ("tuesday after 3", "mornings")."""
    return bool(_TIME_WORDS.search(text)) or bool(re.search(r"\b\d{1,2}(?::\d\d)?\b", text))


# Details a visitor may decline: a refusal there is an answer ("not given"), not a reason to explain.
OPTIONAL_SLOTS = frozenset({"area_of_concern", "insurance"})


def asks_why(text: str, slot: str | None = None) -> bool:
    """True for "why do you need that?" and its kin, and, for a detail that cannot be skipped, for a
    reluctant "I'd rather not give that"."""
    return bool(_WHY_ASKED.search(text) or (slot not in OPTIONAL_SLOTS and _REFUSED.search(text)))


def is_question(text: str) -> bool:
    stripped = text.strip()
    return stripped.endswith("?") or bool(_QUESTION_START.match(stripped))


def _looks_like_answer(slot: str, text: str) -> bool:
    if slot == "lead_name":
        return clean_name(text) is not None
    if slot == "contact":
        return parse_contact(text).found or sum(ch.isdigit() for ch in text) >= 7 or "@" in text
    if slot == "area_of_concern":
        return bool(find_area(text) or canonical_area(text)) and not is_question(text)
    if slot == "preferred_times":
        return mentions_time(text) and not is_question(text)
    return not is_question(text)


def reads_as_answer(slot: str, text: str, intent: str | None) -> bool:
    """Whether a reply to the question for `slot` is its answer, read in context.

    It is, unless it clearly is something else: a crisis, an emergency or stop always are; a
    question, or a message the classifier gave another purpose (an FAQ, a booking question),
    is something else when it does not also look like the answer ("Dexter Bone" is a name
    whatever the classifier made of "bone"). "Why do you need that?" is read as an answer so
    the form can explain and ask again.
    """
    if not text.strip() or intent in SAFETY_AND_STOP_INTENTS:
        return False
    if asks_why(text, slot) or (slot in OPTIONAL_SLOTS and _REFUSED.search(text)):
        return True
    words = text.split()
    if intent == "non_english" and len(words) >= 3 and not all(w[:1].isupper() or not w[:1].islower() for w in words) \
            and not is_given_name(words[0]):
        # A sentence in another language, not a name of three words ("Nguyễn Thị Lan" is capitalised).
        return False
    if _looks_like_answer(slot, text):
        return True
    if is_question(text):
        return False
    base_intents = set((intent or "").split("+"))
    return not (base_intents & (INTERJECTION_INTENTS | set(KINDS_BY_INTENT)))


@dataclass(frozen=True)
class ContactDetails:
    phone: str | None
    email: str | None

    @property
    def found(self) -> bool:
        return bool(self.phone or self.email)


def parse_contact(text: str) -> ContactDetails:
    """Phone (E.164) and/or email found in a free answer."""
    return ContactDetails(phone=find_phone(text), email=find_email(text))


# Replies that answer "which area?" with no area at all.
_NON_ANSWERS = {"no", "yes", "ok", "okay", "idk", "dunno", "not sure", "i don't know", "i dont know", "none",
                "nothing", "n/a", "na", "skip", "?"}


def clean_area(text: str) -> str | None:
    """Canonical area when the answer is just an area, else the visitor's own words.

    A refusal ("I'd rather not say") is NOT_GIVEN; an answer that is a time ("any time") is
    no area.
    """
    candidate = " ".join(text.split()).strip(" .,!;:")
    if _REFUSED.search(candidate) or candidate.lower() in _SKIP_WORDS - {"no", "none"}:
        return NOT_GIVEN
    if len(candidate) < 2 or len(candidate) > 200 or not re.search(r"[A-Za-z]", candidate):
        return None
    if candidate.lower() in _NON_ANSWERS or candidate.endswith("?"):
        return None
    area = canonical_area(candidate)
    if area is None and find_area(candidate) is None and mentions_time(candidate):
        return None
    return area or candidate


def clean_times(text: str) -> str | None:
    candidate = " ".join(text.split()).strip(" .,!;:")
    if len(candidate) < 2 or len(candidate) > 200 or not re.search(r"[A-Za-z0-9]", candidate):
        return None
    if candidate.endswith("?") or candidate.lower() in {"no", "idk", "ok"}:
        return None
    return candidate


def clean_insurance(text: str) -> str | None:
    candidate = " ".join(text.split()).strip(" .,!;:")
    lowered = candidate.lower()
    if lowered in _SKIP_WORDS or _REFUSED.search(candidate):
        return NOT_GIVEN
    if lowered in _NO_INSURANCE:
        return "No insurance"
    if len(candidate) < 2 or len(candidate) > 120 or "?" in candidate:
        return None
    return candidate


@dataclass(frozen=True)
class Correction:
    """What a visitor asked to change at the read-back."""

    slots: dict
    # True when the visitor named a detail to change but not its new value.
    asks_again: bool = False


_FIELD_WORDS = {
    "lead_name": ("name",),
    "contact": ("phone", "number", "email", "e-mail", "contact"),
    "area_of_concern": ("area", "concern", "body part", "problem", "pain"),
    "preferred_times": ("time", "times", "day", "days", "when", "schedule"),
    "insurance": ("insurance", "insurer", "plan"),
}
_CHANGE_NAME = re.compile(
    r"(?:my name is|name is|name's|call me|change (?:the |my )?name to|name should be|"
    r"(?:it's |its |it is )?spel(?:led|t))\s+(.+)$",
    re.IGNORECASE,
)
_CHANGE_TIMES = re.compile(
    r"(?:times? (?:is|are|should be|to)|change (?:the |my )?times? to|make it|prefer)\s+(.+)$",
    re.IGNORECASE,
)
# "it's weekends", "actually friday afternoons": a new time said without naming the detail.
_TIME_WORDS = re.compile(
    r"\b(?:mon|tues?|wed|thu|thurs|fri|sat|sun)(?:day|days|s)?\b|\b(?:week ?days?|week ?ends?|mornings?|"
    r"afternoons?|evenings?|noon|lunch ?time|any ?time|am|pm|\d{1,2}(?::\d\d)? ?(?:am|pm|o'clock)|"
    r"(?:next|this|coming) (?:week|month)|tomorrow|today|tonight)\b",
    re.IGNORECASE,
)
# "Margaret not Maggie": the part before "not" is the new value.
_NOT_THAT = re.compile(r"\s*,?\s+(?:not|instead of|rather than|more than)\s+(.+)$", re.IGNORECASE)


def _split_not(text: str) -> tuple[str, str | None]:
    match = _NOT_THAT.search(text)
    if match is None:
        return text, None
    return text[: match.start()], match.group(1).strip(" .,!;:\"'")


def _corrected_name(value: str, current: str | None) -> str | None:
    new, old = _split_not(value)
    name = clean_name(new)
    if name is None:
        return None
    # "spelled Lopes not Lopez" changes one word of the name given earlier.
    if old and current and len(name.split()) == 1:
        words = current.split()
        if old.lower() in (word.lower() for word in words):
            return " ".join(name if word.lower() == old.lower() else word for word in words)
    return name


def parse_correction(text: str, current: dict | None = None) -> Correction | None:
    """The change a read-back answer asks for, or None when it names nothing to change.

    `current` holds the slots as read back. "actually my number is 804 555 0188" replaces
    the contact details at once; "it's my knee, not my hip" changes the area; "the name"
    clears the name so the form asks for it again.
    """
    current = current or {}
    contact = parse_contact(text)
    if contact.found:
        # The new answer to "phone or email?" replaces the old one whole.
        return Correction(slots={"contact": text.strip(), "contact_phone": contact.phone,
                                 "contact_email": contact.email})
    name_match = _CHANGE_NAME.search(text)
    if name_match and (name := _corrected_name(name_match.group(1), current.get("lead_name"))):
        return Correction(slots={"lead_name": name})
    times_match = _CHANGE_TIMES.search(text)
    if times_match and (times := clean_times(_split_not(times_match.group(1))[0])):
        return Correction(slots={"preferred_times": times})
    wanted, _ = _split_not(text)
    area = find_area(wanted)
    if area:
        return Correction(slots={"area_of_concern": area})
    if _TIME_WORDS.search(wanted):
        said = re.sub(r"^(?:actually|sorry|no)?[ ,]*(?:it's|its|it is)?\s*", "", wanted, flags=re.I)
        times = clean_times(re.sub(r"\s+instead$", "", said, flags=re.I))
        if times:
            return Correction(slots={"preferred_times": times})
    lowered = text.lower()
    words = set(re.findall(r"[a-z-]+", lowered))
    fields = {slot: keys for slot, keys in _FIELD_WORDS.items()
              if slot != "insurance" or current.get("inquiry_kind") == "cost"}
    named = [slot for slot, keys in fields.items() if any(k in words or (" " in k and k in lowered) for k in keys)]
    if len(named) == 1:
        slot = named[0]
        cleared = {slot: None}
        if slot == "contact":
            cleared.update({"contact_phone": None, "contact_email": None})
        return Correction(slots=cleared, asks_again=True)
    return None


# The read-back's buttons; a visitor who types a button's words means the button.
READBACK_BUTTONS = (("Yes, send it", "/affirm"), ("Change something", "/deny"))


def typed_button(text: str, buttons: tuple[tuple[str, str], ...] = READBACK_BUTTONS) -> str | None:
    """The payload of the button whose title the visitor typed ("change something" -> "/deny"), or None."""
    typed = " ".join(text.lower().split()).strip(" .!")
    return next((payload for title, payload in buttons if title.lower() == typed), None)


def readback(slots: dict) -> str:
    """The details as the visitor gave them, one per line, for confirming before saving."""
    lines = ["Here's what I'll send to our front desk:", f"• Name: {slots.get('lead_name')}"]
    if slots.get("contact_phone"):
        lines.append(f"• Phone: {format_phone(slots['contact_phone'])}")
    if slots.get("contact_email"):
        lines.append(f"• Email: {slots['contact_email']}")
    lines.append(f"• Area of concern: {slots.get('area_of_concern')}")
    if slots.get("requested_start"):
        lines.append(f"• Requested time: {slots.get('preferred_times')} (held for you until our front desk confirms it)")
    else:
        lines.append(f"• Preferred times: {slots.get('preferred_times')}")
    if slots.get("inquiry_kind") == "cost":
        lines.append(f"• Insurance: {slots.get('insurance') or NOT_GIVEN}")
    lines.append("Is that all correct?")
    return "\n".join(lines)


def correction_fields(kind: str | None) -> list[tuple[str, str]]:
    """(button title, payload) for each detail a visitor may change."""
    fields = [("Name", "name"), ("Phone or email", "phone or email"), ("Area of concern", "area of concern"),
              ("Preferred times", "preferred times")]
    if kind == "cost":
        fields.append(("Insurance", "insurance"))
    return fields


def first_name(name: str | None) -> str:
    return (name or "").split()[0] if name and name.split() else "there"
