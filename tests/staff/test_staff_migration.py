"""The staff migrations: their tables match the models, and they can be taken back."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect

from bot.audit import AuditEntry
from bot.db import alembic_config, upgrade_database
from bot.leads.models import Lead, LeadNote
from bot.staff.models import StaffAccount, StaffDevice, StaffLogin, UnknownSignIn

STAFF_MODELS = (StaffAccount, StaffLogin, StaffDevice, LeadNote, AuditEntry, UnknownSignIn)
STAFF_TABLES = {model.__tablename__ for model in STAFF_MODELS}


def test_the_migrated_staff_tables_match_the_models(any_database) -> None:
    engine = any_database.engine
    ours = MetaData()
    for model in STAFF_MODELS:
        model.__table__.to_metadata(ours)
    # Notes refer to leads: give the comparison the table they point at.
    Lead.__table__.to_metadata(ours)

    def only_ours(obj, name, type_, reflected, compare_to):
        return not (type_ == "table" and name not in STAFF_TABLES | {"leads"})

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": only_ours})
        assert compare_metadata(context, ours) == []


def test_downgrade_removes_the_staff_tables_and_upgrade_brings_them_back(any_database) -> None:
    engine = any_database.engine
    command.downgrade(alembic_config(engine), "0001_leads")
    tables = set(inspect(engine).get_table_names())
    assert not (STAFF_TABLES & tables) and "leads" in tables
    upgrade_database(engine)
    assert STAFF_TABLES <= set(inspect(engine).get_table_names())
