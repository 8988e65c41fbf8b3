"""Builders for the schedule's tests: local times, what staff set, leads to attach bookings to."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from bot.leads.store import LeadStore
from bot.schedule.models import (
    Booking, BookingSeat, BusyTime, ScheduleException, ScheduleSettings, VisitType, WeeklyHours,
)
from bot.schedule.rules import schedule_settings
from bot.settings import Settings
from tests.leads.factories import a_new_lead

NEW_YORK = ZoneInfo("America/New_York")
UTC = timezone.utc
# A Friday, 07:00 in New York (EST): the first opening of the default schedule is 08:00 that day.
NOW = datetime(2024, 3, 8, 12, 0, tzinfo=UTC)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, fold: int = 0) -> datetime:
    """A New York wall-clock time as aware UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK, fold=fold).astimezone(UTC)


def wall(moment: datetime) -> str:
    """`moment` as New York reads it, with the zone's abbreviation: "2024-03-10 03:00 EDT"."""
    return moment.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M %Z")


def add_visit_type(factory: sessionmaker, name: str, minutes: int, *, position: int = 0, offered_in_chat: bool = True,
                   active: bool = True) -> int:
    with factory() as session:
        visit = VisitType(name=name, minutes=minutes, position=position, offered_in_chat=offered_in_chat,
                          active=active)
        session.add(visit)
        session.commit()
        return visit.id


def set_weekly_hours(factory: sessionmaker, weekdays, starts: time, ends: time) -> None:
    with factory() as session:
        for weekday in weekdays:
            session.add(WeeklyHours(weekday=weekday, starts=starts, ends=ends))
        session.commit()


def add_exception(factory: sessionmaker, day: date, *, closed: bool = False, starts: time | None = None,
                  ends: time | None = None, note: str = "") -> None:
    with factory() as session:
        session.add(ScheduleException(day=day, closed=closed, starts=starts, ends=ends, note=note))
        session.commit()


def set_capacity(factory: sessionmaker, capacity: int) -> None:
    with factory() as session:
        schedule_settings(session).capacity = capacity
        session.commit()


def set_feed_url(factory: sessionmaker, url: str | None) -> None:
    with factory() as session:
        schedule_settings(session).calendar_feed_url = url
        session.commit()


def add_busy(factory: sessionmaker, starts: datetime, ends: datetime) -> None:
    with factory() as session:
        session.add(BusyTime(starts=starts, ends=ends))
        session.commit()


def add_lead(factory: sessionmaker, settings: Settings, conversation_id: str = "conversation-1") -> int:
    return LeadStore(factory, settings).add(a_new_lead(conversation_id=conversation_id))


def read_booking(factory: sessionmaker, booking_id: int) -> Booking:
    with factory() as session:
        booking = session.get(Booking, booking_id)
        assert booking is not None
        return booking


def seat_count(factory: sessionmaker, booking_id: int | None = None) -> int:
    query = select(func.count()).select_from(BookingSeat)
    if booking_id is not None:
        query = query.where(BookingSeat.booking_id == booking_id)
    with factory() as session:
        return session.scalar(query)


def capacity_of(factory: sessionmaker) -> int:
    with factory() as session:
        row = session.get(ScheduleSettings, 1)
        return row.capacity if row else 1
