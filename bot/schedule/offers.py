"""Open times as the chat offers them: which to show, their button labels, and reading the reply.

The inquiry's times question (`action_ask_preferred_times`) shows the next openings that fit
what the visitor asked ("anything Friday afternoon?") as buttons, each with the payload
`/inform{"opening": "<UTC ISO start>"}`, plus "Other times" (`OTHER_TIMES`), which falls back to
the free-text preferred times. A typed reply either picks one of the shown times ("the 9am one"),
asks about other days or times ("what about next week?"), or describes when the visitor is free,
which is kept as their preferred times.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

from sqlalchemy.orm import sessionmaker

from bot.schedule.openings import Opening, find_openings
from bot.schedule.requested_times import RequestedTimes, requested_times
from bot.settings import Settings

OPENING_ENTITY = "opening"
OTHER_TIMES = "other"
OFFERED = 6
# The inquiries whose times question offers open times; a cost question or a call-back asks in words.
KINDS_OFFERED_TIMES = frozenset({"availability", "appointment"})
_ASKS_AGAIN = re.compile(
    r"\?\s*$|^\s*(?:what|how) about\b|^\s*(?:do|does|is|are|can|could|would|will|anything|got)\b|\banything\b"
    r"|\bany (?:openings?|times?|slots?|availability|spots?)\b|\b(?:other|different|more|later|earlier) (?:times?|days?|options?)\b"
    r"|\bnone of (?:those|these|them)\b|\b(?:those|these) (?:don'?t|do not|won'?t) work\b"
    r"|\b(?:need|want|like|looking for) (?:something|an? (?:time|slot|opening|appointment))\b",
    re.IGNORECASE,
)
_NONE_OF_THESE = re.compile(
    r"\bnone of (?:those|these|them)\b|\b(?:those|these|they) (?:don'?t|do not|won'?t|dont) work\b|\bother times?\b"
    r"|\bcan'?t make (?:any|those|these)\b|\bneither\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Reply:
    """A reply to the times question, read: at most one of these is set; none means "take it as words"."""

    picked: datetime | None = None
    asked: str | None = None
    other_times: bool = False
    # Meant one of the shown times ("the 9am one") but fits none of them, or several.
    unclear: bool = False


def clinic_zone(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.clinic_timezone)


def offers_times(kind: str | None, *, other_chosen: bool, asked_text: str | None = None) -> bool:
    """True when the times question shows open times: for availability and booking, or when asked for them."""
    return (kind in KINDS_OFFERED_TIMES or bool(asked_text)) and not other_chosen


@dataclass(frozen=True)
class Offer:
    """What the times question shows: its text, the openings as buttons, and the UTC starts offered."""

    text: str
    buttons: list[dict[str, str]]
    offered: list[str]


def label(starts: datetime, tz: ZoneInfo) -> str:
    """A time as the visitor reads it in the clinic's time zone: "Tue Dec 8, 9:00 AM"."""
    local = starts.astimezone(tz)
    return f"{local:%a %b} {local.day}, {_clock(local.time())}"


def opening_payload(starts: datetime | str) -> str:
    """The button payload that picks a time (a UTC ISO start) or, with `OTHER_TIMES`, none of them."""
    value = starts if isinstance(starts, str) else starts.astimezone(timezone.utc).isoformat()
    return "/inform" + json.dumps({OPENING_ENTITY: value}, separators=(",", ":"))


def parse_opening(value: str) -> datetime | None:
    """The UTC start a button's `opening` entity names; None for `OTHER_TIMES` or anything else."""
    try:
        starts = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return starts.astimezone(timezone.utc) if starts.tzinfo else None


def asked_times(text: str | None, *, now: datetime, settings: Settings) -> RequestedTimes | None:
    """The days and times `text` asks about, in the clinic's time zone; None when it names none."""
    if not text:
        return None
    return requested_times(text, now=now, tz=ZoneInfo(settings.clinic_timezone))


def _clock(value: time) -> str:
    return f"{value.hour % 12 or 12}:{value.minute:02d} {'AM' if value.hour < 12 else 'PM'}"


