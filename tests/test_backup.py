"""`python -m bot backup` and `restore`: a round trip keeps every lead, note, staff account and conversation,
on SQLite (its online backup API) and on a real PostgreSQL server (pg_dump / pg_restore)."""

from __future__ import annotations

import os
import re
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text

from bot.__main__ import main as bot_main
from bot.db import DatabaseInUse, database_in_use, database_to_itself, make_engine, make_session_factory, upgrade_database
from bot.leads.models import Lead
from bot.leads.store import LeadStore
from bot.settings import Settings
from bot.web.app import create_app
from bot import audit
from bot.audit import AuditAction
from bot.leads import workflow
from bot.staff.accounts import create_account
from bot.staff.models import StaffAccount
from tests.leads.factories import a_new_lead
from tests.staff import rasa_events

NOW = datetime(2026, 5, 4, 15, 0, tzinfo=timezone.utc)
TABLES = ["leads", "lead_notes", "staff_accounts", "staff_audit", "outbox", "events"]


def everything(engine) -> dict[str, list[tuple]]:
    with engine.connect() as connection:
        return {table: [tuple(row) for row in connection.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]
                for table in TABLES}


@pytest.fixture
def assistant(database_url, tmp_path, monkeypatch):
    """A database with leads, a note, staff accounts and a conversation, and the environment naming it."""
    settings = Settings(data_dir=tmp_path / "var", database_url=database_url, mail_to=("frontdesk@clinic.test",),
                        smtp_host="127.0.0.1")
    engine = make_engine(settings)
    upgrade_database(engine)
    factory = make_session_factory(engine)
    store = LeadStore(factory, settings)
    first = store.add(a_new_lead(conversation_id="conversation-1"))
    store.add(a_new_lead(conversation_id="conversation-2", name="Ann Smith", email="ann@example.com"))
    with factory() as db:
        admin = create_account(db, "admin@clinic.example", "lantern orbit cello 42", is_admin=True)
        create_account(db, "frontdesk@clinic.example", "another long passphrase 7")
        db.flush()
        workflow.add_note(db, first, "Called back, booked Tuesday", actor=admin, now=NOW)
        audit.record(db, admin, AuditAction.signed_in, now=NOW)
        db.commit()
    rasa_events.create_events_table(engine)
    rasa_events.insert_events(engine, "conversation-1", rasa_events.inquiry_conversation("Maria Lopez", NOW.timestamp()))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    yield engine, factory
    engine.dispose()


def test_a_backup_restores_every_lead_note_account_and_conversation(assistant, tmp_path, capsys):
    engine, factory = assistant
    before = everything(engine)
    assert [table for table in TABLES if not before[table]] == [], "every kind of record is there to be kept"
    backup_file = tmp_path / "backups" / "clinic.backup"

    assert bot_main(["backup", str(backup_file)]) == 0
    assert oct(backup_file.stat().st_mode & 0o777) == "0o600"
    # Things change (or go wrong) after the backup...
    with factory() as db:
        db.execute(delete(Lead))
        db.execute(delete(StaffAccount).where(StaffAccount.login == "frontdesk@clinic.example"))
        db.commit()
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM events"))
    assert everything(engine) != before
    engine.dispose()

    assert bot_main(["restore", str(backup_file)]) == 0

    assert everything(engine) == before
    with factory() as db:
        assert {lead.name for lead in db.scalars(select(Lead))} == {"Maria Lopez", "Ann Smith"}
    assert "restored from" in capsys.readouterr().out


def test_an_existing_file_is_never_overwritten_and_a_missing_one_restores_nothing(assistant, tmp_path, capsys):
    engine, _ = assistant
    existing = tmp_path / "old.backup"
    existing.write_bytes(b"last week's backup")
    before = everything(engine)

    assert bot_main(["backup", str(existing)]) == 1
    assert bot_main(["restore", str(tmp_path / "nowhere.backup")]) == 1

    assert existing.read_bytes() == b"last week's backup"
    assert everything(engine) == before
    output = capsys.readouterr().out
    assert "exists already" in output and "no backup file" in output


def _another_sqlite_database(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE recipes (name TEXT)")


@pytest.mark.parametrize("make_junk", [
    lambda path: path.write_bytes(os.urandom(4096)),
    lambda path: path.write_bytes(b""),
    _another_sqlite_database,
], ids=["random bytes", "an empty file", "another SQLite database"])
def test_a_file_that_is_not_a_backup_changes_nothing(assistant, tmp_path, capsys, make_junk):
    engine, _ = assistant
    junk = tmp_path / "junk.backup"
    make_junk(junk)
    before = everything(engine)

    assert bot_main(["restore", str(junk)]) == 1

    assert everything(engine) == before
    output = capsys.readouterr().out
    assert re.search(r"not a backup|not appear to be a valid archive|too short|input file", output), output


def test_a_restore_while_the_assistant_runs_is_refused_and_changes_nothing(assistant, tmp_path, capsys):
    engine, _ = assistant
    backup = tmp_path / "today.backup"
    assert bot_main(["backup", str(backup)]) == 0
    with engine.begin() as connection:
        connection.execute(delete(Lead).where(Lead.conversation_id == "conversation-2"))
    before = everything(engine)

    with database_in_use(Settings.from_env()):
        assert bot_main(["restore", str(backup)]) == 1
    assert everything(engine) == before
    assert "The assistant is running on this database: stop it first" in capsys.readouterr().out

    assert bot_main(["restore", str(backup)]) == 0
    assert len(everything(engine)["leads"]) == len(before["leads"]) + 1


async def test_a_running_web_app_holds_its_database(aiohttp_client, tmp_path):
    settings = Settings(data_dir=tmp_path / "var", database_url=f"sqlite:///{tmp_path / 'clinic.db'}")
    client = await aiohttp_client(create_app(settings))
    assert (await client.get("/healthz")).status == 200
    with pytest.raises(DatabaseInUse):
        with database_to_itself(settings):
            pass
    await client.close()
    with database_to_itself(settings):
        pass


def test_a_backup_to_a_place_that_cannot_hold_it_says_so(assistant, capsys):
    assert bot_main(["backup", "/proc/clinic.backup"]) == 1
    output = capsys.readouterr().out
    assert re.search(r"[Cc]ould not (write the backup to|open output file|back up to) \"?/proc/clinic\.backup", output), output
    assert "Traceback" not in output
