"""Fixtures for the staff pages: a migrated database, accounts, leads with conversations, the app."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

from bot.db import utcnow
from bot.settings import Settings
from bot.staff import accounts
from bot.staff.keys import STAFF_CLOCK
from bot.web.app import create_app
from tests.staff.helpers import (
    ADMIN_EMAIL,
    STAFF_EMAIL,
    Database,
    FakeClock,
    Leads,
    add_account,
    migrated_database,
)
from tests.web.stand_ins import ServerThread


@pytest.fixture(autouse=True)
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "PASSWORD_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def staff_settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        public_url="http://clinic.test",
        clinic_timezone="America/New_York",
        staff_idle_minutes=30,
        # The test calendars are served on 127.0.0.1.
        calendar_feed_private_addresses=True,
    )


@pytest.fixture
def database(staff_settings: Settings):
    yield from migrated_database(staff_settings)


@pytest.fixture
def any_database(tmp_path: Path, database_url: str):
    """The same test on SQLite and on PostgreSQL."""
    yield from migrated_database(Settings(data_dir=tmp_path / "var", database_url=database_url))


@pytest.fixture
def accounts_made(database: Database) -> None:
    add_account(database, ADMIN_EMAIL, admin=True)
    add_account(database, STAFF_EMAIL)


@pytest.fixture
def leads(database: Database, clock: FakeClock) -> Leads:
    return Leads(database, clock)


@pytest.fixture
def build_staff_app(database: Database) -> Callable[..., Any]:
    """The web app (`create_app` mounts the staff pages) on the test's database, with a clock."""

    def build(settings: Settings, clock: Callable[[], Any]):
        app = create_app(settings)
        app[STAFF_CLOCK] = clock
        return app

    return build


@pytest.fixture
def make_staff_app(build_staff_app, staff_settings: Settings, clock: FakeClock) -> Callable[..., Any]:
    def build(settings: Settings | None = None):
        return build_staff_app(settings or staff_settings, clock)

    return build


@pytest.fixture
async def client(aiohttp_client, make_staff_app, accounts_made):
    return await aiohttp_client(make_staff_app())


@pytest.fixture
def site(database: Database, accounts_made: None, build_staff_app: Callable[..., Any]) -> Iterator[tuple[str, Leads]]:
    """The staff pages served on loopback for a browser, on the real clock: (base address, leads)."""
    app = build_staff_app(database.settings, utcnow)
    leads = Leads(database, FakeClock(utcnow()))
    with ServerThread() as servers:
        yield servers.serve(app), leads
