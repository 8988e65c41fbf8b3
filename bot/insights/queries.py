"""The SQL behind the insights: counts over Rasa's `events` and our lead tables for one window.

Every function takes a `Window` (the period as UTC instants, the clinic zone's offsets over it,
the database's dialect) and returns plain counts; none returns a conversation id or a word
anyone typed. What the events hold (tests/staff/rasa_events.py writes them as Rasa 3.6 does):

- a visitor's message is a `user` row, its classified intent in `intent_name`;
- what the assistant did is an `action` row, the action in `action_name`;
- what it said is a `bot` row whose JSON names the response in `metadata.utter_action`: an FAQ
  answer is `utter_faq/<topic>`, also a second answer in the same turn (actions/questions.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, distinct, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.conversation_log import INQUIRY_START_ACTION, events_table_exists, rasa_events
from bot.insights.local_time import DAY, HOUR, ZoneOffsets, epoch_seconds, floor_div, seconds_between
from bot.leads.models import Lead, LeadNote

# What the web app sends to start a new Rasa session (bot.web.sessions): no visitor typed it.
SESSION_START_INTENT = "session_start"
EMERGENCY_INTENT = "emergency"
CRISIS_INTENT = "self_harm"
# How the assistant answers what it cannot, as the unanswered questions page counts them
# (bot.staff.transcripts.UNANSWERED_REPLIES): rephrase, out of scope, core fallback.
FALLBACK_REPLIES = ("utter_ask_rephrase", "utter_out_of_scope", "action_default_fallback")
FAQ_RESPONSE_PREFIX = "utter_faq/"
# How an FAQ answer's response name reads in a `bot` row's JSON, as Rasa writes it (json.dumps).
FAQ_ANSWER_MARK = '"utter_action": "' + FAQ_RESPONSE_PREFIX
# Visitor messages and FAQ answers, as SQL with its values written in: the conditions of the
# partial indexes ix_events_visitor_messages and ix_events_faq_answers (migration 0007), which the
# databases use only for a query that repeats them exactly, constants and all. (In LIKE, "_"
# stands for any one character: only FAQ answers hold anything like the mark, and the topic is
# read with the exact mark.)
VISITOR_MESSAGE_ROWS = "type_name = 'user'"
FAQ_ANSWER_ROWS = "type_name = 'bot' AND data LIKE '%" + FAQ_ANSWER_MARK + "%'"

_events = rasa_events.c


@dataclass(frozen=True)
class Window:
    """A period as the queries use it: [start, end) in UTC, the zone's offsets, the dialect, and
    whether Rasa's table is here (when Rasa keeps its log elsewhere, every event count is 0)."""

    start: datetime
    end: datetime
    offsets: ZoneOffsets
    dialect: str
    has_events: bool = True

    @classmethod
    def for_session(cls, db: Session, start: datetime, end: datetime, offsets: ZoneOffsets) -> "Window":
        return cls(start, end, offsets, db.get_bind().dialect.name, events_table_exists(db))

    def event_time(self) -> ColumnElement:
        return and_(_events.timestamp >= self.start.timestamp(), _events.timestamp < self.end.timestamp())

    def local_bucket(self, utc_seconds: ColumnElement, unit: int) -> ColumnElement:
        """SQL: the clinic hour (unit HOUR) or day (DAY) number of `utc_seconds`."""
        return floor_div(self.dialect, self.offsets.local_seconds(utc_seconds), unit)


def _visitor_messages(window: Window) -> ColumnElement:
    return and_(
        text(VISITOR_MESSAGE_ROWS),
        window.event_time(),
        func.coalesce(_events.intent_name, "") != SESSION_START_INTENT,
    )


@dataclass(frozen=True)
class HourCounts:
    """One clinic hour's visitor messages, and how many of them were emergencies and crises."""

    messages: int
    emergencies: int
    crisis: int


def _how_many(condition: ColumnElement) -> ColumnElement:
    # sum(CASE ...): the same on both databases; one grouping key is much cheaper than two.
    return func.sum(case((condition, 1), else_=0))


def messages_by_hour(db: Session, window: Window) -> dict[int, HourCounts]:
    """Visitor messages per clinic hour number (see bot.insights.local_time)."""
    if not window.has_events:
        return {}
    hour = window.local_bucket(_events.timestamp, HOUR).label("hour")
    query = (
        select(hour, func.count(), _how_many(_events.intent_name == EMERGENCY_INTENT),
               _how_many(_events.intent_name == CRISIS_INTENT))
        .where(_visitor_messages(window))
        .group_by(hour)
    )
    return {int(row[0]): HourCounts(int(row[1]), int(row[2] or 0), int(row[3] or 0)) for row in db.execute(query)}


def conversations_by_day(db: Session, window: Window) -> dict[int, int]:
    """Conversations with a visitor message in the window, each counted once, on the clinic day
    of its first message in the window: {day number: conversations}."""
    if not window.has_events:
        return {}
    firsts = (
        select(func.min(_events.timestamp).label("first"))
        .where(_visitor_messages(window))
        .group_by(_events.sender_id)
        .subquery()
    )
    day = window.local_bucket(firsts.c.first, DAY).label("day")
    return {int(row[0]): int(row[1]) for row in db.execute(select(day, func.count()).group_by(day))}


