"""The weekly summary email: due Monday morning clinic time, to the active administrators, through the
outbox to a real SMTP server, with the week's figures and no visitor's details, and never twice."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone
from email.message import EmailMessage

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from bot.insights import weekly
from bot.insights.models import WeeklySummarySent
from bot.insights.weekly import WEEKLY_SUMMARY_CLOCK, Outcome, queue_weekly_summary, week_due
from bot.notify.models import OutboxMessage
from bot.notify.outbox import OutboxWorker, RetryPolicy
from bot.staff import accounts
from bot.staff.accounts import create_account, disable_account
from bot.web.app import create_app
from tests.insights.known_clinic import VISITOR_WORDS, ZONE

# Monday March 10, 2025, 7:30 AM in New York: the week of March 3 to 9 is due.
MONDAY = datetime(2025, 3, 10, 7, 30, tzinfo=ZONE).astimezone(timezone.utc)
WEEK = [date(2025, 3, 3) + timedelta(days=n) for n in range(7)]
ADMINS = ("manager@clinic.example", "owner@clinic.example")
PASSWORD = "lantern orbit cello 42"


@pytest.fixture(autouse=True)
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "PASSWORD_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def settings(insights_database, smtp_server):
    return insights_database.settings.with_overrides(
        insights_weekly_email=True, smtp_host=smtp_server.host, smtp_port=smtp_server.port,
        mail_from="assistant@clinic.test", mail_to=("frontdesk@clinic.example",), outbox_poll_seconds=0.05,
    )


@pytest.fixture
def staff(insights_database) -> None:
    with insights_database.session_factory() as db:
        for login in ADMINS:
            create_account(db, login, PASSWORD, is_admin=True)
        create_account(db, "former@clinic.example", PASSWORD, is_admin=True)
        create_account(db, "frontdesk@clinic.example", PASSWORD)
        db.commit()
        disable_account(db, "former@clinic.example")
        db.commit()


def _summaries(database) -> int:
    with database.session_factory() as db:
        return db.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.lead_id.is_(None)))


def _figure(message: EmailMessage, label: str) -> str:
    body = message.get_content()
    line = next(line for line in body.splitlines() if line.startswith(label + ":"))
    return line.removeprefix(label + ":").strip()


def test_the_week_is_due_from_monday_seven_oclock_clinic_time() -> None:
    assert week_due(datetime(2025, 3, 10, 6, 59, tzinfo=ZONE), ZONE) is None
    due = week_due(datetime(2025, 3, 10, 7, 0, tzinfo=ZONE), ZONE)
    assert (due.first_day, due.last_day) == (date(2025, 3, 3), date(2025, 3, 9))
    # Late on Sunday it is still the week before that one; in UTC it is Monday already.
    sunday = week_due(datetime(2025, 3, 16, 23, 30, tzinfo=ZONE), ZONE)
    assert (sunday.first_day, sunday.last_day) == (date(2025, 3, 3), date(2025, 3, 9))
    assert week_due(datetime(2025, 3, 17, 6, 30, tzinfo=timezone.utc), ZONE) is None


async def test_the_summary_reaches_the_administrators_once_with_the_weeks_figures(
        insights_database, known_week, settings, staff, smtp_server) -> None:
    factory = insights_database.session_factory
    assert queue_weekly_summary(factory, settings, MONDAY) is Outcome.queued
    # A restart, a second web app, the next hourly check: never a second one.
    assert queue_weekly_summary(factory, settings, MONDAY + timedelta(hours=1)) is Outcome.already_queued
    assert queue_weekly_summary(factory, settings, MONDAY + timedelta(days=3)) is Outcome.already_queued
    worker = OutboxWorker(factory, settings, clock=lambda: MONDAY + timedelta(minutes=1))
    assert await worker.deliver_due() == 1
    assert await worker.deliver_due() == 0
    assert len(smtp_server.received) == 1
    mail = smtp_server.received[0]
    assert sorted(mail.rcpt_tos) == sorted(ADMINS)
    message = mail.message
    assert message["Subject"] == "Montross Physical Therapy assistant: the week of Mar 3"
    assert message["To"] == ", ".join(ADMINS)
    assert message["Message-ID"] == "<insights-week-2025-03-03@clinic.test>"
    expected = known_week
    assert _figure(message, "Conversations") == str(sum(expected.conversations_by_day[day] for day in WEEK))
    assert _figure(message, "Visitor messages") == str(sum(expected.messages_by_day[day] for day in WEEK))
    assert _figure(message, "Leads").startswith(f"{sum(expected.leads_by_day[day] for day in WEEK)} (by kind:")
    emergencies = sum(expected.emergencies_by_day[day] for day in WEEK)
    crisis = sum(expected.crisis_by_day[day] for day in WEEK)
    assert emergencies == 3 and crisis == 0
    assert _figure(message, "Emergency messages") == f"{emergencies}; crisis messages: {crisis}"
    body = message.get_content()
    assert "http://clinic.test/staff/insights?from=2025-03-03&to=2025-03-09" in body
    for words in VISITOR_WORDS:
        assert words.lower() not in body.lower()
    assert "conversation-" not in body and "week-" not in body and "@example.com" not in body


async def test_a_refused_summary_is_sent_again_later(insights_database, known_week, settings, staff,
                                                     smtp_server) -> None:
    factory = insights_database.session_factory
    queue_weekly_summary(factory, settings, MONDAY)
    smtp_server.refuse()
    now = [MONDAY]
    worker = OutboxWorker(factory, settings, clock=lambda: now[0], retry_policy=RetryPolicy(first_delay_seconds=30))
    assert await worker.deliver_due() == 0
    smtp_server.accept()
    now[0] += timedelta(minutes=5)
    assert await worker.deliver_due() == 1
    assert len(smtp_server.received) == 1


def test_a_second_web_app_queueing_at_the_same_moment_adds_nothing(
        insights_database, settings, staff, monkeypatch: pytest.MonkeyPatch) -> None:
    factory = insights_database.session_factory
    assert queue_weekly_summary(factory, settings, MONDAY) is Outcome.queued
    # As if the other app's row were not yet there when this one looked.
    monkeypatch.setattr(weekly, "_already_queued", lambda db, week: False)
    assert queue_weekly_summary(factory, settings, MONDAY) is Outcome.already_queued
    assert _summaries(insights_database) == 1


def test_nothing_is_queued_when_it_is_off_not_due_or_cannot_go_out(insights_database, settings, staff) -> None:
    factory = insights_database.session_factory
    assert queue_weekly_summary(factory, settings.with_overrides(insights_weekly_email=False), MONDAY) is Outcome.off
    assert queue_weekly_summary(factory, settings, MONDAY - timedelta(minutes=31)) is Outcome.not_due
    assert queue_weekly_summary(factory, settings.with_overrides(smtp_host=""), MONDAY) is Outcome.no_mail_server
    assert _summaries(insights_database) == 0


def test_without_an_administrators_address_nothing_is_queued(insights_database, settings) -> None:
    factory = insights_database.session_factory
    with factory() as db:
        create_account(db, "frontdesk@clinic.example", PASSWORD)
        db.commit()
    assert queue_weekly_summary(factory, settings, MONDAY) is Outcome.no_recipients
    with factory() as db:
        assert db.scalar(select(func.count()).select_from(WeeklySummarySent)) == 0


async def test_the_web_app_sends_it_on_monday_morning_and_not_again_after_a_restart(
        aiohttp_client, insights_database, known_week, settings, staff, smtp_server) -> None:
    for start in range(2):
        app = create_app(settings)
        app[WEEKLY_SUMMARY_CLOCK] = lambda: MONDAY + timedelta(minutes=start)
        client = await aiohttp_client(app)
        for _ in range(200):
            if smtp_server.received and _summaries(insights_database) == 1:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        await client.close()
        assert len(smtp_server.received) == 1
    with insights_database.session_factory() as db:
        assert db.scalar(select(func.count()).select_from(WeeklySummarySent)) == 1
