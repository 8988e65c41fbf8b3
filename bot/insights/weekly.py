"""The weekly summary email: last week's main figures to the active administrators, Monday mornings.

Opt-in (INSIGHTS_WEEKLY_EMAIL). From Monday SUMMARY_HOUR o'clock clinic time, the web app's
`weekly_summary_email` context (checking every hour) computes the week before (Monday to
Sunday, clinic days) and queues one email in the outbox, which sends it with its retries. The
week is written down in `insights_weekly_summaries` in the same transaction, so a restart, or a
second web app, never queues it again. Counts only: no visitor's name, contact or words.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, timedelta, tzinfo
from enum import Enum
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import column, select, table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.db import SESSION_FACTORY, utcnow
from bot.insights import wording
from bot.insights.figures import WEEKDAYS, Insights, compute_insights, hour_label
from bot.insights.models import WeeklySummarySent
from bot.insights.period import Period
from bot.leads.links import STAFF_PREFIX
from bot.notify import build_summary_payload
from bot.notify.models import OutboxChannel, OutboxMessage
from bot.settings import SETTINGS, Settings

log = logging.getLogger(__name__)

# Monday from this hour, clinic time, the week before is summed up.
SUMMARY_HOUR = 7
CHECK_SECONDS = 3600
# What time it is for the weekly check; a test sets it on the web app. Unset: the real time.
WEEKLY_SUMMARY_CLOCK = web.AppKey("weekly_summary_clock", Callable[[], datetime])
# The staff accounts (bot.staff.models.StaffAccount), named rather than imported: the insights
# stay below the staff pages, which show them.
_accounts = table("staff_accounts", column("login"), column("is_admin"), column("is_active"))


class Outcome(str, Enum):
    queued = "queued"
    off = "off"
    not_due = "not due"
    already_queued = "already queued"
    no_mail_server = "no mail server"
    no_recipients = "no recipients"


def week_due(now: datetime, zone: tzinfo) -> Period | None:
    """The week whose summary is due at `now`: the one before the clinic's current week, from
    Monday SUMMARY_HOUR o'clock on; None on Monday before then (last week's is not due yet)."""
    local = now.astimezone(zone)
    if local.weekday() == 0 and local.hour < SUMMARY_HOUR:
        return None
    monday = local.date() - timedelta(days=local.weekday())
    return Period(monday - timedelta(days=7), monday - timedelta(days=1))


def admin_addresses(db: Session) -> list[str]:
    """The email addresses of the active administrators (logins that are addresses), sorted."""
    logins = db.scalars(select(_accounts.c.login).where(_accounts.c.is_admin.is_(True),
                                                        _accounts.c.is_active.is_(True)))
    return sorted(login for login in logins if "@" in login)


def _day(day: date) -> str:
    return f"{WEEKDAYS[day.weekday()]} {day:%b} {day.day}, {day.year}"


def insights_link(settings: Settings, period: Period) -> str:
    query = urlencode({"from": period.first_day.isoformat(), "to": period.last_day.isoformat()})
    return f"{settings.public_url.rstrip('/')}{STAFF_PREFIX}/insights?{query}"


def summary_subject(settings: Settings, period: Period) -> str:
    return f"{settings.clinic_name} assistant: the week of {period.first_day:%b} {period.first_day.day}"


def summary_text(insights: Insights, settings: Settings) -> str:
    """The email's text: the main figures and the page's address. Counts and topic names only."""
    period = insights.period
    funnel = insights.funnel
    contact = insights.first_contact
    kinds = ", ".join(f"{label} {count}" for label, count in insights.leads_by_kind if count) or "none"
    topics = ", ".join(f"{label} ({count})" for label, count in insights.topics[:3]) or "none"
    busiest = ", ".join(f"{WEEKDAYS[weekday]} {hour_label(hour)}" for weekday, hour, _ in insights.busiest_hours)
    change = wording.share_change(insights.unanswered_share, insights.previous_unanswered_share, period.days)
    lines = [
        f"The {settings.clinic_name} website assistant's week, {_day(period.first_day)} to "
        f"{_day(period.last_day)} (clinic time):",
        "",
        f"Conversations: {insights.conversations}",
        f"Visitor messages: {insights.messages}",
        f"Asked a question: {insights.asked_question} ({wording.percent(funnel[1].of_conversations)} of conversations)",
        f"Started an inquiry: {insights.started_inquiry} ({wording.percent(funnel[2].of_conversations)})",
        f"Leads: {insights.leads} (by kind: {kinds})",
        f"Median time to first contact: {wording.duration(contact.median_seconds)} "
        f"({contact.contacted} contacted, {contact.waiting} waiting)",
        f"Unanswered: {wording.percent(insights.unanswered_share)} of messages "
        f"({insights.unanswered} of {insights.messages}); {change}",
        f"Emergency messages: {insights.emergencies}; crisis messages: {insights.crisis}",
        f"Most asked: {topics}",
        f"Busiest hours: {busiest or 'none'}",
        "",
        "The charts, and the figures as a spreadsheet, are on the insights page (sign-in required):",
        insights_link(settings, period),
        "",
        "This summary holds counts only: no visitor's name, contact details or words.",
        "It is sent because INSIGHTS_WEEKLY_EMAIL is on; set it to false to stop it.",
    ]
    return "\n".join(lines) + "\n"


def _already_queued(db: Session, week: Period) -> bool:
    return db.get(WeeklySummarySent, week.first_day) is not None


def queue_weekly_summary(session_factory: sessionmaker, settings: Settings, now: datetime) -> Outcome:
    """Queue last week's summary email when it is due and not queued before; what happened."""
    if not settings.insights_weekly_email:
        return Outcome.off
    zone = ZoneInfo(settings.clinic_timezone)
    week = week_due(now, zone)
    if week is None:
        return Outcome.not_due
    with session_factory() as db:
        if _already_queued(db, week):
            return Outcome.already_queued
        if not settings.smtp_host:
            return Outcome.no_mail_server
        recipients = admin_addresses(db)
        if not recipients:
            return Outcome.no_recipients
        insights = compute_insights(db, week, zone)
        domain = settings.mail_from.rpartition("@")[2] or "localhost"
        payload = build_summary_payload(
            summary_subject(settings, week), summary_text(insights, settings), recipients,
            message_id=f"<insights-week-{week.first_day.isoformat()}@{domain}>",
        )
        db.add(WeeklySummarySent(week_start=week.first_day, queued_at=now, recipients=len(recipients)))
        db.add(OutboxMessage(lead_id=None, channel=OutboxChannel.email, payload=json.dumps(payload), attempts=0,
                             next_attempt_at=now, created_at=now))
        try:
            db.commit()
        except IntegrityError:
            # Another web app queued it a moment ago.
            db.rollback()
            return Outcome.already_queued
    log.info("Weekly insights summary of %s queued for %d administrators", week.first_day, len(recipients))
    return Outcome.queued


