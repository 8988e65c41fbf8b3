"""Builders shared by the lead and notice tests."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Iterator

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import sessionmaker

from bot.db import make_engine, make_session_factory, upgrade_database
from bot.leads.models import Lead, LeadKind
from bot.leads.queries import get_lead
from bot.notify.models import OutboxMessage
from bot.leads.store import NewLead
from bot.settings import Settings

# What a visitor might tell the assistant; none of it may appear in a notice.
VISITOR = {
    "name": "Maria Lopez",
    "phone": "(804) 555-0188",
    "email": "Maria.Lopez@Example.com",
    "area_of_concern": "left hip, cracked vertebra after a fall",
    "preferred_times": "Tuesday mornings before 10",
    "insurance": "Anthem Blue Cross PPO",
}
PERSONAL_FRAGMENTS = (
    "Maria",
    "Lopez",
    "555-0188",
    "5550188",
    "maria.lopez",
    "Maria.Lopez",
    "left hip",
    "vertebra",
    "Tuesday mornings",
    "Anthem",
)
STAFF_ADDRESS = "frontdesk@clinic.example"
CONSENT_TEXT = "Yes, the clinic may contact me by phone or email about this inquiry."


def a_new_lead(**changes) -> NewLead:
    base = NewLead(
        kind=LeadKind.appointment,
        consent_text=CONSENT_TEXT,
        consented_at=datetime(2024, 5, 2, 14, 3, tzinfo=timezone.utc),
        conversation_id="conversation-1",
        **VISITOR,
    )
    return replace(base, **changes)


@dataclass
class FakeClock:
    """A clock the test moves by hand, so backoff is checked without waiting."""

    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def move_to(self, moment: datetime) -> None:
        self.now = max(self.now, moment)


@contextmanager
def migrated_database(settings: Settings) -> Iterator[tuple[Engine, sessionmaker]]:
    """An engine on `settings`' database with the schema applied; disposed afterwards."""
    engine = make_engine(settings)
    try:
        upgrade_database(engine)
        yield engine, make_session_factory(engine)
    finally:
        engine.dispose()


def count_rows(session_factory: sessionmaker, model) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(model))


def count_leads(session_factory: sessionmaker) -> int:
    return count_rows(session_factory, Lead)


def outbox_rows(session_factory: sessionmaker, lead_id: int | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if lead_id is not None:
        query = query.where(OutboxMessage.lead_id == lead_id)
    with session_factory() as session:
        return list(session.scalars(query))


def read_lead(session_factory: sessionmaker, lead_id: int) -> Lead | None:
    """The lead as the staff pages read it, in a session of its own."""
    with session_factory() as session:
        return get_lead(session, lead_id)
