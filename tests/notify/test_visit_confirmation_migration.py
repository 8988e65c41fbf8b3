"""The outbox's visit confirmations in the schema: one notice per lead and channel still, one
confirmation per booking, several for one lead; and the migration taken back and made again."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from bot.db import alembic_config, upgrade_database
from tests.leads.factories import a_new_lead

INSERT = text(
    "INSERT INTO outbox (lead_id, channel, payload, attempts, next_attempt_at, created_at, booking_id) "
    "VALUES (:lead, :channel, '{}', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, :booking)"
)


def test_a_lead_has_one_notice_per_channel_and_one_confirmation_per_booking(engine, store) -> None:
    lead_id = store.add(a_new_lead())
    with engine.begin() as connection:
        connection.execute(INSERT, {"lead": lead_id, "channel": "visit_email", "booking": 1})
        connection.execute(INSERT, {"lead": lead_id, "channel": "visit_email", "booking": 2})
    with pytest.raises(IntegrityError):
        with engine.begin() as connection:
            connection.execute(INSERT, {"lead": lead_id, "channel": "visit_email", "booking": 2})
    with pytest.raises(IntegrityError):
        with engine.begin() as connection:
            # The store queued this lead's email notice already.
            connection.execute(INSERT, {"lead": lead_id, "channel": "email", "booking": None})
    with pytest.raises(IntegrityError):
        with engine.begin() as connection:
            connection.execute(INSERT, {"lead": lead_id, "channel": "pigeon", "booking": 3})


def test_the_migration_can_be_taken_back_and_made_again(engine, store) -> None:
    lead_id = store.add(a_new_lead())
    with engine.begin() as connection:
        connection.execute(INSERT, {"lead": lead_id, "channel": "visit_email", "booking": 1})
    command.downgrade(alembic_config(engine), "0006_schedule")
    columns = {column["name"] for column in inspect(engine).get_columns("outbox")}
    assert "booking_id" not in columns
    with engine.connect() as connection:
        # The lead's own notices stay; the visitor's confirmation cannot exist without its column.
        assert connection.execute(text("SELECT channel FROM outbox")).scalars().all() == ["email"]
    upgrade_database(engine)
    assert "booking_id" in {column["name"] for column in inspect(engine).get_columns("outbox")}
