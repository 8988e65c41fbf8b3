"""Rasa's conversation log: the `events` table its SQL tracker store keeps in our database.

Rasa 3.6 writes one row per event (id, sender_id, type_name, timestamp as epoch seconds,
intent_name, action_name, data as the event's JSON). Rasa owns the rows; the table is declared
here on its own metadata, apart from our models. Migration 0005 creates it with Rasa's columns
when Rasa has not yet, and adds the index Rasa's per-turn query needs (sender_id, timestamp); a
database migrated before then may lack the table until Rasa's first start.
"""

from __future__ import annotations

import json

from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, Text, delete, func, inspect, select, update
from sqlalchemy.orm import Session, sessionmaker

# The action that opens an inquiry: where a withdrawn inquiry's details begin.
INQUIRY_START_ACTION = "action_start_inquiry"
# What the web app sends to start a new Rasa session (bot.web.sessions); no visitor said it.
SESSION_START_MESSAGE = "/session_start"

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
    Index("ix_events_sender_id_timestamp", "sender_id", "timestamp"),
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


def delete_conversation(db: Session, conversation_id: str | None) -> int:
    """Remove every event of one conversation; the number of rows removed."""
    if not conversation_id or not events_table_exists(db):
        return 0
    result = db.execute(delete(rasa_events).where(rasa_events.c.sender_id == conversation_id))
    return result.rowcount or 0


# Slots that hold what a visitor told the inquiry about themselves.
PERSONAL_SLOTS = frozenset(
    {"lead_name", "contact", "contact_phone", "contact_email", "area_of_concern", "preferred_times", "insurance"}
)
REMOVED_TEXT = "[removed: this inquiry was not sent]"


def _forgotten(type_name: str, event: dict) -> dict | None:
    """The event with the visitor's details taken out, or None when it holds none."""
    if type_name == "user":
        parse_data = {key: value for key, value in (event.get("parse_data") or {}).items() if key != "text_tokens"}
        parse_data.update({"text": REMOVED_TEXT, "entities": []})
        return {**event, "text": REMOVED_TEXT, "parse_data": parse_data}
    if type_name == "bot" and event.get("text"):
        # The read-back repeats every detail; the other questions are the same for everyone,
        # but nothing the assistant said in the inquiry is needed once it is withdrawn.
        return {**event, "text": REMOVED_TEXT, "data": {}}
    if type_name == "slot" and event.get("name") in PERSONAL_SLOTS and event.get("value") is not None:
        return {**event, "value": None}
    return None


class ConversationLog:
    """Rasa's log of one database, for what our code must change in it."""

    def __init__(self, session_factory: sessionmaker) -> None:
        self._session_factory = session_factory

    def forget_inquiry(self, sender_id: str) -> int:
        """Take the visitor's details out of the conversation's latest inquiry; the rows changed.

        From the message that started the inquiry on, what the visitor typed, what the
        assistant said back and the slots holding details are blanked in place. Rows are
        changed, never removed: Rasa appends a turn's events after the rows it already has.
        """
        with self._session_factory() as db:
            if not events_table_exists(db):
                return 0
            started = db.scalar(
                select(func.max(rasa_events.c.id)).where(
                    rasa_events.c.sender_id == sender_id,
                    rasa_events.c.type_name == "action",
                    rasa_events.c.action_name == INQUIRY_START_ACTION,
                )
            )
            if started is None:
                return 0
            asked = db.scalar(
                select(func.max(rasa_events.c.id)).where(
                    rasa_events.c.sender_id == sender_id,
                    rasa_events.c.type_name == "user",
                    rasa_events.c.id < started,
                )
            )
            rows = db.execute(
                select(rasa_events.c.id, rasa_events.c.type_name, rasa_events.c.data).where(
                    rasa_events.c.sender_id == sender_id,
                    rasa_events.c.id >= (asked if asked is not None else started),
                    rasa_events.c.type_name.in_(("user", "bot", "slot")),
                )
            ).all()
            changed = 0
            for row in rows:
                forgotten = _forgotten(row.type_name, load_event(row.data))
                if forgotten is None:
                    continue
                db.execute(update(rasa_events).where(rasa_events.c.id == row.id).values(data=json.dumps(forgotten)))
                changed += 1
            db.commit()
        return changed


def latest_responses(db: Session, sender_id: str) -> list[tuple[str, str]]:
    """`(response name, text)` of each answer since the visitor's latest message, oldest first.

    The name is the response Rasa chose ("utter_faq/dexa_scan"), "" for text an action wrote
    itself. An empty list when Rasa keeps its log elsewhere (no `events` table here).
    """
    if not events_table_exists(db):
        return []
    last_message = (
        select(func.max(rasa_events.c.id))
        .where(rasa_events.c.sender_id == sender_id, rasa_events.c.type_name == "user")
        .scalar_subquery()
    )
    rows = db.execute(
        select(rasa_events.c.data)
        .where(rasa_events.c.sender_id == sender_id, rasa_events.c.type_name == "bot", rasa_events.c.id > last_message)
        .order_by(rasa_events.c.id)
    ).all()
    responses = []
    for row in rows:
        event = load_event(row.data)
        name = (event.get("metadata") or {}).get("utter_action")
        responses.append((name if isinstance(name, str) else "", event.get("text") or ""))
    return responses
