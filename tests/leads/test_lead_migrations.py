import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.exc import IntegrityError

from bot.db import upgrade_database
from bot.leads.models import Lead, OutboxMessage
from tests.leads.factories import a_new_lead

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


def test_upgrading_again_changes_nothing_and_keeps_rows(engine, store):
    lead_id = store.add(a_new_lead())
    upgrade_database(engine)
    assert store.get(lead_id) is not None


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
