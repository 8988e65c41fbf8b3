"""Rasa's conversation log: the `events` table its SQL tracker store keeps in our database.

Rasa 3.6 writes one row per event (id, sender_id, type_name, timestamp as epoch seconds,
intent_name, action_name, data as the event's JSON). Rasa owns and creates that table on
its first message, so it is declared here on its own metadata, never migrated, and may
not exist yet.
"""

from __future__ import annotations

import json

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, inspect
from sqlalchemy.orm import Session

_rasa_metadata = MetaData()
rasa_events = Table(
    "events",
    _rasa_metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


def events_table_exists(db: Session) -> bool:
    return inspect(db.connection()).has_table("events")


def load_event(data: str | None) -> dict:
    """An event row's JSON as a dict; {} when it is missing or not an object."""
    try:
        loaded = json.loads(data or "{}")
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}
