"""The schedule's migration: its tables match the models, the database holds the capacity rule, it can be undone."""

from datetime import time

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.exc import IntegrityError

from bot.db import alembic_config, upgrade_database
from bot.leads.models import Lead
from bot.schedule.models import (
    Booking, BookingSeat, BookingStatus, BusyTime, CalendarFeedState, ScheduleException, ScheduleSettings, VisitType,
    WeeklyHours,
)
from bot.schedule.rules import schedule_settings
from tests.schedule.builders import NOW, local

MODELS = (VisitType, WeeklyHours, ScheduleException, ScheduleSettings, CalendarFeedState, BusyTime, Booking,
          BookingSeat)
TABLES = {model.__tablename__ for model in MODELS}


def test_the_migrated_schedule_tables_match_the_models(engine):
    ours = MetaData()
    for model in MODELS:
        model.__table__.to_metadata(ours)
    Lead.__table__.to_metadata(ours)

    def only_ours(obj, name, type_, reflected, compare_to):
        return not (type_ == "table" and name not in TABLES | {"leads"})

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": only_ours})
        assert compare_metadata(context, ours) == []


def test_downgrade_removes_the_schedule_tables_and_upgrade_brings_them_back(engine):
    command.downgrade(alembic_config(engine), "0005_rasa_events_index")
    assert not TABLES & set(inspect(engine).get_table_names())
    upgrade_database(engine)
    assert TABLES <= set(inspect(engine).get_table_names())


def _booking(session, conversation_id: str) -> Booking:
    booking = Booking(starts=local(2024, 3, 11, 9), ends=local(2024, 3, 11, 10), visit_name="Visit",
                      status=BookingStatus.held, conversation_id=conversation_id, expires_at=NOW, created_at=NOW,
                      updated_at=NOW)
    session.add(booking)
    session.flush()
    return booking


def test_the_database_refuses_a_second_booking_in_a_taken_seat(session_factory):
    with session_factory() as session:
        first, second = _booking(session, "a"), _booking(session, "b")
        session.add(BookingSeat(booking_id=first.id, cell_starts=local(2024, 3, 11, 9), seat=0))
        session.commit()
        session.add(BookingSeat(booking_id=second.id, cell_starts=local(2024, 3, 11, 9), seat=0))
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()
        session.add(BookingSeat(booking_id=second.id, cell_starts=local(2024, 3, 11, 9), seat=1))
        session.commit()


def test_seats_go_with_their_booking(session_factory, engine):
    with session_factory() as session:
        booking = _booking(session, "a")
        session.add(BookingSeat(booking_id=booking.id, cell_starts=local(2024, 3, 11, 9), seat=0))
        session.commit()
        booking_id = booking.id
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM bookings WHERE id = :id"), {"id": booking_id})
        assert connection.execute(text("SELECT count(*) FROM booking_seats")).scalar_one() == 0


@pytest.mark.parametrize("statement", [
    "UPDATE visit_types SET minutes = 20",
    "UPDATE visit_types SET minutes = 495",
    "UPDATE weekly_hours SET ends = '07:00:00.000000'",
    "UPDATE schedule_settings SET capacity = 0",
    "UPDATE bookings SET status = 'maybe'",
])
def test_the_database_refuses_values_the_schedule_cannot_use(session_factory, engine, statement):
    with session_factory() as session:
        session.add(VisitType(name="Evaluation", minutes=60, position=0, offered_in_chat=True, active=True))
        session.add(WeeklyHours(weekday=0, starts=time(8), ends=time(17)))
        schedule_settings(session)
        _booking(session, "a")
        session.commit()
    with pytest.raises(IntegrityError):
        with engine.begin() as connection:
            connection.execute(text(statement))


def test_the_settings_row_is_made_once_with_a_secret_for_the_visits_feed(session_factory):
    with session_factory() as session:
        token = schedule_settings(session).visits_feed_token
        session.commit()
    with session_factory() as session:
        assert schedule_settings(session).visits_feed_token == token
        assert schedule_settings(session).capacity == 1
    assert len(token) >= 40
