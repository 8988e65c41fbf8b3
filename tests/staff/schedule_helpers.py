"""Builders for the schedule pages' tests: a time requested on a lead, busy times, bookings read back."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select

from bot.audit import AuditEntry
from bot.schedule import worker
from bot.schedule.bookings import attach_to_lead, hold
from bot.schedule.models import Booking, BusyTime
from bot.schedule.openings import find_openings
from tests.staff.helpers import Database

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def no_schedule_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """The web app without its schedule worker (tested in tests/schedule): on the real clock it would
    lapse the test clock's holds, and clear busy times the test wrote, at any moment."""

    async def stay_idle(*args: object, **kwargs: object) -> None:
        return None

    monkeypatch.setattr(worker, "run_schedule_worker", stay_idle)


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time at the clinic (New York)."""
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


def request_time(database: Database, lead_id: int, conversation_id: str, *, now: datetime,
                 starts: datetime | None = None) -> int:
    """Hold `starts` (default: the first opening) in the lead's chat and request it on the lead; its booking id."""
    factory, settings = database.session_factory, database.settings
    if starts is None:
        starts = find_openings(factory, settings, now=now)[0].starts
    held = hold(factory, settings, starts=starts, conversation_id=conversation_id, now=now)
    assert held is not None, f"{starts} could not be held"
    with factory() as db:
        attached = attach_to_lead(db, settings, booking_id=held.booking_id, conversation_id=conversation_id,
                                  lead_id=lead_id, now=now)
        assert attached is not None
        db.commit()
    return held.booking_id


def add_busy(database: Database, starts: datetime, ends: datetime) -> None:
    with database.session_factory() as db:
        db.execute(insert(BusyTime), [{"starts": starts, "ends": ends}])
        db.commit()


def read_booking(database: Database, booking_id: int) -> Booking:
    with database.session_factory() as db:
        booking = db.get(Booking, booking_id)
        assert booking is not None
        return booking


def lead_bookings(database: Database, lead_id: int) -> list[Booking]:
    with database.session_factory() as db:
        return list(db.scalars(select(Booking).where(Booking.lead_id == lead_id).order_by(Booking.id)))


def audit_details(database: Database, action: str) -> list[str]:
    with database.session_factory() as db:
        return list(db.scalars(select(AuditEntry.detail).where(AuditEntry.action == action).order_by(AuditEntry.id)))
