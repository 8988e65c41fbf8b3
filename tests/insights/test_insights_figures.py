"""The figures, by SQL, against a week whose true figures are known, and clinic days and hours across
both DST changes of a year: each on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from bot.insights.figures import compute_insights
from bot.insights.local_time import ZoneOffsets
from bot.insights.period import Period
from bot.insights.queries import FAQ_ANSWER_ROWS, VISITOR_MESSAGE_ROWS
from bot.leads.store import LeadStore, NewLead
from tests.insights.known_clinic import FIRST_DAY, LAST_DAY, ZONE
from tests.staff import rasa_events


def _insights(database, first: date = FIRST_DAY, last: date = LAST_DAY):
    with database.session_factory() as db:
        return compute_insights(db, Period(first, last), ZONE)


def test_the_known_week_adds_up(insights_database, known_week) -> None:
    insights = _insights(insights_database)
    expected = known_week
    assert (insights.conversations, insights.started_inquiry, insights.leads, insights.became_lead) == (120, 30, 18, 18)
    assert (insights.emergencies, insights.crisis) == (3, 2)
    assert insights.messages == expected.messages
    assert insights.asked_question == expected.asked_question
    assert insights.unanswered == expected.unanswered
    assert (insights.previous_messages, insights.previous_unanswered) == (
        expected.previous_messages, expected.previous_unanswered)
    assert dict(insights.leads_by_kind) == dict(expected.kinds)
    assert {label: count for label, count in insights.leads_by_status if count} == dict(expected.statuses)
    assert round(insights.first_contact.median_seconds) == expected.median_first_contact_seconds
    assert (insights.first_contact.contacted, insights.first_contact.waiting) == (7, 11)
    assert dict(insights.topics) == {
        "DEXA scan": expected.topics["dexa_scan"], "Vitamin D": expected.topics["vitamin_d"],
        "Calcium supplements": expected.topics["calcium_supplements"],
        "Best exercises": expected.topics["best_exercises"], "Balance exercises": expected.topics["balance_exercises"]}
    assert [day.day for day in insights.days] == [FIRST_DAY + timedelta(days=n) for n in range(7)]
    for day in insights.days:
        assert (day.conversations, day.messages, day.leads, day.unanswered) == (
            expected.conversations_by_day[day.day], expected.messages_by_day[day.day],
            expected.leads_by_day[day.day], expected.unanswered_by_day[day.day]), day.day
    cells = {(weekday, hour): count for weekday, row in enumerate(insights.week_hours)
             for hour, count in enumerate(row) if count}
    assert cells == dict(expected.week_hours)
    assert [step.count for step in insights.funnel] == [120, expected.asked_question, 30, 18]


def test_one_day_of_the_week_is_that_days_figures(insights_database, known_week) -> None:
    sunday = date(2025, 3, 9)
    insights = _insights(insights_database, sunday, sunday)
    assert insights.conversations == known_week.conversations_by_day[sunday]
    assert insights.messages == known_week.messages_by_day[sunday]
    assert insights.leads == known_week.leads_by_day[sunday]


# Instants around both changes of 2025 in New York: the night clocks went forward (2 AM never
# came on March 9) and the one they went back (1 AM came twice on November 2), and evenings
# whose UTC date is already the next day.
AROUND_DST = [
    datetime(2025, 3, 8, 23, 30, tzinfo=ZONE),
    datetime(2025, 3, 9, 0, 30, tzinfo=ZONE),
    datetime(2025, 3, 9, 1, 59, tzinfo=ZONE),
    datetime(2025, 3, 9, 3, 0, tzinfo=ZONE),
    datetime(2025, 3, 9, 20, 30, tzinfo=ZONE),
    datetime(2025, 3, 9, 23, 59, tzinfo=ZONE),
    datetime(2025, 3, 10, 0, 0, 30, tzinfo=ZONE),
    datetime(2025, 11, 1, 23, 45, tzinfo=ZONE),
    datetime(2025, 11, 2, 0, 30, tzinfo=ZONE),
    datetime(2025, 11, 2, 1, 30, tzinfo=ZONE),
    datetime(2025, 11, 2, 1, 30, fold=1, tzinfo=ZONE),
    datetime(2025, 11, 2, 2, 30, tzinfo=ZONE),
    datetime(2025, 11, 2, 22, 15, tzinfo=ZONE),
    datetime(2025, 11, 2, 23, 59, 59, tzinfo=ZONE),
    datetime(2025, 11, 3, 0, 0, tzinfo=ZONE),
]


@pytest.mark.parametrize("first, last", [
    (date(2025, 3, 9), date(2025, 3, 9)), (date(2025, 3, 8), date(2025, 3, 10)),
    (date(2025, 11, 2), date(2025, 11, 2)), (date(2025, 11, 1), date(2025, 11, 3)),
])
def test_days_and_hours_are_the_clinics_across_dst(insights_database, first: date, last: date) -> None:
    rasa_events.create_events_table(insights_database.engine)
    store = LeadStore(insights_database.session_factory, insights_database.settings)
    for number, moment in enumerate(AROUND_DST):
        at = moment.timestamp()
        rasa_events.insert_events(insights_database.engine, f"visitor-{number}",
                                  rasa_events.turn("What is a DEXA scan?", "faq", "utter_faq", "A DEXA scan...", at))
        store._clock = lambda moment=moment: moment.astimezone(timezone.utc)
        store.add(NewLead(kind="cost", name="Dana Ruiz", phone="(804) 555-0101", email=None, area_of_concern="hip",
                          preferred_times="mornings", insurance=None, consent_text="May we?",
                          consented_at=moment, conversation_id=f"visitor-{number}"))
    insights = _insights(insights_database, first, last)
    local = [moment.astimezone(ZONE) for moment in AROUND_DST]
    within = [moment for moment in local if first <= moment.date() <= last]
    per_day = Counter(moment.date() for moment in within)
    each_day = {day: per_day[day] for day in Period(first, last).each_day()}
    assert {day.day: day.messages for day in insights.days} == each_day
    assert {day.day: day.conversations for day in insights.days} == each_day
    assert {day.day: day.leads for day in insights.days} == each_day
    cells = {(weekday, hour): count for weekday, row in enumerate(insights.week_hours)
             for hour, count in enumerate(row) if count}
    assert cells == dict(Counter((moment.weekday(), moment.hour) for moment in within))
    if first == date(2025, 11, 2):
        # Both 1:30s: one hour of the clock, twice as long.
        assert insights.week_hours[6][1] == 2


def test_the_zone_offsets_change_where_the_clocks_do() -> None:
    york = ZoneInfo("America/New_York")
    march = ZoneOffsets.between(york, datetime(2025, 3, 1, tzinfo=york), datetime(2025, 4, 1, tzinfo=york))
    assert march.changes == (int(datetime(2025, 3, 9, 7, 0, tzinfo=timezone.utc).timestamp()),)
    assert march.offsets == (-5 * 3600, -4 * 3600)
    year = ZoneOffsets.between(york, datetime(2025, 1, 1, tzinfo=york), datetime(2026, 1, 1, tzinfo=york))
    assert year.changes == (int(datetime(2025, 3, 9, 7, tzinfo=timezone.utc).timestamp()),
                            int(datetime(2025, 11, 2, 6, tzinfo=timezone.utc).timestamp()))
    assert year.offsets == (-18000, -14400, -18000)
    # Half an hour of daylight saving, at 2 AM local.
    howe = ZoneInfo("Australia/Lord_Howe")
    october = ZoneOffsets.between(howe, datetime(2025, 10, 1, tzinfo=howe), datetime(2025, 10, 31, tzinfo=howe))
    assert october.offsets == (37800, 39600)
    assert october.changes == (int(datetime(2025, 10, 5, 2, 0, tzinfo=howe).timestamp()),)
    assert ZoneOffsets.between(timezone.utc, datetime(2025, 1, 1, tzinfo=timezone.utc),
                               datetime(2026, 1, 1, tzinfo=timezone.utc)) == ZoneOffsets((), (0,))


@pytest.mark.parametrize("rows, columns, index", [
    (VISITOR_MESSAGE_ROWS, "count(DISTINCT sender_id), count(intent_name)", "ix_events_visitor_messages"),
    (FAQ_ANSWER_ROWS, "count(DISTINCT sender_id)", "ix_events_faq_answers"),
])
def test_the_counts_read_their_partial_indexes(insights_database, known_week, rows, columns, index) -> None:
    """A partial index is used only when the query repeats its condition exactly."""
    engine = insights_database.engine
    query = f"SELECT {columns} FROM events WHERE {rows} AND timestamp >= 1741237200 AND timestamp < 1741838400"
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET enable_seqscan = off"))
            plan = "\n".join(row[0] for row in connection.execute(text("EXPLAIN " + query)))
        else:
            plan = "\n".join(str(row[-1]) for row in connection.execute(text("EXPLAIN QUERY PLAN " + query)))
        assert connection.execute(text(query)).first()[0] > 0
    assert index in plan, plan


def test_without_rasas_table_every_conversation_figure_is_zero(insights_database) -> None:
    with insights_database.engine.begin() as connection:
        connection.execute(text("DROP TABLE events"))
    insights = _insights(insights_database)
    assert (insights.conversations, insights.messages, insights.asked_question, insights.unanswered) == (0, 0, 0, 0)
    assert insights.topics == [] and insights.first_contact.median_seconds is None
