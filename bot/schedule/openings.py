"""The times a visitor can be offered: inside the schedule, outside the clinic calendar's busy
times, with a free seat, at least an hour ahead.

`find_openings` is what the chat calls; `schedule_summary` is what a staff page shows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.schedule import rules, seats
from bot.schedule.hours import (
    UTC, DayRules, IntervalSet, aware_utc, clip, day_blocks, grid, local_days, local_to_utc,
)
from bot.schedule.models import CELL_MINUTES, SINGLE_ROW_ID, ScheduleException, ScheduleSettings, VisitType, WeeklyHours
from bot.schedule.rules import Visit
from bot.settings import Settings

# The soonest an opening may start: staff need this much notice.
LEAD_MINUTES = 60
CELL_SECONDS = CELL_MINUTES * 60
# Busy times and seats are read for this many days first, then for all later days at once: most
# answers come from the first week, and a long search costs two reads, not one per week.
FIRST_READ_DAYS = 7


class Opening(NamedTuple):
    """A time that can be held: `starts`-`ends` (aware UTC) for one visit type (None: the default visit)."""

    starts: datetime
    ends: datetime
    visit_type_id: int | None
    visit_name: str


class Plan:
    """Everything that decides openings between `starts` and `ends`.

    Staff's rules are read at once; busy times and taken seats for the first week, and for the
    later days only when the search gets there (FIRST_READ_DAYS).
    """

    def __init__(self, session: Session, settings: Settings, visit: Visit, starts: datetime, ends: datetime,
                 *, with_seats: bool = True) -> None:
        self.tz = ZoneInfo(settings.clinic_timezone)
        self.visit = visit
        self.starts, self.ends = starts, ends
        self.length = timedelta(minutes=visit.minutes)
        # Blocks of a local day stay inside that day, so the days `starts`-`ends` touch are all there are.
        self.days = list(local_days(starts, ends, self.tz))
        self.rules: DayRules = rules.load_day_rules(session, settings, self.days[0], self.days[-1])
        self.capacity = rules.capacity(session)
        self._session = session
        self._with_seats = with_seats
        # None: nothing read yet; False: the first week's; True: the later days'.
        self._loaded: bool | None = None
        self.busy = IntervalSet(())
        self.taken: dict[int, int] | None = None

    def _load(self, day: date) -> None:
        """Busy times and taken seats of the first week, or of every later day at once, as `day` needs."""
        later = (day - self.days[0]).days >= FIRST_READ_DAYS
        if self._loaded == later:
            return
        first = self.days[0] + timedelta(days=FIRST_READ_DAYS if later else 0)
        last = self.days[-1] + timedelta(days=1) if later else first + timedelta(days=FIRST_READ_DAYS)
        low = max(self.starts, local_to_utc(first, time(0), self.tz))
        high = min(self.ends, local_to_utc(last, time(0), self.tz))
        self.busy = IntervalSet(rules.busy_between(self._session, low, high))
        self.taken = seats.taken_per_cell(self._session, low, high) if self._with_seats else None
        self._loaded = later

    def candidates(self, day: date) -> Iterator[datetime]:
        """The grid's starts on `day` that fit the schedule, the range and the busy times (seats unchecked)."""
        self._load(day)
        for block in day_blocks(self.rules, day, self.tz):
            for starts in grid(block, self.visit.minutes):
                ends = starts + self.length
                if starts < self.starts or ends > self.ends:
                    continue
                if not self.busy.overlaps(starts, ends):
                    yield starts

    def has_seat(self, starts: datetime) -> bool:
        """Whether every cell of a visit at `starts` has a seat free."""
        if self.taken is None:
            return True
        first = int(starts.timestamp()) // CELL_SECONDS * CELL_SECONDS
        last = int((starts + self.length).timestamp())
        return all(self.taken.get(cell, 0) < self.capacity for cell in range(first, last, CELL_SECONDS))

    def within_schedule(self, starts: datetime, ends: datetime) -> bool:
        """Whether `starts`-`ends` lies inside one bookable block and outside the busy times."""
        blocks = IntervalSet(block for day in self.days for block in day_blocks(self.rules, day, self.tz))
        busy = IntervalSet(rules.busy_between(self._session, starts, ends))
        return blocks.contains(starts, ends) and not busy.overlaps(starts, ends)

    def opening(self, starts: datetime) -> Opening:
        return Opening(starts, starts + self.length, self.visit.id, self.visit.name)


