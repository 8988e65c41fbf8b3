"""The days and times a visitor asks about, read from their own words in the clinic's time zone.

`requested_times("anything friday afternoon?", now=..., tz=...)` gives
`RequestedTimes(days=(date(2026, 12, 4),), earliest=time(12), latest=None)`; `.windows(...)`
turns that into the UTC ranges `bot.schedule.openings.find_openings` takes. Calendar dates
("Dec 10", "12/10") are read by `dateparser`, relative to the clinic's today; the words people use
for parts of the day and of the week ("before work", "this week") are the clinic's conventions below.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import dateparser

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_SHORT = {"mon": 0, "tue": 1, "tues": 1, "wed": 2, "weds": 2, "thu": 3, "thur": 3, "thurs": 3,
                  "fri": 4, "sat": 5, "sun": 6}
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december")
_MONTH_SHORT = ("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec")

# Parts of the day, as (earliest, latest) local times; the schedule bounds them further.
DAY_PARTS: dict[str, tuple[time | None, time | None]] = {
    "morning": (None, time(12)),
    "mornings": (None, time(12)),
    "am": (None, time(12)),
    "afternoon": (time(12), None),
    "afternoons": (time(12), None),
    "pm": (time(12), None),
    "evening": (time(16), None),
    "evenings": (time(16), None),
    "lunch": (time(11, 30), time(13, 30)),
    "lunchtime": (time(11, 30), time(13, 30)),
    "midday": (time(11, 30), time(13, 30)),
}
_PHRASE_PARTS: tuple[tuple[str, tuple[time | None, time | None]], ...] = (
    # "the earliest you could see her" asks for the soonest day, not an early hour.
    (r"\bbefore work\b|\bfirst thing\b|\bearly\b(?! as\b)", (None, time(9))),
    (r"\bafter work\b|\bafter hours\b|\bend of (?:the )?day\b|\blate\b", (time(16), None)),
    (r"\blater in the day\b|\blater on\b", (time(12), None)),
    (r"\blunch ?(?:time|break|hour)?\b|\bnoon ?time\b|\bmid-?day\b", (time(11, 30), time(13, 30))),
    (r"\bbefore noon\b|\bbefore lunch\b", (None, time(12))),
    (r"\bafter noon\b|\bafter lunch\b", (time(12), None)),
)
# Words read for the vocabulary above even when misspelled ("wensday", "tommorow", "afternon").
_VOCABULARY = WEEKDAYS + ("today", "tomorrow", "tonight", "weekend", "weekends", "week") + tuple(DAY_PARTS)
_ABBREVIATIONS = {"tmrw": "tomorrow", "tmr": "tomorrow", "tmrow": "tomorrow", "tmw": "tomorrow", "2moro": "tomorrow",
                  "2morrow": "tomorrow", "2mrw": "tomorrow", "wknd": "weekend", "nxt": "next", "aft": "afternoon",
                  "arvo": "afternoon", "tues": "tuesday", "thurs": "thursday", "weds": "wednesday"}
_KEEP_AS_TYPED = {"mon", "tue", "wed", "thu", "fri", "sat", "sun", "am", "pm", "week", "weak", "sunday",
                  "monday", "wed", "wee", "wake", "worked", "weeks", "more", "mourning", "even", "noon"}
_HOUR = r"(\d{1,2})(?::(\d{2}))?\s*(a\.?m\.?|p\.?m\.?|o'?clock|ish)?"


@dataclass(frozen=True)
class RequestedTimes:
    """What a visitor asked for: some days (None: any), and a part of the day (local times, None: open)."""

    days: tuple[date, ...] | None = None
    earliest: time | None = None
    latest: time | None = None

    def windows(self, tz: ZoneInfo, *, today: date, horizon_days: int = 56) -> list[tuple[datetime, datetime]]:
        """UTC ranges, one per local day (every day from `today` for `horizon_days` when no day was named)."""
        days = self.days if self.days is not None else tuple(today + timedelta(n) for n in range(horizon_days))
        ranges = []
        for day in days:
            starts = datetime.combine(day, self.earliest or time(0), tz)
            ends = (datetime.combine(day, self.latest, tz) if self.latest is not None
                    else datetime.combine(day + timedelta(1), time(0), tz))
            if ends > starts:
                ranges.append((starts.astimezone(timezone.utc), ends.astimezone(timezone.utc)))
        return ranges


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def _corrected(text: str) -> str:
    """The text with near-misses of day words spelled right; common words are left as typed."""
    def fix(match: re.Match) -> str:
        word = match.group(0)
        if word in _ABBREVIATIONS:
            return _ABBREVIATIONS[word]
        if len(word) < 5 or word in _KEEP_AS_TYPED or word in _VOCABULARY:
            return word
        close = difflib.get_close_matches(word, _VOCABULARY, n=1, cutoff=0.78)
        return close[0] if close else word
    return re.sub(r"[a-z0-9]+", fix, text.lower())


def _next_weekday(today: date, weekday: int, *, next_week: bool) -> date:
    ahead = (weekday - today.weekday()) % 7 or 7
    day = today + timedelta(ahead)
    if next_week and (day - today).days < 7 and day.isocalendar()[1] == today.isocalendar()[1]:
        day += timedelta(7)
    return day


def _week_of(today: date, offset_weeks: int = 0, *, containing: date | None = None) -> tuple[date, ...]:
    """The days left of a week (Monday to Sunday): this one, `offset_weeks` later, or the one `containing` a day."""
    monday = (containing or today) - timedelta((containing or today).weekday()) + timedelta(7 * offset_weeks)
    first = max(monday, today)
    return tuple(first + timedelta(n) for n in range((monday + timedelta(7) - first).days))


_WEEKDAY_WORDS = re.compile(r"\b(next|this|coming)?\s*(" + "|".join(WEEKDAYS + tuple(_WEEKDAY_SHORT)) + r")s?\b")


def _named_week(text: str, today: date) -> tuple[date, ...] | None:
    """The week a message names: "this week", "next week", "in two weeks", "the week of the 7th"."""
    if match := re.search(r"\bweek of (.{2,24})", text):
        dates = _calendar_dates(match.group(1).strip(), today)
        if dates:
            return _week_of(today, containing=dates[0])
    if re.search(r"\bthis week\b|\brest of (?:the|this) week\b|\blater this week\b", text):
        return _week_of(today)
    if re.search(r"\bnext week\b|\bcoming week\b", text):
        return _week_of(today, 1)
    if re.search(r"\b(?:in )?(?:two|2) weeks\b|\bweek after(?: next| that)?\b", text):
        return _week_of(today, 2)
    return None


def _next_date(today: date, month: int, day: int) -> date:
    """The next `month`/`day` from `today` on (this year's, or next year's once it has passed)."""
    this_year = date(today.year, month, day)
    return this_year if this_year >= today else date(today.year + 1, month, day)


def _span(first: date, last: date, today: date) -> list[date]:
    first = max(first, today)
    return [first + timedelta(n) for n in range((last - first).days + 1)]


def _named_stretch(text: str, today: date) -> list[date] | None:
    """Longer stretches named in words: a month ("in January"), the holidays around the new year."""
    if re.search(r"\bbetween christmas and new ?year'?s?\b|\bholiday week\b", text):
        christmas = _next_date(today, 12, 25)
        return _span(christmas + timedelta(1), christmas + timedelta(6), today)
    if re.search(r"\bafter (?:the )?(?:holidays|new ?year'?s?)\b", text):
        new_year = _next_date(today, 1, 2)
        return _span(new_year, new_year + timedelta(27), today)
    if re.search(r"\bbefore christmas\b", text):
        return _span(today, _next_date(today, 12, 24), today)
    if match := re.search(r"\b(?:in|during|sometime in|early|late|mid) (" + "|".join(_MONTHS) + r")\b", text):
        month = _MONTHS.index(match.group(1)) + 1
        first = _next_date(today, month, 1) if month != today.month else today.replace(day=1)
        if (first - today).days > 92:
            return None  # "a fall in October", said in December, is about the past
        last = (first.replace(day=28) + timedelta(4)).replace(day=1) - timedelta(1)
        return _span(first, last, today)
    return None


# "I work Tuesdays", "any day but Monday": a day named as one that does not suit.
_RULES_OUT = re.compile(r"\b(?:not|except|other than|besides|busy|work|works|working|can'?t|cannot|no)\b")
_CLAUSE_BREAK = re.compile(r"[.;!?]|\b(?:but|so|free|available|open|how about|what about|or)\b")


def _ruled_out(before: str) -> bool:
    """True when the words just before a day (in its clause) say it does not suit."""
    clause = re.sub(r"\b(?:before|after) work\b", " ", _CLAUSE_BREAK.split(before)[-1])
    return bool(_RULES_OUT.search(clause[-60:]))


def _named_days(text: str, today: date) -> list[date]:
    """Days named in (corrected) text: relative words, weekdays (within a week named), weeks, calendar dates."""
    days: list[date] = []
    if re.search(r"\btoday\b|\btonight\b|\bthis (?:morning|afternoon|evening)\b", text):
        days.append(today)
    if re.search(r"\bday after tomorrow\b", text):
        days.append(today + timedelta(2))
    elif re.search(r"\btomorrow\b", text):
        days.append(today + timedelta(1))
    if re.search(r"\b(?:this|the)\s+weekend\b|\bweekends?\b", text):
        saturday = today + timedelta((5 - today.weekday()) % 7)
        days += [d for d in (saturday, saturday + timedelta(1)) if d >= today]
    stretch = _named_stretch(text, today)
    week = stretch or _named_week(text, today)
    dates = [] if week else _calendar_dates(text, today)
    weekdays, ruled_out = [], set()
    for match in _WEEKDAY_WORDS.finditer(text):
        word = match.group(2)
        weekday = WEEKDAYS.index(word) if word in WEEKDAYS else _WEEKDAY_SHORT[word]
        if _ruled_out(text[:match.start()]):
            ruled_out.add(weekday)
            continue
        weekdays.append((weekday, match.group(1) == "next"))
    if weekdays and week:
        days += [day for day in week if day.weekday() in {weekday for weekday, _ in weekdays}]
    elif week:
        # "next week any day except wednesday"
        days += [day for day in week if day.weekday() not in ruled_out]
    else:
        days += list(week or ())
        # "wed 12/9": the weekday only describes the date beside it.
        days += [_next_weekday(today, weekday, next_week=next_week) for weekday, next_week in weekdays
                 if weekday not in {day.weekday() for day in dates}]
    return days + dates


def _calendar_dates(text: str, today: date) -> list[date]:
    settings = {"PREFER_DATES_FROM": "future", "DATE_ORDER": "MDY", "REQUIRE_PARTS": ["day", "month"],
                "RELATIVE_BASE": datetime.combine(today, time(12))}
    months = "|".join(_MONTHS + _MONTH_SHORT)
    found: list[date] = []
    patterns = (rf"\b(?:{months})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b", rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{months})\b",
                r"\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b")
    for pattern in patterns:
        for match in re.finditer(pattern, text):
            parsed = dateparser.parse(match.group(0).replace(" of ", " "), languages=["en"], settings=settings)
            if parsed is not None:
                found.append(parsed.date())
    # "dec 8 or 9": the second number is a day of the same month.
    for match in re.finditer(rf"\b((?:{months})\.?)\s+\d{{1,2}}(?:st|nd|rd|th)?((?:\s*(?:or|and|,|-|to)\s*\d{{1,2}}(?:st|nd|rd|th)?\b)+)", text):
        for number in re.findall(r"\d{1,2}", match.group(2)):
            parsed = dateparser.parse(f"{match.group(1)} {number}", languages=["en"], settings=settings)
            if parsed is not None:
                found.append(parsed.date())
    # "the 10th", "the 28th or 29th": the next day of the month with that number.
    for match in re.finditer(r"\b(\d{1,2})(?:st|nd|rd|th)\b", text):
        if re.search(rf"\b(?:{months})\.?\s+$", text[:match.start()]) or re.match(rf"\s+(?:of\s+)?(?:{months})\b", text[match.end():]):
            continue  # read above as a calendar date
        number = int(match.group(1))
        for months_ahead in range(3):
            year, month = today.year + (today.month - 1 + months_ahead) // 12, (today.month - 1 + months_ahead) % 12 + 1
            try:
                day = date(year, month, number)
            except ValueError:
                continue
            if day >= today:
                found.append(day)
                break
    return found


def _clock(hour: str, minutes: str | None, suffix: str | None) -> time | None:
    value = int(hour)
    suffix = (suffix or "").replace(".", "")
    if suffix.startswith("p") and value < 12:
        value += 12
    elif suffix.startswith("a") and value == 12:
        value = 0
    elif not suffix.startswith(("a", "p")) and 1 <= value <= 6:
        value += 12  # "after 3": nobody means 3 in the morning at a clinic
    if not 0 <= value <= 23 or (minutes and int(minutes) > 59):
        return None
    return time(value, int(minutes or 0))


def _time_of_day(text: str) -> tuple[time | None, time | None]:
    # Of several parts of the day, the first named is the one asked for: "the morning if possible,
    # she has a hair appointment in the afternoon"; "first thing in the morning".
    parts = [(match.start(), bounds) for pattern, bounds in _PHRASE_PARTS for match in re.finditer(pattern, text)]
    parts += [(match.start(), DAY_PARTS[match.group(0)]) for match in re.finditer(r"[a-z]+", text)
              if match.group(0) in DAY_PARTS and match.group(0) not in ("am", "pm")]
    earliest, latest = min(parts, key=lambda part: part[0])[1] if parts else (None, None)
    for match in re.finditer(rf"\b(after|past|from|later than|no earlier than)\s+{_HOUR}", text):
        earliest = _clock(match.group(2), match.group(3), match.group(4)) or earliest
    for match in re.finditer(rf"\b(before|by|until|till|no later than)\s+{_HOUR}", text):
        latest = _clock(match.group(2), match.group(3), match.group(4)) or latest
    for match in re.finditer(rf"\b(between|from)\s+{_HOUR}\s*(?:and|to|-)\s*{_HOUR}", text):
        low = _clock(match.group(2), match.group(3), match.group(4) or match.group(7))
        high = _clock(match.group(5), match.group(6), match.group(7))
        if low and high and high > low:
            earliest, latest = low, high
    if earliest is None and latest is None:
        at = re.search(rf"\b(?:at|around|about|@)\s+{_HOUR}|\b(\d{{1,2}})(?::(\d{{2}}))?\s*(a\.?m\.?|p\.?m\.?)", text)
        if at:
            hour, minutes, suffix = (at.group(1), at.group(2), at.group(3)) if at.group(1) else at.group(4, 5, 6)
            clock = _clock(hour, minutes, suffix)
            if clock is not None:
                around = datetime.combine(date.min + timedelta(1), clock)
                earliest = (around - timedelta(minutes=30)).time() if "around" in at.group(0) or "about" in at.group(0) else clock
                latest = (around + timedelta(hours=2)).time() if clock < time(22) else None
    if earliest and latest and latest <= earliest:
        latest = None
    return earliest, latest


def requested_times(text: str, *, now: datetime, tz: ZoneInfo) -> RequestedTimes | None:
    """The days and times `text` asks about, relative to `now` in `tz`; None when it names none.

    A day part alone ("mornings") applies to every day; days alone to the whole of each day.
    """
    # "Good morning" greets; it asks for no morning.
    corrected = re.sub(r"\bgood (?:morning|afternoon|evening|day)\b", " ", _corrected(text))
    today = now.astimezone(tz).date()
    days = sorted(set(_named_days(corrected, today)))
    earliest, latest = _time_of_day(corrected)
    if not days and earliest is None and latest is None:
        return None
    return RequestedTimes(days=tuple(days) or None, earliest=earliest, latest=latest)
