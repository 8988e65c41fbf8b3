"""A clinic's week whose true figures are known: 120 conversations, 30 inquiries started, 18 leads,
3 emergencies and 2 crisis messages, from Thursday 2025-03-06 to Wednesday 2025-03-12 in New York
(clocks went forward on Sunday the 9th), with conversations just outside the week on both sides.

Events are written as Rasa 3.6 writes them (tests/staff/rasa_events.py). The expected figures are
the headline numbers the week was built to have, and counts tallied in Python, with zoneinfo,
from the very events written: never from the SQL under test.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from bot.leads import workflow
from bot.leads.models import LeadKind, LeadStatus
from bot.leads.store import LeadStore, NewLead
from bot.settings import Settings
from tests.staff import rasa_events

ZONE = ZoneInfo("America/New_York")
FIRST_DAY = date(2025, 3, 6)
LAST_DAY = date(2025, 3, 12)
# The clinic's "now" for a page showing the last 7 days as this week: Wednesday 4 PM.
NOW = datetime(2025, 3, 12, 16, 0, tzinfo=ZONE).astimezone(timezone.utc)
# Clinic hours conversations start at; 2 AM does not exist on the 9th.
START_HOURS = (0, 1, 3, 8, 9, 10, 12, 13, 17, 20, 22, 23)
TOPICS = ("dexa_scan", "vitamin_d", "calcium_supplements", "best_exercises", "dexa_scan", "balance_exercises",
          "dexa_scan", "vitamin_d")
KINDS = (LeadKind.appointment, LeadKind.cost, LeadKind.availability, LeadKind.callback)
# Hours from a lead to its first status change, and the status it moved to, for the first leads.
FIRST_CHANGES = ((0.5, "contacted"), (1, "contacted"), (2, "contacted"), (4, "scheduled"), (6, "contacted"),
                 (8, "not_a_fit"), (26, "contacted"))
MEDIAN_FIRST_CONTACT_SECONDS = 4 * 3600
# What visitors typed or gave; none of it may show on the page, in the CSV or in an email.
VISITOR_WORDS = ("Maria Lopez", "555-0188", "maria.lopez", "my hip hurts when I climb stairs",
                 "chest pain right now", "Anthem Blue Cross")


@dataclass
class Expected:
    conversations: int = 0
    messages: int = 0
    asked_question: int = 0
    started_inquiry: int = 0
    leads: int = 0
    emergencies: int = 0
    crisis: int = 0
    unanswered: int = 0
    previous_messages: int = 0
    previous_unanswered: int = 0
    topics: Counter = field(default_factory=Counter)
    kinds: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    # Per clinic day, every day written (the week and the days around it); a conversation on the
    # day of its first message.
    conversations_by_day: Counter = field(default_factory=Counter)
    messages_by_day: Counter = field(default_factory=Counter)
    leads_by_day: Counter = field(default_factory=Counter)
    unanswered_by_day: Counter = field(default_factory=Counter)
    emergencies_by_day: Counter = field(default_factory=Counter)
    crisis_by_day: Counter = field(default_factory=Counter)
    # (weekday, hour) -> visitor messages, weekday 0 Monday.
    week_hours: Counter = field(default_factory=Counter)
    median_first_contact_seconds: float = MEDIAN_FIRST_CONTACT_SECONDS
    contacted: int = 0
    waiting: int = 0


def _local(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, timezone.utc).astimezone(ZONE)


def _turns(kind: str, topic: str, at: float) -> list[dict]:
    """One visitor message and what the assistant did with it, as Rasa 3.6 logs it."""
    if kind == "faq":
        return rasa_events.turn("What is a DEXA scan?", "faq", "utter_faq", "A DEXA scan is the test...", at)[:3] + [
            rasa_events.bot("A DEXA scan is the test...", at + 0.3, utter=f"utter_faq/{topic}"),
            rasa_events.action("action_listen", at + 0.4),
        ]
    if kind == "two_questions":
        return [
            rasa_events.user("Vitamin D, and is calcium citrate better?", "faq", at),
            rasa_events.action("utter_faq", at + 0.1),
            rasa_events.bot("Vitamin D helps...", at + 0.2, utter="utter_faq/vitamin_d"),
            rasa_events.action("action_answer_second_question", at + 0.3),
            rasa_events.bot("Calcium citrate...", at + 0.4, utter="utter_faq/calcium_supplements"),
            rasa_events.action("action_listen", at + 0.5),
        ]
    if kind == "greet":
        return rasa_events.turn("hello", "greet", "utter_greet", "Hi! I can answer questions...", at)
    if kind == "rephrase":
        return rasa_events.turn("my hip hurts when I climb stairs", "nlu_fallback", "utter_ask_rephrase", "Sorry?", at)
    if kind == "out_of_scope":
        return rasa_events.turn("what is the weather", "out_of_scope", "utter_out_of_scope", "I can't help...", at)
    if kind == "core_fallback":
        return rasa_events.core_fallback("banana telephone", "inform", at)
    if kind == "emergency":
        return rasa_events.turn("chest pain right now", "emergency", "utter_emergency", "Call 911 now.", at)
    if kind == "crisis":
        return rasa_events.turn("I don't want to be here anymore", "self_harm", "utter_self_harm", "Call 988.", at)
    if kind == "session":
        # The web app's new Rasa session (bot.web.sessions): no visitor typed it.
        return [
            rasa_events.user("/session_start", "session_start", at),
            rasa_events.action("action_session_start", at + 0.1),
            {"event": "session_started", "timestamp": at + 0.2},
            rasa_events.action("action_listen", at + 0.3),
        ]
    if kind == "abandoned_inquiry":
        return [
            rasa_events.user("How much does it cost?", "inquire_cost", at),
            rasa_events.action("action_start_inquiry", at + 0.1),
            rasa_events.action("inquiry_form", at + 0.2),
            rasa_events.active_loop("inquiry_form", at + 0.3),
            rasa_events.bot("What is your name?", at + 0.4, utter="utter_ask_lead_name"),
            rasa_events.action("action_listen", at + 0.5),
            rasa_events.user("stop", "stop", at + 20),
            rasa_events.action("action_stop_inquiry", at + 20.1),
            rasa_events.active_loop(None, at + 20.2),
            rasa_events.action("action_listen", at + 20.3),
        ]
    raise ValueError(kind)


def _plan(index: int) -> tuple[list[str], bool]:
    """The turns of conversation `index` of the week, and whether it ends in a lead."""
    if index < 18:
        return (["faq"] if index % 3 == 0 else []), True
    if index < 30:
        return ["greet", "abandoned_inquiry"], False
    if index < 80:
        turns = ["two_questions"] if index % 10 == 0 else ["faq"]
        if index % 4 == 0:
            turns.append("faq")
        if index % 5 == 0:
            turns.insert(0, "session")
        return turns, False
    if index < 100:
        return ["greet", ("rephrase", "out_of_scope", "core_fallback")[index % 3]], False
    safety = {100: "emergency", 101: "emergency", 102: "emergency", 103: "crisis", 104: "crisis"}
    return ["greet", safety[index]] if index in safety else ["greet"], False


class KnownClinic:
    """Writes the week into a migrated database and knows what it adds up to."""

    def __init__(self, engine: Engine, session_factory: sessionmaker, settings: Settings) -> None:
        self.engine = engine
        self.session_factory = session_factory
        self.settings = settings
        self.expected = Expected()
        self._lead_count = 0
        self._faq_turns = 0
        self._events: list[tuple[str, list[dict]]] = []

    def build(self) -> Expected:
        rasa_events.create_events_table(self.engine)
        for index in range(120):
            day = FIRST_DAY + timedelta(days=index % 7)
            hour = START_HOURS[(index // 7) % len(START_HOURS)]
            start = datetime(day.year, day.month, day.day, hour, 59 if hour == 23 else 5, tzinfo=ZONE)
            turns, lead = _plan(index)
            self._conversation(f"week-{index}", start, turns, lead=lead)
        # A conversation of nothing but a new session: no visitor wrote anything.
        self._conversation("ghost", datetime(2025, 3, 8, 12, 0, tzinfo=ZONE), ["session"])
        # The evening before the week, and the first minutes after it.
        self._conversation("before", datetime(2025, 3, 5, 23, 50, tzinfo=ZONE), ["emergency", "rephrase", "faq"],
                           lead=True)
        self._conversation("earlier", datetime(2025, 2, 28, 10, 0, tzinfo=ZONE), ["greet", "out_of_scope"])
        self._conversation("after", datetime(2025, 3, 13, 0, 5, tzinfo=ZONE), ["faq", "crisis"], lead=True)
        for sender_id, events in self._events:
            rasa_events.insert_events(self.engine, sender_id, events)
        self._tally()
        return self.expected

    def _conversation(self, sender_id: str, start: datetime, turns: list[str], *, lead: bool = False) -> None:
        at = start.timestamp()
        events: list[dict] = [{"event": "session_started", "timestamp": at - 1},
                              rasa_events.action("action_listen", at - 0.5)]
        for kind in turns:
            events += _turns(kind, TOPICS[self._faq_turns % len(TOPICS)], at)
            self._faq_turns += kind == "faq"
            at += 60
        if lead:
            self._lead_count += 1
            events += rasa_events.inquiry_conversation(VISITOR_WORDS[0], at)
            self._add_lead(sender_id, datetime.fromtimestamp(at + 29, timezone.utc))
        self._events.append((sender_id, events))

    def _add_lead(self, conversation_id: str, created_at: datetime) -> None:
        number = self._lead_count
        kind = KINDS[number % len(KINDS)]
        store = LeadStore(self.session_factory, self.settings, clock=lambda: created_at)
        lead_id = store.add(NewLead(
            kind=kind, name=VISITOR_WORDS[0], phone="(804) 555-0188", email=f"maria.lopez{number}@example.com",
            area_of_concern=VISITOR_WORDS[3], preferred_times="Tuesday mornings", insurance=VISITOR_WORDS[5],
            consent_text="May the clinic contact you?", consented_at=created_at, conversation_id=conversation_id,
        ))
        in_week = FIRST_DAY <= created_at.astimezone(ZONE).date() <= LAST_DAY
        status = LeadStatus.new
        if in_week and self.expected.contacted < len(FIRST_CHANGES):
            hours, status_name = FIRST_CHANGES[self.expected.contacted]
            status = self._move(lead_id, created_at + timedelta(hours=hours), status_name)
            self.expected.contacted += 1
        self.expected.leads_by_day[created_at.astimezone(ZONE).date()] += 1
        if in_week:
            self.expected.leads += 1
            self.expected.kinds[kind.label] += 1
            self.expected.statuses[status.label] += 1

    def _move(self, lead_id: int, at: datetime, target: str) -> LeadStatus:
        actor = SimpleNamespace(id=None, login="frontdesk@clinic.example")
        with self.session_factory() as db:
            first = "contacted" if target == "scheduled" else target
            workflow.change_status(db, lead_id, first, expected_status="", actor=actor, note="", now=at)
            if target == "scheduled":
                # A second change, later: only the first one counts as first contact.
                workflow.change_status(db, lead_id, target, expected_status="", actor=actor, note="",
                                       now=at + timedelta(hours=3))
            db.commit()
        return LeadStatus(target)

    def _tally(self) -> None:
        expected = self.expected
        previous_first = FIRST_DAY - timedelta(days=7)
        for sender_id, events in self._events:
            first_day = first_ever = None
            for event in events:
                local = _local(event["timestamp"])
                day = local.date()
                in_week = FIRST_DAY <= day <= LAST_DAY
                in_previous = previous_first <= day < FIRST_DAY
                if event["event"] == "user" and event["parse_data"]["intent"]["name"] != "session_start":
                    intent = event["parse_data"]["intent"]["name"]
                    if in_previous:
                        expected.previous_messages += 1
                    expected.messages_by_day[day] += 1
                    expected.emergencies_by_day[day] += intent == "emergency"
                    expected.crisis_by_day[day] += intent == "self_harm"
                    first_ever = first_ever or day
                    if not in_week:
                        continue
                    expected.messages += 1
                    expected.week_hours[(local.weekday(), local.hour)] += 1
                    expected.emergencies += intent == "emergency"
                    expected.crisis += intent == "self_harm"
                    first_day = first_day or day
                elif event["event"] == "action" and event["name"] in (
                        "utter_ask_rephrase", "utter_out_of_scope", "action_default_fallback"):
                    expected.previous_unanswered += in_previous
                    expected.unanswered_by_day[day] += 1
                    expected.unanswered += in_week
                elif event["event"] == "bot" and event["metadata"]["utter_action"].startswith("utter_faq/") and in_week:
                    expected.topics[event["metadata"]["utter_action"].removeprefix("utter_faq/")] += 1
            if first_ever is not None:
                expected.conversations_by_day[first_ever] += 1
            if first_day is not None:
                expected.conversations += 1
                kinds = {event.get("name") for event in events if event["event"] == "action"}
                expected.started_inquiry += "action_start_inquiry" in kinds
                expected.asked_question += any(
                    event["event"] == "bot" and event["metadata"]["utter_action"].startswith("utter_faq/")
                    for event in events)
        expected.waiting = expected.leads - expected.contacted