def find_openings(
    factory: sessionmaker,
    settings: Settings,
    *,
    now: datetime,
    windows: Sequence[tuple[datetime, datetime]] | None = None,
    limit: int = 6,
    per_day: int | None = 2,
    horizon_days: int = 56,
    visit_type_id: int | None = None,
) -> list[Opening]:
    """Up to `limit` openings, earliest first, at most `per_day` on one local day (None: no cap).

    Each lies wholly inside the schedule (weekly hours plus extra hours, minus closed days),
    outside the feed's busy times, has a free seat in every 15-minute cell, starts at least
    LEAD_MINUTES after `now` and before `now` + `horizon_days`, and, with `windows` (aware
    (start, end) pairs), lies wholly inside one of them. Starts fall on the visit length's grid
    from each bookable block's start (8:00, 9:00 for 60 minutes; 8:00, 8:30 for 30).
    `visit_type_id` None: the visit type the chat offers (see `rules.resolve_visit`); an unknown
    or inactive one gives []. Naive datetimes raise ValueError.
    """
    now = aware_utc(now, "now")
    earliest = now + timedelta(minutes=LEAD_MINUTES)
    latest = now + timedelta(days=horizon_days)
    allowed = None
    if windows is not None:
        allowed = IntervalSet(clip([(aware_utc(a, "window"), aware_utc(b, "window")) for a, b in windows],
                                   earliest, latest))
        span = allowed.span()
        if span is None:
            return []
        earliest, latest = span
    if limit < 1 or earliest >= latest:
        return []
    with factory() as session:
        visit = rules.resolve_visit(session, visit_type_id)
        if visit is None:
            return []
        plan = Plan(session, settings, visit, earliest, latest)
        found: list[Opening] = []
        for day in plan.days:
            on_day = 0
            for starts in plan.candidates(day):
                if allowed is not None and not allowed.contains(starts, starts + plan.length):
                    continue
                if not plan.has_seat(starts):
                    continue
                found.append(plan.opening(starts))
                on_day += 1
                if len(found) >= limit:
                    return found
                if per_day is not None and on_day >= per_day:
                    break
        return found


def is_opening(session: Session, settings: Settings, visit: Visit, starts: datetime, now: datetime) -> bool:
    """Whether a visit at `starts` fits the schedule's grid, the busy times and the notice (seats unchecked)."""
    if starts < now + timedelta(minutes=LEAD_MINUTES):
        return False
    plan = Plan(session, settings, visit, starts, starts + timedelta(minutes=visit.minutes), with_seats=False)
    return any(candidate == starts for day in plan.days for candidate in plan.candidates(day))


def fits_schedule(session: Session, settings: Settings, visit: Visit, starts: datetime, ends: datetime,
                  now: datetime) -> bool:
    """Whether `starts`-`ends` lies in one bookable block, outside busy times, with the notice (seats unchecked)."""
    if starts < now + timedelta(minutes=LEAD_MINUTES):
        return False
    return Plan(session, settings, visit, starts, ends, with_seats=False).within_schedule(starts, ends)


@dataclass(frozen=True)
class DayHours:
    """Bookable hours of one weekday (0 = Monday), local."""

    weekday: int
    hours: tuple[tuple[time, time], ...]


@dataclass(frozen=True)
class ScheduleSummary:
    """The schedule as a staff page shows it."""

    visit_types: list[VisitType]
    chat_visit: Visit | None
    weekly: list[DayHours]
    # True when staff set no weekly hours and the settings' opening hours apply.
    weekly_from_settings: bool
    exceptions: list[ScheduleException]
    capacity: int
    calendar_feed_set: bool


def schedule_summary(factory: sessionmaker, settings: Settings, *, today: date | None = None) -> ScheduleSummary:
    """Visit types (by position), the visit the chat offers, weekly hours by weekday, exceptions from
    `today` (local; default: the clinic's today) on, the capacity, and whether a feed is set."""
    tz = ZoneInfo(settings.clinic_timezone)
    today = today or datetime.now(UTC).astimezone(tz).date()
    with factory() as session:
        visit_types = list(session.scalars(select(VisitType).order_by(VisitType.position, VisitType.id)))
        day_rules = rules.load_day_rules(session, settings, today, date.max)
        stored_weekly = session.scalar(select(WeeklyHours.id).limit(1)) is not None
        exceptions = list(session.scalars(
            select(ScheduleException).where(ScheduleException.day >= today)
            .order_by(ScheduleException.day, ScheduleException.starts)
        ))
        settings_row = session.get(ScheduleSettings, SINGLE_ROW_ID)
        return ScheduleSummary(
            visit_types=visit_types,
            chat_visit=rules.resolve_visit(session, None),
            weekly=[DayHours(weekday, tuple(sorted(day_rules.weekly.get(weekday, ())))) for weekday in range(7)],
            weekly_from_settings=not stored_weekly,
            exceptions=exceptions,
            capacity=rules.capacity(session),
            calendar_feed_set=bool(settings_row and settings_row.calendar_feed_url),
        )