def _described(asked: RequestedTimes) -> str:
    """What the visitor asked for, as words that follow "open times": "on Fri Dec 4 from 12:00 PM"."""
    parts = []
    if asked.days:
        shown = [f"{day:%a %b} {day.day}" for day in asked.days]
        consecutive = all((later - earlier).days == 1 for earlier, later in zip(asked.days, asked.days[1:]))
        parts.append(f"from {shown[0]} to {shown[-1]}" if len(shown) > 2 and consecutive else "on " + " or ".join(shown))
    if asked.earliest and asked.latest:
        parts.append(f"between {_clock(asked.earliest)} and {_clock(asked.latest)}")
    elif asked.earliest:
        parts.append(f"from {_clock(asked.earliest)}")
    elif asked.latest:
        parts.append(f"before {_clock(asked.latest)}")
    return " ".join(parts)


def make_offer(factory: sessionmaker, settings: Settings, *, asked_text: str | None, now: datetime) -> Offer | None:
    """The times question with open times that fit `asked_text` (or the next ones); None when nothing is open.

    Raises what the database raises; the caller falls back to asking for preferred times.
    """
    tz = ZoneInfo(settings.clinic_timezone)
    asked = asked_times(asked_text, now=now, settings=settings)
    openings: list[Opening] = []
    intro = "Here are our next open times."
    if asked is not None:
        windows = asked.windows(tz, today=now.astimezone(tz).date())
        openings = find_openings(factory, settings, now=now, windows=windows, limit=OFFERED) if windows else []
        described = _described(asked)
        intro = (f"Here are our open times {described}." if openings else
                 f"We have nothing open {described}. Here are the nearest open times.")
    if not openings:
        openings = find_openings(factory, settings, now=now, limit=OFFERED)
    if not openings:
        return None
    buttons = [{"title": label(opening.starts, tz), "payload": opening_payload(opening.starts)} for opening in openings]
    buttons.append({"title": "Other times", "payload": opening_payload(OTHER_TIMES)})
    text = (f"{intro} Which suits you? I'll hold it for you while we finish, and our front desk will confirm it."
            " If none of these work, choose Other times and tell me which days and times suit you.")
    return Offer(text=text, buttons=buttons, offered=[opening.starts.astimezone(timezone.utc).isoformat() for opening in openings])


_A_RANGE = re.compile(r"\b(?:after|before|between|from|past|until|till|by|later|earlier|around|about|only)\b", re.IGNORECASE)
_NTH = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3, "fifth": 4,
        "5th": 4, "sixth": 5, "6th": 5, "last": -1}
_NTH_ONE = re.compile(r"\b(?:the )?(" + "|".join(_NTH) + r")(?: one| option| time| slot)\b", re.IGNORECASE)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
# A clock time, not a day of the month ("dec 8", "the 8th", "12/8" are dates).
_CLOCK = re.compile(rf"(?<!/)\b(\d{{1,2}})(?::(\d\d))?\s*(a\.?m\.?|p\.?m\.?|o'?clock)?(?![\d/]|st\b|nd\b|rd\b|th\b)",
                    re.IGNORECASE)
# Words that point at one of the shown times: "the afternoon one", "thurs 10 is good", "11 pls".
_POINTS_AT_SHOWN = re.compile(r"\bone\b|\bthat\b|\bworks?\b|\bis (?:good|fine|great|perfect)\b|\bpls\b|\bplease\b"
                              r"|\bi'?ll take\b|\bsounds good\b|\bok(?:ay)?\b|\bperfect\b", re.IGNORECASE)


_WEEKDAY = re.compile(r"\b(?:mon|tue|wed|thu|fri|sat|sun)", re.IGNORECASE)


def _clock_times(text: str) -> list[tuple[int, int, str]]:
    """Clock times typed: (hour 1-12 or 0-23, minute, "am"/"pm"/"") each, days of the month left out."""
    found = []
    for match in _CLOCK.finditer(text):
        if re.search(rf"\b{_MONTH}\s*(?:\d{{1,2}}\s*(?:or|and|,|-|to)\s*)?$", text[:match.start()], re.IGNORECASE):
            continue
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if 1 <= hour <= 23 and minute < 60:
            found.append((hour, minute, (match.group(3) or "").replace(".", "").lower()[:2]))
    return found