def conversations_that_started_an_inquiry(db: Session, window: Window) -> int:
    if not window.has_events:
        return 0
    # By action name alone: no slot, form or other event is named like this action.
    query = select(func.count(distinct(_events.sender_id))).where(
        _events.action_name == INQUIRY_START_ACTION, window.event_time()
    )
    return int(db.scalar(query) or 0)


def fallback_replies_by_day(db: Session, window: Window) -> dict[int, int]:
    """Messages the assistant answered with a fallback: {clinic day number: replies}."""
    if not window.has_events:
        return {}
    day = window.local_bucket(_events.timestamp, DAY).label("day")
    query = (
        select(day, func.count())
        .where(_events.action_name.in_(FALLBACK_REPLIES), window.event_time())
        .group_by(day)
    )
    return {int(row[0]): int(row[1]) for row in db.execute(query)}


def _faq_topic(dialect: str) -> ColumnElement:
    """SQL: the topic of an FAQ answer's `bot` row, read from its JSON as text (what follows
    FAQ_ANSWER_MARK up to the closing quote): much cheaper than parsing every answer's JSON."""
    data = _events.data
    if dialect == "postgresql":
        return func.split_part(func.split_part(data, FAQ_ANSWER_MARK, 2), '"', 1)
    rest = func.substr(data, func.instr(data, FAQ_ANSWER_MARK) + len(FAQ_ANSWER_MARK))
    return func.substr(rest, 1, func.instr(rest, '"') - 1)


def _faq_answers(window: Window) -> ColumnElement:
    return and_(text(FAQ_ANSWER_ROWS), window.event_time())


def faq_topics(db: Session, window: Window) -> dict[str, int]:
    """FAQ answers given in the window: {topic (the response key after "faq/"): answers}."""
    if not window.has_events:
        return {}
    topic = _faq_topic(window.dialect).label("topic")
    rows = db.execute(select(topic, func.count()).where(_faq_answers(window)).group_by(topic))
    return {str(row[0]): int(row[1]) for row in rows if row[0]}


def conversations_that_asked_a_question(db: Session, window: Window) -> int:
    """Conversations that got at least one FAQ answer in the window."""
    if not window.has_events:
        return 0
    return int(db.scalar(select(func.count(distinct(_events.sender_id))).where(_faq_answers(window))) or 0)


def visitor_message_count(db: Session, window: Window) -> int:
    if not window.has_events:
        return 0
    return int(db.scalar(select(func.count()).where(_visitor_messages(window))) or 0)


def fallback_reply_count(db: Session, window: Window) -> int:
    if not window.has_events:
        return 0
    query = select(func.count()).where(_events.action_name.in_(FALLBACK_REPLIES), window.event_time())
    return int(db.scalar(query) or 0)


def _leads_received(window: Window) -> ColumnElement:
    return and_(Lead.created_at >= window.start, Lead.created_at < window.end)


def leads_by_day(db: Session, window: Window) -> dict[tuple[int, str, str], int]:
    """Leads received in the window: {(clinic day number, kind, status): leads}."""
    day = window.local_bucket(epoch_seconds(window.dialect, Lead.created_at), DAY).label("day")
    query = (
        select(day, Lead.kind, Lead.status, func.count())
        .where(_leads_received(window))
        .group_by(day, Lead.kind, Lead.status)
    )
    return {(int(row[0]), str(row[1]), str(row[2])): int(row[3]) for row in db.execute(query)}


def conversations_with_a_lead(db: Session, window: Window) -> int:
    """Conversations that left at least one lead received in the window."""
    return int(db.scalar(select(func.count(distinct(Lead.conversation_id))).where(_leads_received(window))) or 0)


@dataclass(frozen=True)
class FirstContact:
    """How long leads received in the window waited for their first status change."""

    # The median wait in seconds; None when no lead has been moved on yet.
    median_seconds: float | None
    # Leads moved on at least once, and leads still waiting.
    contacted: int
    waiting: int


def first_contact(db: Session, window: Window) -> FirstContact:
    """The median time from a lead to its first status change (a note with `status_from`)."""
    first_change = func.min(LeadNote.created_at)
    waits = (
        select(seconds_between(window.dialect, first_change, Lead.created_at).label("wait"))
        .select_from(Lead)
        .outerjoin(LeadNote, and_(LeadNote.lead_id == Lead.id, LeadNote.status_from.is_not(None)))
        .where(_leads_received(window))
        .group_by(Lead.id, Lead.created_at)
        .subquery()
    )
    # count(wait) leaves out the leads no one has moved on yet: their wait is NULL.
    counts = [func.count(), func.count(waits.c.wait)]
    if window.dialect == "postgresql":
        counts.append(func.percentile_cont(0.5).within_group(waits.c.wait))
    row = db.execute(select(*counts).select_from(waits)).one()
    received, contacted = int(row[0]), int(row[1])
    if contacted == 0:
        return FirstContact(None, 0, received)
    if window.dialect == "postgresql":
        median = float(row[2])
    else:
        # The middle one, or the mean of the middle two.
        ordered = select(waits.c.wait).where(waits.c.wait.is_not(None)).order_by(waits.c.wait)
        middle = db.execute(ordered.offset((contacted - 1) // 2).limit(2 - contacted % 2)).scalars().all()
        median = sum(float(value) for value in middle) / len(middle)
    return FirstContact(median, contacted, received - contacted)
