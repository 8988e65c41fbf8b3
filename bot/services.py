"""The objects a long-running process shares, built on first use rather than at import."""

from __future__ import annotations

from functools import cache

from bot.db import make_engine, make_session_factory
from bot.leads.store import LeadStore
from bot.settings import Settings


@cache
def settings() -> Settings:
    return Settings.from_env()


@cache
def lead_store() -> LeadStore:
    current = settings()
    return LeadStore(make_session_factory(make_engine(current)), current)