def _same_clock(local: datetime, typed: tuple[int, int, str]) -> bool:
    hour, minute, half = typed
    if local.minute != minute:
        return False
    if half == "am" or half == "pm" or hour > 12:
        return local.hour == (hour % 12 + (12 if half == "pm" else 0) if hour <= 12 else hour)
    return local.hour % 12 == hour % 12


def picked_from_typed(text: str, offered: list[str], *, now: datetime, settings: Settings) -> datetime | None:
    """The one shown time a typed reply means, if exactly one fits: "the 9am one", "thurs 10 is good",
    "the second one", "the tomorrow afternoon one".

    A range ("after 3", "mornings only") picks nothing: it describes when the visitor is free.
    """
    if (nth := _NTH_ONE.search(text)) and offered:
        index = _NTH[nth.group(1).lower()]
        return parse_opening(offered[index]) if index < len(offered) else None
    if _A_RANGE.search(text):
        return None
    asked = asked_times(text, now=now, settings=settings)
    clocks = _clock_times(text)
    if not clocks and (asked is None or not _POINTS_AT_SHOWN.search(text)):
        return None
    tz = ZoneInfo(settings.clinic_timezone)
    fitting = []
    for value in offered:
        starts = parse_opening(value)
        if starts is None:
            continue
        local = starts.astimezone(tz)
        # "monday at 2" said on a Monday may mean today's 2:00 shown among the buttons.
        if asked is not None and asked.days is not None and not (local.date() in asked.days or (_WEEKDAY.search(text) and any(
                day.weekday() == local.weekday() and abs((day - local.date()).days) == 7 for day in asked.days))):
            continue
        if clocks:
            if any(_same_clock(local, typed) for typed in clocks):
                fitting.append(starts)
        elif asked is not None and (asked.earliest or time(0)) <= local.time() < (asked.latest or time(23, 59)):
            fitting.append(starts)
    return fitting[0] if len(fitting) == 1 else None


def asks_other_times(text: str) -> bool:
    """True when a typed reply to the shown times asks for other ones rather than describing availability."""
    return bool(_ASKS_AGAIN.search(text))


def declines_shown_times(text: str) -> bool:
    """True for "none of those work" and the like, which name no other time."""
    return bool(_NONE_OF_THESE.search(text))


def read_reply(text: str, *, opening: str | None, offered: list[str] | None, other_chosen: bool,
               now: datetime, settings: Settings) -> Reply:
    """What a reply to the times question means.

    `opening`: the entity a button sent (a UTC ISO start, or `OTHER_TIMES`); `offered`: the starts the
    question showed. A button picks its time; typed words pick one shown time when exactly one fits,
    ask for other days or times when they are a question naming some ("what about next week?", also
    where no times were shown yet), or turn down the shown ones ("none of those work"). Anything else is the visitor's times in words.
    """
    if opening is not None:
        starts = parse_opening(opening)
        return Reply(picked=starts) if starts is not None else Reply(other_times=True)
    if other_chosen:
        return Reply()
    if offered and (picked := picked_from_typed(text, offered, now=now, settings=settings)) is not None:
        return Reply(picked=picked)
    if asks_other_times(text) and asked_times(text, now=now, settings=settings) is not None:
        return Reply(asked=text)
    if offered and declines_shown_times(text):
        return Reply(other_times=True)
    if offered and points_at_a_shown_time(text):
        return Reply(unclear=True)
    return Reply()


def points_at_a_shown_time(text: str) -> bool:
    """True for words that pick one of the shown times ("the 9am one", "thurs 10 is good", "the third one")."""
    if _A_RANGE.search(text):
        return False
    return bool(_NTH_ONE.search(text)) or bool(_clock_times(text) and _POINTS_AT_SHOWN.search(text))
