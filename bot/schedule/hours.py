"""The schedule's time arithmetic, pure: local hours to UTC blocks, the visit grid, interval sets.

Local days and times of day are the clinic's (a `ZoneInfo`); everything returned is aware UTC.
Daylight-saving changes are taken as the clock on the wall takes them: a block 00:00-04:00 on the
day the clocks go forward lasts three real hours, on the day they go back five, and the visit grid
runs in real minutes from the block's start, so no time is offered twice, skipped or shifted.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import NamedTuple
from zoneinfo import ZoneInfo

UTC = timezone.utc
Interval = tuple[datetime, datetime]


class DayRules(NamedTuple):
    """A day's bookable hours as staff set them: weekly hours by weekday, and exceptions by day."""

    weekly: dict[int, list[tuple[time, time]]]
    closed_days: frozenset[date]
    extra: dict[date, list[tuple[time, time]]]


def local_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant the clinic's clock reads `at` on `day`.

    A time the clock skips (02:30 on the day it jumps from 02:00 to 03:00) is the instant of
    the jump; a time the clock shows twice is its first showing.
    """
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == naive:
        return first
    # In the gap: fold=0 lands after the jump, fold=1 before it; find the jump to the second.
    low, high = int(naive.replace(tzinfo=tz, fold=1).astimezone(UTC).timestamp()), int(first.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, tz).replace(tzinfo=None) >= naive:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, with overlapping and touching intervals joined; empty ones dropped."""
    merged: list[list[datetime]] = []
    for starts, ends in sorted(intervals):
        if ends <= starts:
            continue
        if merged and starts <= merged[-1][1]:
            if ends > merged[-1][1]:
                merged[-1][1] = ends
        else:
            merged.append([starts, ends])
    return [(starts, ends) for starts, ends in merged]


def day_blocks(rules: DayRules, day: date, tz: ZoneInfo) -> list[Interval]:
    """The bookable blocks of one local day in UTC, merged: weekly hours plus extra hours; none if closed."""
    if day in rules.closed_days:
        return []
    hours = [*rules.weekly.get(day.weekday(), ()), *rules.extra.get(day, ())]
    return merge((local_to_utc(day, starts, tz), local_to_utc(day, ends, tz)) for starts, ends in hours)


def local_days(starts: datetime, ends: datetime, tz: ZoneInfo) -> Iterator[date]:
    """Each local day from the one `starts` falls on to the one `ends` falls on."""
    day, last = starts.astimezone(tz).date(), ends.astimezone(tz).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def grid(block: Interval, minutes: int) -> Iterator[datetime]:
    """Visit starts in `block`: from its start, every `minutes` real minutes, each visit ending inside it."""
    starts, ends = block
    step = timedelta(minutes=minutes)
    while starts + step <= ends:
        yield starts
        starts += step


class IntervalSet:
    """Sorted, merged intervals, asked whether they overlap or contain a stretch (bisect: O(log n))."""

    def __init__(self, intervals: Iterable[Interval]) -> None:
        self._intervals = merge(intervals)
        self._starts = [starts for starts, _ends in self._intervals]

    def __len__(self) -> int:
        return len(self._intervals)

    def __bool__(self) -> bool:
        return bool(self._intervals)

    def overlaps(self, starts: datetime, ends: datetime) -> bool:
        """Whether any interval shares time with `starts`-`ends` (touching is not sharing)."""
        index = bisect_right(self._starts, starts) - 1
        if index >= 0 and self._intervals[index][1] > starts:
            return True
        following = index + 1
        return following < len(self._intervals) and self._intervals[following][0] < ends

    def contains(self, starts: datetime, ends: datetime) -> bool:
        """Whether one interval holds all of `starts`-`ends`."""
        index = bisect_right(self._starts, starts) - 1
        return index >= 0 and self._intervals[index][1] >= ends

    def span(self) -> Interval | None:
        """From the first interval's start to the last one's end; None when empty."""
        return (self._intervals[0][0], self._intervals[-1][1]) if self._intervals else None


def cells(starts: datetime, ends: datetime, cell_minutes: int) -> list[datetime]:
    """The starts of the `cell_minutes` cells of UTC time that `starts`-`ends` touches."""
    size = cell_minutes * 60
    first = int(starts.timestamp()) // size * size
    last = -(-int(ends.timestamp()) // size) * size
    return [datetime.fromtimestamp(moment, UTC) for moment in range(first, last, size)]


def aware_utc(moment: datetime, name: str = "time") -> datetime:
    """`moment` in UTC; a naive datetime is refused rather than guessed at."""
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return moment.astimezone(UTC)


def clip(windows: Sequence[Interval], starts: datetime, ends: datetime) -> list[Interval]:
    """`windows` cut to `starts`-`ends`, merged."""
    return merge((max(a, starts), min(b, ends)) for a, b in windows)
