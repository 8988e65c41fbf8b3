"""The objects a long-running process shares, built on first use rather than at import."""

from __future__ import annotations

from functools import cache

from sqlalchemy.orm import sessionmaker

from bot.conversation_log import ConversationLog
from bot.db import make_engine, make_session_factory
from bot.leads.store import LeadStore
from bot.settings import Settings


@cache
def settings() -> Settings:
    return Settings.from_env()


@cache
def session_factory() -> sessionmaker:
    return make_session_factory(make_engine(settings()))


@cache
def lead_store() -> LeadStore:
    return LeadStore(session_factory(), settings())


@cache
def conversation_log() -> ConversationLog:
    return ConversationLog(session_factory())


def reset() -> None:
    """Build everything afresh on next use, from the environment as it is then."""
    for shared in (settings, session_factory, lead_store, conversation_log):
        shared.cache_clear()
