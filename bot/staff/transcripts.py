"""Conversations as Rasa stored them (`bot.conversation_log`), as staff read them: a lead's
transcript, and questions the assistant left unanswered."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.conversation_log import SESSION_START_MESSAGE, events_table_exists, load_event, rasa_events


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Turn:
    speaker: str  # "visitor" or "assistant"
    text: str
    at: datetime | None
    buttons: tuple[Button, ...] = ()
    # For a visitor's button click: the payload that was sent, shown as the button's title.
    clicked_payload: str | None = None


@dataclass(frozen=True)
class Transcript:
    available: bool
    turns: list[Turn] = field(default_factory=list)


def _event_time(timestamp: float | None) -> datetime | None:
    if timestamp is None:
        return None
    try:
        return datetime.fromtimestamp(float(timestamp), tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _buttons(event: dict) -> tuple[Button, ...]:
    extra = event.get("data") or {}
    raw = extra.get("buttons") if isinstance(extra, dict) else None
    buttons = []
    for item in raw or []:
        if isinstance(item, dict):
            title = str(item.get("title") or "")
            payload = str(item.get("payload") or "")
            buttons.append(Button(title=title or payload, payload=payload))
    return tuple(buttons)


def turns_from_rows(rows: Iterable) -> list[Turn]:
    """What the visitor and the assistant said, in order; other events are left out."""
    turns: list[Turn] = []
    last_buttons: tuple[Button, ...] = ()
    for row in rows:
        event = load_event(row.data)
        at = _event_time(row.timestamp)
        if row.type_name == "user":
            text = str(event.get("text") or "")
            if text == SESSION_START_MESSAGE:
                continue
            clicked = None
            if text.startswith("/"):
                # A button click arrives as its payload; show what the visitor saw instead.
                title = next((b.title for b in last_buttons if b.payload == text), None)
                if title is not None:
                    clicked, text = text, title
            turns.append(Turn("visitor", text, at, clicked_payload=clicked))
            last_buttons = ()
        elif row.type_name == "bot":
            buttons = _buttons(event)
            text = str(event.get("text") or "")
            if text or buttons:
                turns.append(Turn("assistant", text, at, buttons=buttons))
            if buttons:
                last_buttons = buttons
    return turns


def transcript(db: Session, conversation_id: str | None) -> Transcript:
    if not conversation_id or not events_table_exists(db):
        return Transcript(available=False)
    rows = db.execute(
        select(rasa_events.c.type_name, rasa_events.c.timestamp, rasa_events.c.data)
        .where(rasa_events.c.sender_id == conversation_id, rasa_events.c.type_name.in_(("user", "bot")))
        .order_by(rasa_events.c.id)
    )
    return Transcript(available=True, turns=turns_from_rows(rows))


_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
_PHONE = re.compile(r"\+?\d[\d\s().-]{5,}\d")


def _phone_or_kept(match: re.Match) -> str:
    digits = sum(char.isdigit() for char in match.group(0))
    return "[phone number]" if digits >= 7 else match.group(0)


def redact(text: str) -> str:
    """Hide email addresses and phone numbers someone typed into a question."""
    return _PHONE.sub(_phone_or_kept, _EMAIL.sub("[email address]", text))


@dataclass
class UnansweredQuestion:
    text: str
    count: int
    last_asked: datetime | None


# How the assistant answers what it cannot: the nlu_fallback and out_of_scope rules
# (data/rules) and RulePolicy's core fallback (config.yml), which says `utter_default`.
UNANSWERED_REPLIES = ("utter_ask_rephrase", "utter_out_of_scope", "action_default_fallback")
# An `active_loop` row names the form that became active, or none when it ended; a new
# session or a restart also ends it. Rasa copies the event's "name" into `action_name`.
_LOOP_CHANGES = ("active_loop", "session_started", "restart")


def unanswered_questions(db: Session, *, since: datetime | None = None) -> list[UnansweredQuestion]:
    """Visitor messages the assistant answered with a fallback, grouped by text, newest first.

    What counts is the reply, not the classified intent: Rasa writes the action it ran
    for a message as the sender's next `action` row. Messages sent while the inquiry form
    was active are never counted: they are someone's name, phone number or times.
    No conversation ids are read or returned: the list is about content, not people.
    """
    if not events_table_exists(db):
        return []
    message = rasa_events.alias("message")
    later = rasa_events.alias("later")
    earlier = rasa_events.alias("earlier")
    reply = (
        select(later.c.action_name)
        .where(later.c.sender_id == message.c.sender_id, later.c.id > message.c.id, later.c.type_name == "action")
        .order_by(later.c.id)
        .limit(1)
        .scalar_subquery()
    )
    active_form = (
        select(earlier.c.action_name)
        .where(
            earlier.c.sender_id == message.c.sender_id,
            earlier.c.id < message.c.id,
            earlier.c.type_name.in_(_LOOP_CHANGES),
        )
        .order_by(earlier.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = select(message.c.timestamp, message.c.data).where(
        message.c.type_name == "user",
        reply.in_(UNANSWERED_REPLIES),
        active_form.is_(None),
    )
    if since is not None:
        query = query.where(message.c.timestamp >= since.timestamp())
    groups: dict[str, UnansweredQuestion] = {}
    for row in db.execute(query.order_by(message.c.timestamp.desc(), message.c.id.desc())):
        text = " ".join(str(load_event(row.data).get("text") or "").split())
        if not text or text.startswith("/"):
            continue
        key = text.casefold()
        group = groups.get(key)
        if group is None:
            # Rows come newest first: the first one seen is the latest wording and time.
            groups[key] = UnansweredQuestion(redact(text), 1, _event_time(row.timestamp))
        else:
            group.count += 1
    return list(groups.values())