_CANNOT_SEND = {
    Outcome.no_mail_server: "SMTP_HOST is not set",
    Outcome.no_recipients: "no active administrator has an email address as their login",
}


async def _check_every_hour(app: web.Application, stop: asyncio.Event) -> None:
    settings = app[SETTINGS]
    clock = app.get(WEEKLY_SUMMARY_CLOCK, utcnow)
    warned: set[tuple[date, Outcome]] = set()
    while not stop.is_set():
        try:
            now = clock()
            outcome = await asyncio.to_thread(queue_weekly_summary, app[SESSION_FACTORY], settings, now)
            week = week_due(now, ZoneInfo(settings.clinic_timezone))
            # Said once a week, not at every check.
            if outcome in _CANNOT_SEND and week and (week.first_day, outcome) not in warned:
                warned.add((week.first_day, outcome))
                log.warning("INSIGHTS_WEEKLY_EMAIL is on, but the weekly summary cannot go out: %s",
                            _CANNOT_SEND[outcome])
        except Exception:  # the database may be restarting: try again at the next check
            log.exception("The weekly insights check failed; trying again in %d s", CHECK_SECONDS)
        try:
            await asyncio.wait_for(stop.wait(), timeout=CHECK_SECONDS)
        except TimeoutError:
            pass


async def weekly_summary_email(app: web.Application) -> AsyncIterator[None]:
    """The web app's cleanup context: the hourly check, while the app runs, when the setting is on."""
    if not app[SETTINGS].insights_weekly_email:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(_check_every_hour(app, stop))
    yield
    stop.set()
    await task
