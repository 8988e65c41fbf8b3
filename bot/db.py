"""The database: one engine per process, a session per unit of work, Alembic for the schema.

Also what every table shares: timestamps in UTC (`utcnow`, `UTCDateTime`), pages of a long
list (`Page`, `paginate`), and the web app's keys for its engine and session factory, which
the staff pages reach through `request.config_dict`.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from math import ceil
from pathlib import Path
from typing import Generic, TypeVar

from aiohttp import web
from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, Dialect, Engine, Select, TypeDecorator, create_engine, event, func, select
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from bot.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

T = TypeVar("T")


class Base(DeclarativeBase):
    """Declarative base for every table the application owns (Rasa owns `events`)."""


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timezone-aware timestamp, stored in UTC on every database.

    PostgreSQL keeps `timestamptz` natively; SQLite has no time zones, so the
    value is stored as naive UTC and handed back with UTC attached. Naive values
    are refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, not {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("timestamps must be timezone-aware (for example datetime.now(timezone.utc))")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def enum_type(enum_class: type[Enum], name: str) -> SAEnum:
    """A column of `enum_class`'s values (20 characters at most)."""
    # VARCHAR plus a CHECK constraint rather than a native PostgreSQL enum: the same
    # schema on both databases, and a new value is a plain constraint change.
    return SAEnum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


@dataclass(frozen=True)
class Page(Generic[T]):
    """Page `page` (from 1) of `pages` of a list `total` rows long, `size` rows a page."""

    items: list[T]
    total: int
    page: int
    pages: int
    size: int


def paginate(db: Session, query: Select, *, page: int, size: int) -> Page:
    """One page of `query`'s rows; a page number past the end gives the last page."""
    total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, ceil(total / size))
    page = min(max(1, page), pages)
    items = list(db.scalars(query.limit(size).offset((page - 1) * size)))
    return Page(items, total, page, pages, size)


def _tune_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # Rasa, the action server and the web app share the file: WAL lets readers and
    # one writer proceed together, busy_timeout makes a writer wait instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(settings: Settings) -> Engine:
    # hide_parameters: a database error must not print a visitor's details into a log.
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 10}, hide_parameters=True)
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade_database(engine: Engine) -> None:
    """Bring the schema to the newest migration; safe to call at every start."""
    command.upgrade(alembic_config(engine), "head")


# The web app's database, shared with its sub-apps: one engine per process, a session per unit of work.
ENGINE = web.AppKey("engine", Engine)
SESSION_FACTORY = web.AppKey("session_factory", sessionmaker)


class DatabaseInUse(RuntimeError):
    """The assistant is running on this database; the message says so."""


def _in_use_lock_path(settings: Settings) -> Path:
    return settings.data_dir / "run" / "database-in-use.lock"


@contextmanager
def database_in_use(settings: Settings) -> Iterator[None]:
    """Held by every running web app (shared, so several may run): `restore` waits for none."""
    path = _in_use_lock_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def database_to_itself(settings: Settings) -> Iterator[None]:
    """The database with no web app of this machine running on it.

    Raises DatabaseInUse at once when one is, instead of waiting for it to stop.
    """
    path = _in_use_lock_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatabaseInUse("The assistant is running on this database: stop it first (Ctrl-C, or "
                                "`systemctl stop clinic-assistant`), then restore.") from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
