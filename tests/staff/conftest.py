"""Fixtures for the staff pages: a migrated database, accounts, leads with conversations, the app."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from bot.db import make_engine, make_session_factory, upgrade_database
from bot.leads.models import LeadKind
from bot.leads.store import LeadStore, NewLead
from bot.settings import Settings
from bot.staff import accounts
from bot.staff.accounts import create_account
from tests.staff import rasa_events

# Until the web app provides its session factory under this key, the tests hand it over.
from aiohttp import web as _web  # noqa: E402
from bot.web import keys as _web_keys  # noqa: E402

_PROVIDE_SESSION_FACTORY = not hasattr(_web_keys, "SESSION_FACTORY")
if _PROVIDE_SESSION_FACTORY:
    _web_keys.SESSION_FACTORY = _web.AppKey("session_factory", sessionmaker)

PASSWORD = "lantern orbit cello 42"
ADMIN_EMAIL = "manager@clinic.example"
STAFF_EMAIL = "frontdesk@clinic.example"
CONSENT = "May the clinic's staff contact you by phone or email about this inquiry?"

# Kept for the test that checks the real parameters; the others hash cheaply.
PRODUCTION_HASHER = accounts.PASSWORD_HASHER


@pytest.fixture(autouse=True)
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "PASSWORD_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


class FakeClock:
    def __init__(self, start: datetime = datetime(2025, 3, 3, 15, 0, tzinfo=timezone.utc)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


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
    )


@dataclass
class Database:
    engine: Engine
    session_factory: sessionmaker
    settings: Settings


def _database(settings: Settings):
    engine = make_engine(settings)
    upgrade_database(engine)
    try:
        yield Database(engine, make_session_factory(engine), settings)
    finally:
        engine.dispose()


@pytest.fixture
def database(staff_settings: Settings):
    yield from _database(staff_settings)


@pytest.fixture
def any_database(tmp_path: Path, database_url: str):
    """The same test on SQLite and on PostgreSQL."""
    yield from _database(Settings(data_dir=tmp_path / "var", database_url=database_url))


def add_account(database: Database, login: str, *, admin: bool = False, password: str = PASSWORD) -> None:
    with database.session_factory() as db:
        create_account(db, login, password, is_admin=admin)
        db.commit()


@pytest.fixture
def accounts_made(database: Database) -> None:
    add_account(database, ADMIN_EMAIL, admin=True)
    add_account(database, STAFF_EMAIL)


class Leads:
    """Adds leads through the lead store, with their conversations in Rasa's table."""

    def __init__(self, database: Database, clock: FakeClock) -> None:
        self.database = database
        self.clock = clock
        self.store = LeadStore(database.session_factory, database.settings, clock=clock)
        self.events_ready = False
        self.count = 0

    def add(self, *, conversation: bool = True, created_at: datetime | None = None, **details: Any) -> int:
        self.count += 1
        number = self.count
        values = {
            "kind": LeadKind.appointment,
            "name": f"Visitor {number}",
            "phone": "(804) 555-0188",
            "email": f"visitor{number}@example.com",
            "area_of_concern": "hip",
            "preferred_times": "Tuesday mornings",
            "insurance": None,
            "consent_text": CONSENT,
            "consented_at": created_at or self.clock(),
            "conversation_id": f"conversation-{number}",
        }
        values.update(details)
        saved_now = self.clock.now
        if created_at is not None:
            self.clock.now = created_at
        try:
            lead_id = self.store.add(NewLead(**values))
        finally:
            self.clock.now = saved_now
        if conversation:
            self.add_conversation(values["conversation_id"], values["name"], (created_at or self.clock()).timestamp())
        return lead_id

    def add_conversation(self, sender_id: str, name: str, start: float) -> None:
        if not self.events_ready:
            rasa_events.create_events_table(self.database.engine)
            self.events_ready = True
        rasa_events.insert_events(
            self.database.engine, sender_id, rasa_events.inquiry_conversation(name, start - 60)
        )


@pytest.fixture
def leads(database: Database, clock: FakeClock) -> Leads:
    return Leads(database, clock)


CSRF_PATTERN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_PATTERN.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


@pytest.fixture
def make_staff_app(staff_settings: Settings, database: Database, clock: FakeClock) -> Callable[..., Any]:
    from bot.staff.web import STAFF_CLOCK, setup_staff
    from bot.web.app import create_app

    def build(settings: Settings | None = None):
        settings = settings or staff_settings
        app = create_app(settings)
        if _PROVIDE_SESSION_FACTORY:
            app[_web_keys.SESSION_FACTORY] = database.session_factory
        setup_staff(app, settings)
        app[STAFF_CLOCK] = clock
        return app

    return build


@pytest.fixture
async def client(aiohttp_client, make_staff_app, accounts_made):
    return await aiohttp_client(make_staff_app())


async def sign_in(client, login: str = STAFF_EMAIL, password: str = PASSWORD, *, next_url: str | None = None):
    """Submit the sign-in form as a browser would; returns the response (redirects not followed)."""
    page = await client.get("/staff/login")
    assert page.status == 200
    data = {"csrf_token": csrf_from(await page.text()), "login": login, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return await client.post("/staff/login", data=data, allow_redirects=False)


async def signed_in(client, login: str = STAFF_EMAIL, password: str = PASSWORD):
    response = await sign_in(client, login, password)
    assert response.status == 303, await response.text()
    return client


async def form_token(client, path: str) -> str:
    page = await client.get(path)
    assert page.status == 200, await page.text()
    return csrf_from(await page.text())
