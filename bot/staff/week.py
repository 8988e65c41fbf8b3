"""One week of the schedule as the staff week view shows it: each day's bookable hours, closed
days, the clinic calendar's busy times, and the visits on leads, in the clinic's time zone.

`load_week` reads it in the caller's session; the grid (`Week.rows`) has a row every
SLOT_MINUTES of the clinic's clock, from the earliest bookable hour or visit of the week to the latest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.leads.models import Lead
from bot.schedule import bookings, rules
from bot.schedule.calendar import short_name
from bot.schedule.hours import IntervalSet, Interval, clip, day_blocks, local_to_utc
from bot.schedule.models import BookingStatus, ScheduleException
from bot.settings import Settings

SLOT_MINUTES = 30
# The visits staff act on or keep: a time still held in a chat has no lead yet, a lapsed one is open again.
SHOWN_STATUSES = (BookingStatus.requested, BookingStatus.proposed, BookingStatus.confirmed, BookingStatus.declined)
# The grid with nothing bookable and no visits in the week.
DEFAULT_FIRST, DEFAULT_LAST = 8 * 60, 17 * 60


def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class WeekVisit:
    """A visit on a lead: `who` is the visitor's first name and last initial; times aware UTC."""

    booking_id: int
    lead_id: int
    who: str
    visit_name: str
    status: BookingStatus
    starts: datetime
    ends: datetime


@dataclass
class WeekDay:
    day: date
    is_today: bool
    closed: bool
    # Staff's notes on the day's closure or extra hours ("Thanksgiving").
    notes: list[str]
    # Bookable blocks and the clinic calendar's busy stretches, aware UTC.
    hours: list[Interval]
    busy: list[Interval]
    visits: list[WeekVisit] = field(default_factory=list)


@dataclass(frozen=True)
class WeekCell:
    """One day's SLOT_MINUTES: "open" (bookable), "busy" (clinic calendar), "closed" or "outside" hours."""

    kind: str
    visits: list[WeekVisit]


@dataclass(frozen=True)
class WeekRow:
    starts: time
    cells: list[WeekCell]


@dataclass(frozen=True)
class Week:
    monday: date
    days: list[WeekDay]
    rows: list[WeekRow]

    @property
    def previous(self) -> date:
        return self.monday - timedelta(days=7)

    @property
    def next(self) -> date:
        return self.monday + timedelta(days=7)

    @property
    def visit_count(self) -> int:
        return sum(len(day.visits) for day in self.days)


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return local_to_utc(day, time(0, 0), zone)


def _minute_of_day(moment: datetime, zone: ZoneInfo) -> int:
    local = moment.astimezone(zone)
    return local.hour * 60 + local.minute


def _visits(db: Session, starts: datetime, ends: datetime) -> list[WeekVisit]:
    booked = [
        booking for booking in bookings.bookings_between(db, starts=starts, ends=ends)
        if booking.status in SHOWN_STATUSES and booking.lead_id is not None
    ]
    lead_ids = {booking.lead_id for booking in booked}
    names = {row.id: row.name for row in db.execute(select(Lead.id, Lead.name).where(Lead.id.in_(lead_ids)))}
    return [
        WeekVisit(booking.id, booking.lead_id, short_name(names.get(booking.lead_id)) or f"Lead #{booking.lead_id}",
                  booking.visit_name, booking.status, booking.starts, booking.ends)
        for booking in booked
        if booking.lead_id is not None
    ]


def _days(db: Session, settings: Settings, monday: date, today: date, zone: ZoneInfo) -> list[WeekDay]:
    sunday = monday + timedelta(days=6)
    day_rules = rules.load_day_rules(db, settings, monday, sunday)
    busy = rules.busy_between(db, _day_start(monday, zone), _day_start(sunday + timedelta(days=1), zone))
    notes: dict[date, list[str]] = {}
    for exception in db.scalars(
        select(ScheduleException).where(ScheduleException.day >= monday, ScheduleException.day <= sunday)
        .order_by(ScheduleException.day, ScheduleException.id)
    ):
        if exception.note:
            notes.setdefault(exception.day, []).append(exception.note)
    days = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        begins, ends = _day_start(day, zone), _day_start(day + timedelta(days=1), zone)
        days.append(WeekDay(
            day=day, is_today=day == today, closed=day in day_rules.closed_days, notes=notes.get(day, []),
            hours=day_blocks(day_rules, day, zone), busy=clip(busy, begins, ends),
        ))
    return days


def _grid(days: list[WeekDay], zone: ZoneInfo) -> list[WeekRow]:
    spans = [
        (_minute_of_day(starts, zone), _minute_of_day(ends - timedelta(minutes=1), zone) + 1)
        for day in days for starts, ends in [*day.hours, *((visit.starts, visit.ends) for visit in day.visits)]
    ]
    first = min((starts for starts, _ in spans), default=DEFAULT_FIRST)
    last = max((ends for _, ends in spans), default=DEFAULT_LAST)
    first, last = first // SLOT_MINUTES * SLOT_MINUTES, -(-last // SLOT_MINUTES) * SLOT_MINUTES
    rows = []
    for minute in range(first, max(last, first + SLOT_MINUTES), SLOT_MINUTES):
        starts = time(minute // 60, minute % 60)
        cells = []
        for day in days:
            slot_starts = local_to_utc(day.day, starts, zone)
            following = minute + SLOT_MINUTES
            slot_ends = (local_to_utc(day.day, time(following // 60, following % 60), zone) if following < 24 * 60
                         else _day_start(day.day + timedelta(days=1), zone))
            if day.closed:
                kind = "closed"
            elif IntervalSet(day.busy).overlaps(slot_starts, slot_ends):
                kind = "busy"
            elif IntervalSet(day.hours).overlaps(slot_starts, slot_ends):
                kind = "open"
            else:
                kind = "outside"
            here = [visit for visit in day.visits if minute <= _minute_of_day(visit.starts, zone) < following]
            cells.append(WeekCell(kind, here))
        rows.append(WeekRow(starts, cells))
    return rows


def load_week(db: Session, settings: Settings, monday: date, *, now: datetime) -> Week:
    """The week from `monday` (a Monday, the clinic's calendar) to Sunday, in the caller's session."""
    zone = ZoneInfo(settings.clinic_timezone)
    days = _days(db, settings, monday, now.astimezone(zone).date(), zone)
    for visit in _visits(db, _day_start(monday, zone), _day_start(monday + timedelta(days=7), zone)):
        offset = (visit.starts.astimezone(zone).date() - monday).days
        # A visit that began the Sunday before shows on that week only.
        if 0 <= offset < 7:
            days[offset].visits.append(visit)
    return Week(monday, days, _grid(days, zone))
