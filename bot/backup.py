"""`python -m bot backup FILE` and `python -m bot restore FILE`: the whole database in one file.

One database holds everything worth keeping: leads, notes, staff accounts, the audit log,
queued notices and Rasa's conversations (`events`). SQLite is copied with its online
backup API, so the assistant may keep running while it is backed up; PostgreSQL with
`pg_dump` (custom format) and `pg_restore`. Restoring replaces the database's contents:
stop the assistant first.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.db import DatabaseInUse, database_to_itself
from bot.settings import Settings

# Tables every database of the assistant has once migrated: a file without them is not its backup.
OUR_TABLES = frozenset({"alembic_version", "leads", "staff_accounts"})


class BackupError(RuntimeError):
    """The backup or restore could not be made; the message says why."""


def _sqlite_path(settings: Settings) -> Path | None:
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() != "sqlite":
        return None
    return Path(url.database or "")


def _libpq_url(settings: Settings) -> str:
    # pg_dump takes a libpq URL: without SQLAlchemy's "+driver".
    return make_url(settings.effective_database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _copy_sqlite(source: Path, target: Path) -> None:
    origin, copy = sqlite3.connect(source), sqlite3.connect(target)
    try:
        # Page by page under SQLite's own locking: writers may carry on meanwhile.
        origin.backup(copy)
    finally:
        origin.close()
        copy.close()


def _run(args: list[str], what: str) -> None:
    if shutil.which(args[0]) is None:
        raise BackupError(f"{args[0]} is not installed; it comes with PostgreSQL's client (Debian: postgresql-client)")
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{what} failed: {result.stderr.strip() or result.stdout.strip()}")


def backup(settings: Settings, target: Path) -> None:
    if target.exists():
        raise BackupError(f"{target} exists already; choose a new file name, so no backup is overwritten")
    target.parent.mkdir(parents=True, exist_ok=True)
    sqlite_path = _sqlite_path(settings)
    if sqlite_path is not None:
        if not sqlite_path.exists():
            raise BackupError(f"There is no database at {sqlite_path} to back up")
        try:
            _copy_sqlite(sqlite_path, target)
        except sqlite3.Error as error:
            raise BackupError(f"Could not write the backup to {target}: {error}") from None
    else:
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", _libpq_url(settings)], "pg_dump")
    target.chmod(0o600)  # the visitors' details are in it


def restore(settings: Settings, source: Path) -> None:
    if not source.is_file():
        raise BackupError(f"There is no backup file at {source}")
    sqlite_path = _sqlite_path(settings)
    if sqlite_path is not None:
        check = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            tables = {name for (name,) in check.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError:
            raise BackupError(f"{source} is not a backup of a SQLite database") from None
        finally:
            check.close()
        if not OUR_TABLES <= tables:
            # An empty file is a SQLite database too: one with nothing in it.
            raise BackupError(f"{source} is not a backup of the assistant's database (it has no "
                              f"{', '.join(sorted(OUR_TABLES - tables))} table); nothing was changed")
        try:
            with database_to_itself(settings):
                sqlite_path.parent.mkdir(parents=True, exist_ok=True)
                _copy_sqlite(source, sqlite_path)
        except DatabaseInUse as error:
            raise BackupError(str(error)) from None
    else:
        try:
            with database_to_itself(settings):
                _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                      f"--dbname={_libpq_url(settings)}", str(source)], "pg_restore")
        except DatabaseInUse as error:
            raise BackupError(str(error)) from None


def main(command: str, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m bot {command}")
    parser.add_argument("file", type=Path, help="the backup file to write" if command == "backup" else
                        "the backup file to restore (stop the assistant first)")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    try:
        if command == "backup":
            backup(settings, args.file)
            print(f"The database was backed up to {args.file}.")
        else:
            restore(settings, args.file)
            print(f"The database was restored from {args.file}.")
    except BackupError as error:
        print(error)
        return 1
    except OSError as error:
        where = f"back up to {args.file}" if command == "backup" else f"restore from {args.file}"
        print(f"Could not {where}: {error.strerror or error}")
        return 1
    return 0
