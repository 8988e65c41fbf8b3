"""The insights page and its CSV, on a week whose true figures are known (tests/insights/known_clinic.py),
on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from bot.insights.wording import duration, percent
from bot.settings import Settings
from bot.staff.guard import STAFF_CSP
from tests.insights.known_clinic import FIRST_DAY, LAST_DAY, NOW, VISITOR_WORDS, KnownClinic
from tests.insights.page_reading import read_insights_page
from tests.staff.helpers import ADMIN_EMAIL, STAFF_EMAIL, FakeClock, add_account, csrf_from, signed_in

WEEK = "/staff/insights?period=7"


@pytest.fixture
def week(any_database):
    add_account(any_database, ADMIN_EMAIL, admin=True)
    add_account(any_database, STAFF_EMAIL)
    return KnownClinic(any_database.engine, any_database.session_factory, any_database.settings).build()


@pytest.fixture
async def week_client(aiohttp_client, any_database, build_staff_app, week):
    settings = any_database.settings.with_overrides(public_url="http://clinic.test", clinic_timezone="America/New_York")
    return await aiohttp_client(build_staff_app(settings, FakeClock(NOW)))


async def test_every_number_on_the_page_is_the_weeks(week_client, week) -> None:
    await signed_in(week_client)
    response = await week_client.get(WEEK)
    assert response.status == 200
    page = read_insights_page(await response.text())
    assert week.conversations == 120 and week.started_inquiry == 30 and week.leads == 18
    assert week.emergencies == 3 and week.crisis == 2
    assert page.figures == {
        "conversations": "120",
        "messages": str(week.messages),
        "asked-question": str(week.asked_question),
        "started-inquiry": "30",
        "leads": "18",
        "first-contact": duration(week.median_first_contact_seconds),
        "unanswered": percent(week.unanswered / week.messages),
        "emergencies": "3",
        "crisis": "2",
    }
    assert page.figures["first-contact"] == "4 h"
    assert page.tables["funnel"] == [
        ["Conversations", "120", "–", "–"],
        ["Asked a question", str(week.asked_question), percent(week.asked_question / 120),
         percent(week.asked_question / 120)],
        ["Started an inquiry", "30", "25%", percent(30 / week.asked_question)],
        ["Left their details (lead)", "18", "15%", "60%"],
    ]
    assert {label: int(count) for label, count in page.tables["kinds"]} == {
        "Appointment": week.kinds["Appointment"], "Cost": week.kinds["Cost"],
        "Availability": week.kinds["Availability"], "Call-back": week.kinds["Call-back"]}
    assert {label: int(count) for label, count in page.tables["statuses"]} == {
        label: week.statuses[label] for label in ("New", "Contacted", "Scheduled", "Closed", "Not a fit")}
    topics = {label: int(count) for label, count in page.tables["topics"]}
    assert topics == {"DEXA scan": week.topics["dexa_scan"], "Vitamin D": week.topics["vitamin_d"],
                      "Calcium supplements": week.topics["calcium_supplements"],
                      "Best exercises": week.topics["best_exercises"],
                      "Balance exercises": week.topics["balance_exercises"]}
    assert list(topics.values()) == sorted(topics.values(), reverse=True)
    day = FIRST_DAY
    while day <= LAST_DAY:
        assert page.days[day.isoformat()][1:] == [
            str(week.conversations_by_day[day]), str(week.leads_by_day[day]), str(week.messages_by_day[day]),
            str(week.unanswered_by_day[day])], day
        day += timedelta(days=1)
    heat = page.tables["heatmap"]
    assert [row[0] for row in heat] == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    assert {(weekday, hour): int(count) for weekday, row in enumerate(heat) for hour, count in enumerate(row[1:])
            if count != "0"} == dict(week.week_hours)
    assert page.svgs == ["chart-daily", "chart-funnel", "chart-topics", "chart-heatmap"]


async def test_the_page_holds_no_visitor_words_and_nothing_from_elsewhere(week_client, week) -> None:
    await signed_in(week_client)
    response = await week_client.get(WEEK)
    html = await response.text()
    assert response.headers["Content-Security-Policy"] == STAFF_CSP
    for words in VISITOR_WORDS:
        assert words.lower() not in html.lower()
    # No script or style inside the page (the policy refuses them), and no address elsewhere.
    assert "<script>" not in html and "<style" not in html and " style=" not in html
    assert "kozea.github.io" not in html and "googleapis" not in html
    assert "https://" not in html.replace("http://www.w3.org/", "")


async def test_the_csv_has_the_pages_figures(week_client, week) -> None:
    await signed_in(week_client)
    token = csrf_from(await (await week_client.get(WEEK)).text())
    response = await week_client.post("/staff/insights/export", data={"csrf_token": token, "period": "7"})
    assert response.status == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="insights-2025-03-06-to-2025-03-12.csv"'
    body = (await response.read()).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["Section", "Item", "Value"]
    figures = {(section, item): value for section, item, value in rows[1:]}
    assert figures[("Period", "First day")] == "2025-03-06" and figures[("Period", "Last day")] == "2025-03-12"
    assert figures[("Totals", "Conversations")] == "120"
    assert figures[("Totals", "Visitor messages")] == str(week.messages)
    assert figures[("Totals", "Leads")] == "18"
    assert figures[("Totals", "Emergency messages")] == "3" and figures[("Totals", "Crisis messages")] == "2"
    assert figures[("Funnel", "Started an inquiry")] == "30"
    assert figures[("Time to first contact", "Median seconds")] == str(4 * 3600)
    assert figures[("Time to first contact", "Leads waiting")] == str(week.waiting)
    assert figures[("FAQ topics", "DEXA scan")] == str(week.topics["dexa_scan"])
    assert float(figures[("Totals", "Unanswered share")]) == pytest.approx(week.unanswered / week.messages, abs=1e-4)
    assert figures[("Conversations by day", "2025-03-09")] == str(week.conversations_by_day[FIRST_DAY + timedelta(3)])
    assert sum(int(value) for (section, _), value in figures.items() if section == "Visitor messages by hour") == \
        week.messages
    for words in VISITOR_WORDS:
        assert words.lower() not in body.lower()


async def test_the_csv_needs_the_forms_token(week_client, week) -> None:
    await signed_in(week_client)
    response = await week_client.post("/staff/insights/export", data={"period": "7"})
    assert response.status == 403


@pytest.mark.parametrize("query, message", [
    ("from=2025-02-30&to=2025-03-05", "The from date '2025-02-30' is not a date like 2025-03-31."),
    ("from=2025-03-10&to=2025-03-01", "The from date is after the to date."),
    ("from=2025-03-10", "Give both a from date and a to date."),
    ("from=2023-01-01&to=2025-03-01", "A period can be at most 366 days long."),
    ("period=365", "There is no period '365'; showing the last 30 days."),
])
async def test_dates_that_cannot_be_used_are_explained_and_the_last_30_days_shown(
        week_client, week, query, message) -> None:
    await signed_in(week_client)
    html = await (await week_client.get(f"/staff/insights?{query}")).text()
    assert message.replace("'", "&#39;") in html
    assert "Last 30 days" in html and 'aria-current="page">Last 30 days' in html
    page = read_insights_page(html)
    # The 30 days up to the week's end hold the whole week and the evening before it.
    assert int(page.figures["conversations"]) == week.conversations + 2


async def test_chosen_dates_count_those_days(week_client, week) -> None:
    await signed_in(week_client)
    html = await (await week_client.get("/staff/insights?from=2025-03-09&to=2025-03-09")).text()
    page = read_insights_page(html)
    assert page.figures["conversations"] == str(week.conversations_by_day[FIRST_DAY + timedelta(days=3)])
    assert list(page.days) == ["2025-03-09"]
    assert "Mar 9, 2025 to Mar 9, 2025" in html


async def test_every_signed_in_account_sees_the_page_and_its_link(week_client, week) -> None:
    await signed_in(week_client, ADMIN_EMAIL)
    leads = await (await week_client.get("/staff/leads")).text()
    assert 'href="/staff/insights">Insights</a>' in leads
    assert (await week_client.get(WEEK)).status == 200


async def test_signed_out_visitors_see_no_figures(aiohttp_client, make_staff_app, accounts_made) -> None:
    client = await aiohttp_client(make_staff_app())
    response = await client.get(WEEK)
    html = await response.text()
    assert read_insights_page(html).figures == {}
    assert "Staff sign-in" in html or "Continue" in html
    assert (await client.post("/staff/insights/export", data={"period": "7"})).status == 403


async def test_an_empty_database_shows_zeros(client) -> None:
    await signed_in(client)
    response = await client.get("/staff/insights")
    assert response.status == 200
    page = read_insights_page(await response.text())
    assert page.figures["conversations"] == "0" and page.figures["first-contact"] == "–"
    assert page.figures["unanswered"] == "–"


def test_the_staff_settings_default_to_no_weekly_email() -> None:
    assert Settings().insights_weekly_email is False
    assert Settings.from_env({"INSIGHTS_WEEKLY_EMAIL": "true"}).insights_weekly_email is True
