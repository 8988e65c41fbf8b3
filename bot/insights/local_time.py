"""Clinic days and hours in SQL, the same on SQLite and PostgreSQL, right across DST changes.

SQLite knows no time zones, so neither database is asked to convert: the zone's UTC offsets over
the period are worked out here (`ZoneOffsets`, from Python's tz database) and the SQL adds the
right one to each UTC time, as a CASE over the instants the offset changes. Local seconds since
1970 divided by 3600 (or 86400) and rounded down are then the clinic hour (or day) a row falls
in: hour number h is the local date `h // 24` days after 1970-01-01, at hour `h % 24`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo

from sqlalchemy import Integer, case, cast, func, literal_column
from sqlalchemy.sql.elements import ColumnElement

HOUR = 3600
DAY = 86400
EPOCH_DAY = date(1970, 1, 1)
# How far apart the offset is sampled while looking for its changes: no zone changes twice in 6 hours.
_STEP_SECONDS = 6 * HOUR


def _offset_at(zone: tzinfo, seconds: int) -> int:
    offset = datetime.fromtimestamp(seconds, timezone.utc).astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _number(value: int) -> ColumnElement:
    # Whole numbers worked out here, written into the statement: the same expression text
    # wherever it appears (GROUP BY), and nothing anyone typed.
    return literal_column(str(int(value)))


@dataclass(frozen=True)
class ZoneOffsets:
    """A zone's UTC offsets, in seconds, over a stretch of time.

    `offsets[0]` holds until the instant `changes[0]` (seconds since 1970, UTC), `offsets[1]`
    from there until `changes[1]`, and so on; `offsets[-1]` after the last change.
    """

    changes: tuple[int, ...]
    offsets: tuple[int, ...]

    @classmethod
    def between(cls, zone: tzinfo, start: datetime, end: datetime) -> "ZoneOffsets":
        """The offsets of `zone` from `start` to `end` (aware datetimes)."""
        first, last = int(start.timestamp()), int(end.timestamp())
        changes: list[int] = []
        offsets = [_offset_at(zone, first)]
        at = first
        while at < last:
            step_end = min(at + _STEP_SECONDS, last)
            if _offset_at(zone, step_end) != offsets[-1]:
                # The first second with the new offset lies in (at, step_end].
                low, high = at, step_end
                while high - low > 1:
                    middle = (low + high) // 2
                    if _offset_at(zone, middle) == offsets[-1]:
                        low = middle
                    else:
                        high = middle
                changes.append(high)
                offsets.append(_offset_at(zone, high))
            at = step_end
        return cls(tuple(changes), tuple(offsets))

    def local_seconds(self, utc_seconds: ColumnElement) -> ColumnElement:
        """SQL: the clinic's wall-clock time of `utc_seconds` (seconds since 1970, UTC), as
        seconds since 1970 on the clinic's calendar."""
        if not self.changes:
            return utc_seconds + _number(self.offsets[0])
        offset = case(
            *[(utc_seconds < _number(change), _number(before)) for change, before in zip(self.changes, self.offsets)],
            else_=_number(self.offsets[-1]),
        )
        return utc_seconds + offset


def floor_div(dialect: str, seconds: ColumnElement, unit: int) -> ColumnElement:
    """SQL: `seconds // unit` rounded down, for seconds after 1970 (so never negative)."""
    if dialect == "postgresql":
        return func.floor(seconds / _number(unit))
    # SQLite has no floor() everywhere; CAST rounds toward zero, which is down for positive numbers.
    return cast(seconds / literal_column(f"{int(unit)}.0"), Integer)


def epoch_seconds(dialect: str, moment: ColumnElement) -> ColumnElement:
    """SQL: a timestamp column (`bot.db.UTCDateTime`) as seconds since 1970, UTC."""
    if dialect == "postgresql":
        return func.extract("epoch", moment)
    # SQLite keeps it as naive UTC text, which julianday() reads; day 2440587.5 is 1970-01-01.
    return (func.julianday(moment) - literal_column("2440587.5")) * literal_column("86400.0")


def seconds_between(dialect: str, later: ColumnElement, earlier: ColumnElement) -> ColumnElement:
    """SQL: `later - earlier` in seconds, for two timestamp columns."""
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * literal_column("86400.0")


def day_of(day_number: int) -> date:
    """The date of a clinic day number (days since 1970-01-01)."""
    return EPOCH_DAY + timedelta(days=int(day_number))


def day_number(day: date) -> int:
    return (day - EPOCH_DAY).days


def weekday_of(day_number_: int) -> int:
    """0 for Monday to 6 for Sunday; 1970-01-01 was a Thursday."""
    return (int(day_number_) + 3) % 7
