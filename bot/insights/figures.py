"""The figures of a period, put together from the queries: what the page, the CSV and the weekly
email show. Counts and shares only; nothing that names a visitor or repeats their words."""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from typing import Any

from sqlalchemy.orm import Session

from bot.insights import queries
from bot.insights.local_time import ZoneOffsets, day_number, weekday_of
from bot.insights.period import Period
from bot.insights.queries import FirstContact, HourCounts, Window
from bot.leads.models import KIND_LABELS, STATUS_LABELS, LeadKind, LeadStatus

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Response keys are written in lower case with underscores; these words read better otherwise.
_TOPIC_WORDS = {"dexa": "DEXA", "vs": "vs.", "d": "D", "t": "T", "z": "Z"}


def topic_label(topic: str) -> str:
    """'dexa_scan' -> 'DEXA scan'. Only letters, digits and underscores of the key are kept: it is
    read from a log row's text, and a label must never carry anything else."""
    words = [_TOPIC_WORDS.get(word, word) for word in re.sub(r"[^A-Za-z0-9_]", "", topic).split("_") if word]
    if not words:
        return topic
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


def hour_label(hour: int) -> str:
    """0 -> '12 AM', 13 -> '1 PM'."""
    return f"{hour % 12 or 12} {'AM' if hour < 12 else 'PM'}"


def share(part: int, whole: int) -> float | None:
    """part / whole, or None when there is no whole to share."""
    return part / whole if whole else None


@dataclass(frozen=True)
class DayFigures:
    day: date
    conversations: int
    messages: int
    leads: int
    unanswered: int


@dataclass(frozen=True)
class FunnelStep:
    label: str
    count: int
    # Shares from 0 to 1 of the conversations, and of the step before; None for the first step.
    of_conversations: float | None
    of_previous: float | None


@dataclass(frozen=True)
class WeekUnanswered:
    """One week (Monday to Sunday, cut to the period) of visitor messages and fallback replies."""

    first_day: date
    last_day: date
    messages: int
    unanswered: int

    @property
    def share(self) -> float | None:
        return share(self.unanswered, self.messages)


@dataclass(frozen=True)
class Insights:
    """Everything the insights page shows for `period`, counted in the clinic's time zone."""

    period: Period
    conversations: int
    messages: int
    asked_question: int
    started_inquiry: int
    # Conversations that left a lead, and the leads received (a conversation can leave two).
    became_lead: int
    leads: int
    # (label, leads) in the order of LeadKind and LeadStatus, zeros included.
    leads_by_kind: list[tuple[str, int]]
    leads_by_status: list[tuple[str, int]]
    first_contact: FirstContact
    # (topic label, answers), most answered first.
    topics: list[tuple[str, int]]
    unanswered: int
    previous_messages: int
    previous_unanswered: int
    emergencies: int
    crisis: int
    days: list[DayFigures]
    # Visitor messages by weekday (0 Monday) and clinic hour: 7 rows of 24.
    week_hours: list[list[int]]

    @property
    def unanswered_share(self) -> float | None:
        return share(self.unanswered, self.messages)

    @property
    def previous_unanswered_share(self) -> float | None:
        return share(self.previous_unanswered, self.previous_messages)

    @property
    def funnel(self) -> list[FunnelStep]:
        counts = [
            ("Conversations", self.conversations),
            ("Asked a question", self.asked_question),
            ("Started an inquiry", self.started_inquiry),
            ("Left their details (lead)", self.became_lead),
        ]
        steps = []
        for index, (label, count) in enumerate(counts):
            before = counts[index - 1][1] if index else None
            steps.append(FunnelStep(label, count, share(count, self.conversations) if index else None,
                                    share(count, before) if before is not None else None))
        return steps

    @property
    def unanswered_by_week(self) -> list[WeekUnanswered]:
        weeks: dict[date, list[DayFigures]] = defaultdict(list)
        for day in self.days:
            weeks[day.day - timedelta(days=day.day.weekday())].append(day)
        return [
            WeekUnanswered(days[0].day, days[-1].day, sum(d.messages for d in days), sum(d.unanswered for d in days))
            for _monday, days in sorted(weeks.items())
        ]

    @property
    def busiest_hours(self) -> list[tuple[int, int, int]]:
        """The three busiest (weekday, hour, messages), busiest first; hours without messages left out."""
        cells = [(count, weekday, hour)
                 for weekday, row in enumerate(self.week_hours) for hour, count in enumerate(row)]
        cells.sort(key=lambda cell: (-cell[0], cell[1], cell[2]))
        return [(weekday, hour, count) for count, weekday, hour in cells[:3] if count]


