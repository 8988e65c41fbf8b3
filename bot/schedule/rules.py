"""What staff set, read from the database: the visit offered, the day rules, the capacity, the feed.

With nothing set, the schedule is the settings' opening hours (CLINIC_OPEN_DAYS, CLINIC_OPEN_HOURS)
with 60-minute visits, one visitor at a time.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from typing import NamedTuple, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.schedule.hours import UTC, DayRules, Interval
from bot.schedule.models import (
    SINGLE_ROW_ID, BusyTime, CalendarFeedState, ScheduleException, ScheduleSettings, VisitType, WeeklyHours,
)
from bot.settings import Settings

DEFAULT_CAPACITY = 1


class Visit(NamedTuple):
    """The visit a time is offered for: its type's id (None for the default visit), name and length."""

    id: int | None
    name: str
    minutes: int


# Offered when staff have set no visit types.
DEFAULT_VISIT = Visit(None, "Visit", 60)


def resolve_visit(session: Session, visit_type_id: int | None) -> Visit | None:
    """The visit type asked for, or the chat's one: the first active one by position offered in chat.

    With no active visit types at all, the default 60-minute visit. None when `visit_type_id`
    is unknown or inactive, or when there are active types but none is offered in chat.
    """
    if visit_type_id is not None:
        chosen = session.get(VisitType, visit_type_id)
        if chosen is None or not chosen.active:
            return None
        return Visit(chosen.id, chosen.name, chosen.minutes)
    active = list(
        session.scalars(select(VisitType).where(VisitType.active.is_(True)).order_by(VisitType.position, VisitType.id))
    )
    if not active:
        return DEFAULT_VISIT
    offered = next((visit for visit in active if visit.offered_in_chat), None)
    return Visit(offered.id, offered.name, offered.minutes) if offered else None


def load_day_rules(session: Session, settings: Settings, first: date, last: date) -> DayRules:
    """Weekly hours (the settings' opening hours when staff set none) and the exceptions `first`..`last`."""
    weekly: dict[int, list] = defaultdict(list)
    rows = session.execute(select(WeeklyHours.weekday, WeeklyHours.starts, WeeklyHours.ends)).all()
    if rows:
        for weekday, starts, ends in rows:
            weekly[weekday].append((starts, ends))
    else:
        hours = settings.opening_hours
        for weekday in hours.days:
            weekly[weekday].append((hours.opens, hours.closes))
    closed: set[date] = set()
    extra: dict[date, list] = defaultdict(list)
    exceptions = session.execute(
        select(ScheduleException.day, ScheduleException.closed, ScheduleException.starts, ScheduleException.ends)
        .where(ScheduleException.day >= first, ScheduleException.day <= last)
    ).all()
    for day, is_closed, starts, ends in exceptions:
        if is_closed:
            closed.add(day)
        elif starts is not None and ends is not None and ends > starts:
            extra[day].append((starts, ends))
    return DayRules(dict(weekly), frozenset(closed), dict(extra))


def capacity(session: Session) -> int:
    """How many visitors can be seen at once (1 until staff set it)."""
    value = session.scalar(select(ScheduleSettings.capacity).where(ScheduleSettings.id == SINGLE_ROW_ID))
    return value or DEFAULT_CAPACITY


T = TypeVar("T")


def _single_row(session: Session, model: type[T], make: Callable[[], T]) -> T:
    """`model`'s one row, made by `make` on first use; flushed, not committed."""
    row = session.get(model, SINGLE_ROW_ID)
    if row is not None:
        return row
    row = make()
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # Another process made it first.
        row = session.get(model, SINGLE_ROW_ID, populate_existing=True)
        assert row is not None
    return row


def schedule_settings(session: Session) -> ScheduleSettings:
    """The settings row, made (capacity 1, no feed, a new visits-feed secret) on first use; flushed, not committed."""
    return _single_row(session, ScheduleSettings, lambda: ScheduleSettings(
        id=SINGLE_ROW_ID, capacity=DEFAULT_CAPACITY, visits_feed_token=secrets.token_urlsafe(32),
        updated_at=datetime.now(UTC)))


def feed_state_row(session: Session) -> CalendarFeedState:
    """The calendar feed's state row, made empty on first use; flushed, not committed."""
    return _single_row(session, CalendarFeedState, lambda: CalendarFeedState(id=SINGLE_ROW_ID))


def busy_between(session: Session, starts: datetime, ends: datetime) -> list[Interval]:
    """The feed's busy stretches that share time with `starts`-`ends`, earliest first."""
    # The table's columns rather than the mapped class: thousands of rows, no ORM loading needed.
    columns = BusyTime.__table__.c
    rows = session.execute(
        select(columns.starts, columns.ends).where(columns.starts < ends, columns.ends > starts).order_by(columns.starts)
    ).all()
    return [(row[0], row[1]) for row in rows]
