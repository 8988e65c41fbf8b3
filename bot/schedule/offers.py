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
    r"\?\s*$|^\s*(?:what|how) about\b|^\s*(?:do|does|is|are|can|could|would|will|any|anything|got)\b|\banything\b"
    r"|\bany (?:openings?|times?|slots?|availability|spots?)\b|\b(?:other|different|more|later|earlier) (?:times?|days?|options?)\b"
    r"|\bnone of (?:those|these|them)\b|\b(?:those|these) (?:don'?t|do not|won'?t) work\b",
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
    """What the visitor asked for, in words: "Fri Dec 4, from 12:00 PM"."""
    parts = []
    if asked.days:
        shown = [f"{day:%a %b} {day.day}" for day in asked.days]
        consecutive = all((later - earlier).days == 1 for earlier, later in zip(asked.days, asked.days[1:]))
        parts.append(f"{shown[0]} to {shown[-1]}" if len(shown) > 2 and consecutive else " or ".join(shown))
    if asked.earliest and asked.latest:
        parts.append(f"between {_clock(asked.earliest)} and {_clock(asked.latest)}")
    elif asked.earliest:
        parts.append(f"from {_clock(asked.earliest)}")
    elif asked.latest:
        parts.append(f"before {_clock(asked.latest)}")
    return ", ".join(parts)


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
        intro = (f"Here are our open times for {described}." if openings else
                 f"We have nothing open for {described}. Here are the nearest open times.")
    if not openings:
        openings = find_openings(factory, settings, now=now, limit=OFFERED)
    if not openings:
        return None
    buttons = [{"title": label(opening.starts, tz), "payload": opening_payload(opening.starts)} for opening in openings]
    buttons.append({"title": "Other times", "payload": opening_payload(OTHER_TIMES)})
    text = (f"{intro} Which suits you? I'll hold it for you while we finish, and our front desk will confirm it."
            " If none of these work, choose Other times and tell me which days and times suit you.")
    return Offer(text=text, buttons=buttons, offered=[opening.starts.astimezone(timezone.utc).isoformat() for opening in openings])


_ONE_TIME = re.compile(r"\b(?:at|@)\s*\d|\b\d{1,2}(?::\d\d)?\s*(?:a\.?m|p\.?m|o'?clock)\b|\b\d{1,2}:\d\d\b", re.IGNORECASE)
_A_RANGE = re.compile(r"\b(?:after|before|between|from|past|until|till|by|later|earlier|around|about)\b", re.IGNORECASE)
_NTH = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3, "fifth": 4,
        "5th": 4, "sixth": 5, "6th": 5, "last": -1}
_NTH_ONE = re.compile(r"\b(?:the )?(" + "|".join(_NTH) + r")(?: one| option| time| slot)\b", re.IGNORECASE)


def picked_from_typed(text: str, offered: list[str], *, now: datetime, settings: Settings) -> datetime | None:
    """The one shown time a typed reply means ("the 9am one", "tuesday at 2", "the second one"), if exactly one fits.

    A range ("after 3", "mornings") picks nothing: it describes when the visitor is free.
    """
    if (nth := _NTH_ONE.search(text)) and offered:
        index = _NTH[nth.group(1).lower()]
        return parse_opening(offered[index]) if index < len(offered) else None
    asked = asked_times(text, now=now, settings=settings)
    if asked is None or asked.earliest is None or not _ONE_TIME.search(text) or _A_RANGE.search(text):
        return None
    tz = ZoneInfo(settings.clinic_timezone)
    fitting = []
    for value in offered:
        starts = parse_opening(value)
        if starts is None:
            continue
        local = starts.astimezone(tz)
        if local.time() == asked.earliest and (asked.days is None or local.date() in asked.days):
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
    return Reply()
