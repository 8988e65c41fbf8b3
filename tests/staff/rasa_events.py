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


# Rasa keeps the classifier's ranking of intents with each message; out_of_scope and
# nlu_fallback are named in most of them whatever the message was classified as.
_RANKED = ("faq", "out_of_scope", "inform", "nlu_fallback", "greet")


def user(text: str, intent: str, timestamp: float, *, confidence: float = 0.93, message_id: str = "m1") -> dict:
    ranking = [{"name": intent, "confidence": confidence}]
    ranking += [{"name": name, "confidence": 0.01} for name in _RANKED if name != intent]
    parse_data = {
        "intent": {"name": intent, "confidence": confidence},
        "entities": [],
        "text": text,
        "message_id": message_id,
        "metadata": {},
        "intent_ranking": ranking,
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


def user_featurization(timestamp: float) -> dict:
    return {"event": "user_featurization", "timestamp": timestamp, "use_text_for_featurization": False}


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


def active_loop(name: str | None, timestamp: float) -> dict:
    return {"event": "active_loop", "timestamp": timestamp, "name": name}


def rejected(name: str, timestamp: float) -> dict:
    return {
        "event": "action_execution_rejected", "timestamp": timestamp, "name": name, "policy": None, "confidence": None
    }


def turn(text: str, intent: str, reply: str, answer: str, timestamp: float) -> list[dict]:
    """One message and the reply, in the order Rasa 3.6 writes them: the policies' events
    (user_featurization), then the action, then what the action said, then listening again."""
    return [
        user(text, intent, timestamp),
        user_featurization(timestamp + 0.1),
        action(reply, timestamp + 0.2),
        bot(answer, timestamp + 0.3, utter=reply),
        action("action_listen", timestamp + 0.4),
    ]


DEFAULT_TEXT = "Sorry, I lost track there. Could you say that again? You can also call the clinic at (804) 493-3256."


def core_fallback(text: str, intent: str, timestamp: float) -> list[dict]:
    """A message no dialogue policy was sure about: RulePolicy's core fallback runs
    action_default_fallback, which says utter_default and reverts the message."""
    return [
        user(text, intent, timestamp),
        user_featurization(timestamp + 0.1),
        action("action_default_fallback", timestamp + 0.2),
        bot(DEFAULT_TEXT, timestamp + 0.3, utter="utter_default"),
        {"event": "rewind", "timestamp": timestamp + 0.4},
        action("action_listen", timestamp + 0.5),
    ]


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
    """A visitor asking to book, as the events of their conversation: the form starts,
    asks for the name and the area, and ends with the inquiry sent."""
    return [
        {"event": "session_started", "timestamp": start},
        action("action_listen", start + 0.1),
        user("Can I book an appointment?", "request_appointment", start + 1),
        user_featurization(start + 1.05),
        action("action_start_inquiry", start + 1.06),
        slot("inquiry_kind", "appointment", start + 1.07),
        action("inquiry_form", start + 1.1),
        active_loop("inquiry_form", start + 1.15),
        bot("Happy to help you book. What is your name?", start + 1.2, utter="utter_ask_lead_name"),
        slot("requested_slot", "lead_name", start + 1.3),
        action("action_listen", start + 1.4),
        # A name is often classified as out of scope; the form takes it all the same.
        user(name, "out_of_scope", start + 10),
        user_featurization(start + 10.1),
        action("inquiry_form", start + 10.2),
        slot("lead_name", name, start + 10.3),
        bot("Which area bothers you?", start + 11, buttons=AREA_BUTTONS, utter="utter_ask_area_of_concern"),
        slot("requested_slot", "area_of_concern", start + 11.05),
        action("action_listen", start + 11.1),
        user('/inform{"body_area":"hip"}', "inform", start + 20),
        user_featurization(start + 20.1),
        action("inquiry_form", start + 20.2),
        slot("area_of_concern", "Hip", start + 20.3),
        active_loop(None, start + 20.4),
        slot("requested_slot", None, start + 20.5),
        action("action_submit_inquiry", start + 29),
        bot("Thank you. Staff will call you back within one business day.", start + 30, utter="utter_saved"),
        action("action_listen", start + 30.1),
    ]
