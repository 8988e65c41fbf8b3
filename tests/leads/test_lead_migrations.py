from dataclasses import replace

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.exc import IntegrityError

from bot.db import alembic_config, make_engine, make_session_factory, upgrade_database
from bot.leads.models import Lead
from bot.notify.models import OutboxMessage
from bot.leads.store import LeadStore
from tests.leads.factories import a_new_lead, read_lead

OUR_TABLES = {Lead.__tablename__, OutboxMessage.__tablename__}


def test_migrations_create_the_lead_tables(engine):
    tables = set(inspect(engine).get_table_names())
    assert OUR_TABLES <= tables
    columns = {column["name"] for column in inspect(engine).get_columns("leads")}
    assert {
        "id", "kind", "name", "phone", "email", "area_of_concern", "preferred_times", "insurance",
        "consent_text", "consented_at", "conversation_id", "status", "created_at", "updated_at",
    } <= columns


def test_the_migrated_schema_matches_the_models(engine):
    ours = MetaData()
    for table in (Lead.__table__, OutboxMessage.__table__):
        table.to_metadata(ours)

    def only_ours(obj, name, type_, reflected, compare_to):
        return not (type_ == "table" and name not in OUR_TABLES)

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": only_ours})
        assert compare_metadata(context, ours) == []


def test_upgrading_again_changes_nothing_and_keeps_rows(engine, store, session_factory):
    lead_id = store.add(a_new_lead())
    upgrade_database(engine)
    assert read_lead(session_factory, lead_id) is not None


def test_foreign_keys_are_enforced_after_migrating(engine):
    # SQLite turns foreign keys off while migrating; they must be back on afterwards.
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        fks = inspect(engine).get_foreign_keys("outbox")
    assert [(fk["referred_table"], fk["options"].get("ondelete", "").upper()) for fk in fks] == [("leads", "CASCADE")]


def test_the_database_rejects_an_unknown_status(engine, store):
    lead_id = store.add(a_new_lead())
    with pytest.raises(IntegrityError):
        with engine.begin() as connection:
            connection.execute(text("UPDATE leads SET status = 'lost' WHERE id = :id"), {"id": lead_id})


def test_a_deleted_leads_number_is_never_given_to_a_new_lead(engine, store):
    first = store.add(a_new_lead(conversation_id="visitor-1"))
    newest = store.add(a_new_lead(conversation_id="visitor-2"))
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM leads WHERE id = :id"), {"id": newest})
    assert store.add(a_new_lead(conversation_id="visitor-3")) > newest > first


def test_rebuilding_the_lead_table_keeps_every_lead_note_and_notice(settings):
    engine = make_engine(settings)
    try:
        command.upgrade(alembic_config(engine), "0003_unknown_sign_ins")
        # The lead through today's store, without notices: the outbox has columns 0003 does not.
        quiet = replace(settings, smtp_host="", webhook_url="")
        lead_id = LeadStore(make_session_factory(engine), quiet).add(a_new_lead(conversation_id="visitor-1"))
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO lead_notes (lead_id, author_login, body, created_at) "
                                    "VALUES (:id, 'admin', 'called back', CURRENT_TIMESTAMP)"), {"id": lead_id})
            connection.execute(text("INSERT INTO outbox (lead_id, channel, payload, attempts, next_attempt_at, created_at) "
                                    "VALUES (:id, 'email', '{}', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                               {"id": lead_id})
            before = {table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                      for table in ("leads", "lead_notes", "outbox")}
        upgrade_database(engine)
        with engine.connect() as connection:
            after = {table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() for table in before}
        assert after == before and before["lead_notes"] == 1 and before["outbox"] >= 1
    finally:
        engine.dispose()
