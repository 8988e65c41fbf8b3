"""Conversations stored the way Rasa 3.6's SQL tracker store stores them.

The `events` table is declared here as Rasa declares it (`SQLTrackerStore.SQLEvent`),
and rows are written as `SQLTrackerStore.save` writes them: the event's `as_dict()`
as JSON, with `type_name`, `timestamp`, `intent_name` and `action_name` copied out.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

_metadata = sa.MetaData()
EVENTS = sa.Table(
    "events",
    _metadata,
    sa.Column("id", sa.Integer, sa.Sequence("events_seq", optional=True), primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)


def create_events_table(engine: Engine) -> None:
    _metadata.create_all(engine)


def user(text: str, intent: str, timestamp: float, *, confidence: float = 0.93, message_id: str = "m1") -> dict:
    parse_data = {
        "intent": {"name": intent, "confidence": confidence},
        "entities": [],
        "text": text,
        "message_id": message_id,
        "metadata": {},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
    }
    return {
        "event": "user",
        "timestamp": timestamp,
        "text": text,
        "parse_data": parse_data,
        "input_channel": "rest",
        "message_id": message_id,
        "metadata": {},
    }


def bot(text: str, timestamp: float, *, buttons: list[dict[str, str]] | None = None, utter: str = "utter_x") -> dict:
    return {
        "event": "bot",
        "timestamp": timestamp,
        "metadata": {"utter_action": utter},
        "text": text,
        "data": {
            "elements": None,
            "quick_replies": None,
            "buttons": buttons,
            "attachment": None,
            "image": None,
            "custom": None,
        },
    }


def action(name: str, timestamp: float) -> dict:
    return {
        "event": "action",
        "timestamp": timestamp,
        "name": name,
        "policy": "RulePolicy",
        "confidence": 1.0,
        "action_text": None,
        "hide_rule_turn": False,
    }


def slot(name: str, value: Any, timestamp: float) -> dict:
    return {"event": "slot", "timestamp": timestamp, "name": name, "value": value}


def insert_events(engine: Engine, sender_id: str, events: list[dict]) -> None:
    with engine.begin() as connection:
        for event in events:
            intent = event.get("parse_data", {}).get("intent", {}).get("name")
            connection.execute(
                EVENTS.insert().values(
                    sender_id=sender_id,
                    type_name=event["event"],
                    timestamp=event.get("timestamp"),
                    intent_name=intent,
                    action_name=event.get("name"),
                    data=json.dumps(event),
                )
            )


def count_events(engine: Engine, sender_id: str) -> int:
    with engine.connect() as connection:
        return connection.scalar(
            sa.select(sa.func.count()).select_from(EVENTS).where(EVENTS.c.sender_id == sender_id)
        )


AREA_BUTTONS = [
    {"title": "Hip", "payload": '/inform{"body_area":"hip"}'},
    {"title": "Spine / back", "payload": '/inform{"body_area":"spine"}'},
]


def inquiry_conversation(name: str, start: float) -> list[dict]:
    """A visitor asking to book, as the events of their conversation."""
    return [
        {"event": "session_started", "timestamp": start},
        action("action_listen", start + 0.1),
        user("Can I book an appointment?", "request_appointment", start + 1),
        action("inquiry_form", start + 1.1),
        bot("Happy to help you book. What is your name?", start + 1.2, utter="utter_ask_name"),
        slot("requested_slot", "name", start + 1.3),
        action("action_listen", start + 1.4),
        user(name, "inform", start + 10),
        bot("Which area bothers you?", start + 11, buttons=AREA_BUTTONS, utter="utter_ask_area"),
        action("action_listen", start + 11.1),
        user('/inform{"body_area":"hip"}', "inform", start + 20),
        bot("Thank you. Staff will call you back within one business day.", start + 30, utter="utter_saved"),
    ]