def _window(db: Session, period: Period, zone: tzinfo) -> Window:
    start, end = period.bounds(zone)
    return Window.for_session(db, start, end, ZoneOffsets.between(zone, start, end))


# The queries in four groups of about equal cost, each for one session: `gather_insights` runs
# them at once, on as many connections.
def _message_counts(db: Session, period: Period, zone: tzinfo) -> dict[str, Any]:
    window, previous = _window(db, period, zone), _window(db, period.previous(), zone)
    return {"messages": queries.messages_by_hour(db, window),
            "previous_messages": queries.visitor_message_count(db, previous),
            "previous_unanswered": queries.fallback_reply_count(db, previous)}


def _conversation_counts(db: Session, period: Period, zone: tzinfo) -> dict[str, Any]:
    window = _window(db, period, zone)
    return {"conversations": queries.conversations_by_day(db, window),
            "started_inquiry": queries.conversations_that_started_an_inquiry(db, window),
            "fallbacks": queries.fallback_replies_by_day(db, window)}


def _question_counts(db: Session, period: Period, zone: tzinfo) -> dict[str, Any]:
    window = _window(db, period, zone)
    return {"topics": queries.faq_topics(db, window),
            "asked_question": queries.conversations_that_asked_a_question(db, window)}


def _lead_counts(db: Session, period: Period, zone: tzinfo) -> dict[str, Any]:
    window = _window(db, period, zone)
    return {"leads": queries.leads_by_day(db, window),
            "became_lead": queries.conversations_with_a_lead(db, window),
            "first_contact": queries.first_contact(db, window)}


FIGURE_GROUPS = (_message_counts, _conversation_counts, _question_counts, _lead_counts)


def compute_insights(db: Session, period: Period, zone: tzinfo) -> Insights:
    """The figures of `period`, days and hours in `zone` (the clinic's), in one session."""
    parts: dict[str, Any] = {}
    for group in FIGURE_GROUPS:
        parts.update(group(db, period, zone))
    return _assemble(period, parts)


async def gather_insights(run: Callable[..., Awaitable[Any]], period: Period, zone: tzinfo) -> Insights:
    """The same figures, the groups of queries at once: `run(work, *args)` must run
    `work(db, *args)` in a worker thread with a session of its own (bot.staff.pages.run_db)."""
    parts: dict[str, Any] = {}
    for part in await asyncio.gather(*(run(group, period, zone) for group in FIGURE_GROUPS)):
        parts.update(part)
    return _assemble(period, parts)


def _assemble(period: Period, parts: dict[str, Any]) -> Insights:
    messages: dict[int, HourCounts] = parts["messages"]
    conversations: dict[int, int] = parts["conversations"]
    fallbacks: dict[int, int] = parts["fallbacks"]
    leads: dict[tuple[int, str, str], int] = parts["leads"]
    messages_by_day: dict[int, int] = defaultdict(int)
    week_hours = [[0] * 24 for _ in WEEKDAYS]
    for hour_number, counts in messages.items():
        day = hour_number // 24
        messages_by_day[day] += counts.messages
        week_hours[weekday_of(day)][hour_number % 24] += counts.messages
    leads_per_day: dict[int, int] = defaultdict(int)
    kinds: dict[str, int] = defaultdict(int)
    statuses: dict[str, int] = defaultdict(int)
    for (day, kind, status), count in leads.items():
        leads_per_day[day] += count
        kinds[kind] += count
        statuses[status] += count
    days = [
        DayFigures(day, conversations.get(number, 0), messages_by_day.get(number, 0), leads_per_day.get(number, 0),
                   fallbacks.get(number, 0))
        for day in period.each_day()
        for number in [day_number(day)]
    ]
    topics = sorted(parts["topics"].items(), key=lambda item: (-item[1], item[0]))
    return Insights(
        period=period,
        conversations=sum(conversations.values()),
        messages=sum(counts.messages for counts in messages.values()),
        asked_question=parts["asked_question"],
        started_inquiry=parts["started_inquiry"],
        became_lead=parts["became_lead"],
        leads=sum(leads.values()),
        leads_by_kind=[(KIND_LABELS[kind], kinds.get(kind.value, 0)) for kind in LeadKind],
        leads_by_status=[(STATUS_LABELS[status], statuses.get(status.value, 0)) for status in LeadStatus],
        first_contact=parts["first_contact"],
        topics=[(topic_label(topic), count) for topic, count in topics],
        unanswered=sum(fallbacks.values()),
        previous_messages=parts["previous_messages"],
        previous_unanswered=parts["previous_unanswered"],
        emergencies=sum(counts.emergencies for counts in messages.values()),
        crisis=sum(counts.crisis for counts in messages.values()),
        days=days,
        week_hours=week_hours,
    )
