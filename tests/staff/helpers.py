"""Builders shared by the staff tests: accounts, leads with their conversations, signing in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from bot.db import make_engine, make_session_factory, upgrade_database
from bot.leads.models import LeadKind
from bot.leads.store import LeadStore, NewLead
from bot.settings import Settings
from bot.staff import accounts
from bot.staff.accounts import create_account
from tests.staff import rasa_events

PASSWORD = "lantern orbit cello 42"
ADMIN_EMAIL = "manager@clinic.example"
STAFF_EMAIL = "frontdesk@clinic.example"
CONSENT = "May the clinic's staff contact you by phone or email about this inquiry?"

# Kept for the test that checks the real parameters; the others hash cheaply.
PRODUCTION_HASHER = accounts.PASSWORD_HASHER


class FakeClock:
    def __init__(self, start: datetime = datetime(2025, 3, 3, 15, 0, tzinfo=timezone.utc)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Database:
    engine: Engine
    session_factory: sessionmaker
    settings: Settings


def migrated_database(settings: Settings) -> Iterator[Database]:
    """A fixture's body: `settings`' database migrated to the newest revision, disposed of afterwards."""
    engine = make_engine(settings)
    upgrade_database(engine)
    try:
        yield Database(engine, make_session_factory(engine), settings)
    finally:
        engine.dispose()


def add_account(database: Database, login: str, *, admin: bool = False, password: str = PASSWORD) -> None:
    with database.session_factory() as db:
        create_account(db, login, password, is_admin=admin)
        db.commit()


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


CSRF_PATTERN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_PATTERN.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


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
