"""iCalendar files of visits: the confirmed visits' feed staff subscribe to, and the one-event
file for a visitor's confirmation email.

Neither holds a phone number, an email address or anything about the visitor's health: the feed
names a visitor by first name and last initial ("Maria L."), the invitation names no one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

import icalendar
from sqlalchemy import column, select, table
from sqlalchemy.orm import Session

from bot.db import utcnow
from bot.schedule.hours import aware_utc
from bot.schedule.models import Booking, BookingStatus
from bot.settings import Settings

PAST = timedelta(weeks=4)
AHEAD = timedelta(weeks=12)
PRODID = "-//Clinic assistant//Visits//EN"
_TITLES = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "rev", "sr", "sra", "srta"}

# Only the name column of the leads table, by name: the schedule does not import the lead package.
_leads = table("leads", column("id"), column("name"))


def short_name(name: str | None) -> str:
    """First name and last initial ("Maria Lopez" -> "Maria L."); a one-word name as it is; "" for none."""
    words = [word for word in (name or "").split() if word.rstrip(".").lower() not in _TITLES] or (name or "").split()
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    return f"{words[0]} {words[-1][0].upper()}."


def booking_uid(booking: Booking, settings: Settings) -> str:
    """The booking's stable UID in every calendar file: its number at the clinic's host."""
    host = urlsplit(settings.public_url).hostname or "clinic-assistant"
    return f"booking-{booking.id}@{host}"


def _calendar(settings: Settings, name: str) -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    return calendar


def _event(booking: Booking, settings: Settings, summary: str) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", booking_uid(booking, settings))
    event.add("dtstamp", booking.updated_at or utcnow())
    event.add("dtstart", booking.starts)
    event.add("dtend", booking.ends)
    event.add("summary", summary)
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event


def confirmed_visits_ics(session: Session, settings: Settings, *, now: datetime | None = None) -> bytes:
    """A VCALENDAR of the confirmed visits from 4 weeks before `now` (default: now) to 12 weeks after.

    One VEVENT a booking, times in UTC, SUMMARY "<visit name>: <first name> <last initial>.",
    UID stable per booking (a visit moved by staff is a new booking, so a new UID).
    """
    now = aware_utc(now, "now") if now is not None else utcnow()
    rows = session.execute(
        select(Booking, _leads.c.name)
        .outerjoin(_leads, _leads.c.id == Booking.lead_id)
        .where(Booking.status == BookingStatus.confirmed, Booking.starts >= now - PAST, Booking.starts < now + AHEAD)
        .order_by(Booking.starts, Booking.id)
    ).all()
    calendar = _calendar(settings, f"{settings.clinic_name}: confirmed visits")
    for booking, name in rows:
        who = short_name(name)
        calendar.add_component(_event(booking, settings, f"{booking.visit_name}: {who}" if who else booking.visit_name))
    return calendar.to_ical()


def visit_invitation_ics(booking: Booking, settings: Settings) -> bytes:
    """One VEVENT (METHOD:PUBLISH) for the visitor's confirmation email: SUMMARY "<visit name> at
    <clinic name>", the clinic's phone number in DESCRIPTION, the same UID as in the visits' feed."""
    calendar = _calendar(settings, settings.clinic_name)
    event = _event(booking, settings, f"{booking.visit_name} at {settings.clinic_name}")
    event.add("description", f"{booking.visit_name} at {settings.clinic_name}. "
                             f"To change or cancel it, call {settings.clinic_phone}.")
    calendar.add_component(event)
    return calendar.to_ical()
