"""The period the figures are about: the last 7, 30 or 90 days, or chosen dates, in clinic days."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

# Each choice: how many days up to and including today.
PRESET_DAYS = {"7": 7, "30": 30, "90": 90}
DEFAULT_PRESET = "30"
CUSTOM = "custom"
# Longer than this, a day-by-day line cannot be read, and the page would count for too long.
MAX_DAYS = 366


@dataclass(frozen=True)
class Period:
    """From `first_day` to `last_day`, both included, as days of the clinic's calendar.

    `key` is the preset ("7", "30", "90") or "custom" for dates someone chose.
    """

    first_day: date
    last_day: date
    key: str = CUSTOM

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def each_day(self) -> list[date]:
        return [self.first_day + timedelta(days=offset) for offset in range(self.days)]

    def bounds(self, zone: tzinfo) -> tuple[datetime, datetime]:
        """The period as instants: the clinic's midnight starting `first_day`, and the one after
        `last_day` (excluded). Timezone-aware, in `zone`; a day of a DST change is 23 or 25 hours."""
        start = datetime.combine(self.first_day, time(0), tzinfo=zone)
        end = datetime.combine(self.last_day + timedelta(days=1), time(0), tzinfo=zone)
        return start, end

    def previous(self) -> "Period":
        """The as many days just before, for comparison."""
        return Period(self.first_day - timedelta(days=self.days), self.first_day - timedelta(days=1))

    @property
    def label(self) -> str:
        """'Last 30 days' for a preset, else 'Mar 1, 2025 to Mar 31, 2025'."""
        if self.key in PRESET_DAYS:
            return f"Last {self.days} days"
        return f"{_day_label(self.first_day)} to {_day_label(self.last_day)}"


def _day_label(day: date) -> str:
    return f"{day:%b} {day.day}, {day.year}"


def preset(key: str, today: date) -> Period:
    days = PRESET_DAYS[key]
    return Period(today - timedelta(days=days - 1), today, key)


@dataclass(frozen=True)
class ParsedPeriod:
    period: Period
    # What could not be used, as sentences to show; the period is then the default one.
    errors: list[str] = field(default_factory=list)
    # The dates as typed, to show them again in the form.
    typed_from: str = ""
    typed_to: str = ""


def _date(raw: str, label: str, errors: list[str]) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.append(f"The {label} date {raw!r} is not a date like 2025-03-31.")
        return None


def parse_period(params: Mapping[str, str], today: date) -> ParsedPeriod:
    """The period that `period`, `from` and `to` ask for; the default period (the last 30 days)
    with a message for each problem when they cannot be used. Dates win over a preset."""
    typed_from = (params.get("from") or "").strip()
    typed_to = (params.get("to") or "").strip()
    default = preset(DEFAULT_PRESET, today)
    if not typed_from and not typed_to:
        key = (params.get("period") or DEFAULT_PRESET).strip()
        if key not in PRESET_DAYS:
            return ParsedPeriod(default, [f"There is no period {key!r}; showing the last 30 days."])
        return ParsedPeriod(preset(key, today))
    errors: list[str] = []
    if not typed_from or not typed_to:
        errors.append("Give both a from date and a to date.")
    first = _date(typed_from, "from", errors) if typed_from else None
    last = _date(typed_to, "to", errors) if typed_to else None
    if first and last and first > last:
        errors.append("The from date is after the to date.")
    elif first and last and (last - first).days + 1 > MAX_DAYS:
        errors.append(f"A period can be at most {MAX_DAYS} days long.")
    if errors or first is None or last is None:
        errors.append("Showing the last 30 days instead.")
        return ParsedPeriod(default, errors, typed_from, typed_to)
    return ParsedPeriod(Period(first, last), [], typed_from, typed_to)
