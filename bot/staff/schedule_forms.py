"""The schedule settings' forms, read and checked: each gives the values to save, or one plain
message per field at fault (and then nothing is saved).

Pure functions of what was typed. A checked form gives the schedule's own values
(`bot.schedule.changes`: `Hours`, `VisitTypeChange`, `ExceptionChange`), which that module saves.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.schedule.changes import WEEKDAYS, ExceptionChange, Hours, VisitTypeChange, hhmm
from bot.schedule.feed import PrivateAddressError, normalize_feed_url

MAX_VISIT_NAME = 100
MAX_VISIT_MINUTES = 480
MAX_POSITION = 999
MAX_CAPACITY = 50
MAX_NOTE = 200
MAX_FEED_URL = 2000

_TIME = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?\s*(a\.?m\.?|p\.?m\.?)?", re.IGNORECASE)
# Between the two times of a range: "-", an en or em dash, or "to".
_RANGE = re.compile(r"\s*(?:-|–|—|\bto\b)\s*", re.IGNORECASE)


class FieldError(ValueError):
    """What is wrong with one field's value, in plain words."""


@dataclass
class Form:
    """A checked form: `values` as typed (to show again), `errors` by field name."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def _text(form: Mapping[str, object], name: str) -> str:
    return str(form.get(name) or "").strip()


def parse_time(raw: str) -> time:
    """'8', '8:30', '08:30', '1:30 pm', '13.30' -> a time of day; FieldError otherwise."""
    match = _TIME.fullmatch(raw.strip())
    if not match:
        raise FieldError(f"{raw.strip()!r} is not a time; write it like 08:30 or 1:30 PM.")
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    half = (match.group(3) or "").lower().replace(".", "")
    if half:
        if not 1 <= hour <= 12:
            raise FieldError(f"{raw.strip()!r} is not a time: with AM or PM the hour is 1 to 12.")
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        raise FieldError(f"{raw.strip()!r} is not a time of day (00:00 to 23:59).")
    return time(hour, minute)


def parse_hours(raw: str) -> list[Hours]:
    """'08:00-12:00, 13:00-17:00' -> sorted ranges; '' -> none. Refuses a range that ends before
    it starts, and ranges that overlap (touching ones are fine)."""
    ranges: list[Hours] = []
    for part in re.split(r"[,;]", raw):
        if not part.strip():
            continue
        pieces = _RANGE.split(part.strip())
        if len(pieces) != 2:
            raise FieldError(f"{part.strip()!r} is not a range of hours; write it like 08:00-12:00.")
        starts, ends = parse_time(pieces[0]), parse_time(pieces[1])
        if ends <= starts:
            raise FieldError(f"{hhmm(starts)}-{hhmm(ends)} ends before it starts.")
        ranges.append(Hours(starts, ends))
    ranges.sort()
    for (first_start, first_end), (second_start, second_end) in zip(ranges, ranges[1:]):
        if second_start < first_end:
            raise FieldError(
                f"{hhmm(first_start)}-{hhmm(first_end)} and {hhmm(second_start)}-{hhmm(second_end)} overlap."
            )
    return ranges


@dataclass
class WeeklyHoursForm(Form):
    """Bookable hours by weekday (0 = Monday), from fields `hours-0` .. `hours-6`."""

    hours: dict[int, list[Hours]] = field(default_factory=dict)


def read_weekly_hours(form: Mapping[str, object]) -> WeeklyHoursForm:
    checked = WeeklyHoursForm(values={})
    for weekday, day_name in enumerate(WEEKDAYS):
        name = f"hours-{weekday}"
        checked.values[name] = _text(form, name)
        try:
            checked.hours[weekday] = parse_hours(checked.values[name])
        except FieldError as problem:
            checked.errors[name] = f"{day_name}: {problem}"
    if checked.ok and not any(checked.hours.values()):
        checked.errors["hours-0"] = (
            "Give bookable hours on at least one day. To close for a day or a holiday, add it under "
            "Closed days and extra hours."
        )
    return checked


@dataclass
class VisitTypeForm(Form):
    name: str = ""
    minutes: int = 0
    position: int = 0
    active: bool = True
    offered_in_chat: bool = False

    def change(self) -> VisitTypeChange:
        """The checked values, to save with `bot.schedule.changes`; only when `ok`."""
        assert self.ok, self.errors
        return VisitTypeChange(name=self.name, minutes=self.minutes, position=self.position, active=self.active,
                               offered_in_chat=self.offered_in_chat)


def _whole_number(raw: str, label: str, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise FieldError(f"{label} must be a whole number.") from None
    if not low <= value <= high:
        raise FieldError(f"{label} must be from {low} to {high}.")
    return value


def read_visit_type(form: Mapping[str, object]) -> VisitTypeForm:
    """Fields `name`, `minutes` (a multiple of 15, at most 480), `position`, `active`, `offered_in_chat`."""
    checked = VisitTypeForm(values={key: _text(form, key) for key in ("name", "minutes", "position")})
    checked.active = bool(form.get("active"))
    checked.offered_in_chat = bool(form.get("offered_in_chat"))
    checked.name = checked.values["name"]
    if not checked.name:
        checked.errors["name"] = "Give the visit type a name, like Free consultation."
    elif len(checked.name) > MAX_VISIT_NAME:
        checked.errors["name"] = f"The name is too long: at most {MAX_VISIT_NAME} characters."
    try:
        checked.minutes = _whole_number(checked.values["minutes"], "The length in minutes", 15, MAX_VISIT_MINUTES)
        if checked.minutes % 15:
            raise FieldError("The length must be a multiple of 15 minutes (15, 30, 45, 60, ...).")
    except FieldError as problem:
        checked.errors["minutes"] = str(problem)
    try:
        checked.position = _whole_number(checked.values["position"] or "1", "The order", 1, MAX_POSITION)
    except FieldError as problem:
        checked.errors["position"] = str(problem)
    if checked.offered_in_chat and not checked.active:
        checked.errors["offered_in_chat"] = "Only an active visit type can be offered in the chat."
    return checked


@dataclass
class CapacityForm(Form):
    capacity: int = 1


def read_capacity(form: Mapping[str, object]) -> CapacityForm:
    checked = CapacityForm(values={"capacity": _text(form, "capacity")})
    try:
        checked.capacity = _whole_number(checked.values["capacity"], "Capacity", 1, MAX_CAPACITY)
    except FieldError:
        checked.errors["capacity"] = (
            f"Capacity is how many visitors can be seen at the same time: a whole number from 1 to {MAX_CAPACITY}."
        )
    return checked


@dataclass
class ExceptionForm(Form):
    day: date | None = None
    closed: bool = True
    starts: time | None = None
    ends: time | None = None
    note: str = ""

    def change(self) -> ExceptionChange:
        """The checked values, to save with `bot.schedule.changes`; only when `ok`."""
        assert self.ok and self.day is not None, self.errors
        return ExceptionChange(day=self.day, closed=self.closed, starts=self.starts, ends=self.ends, note=self.note)


def read_exception(form: Mapping[str, object], *, today: date) -> ExceptionForm:
    """Fields `day` (YYYY-MM-DD, today or later), `kind` (`closed` or `extra`), `starts`, `ends`, `note`."""
    checked = ExceptionForm(values={key: _text(form, key) for key in ("day", "kind", "starts", "ends", "note")})
    checked.closed = checked.values["kind"] != "extra"
    checked.note = checked.values["note"]
    try:
        checked.day = date.fromisoformat(checked.values["day"])
        if checked.day < today:
            checked.errors["day"] = "That date has passed; choose today or a later date."
    except ValueError:
        checked.errors["day"] = "Choose the date (as YYYY-MM-DD)."
    if len(checked.note) > MAX_NOTE:
        checked.errors["note"] = f"The note is too long: at most {MAX_NOTE} characters."
    if not checked.closed:
        for name in ("starts", "ends"):
            try:
                setattr(checked, name, parse_time(checked.values[name]) if checked.values[name] else None)
            except FieldError as problem:
                checked.errors[name] = str(problem)
        if "starts" not in checked.errors and checked.starts is None:
            checked.errors["starts"] = "Extra hours need a start time."
        if "ends" not in checked.errors and checked.ends is None:
            checked.errors["ends"] = "Extra hours need an end time."
        if checked.starts and checked.ends and checked.ends <= checked.starts:
            checked.errors["ends"] = f"The extra hours end ({hhmm(checked.ends)}) before they start ({hhmm(checked.starts)})."
    return checked


@dataclass
class FeedForm(Form):
    # None: no clinic calendar.
    url: str | None = None


def read_feed(form: Mapping[str, object], *, private_allowed: bool = False) -> FeedForm:
    """Field `url`: the clinic calendar's secret address (http, https or webcal), or empty for none;
    one on this machine or a private network only when `private_allowed`."""
    checked = FeedForm(values={"url": _text(form, "url")})
    raw = checked.values["url"]
    if not raw:
        return checked
    if len(raw) > MAX_FEED_URL:
        checked.errors["url"] = f"That address is too long (at most {MAX_FEED_URL} characters)."
        return checked
    try:
        checked.url = normalize_feed_url(raw, private_allowed=private_allowed)
    except PrivateAddressError as error:
        checked.errors["url"] = str(error)
    except ValueError:
        checked.errors["url"] = (
            "That is not a calendar address: paste the secret address in iCal format, starting with "
            "https:// (or http:// or webcal://)."
        )
    return checked


def read_proposed_time(raw: str) -> datetime | None:
    """The `starts` of a proposal form (ISO 8601 with its offset), or None when it is not one."""
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


# Far enough for any schedule; near enough that a week or an hour's arithmetic never leaves the calendar.
DAYS_AROUND_TODAY = 5 * 366


def read_day(raw: str | None, *, default: date) -> tuple[date, bool]:
    """A YYYY-MM-DD within five years of `default` from an address (week, look-from), or `default`;
    and whether `raw` was usable."""
    if not raw:
        return default, True
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        return default, False
    if abs((day - default).days) > DAYS_AROUND_TODAY:
        return default, False
    return day, True


def clinic_today(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()
