"""What the schedule pages read: the settings page, the clinic calendar's state in plain words,
a lead's visit with its confirmation email, the openings staff may propose, and the visits feed.

Functions taking `db` run in the caller's session (`bot.staff.pages.run_db`); those taking a
session `factory` open their own, as `bot.schedule` does, and run in a worker thread.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.leads.models import Lead
from bot.notify.models import OutboxMessage
from bot.notify.visit_email import visit_emails_configured
from bot.schedule import bookings, feed, openings, rules
from bot.schedule.calendar import confirmed_visits_ics
from bot.schedule.hours import local_to_utc
from bot.schedule.models import SINGLE_ROW_ID, Booking, BookingStatus, ScheduleSettings
from bot.schedule.openings import Opening, ScheduleSummary
from bot.settings import Settings
from bot.staff.display import format_time

# Openings listed when staff propose another time: from the day they look from, this far ahead.
PROPOSAL_DAYS = 14
PROPOSAL_LIMIT = 12
PROPOSAL_PER_DAY = 4


@dataclass(frozen=True)
class SettingsPage:
    summary: ScheduleSummary
    calendar_feed_url: str | None
    visits_feed_token: str
    feed: feed.FeedState


def load_settings_page(factory: sessionmaker, settings: Settings, *, today: date) -> SettingsPage:
    """The schedule as saved (defaults where nothing is), the feeds' addresses and the calendar's state."""
    with factory() as db:
        # Made on first use, with the visits feed's first secret.
        row = rules.schedule_settings(db)
        url, token = row.calendar_feed_url, row.visits_feed_token
        db.commit()
    return SettingsPage(openings.schedule_summary(factory, settings, today=today), url, token, feed.feed_state(factory))


def _when(moment: datetime, zone: ZoneInfo, now: datetime) -> str:
    """'9:14 AM' today, 'Mar 2, 2025, 9:14 AM' another day."""
    text = format_time(moment, zone)
    return text.split(", ")[-1] if moment.astimezone(zone).date() == now.astimezone(zone).date() else text


def feed_status(state: feed.FeedState, settings: Settings, *, now: datetime) -> tuple[str, str]:
    """(kind, sentence) about the clinic calendar: kind is "none", "waiting", "ok" or "failing"."""
    zone = ZoneInfo(settings.clinic_timezone)
    if not state.url_set:
        return "none", "No clinic calendar is connected: openings follow the hours above only."
    if state.failing and state.last_error_at is not None:
        reason = (state.last_error or "").rstrip(".")
        reason = reason[:1].lower() + reason[1:]
        text = f"The calendar feed could not be read at {_when(state.last_error_at, zone, now)}: {reason}."
        if state.last_good_at is not None:
            text += f" Openings use the copy from {_when(state.last_good_at, zone, now)}."
        else:
            text += " No copy has been read yet, so openings do not leave out the calendar's busy times."
        return "failing", text
    if state.last_good_at is None:
        return "waiting", (f"Not read yet: the assistant reads it within {settings.calendar_refresh_minutes} "
                           "minutes, or now with Refresh now.")
    stretches = f"{state.busy_count} busy stretch{'es' if state.busy_count != 1 else ''}"
    verb = "is" if state.busy_count == 1 else "are"
    return "ok", (f"Read at {_when(state.last_good_at, zone, now)}: {stretches} in the next 12 weeks {verb} "
                  "left out of the openings.")


@dataclass(frozen=True)
class VisitPanel:
    """A lead's visit for its page: the booking (None: no time picked), and its confirmation email:
    `email` is "sent", "queued", "failing", "not_queued" (confirmed while email could not be sent),
    "no_address" (the lead gave none) or "no_server" (no SMTP)."""

    booking: Booking | None
    email: str
    email_sent_at: datetime | None = None
    email_error: str | None = None

    @property
    def can_confirm(self) -> bool:
        return self.booking is not None and self.booking.status in (BookingStatus.requested, BookingStatus.proposed)

    @property
    def can_propose(self) -> bool:
        return self.booking is not None and self.booking.status not in (BookingStatus.held, BookingStatus.released)


def visit_panel(db: Session, lead: Lead, settings: Settings) -> VisitPanel:
    booking = bookings.booking_for_lead(db, lead.id)
    if not visit_emails_configured(settings):
        return VisitPanel(booking, "no_server")
    if not lead.email:
        return VisitPanel(booking, "no_address")
    row = None
    if booking is not None:
        row = db.scalar(select(OutboxMessage).where(OutboxMessage.booking_id == booking.id))
    if row is None:
        confirmed = booking is not None and booking.status == BookingStatus.confirmed
        return VisitPanel(booking, "not_queued" if confirmed else "queued")
    if row.sent_at is not None:
        return VisitPanel(booking, "sent", email_sent_at=row.sent_at)
    return VisitPanel(booking, "failing" if row.last_error else "queued", email_error=row.last_error)


def proposal_openings(
    factory: sessionmaker, settings: Settings, *, booking_id: int, look_from: date, now: datetime
) -> list[Opening]:
    """The next openings from the clinic's day `look_from` on (PROPOSAL_DAYS of them), of the
    booking's visit type (the chat's when that type is inactive or gone), earliest first."""
    zone = ZoneInfo(settings.clinic_timezone)
    with factory() as db:
        booking = db.get(Booking, booking_id)
        visit_type_id = booking.visit_type_id if booking is not None else None
        if visit_type_id is not None and rules.resolve_visit(db, visit_type_id) is None:
            visit_type_id = None
    starts = local_to_utc(look_from, time(0, 0), zone)
    ends = starts + timedelta(days=PROPOSAL_DAYS)
    return openings.find_openings(
        factory, settings, now=now, windows=[(starts, ends)], limit=PROPOSAL_LIMIT, per_day=PROPOSAL_PER_DAY,
        horizon_days=max(1, (ends - now).days + 1), visit_type_id=visit_type_id,
    )


def visits_feed(db: Session, settings: Settings, token: str, *, now: datetime) -> bytes | None:
    """The confirmed visits' iCalendar file when `token` is the feed's secret (compared in constant
    time), else None."""
    saved = db.scalar(select(ScheduleSettings.visits_feed_token).where(ScheduleSettings.id == SINGLE_ROW_ID))
    if not saved or not hmac.compare_digest(saved.encode("utf-8"), token.encode("utf-8")):
        return None
    return confirmed_visits_ics(db, settings, now=now)
