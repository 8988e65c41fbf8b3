"""The email telling a visitor that staff confirmed their visit, with the visit as an .ics file.

Queued in the transaction that confirms the visit (`queue_visit_confirmation`), as an outbox row
that holds the booking's number only. The sender reads the visitor's address and the time when
it sends, through a loader the web app hands it (notices know no lead: `bot.leads.visits` reads
them): a lead deleted meanwhile, or a visit no longer confirmed, means nothing is sent. The email
names the time, the visit, the clinic and its phone number; nothing about the visitor's health.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from email.message import EmailMessage
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.db import utcnow
from bot.notify import DeliveryError
from bot.notify.email import send_email
from bot.notify.models import OutboxChannel, OutboxMessage
from bot.settings import Settings

log = logging.getLogger(__name__)

VISIT_CONFIRMED = "visit.confirmed"


@dataclass(frozen=True)
class VisitConfirmation:
    """What the email needs, read when it is sent: `starts`/`ends` aware UTC, `ics` the invitation."""

    booking_id: int
    to: str
    first_name: str
    visit_name: str
    starts: datetime
    ends: datetime
    ics: bytes


# booking id -> the visit to confirm, or None when there is nothing to send any more.
VisitLoader = Callable[[int], "VisitConfirmation | None"]


def visit_emails_configured(settings: Settings) -> bool:
    """Whether visitors can be emailed at all: a mail server is set (SMTP_HOST)."""
    return bool(settings.smtp_host)


def queue_visit_confirmation(db: Session, *, lead_id: int, booking_id: int, now: datetime) -> None:
    """Add the outbox row for booking `booking_id`'s confirmation; the caller's commit saves it."""
    db.add(
        OutboxMessage(
            lead_id=lead_id,
            booking_id=booking_id,
            channel=OutboxChannel.visit_email,
            payload=json.dumps({"event": VISIT_CONFIRMED, "booking_id": booking_id}),
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )


def clock_time(moment: datetime, zone: tzinfo) -> str:
    """'9:00 AM' in `zone`."""
    local = moment.astimezone(zone)
    return f"{local.hour % 12 or 12}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"


def visit_time_label(moment: datetime, zone: tzinfo) -> str:
    """'Tue Dec 8, 9:00 AM': a visit's start in `zone`, as notes, pages and the subject show it."""
    local = moment.astimezone(zone)
    return f"{local:%a %b} {local.day}, {clock_time(local, zone)}"


def build_visit_email(visit: VisitConfirmation, settings: Settings, *, now: datetime) -> EmailMessage:
    """From MAIL_FROM to the visitor: the time in the clinic's zone, how to change it, the .ics file."""
    zone = ZoneInfo(settings.clinic_timezone)
    starts, ends = visit.starts.astimezone(zone), visit.ends.astimezone(zone)
    message = EmailMessage()
    message["Subject"] = f"Your visit at {settings.clinic_name}: {visit_time_label(starts, zone)}"
    message["From"] = settings.mail_from
    message["To"] = visit.to
    message["Date"] = format_datetime(now.astimezone(zone))
    domain = settings.mail_from.rpartition("@")[2] or "localhost"
    # One id per booking: should it ever go out twice, mail clients show it once.
    message["Message-ID"] = f"<visit-{visit.booking_id}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    greeting = f"Hello {visit.first_name}," if visit.first_name else "Hello,"
    message.set_content(
        f"{greeting}\n"
        "\n"
        f"Your visit at {settings.clinic_name} is confirmed:\n"
        "\n"
        f"    {visit.visit_name}\n"
        f"    {starts:%A, %B} {starts.day}, {starts.year}, {clock_time(starts, zone)} to "
        f"{clock_time(ends, zone)} ({starts:%Z})\n"
        "\n"
        f"To change or cancel it, please call us at {settings.clinic_phone}.\n"
        "\n"
        "The attached calendar file adds the visit to your calendar.\n"
        "\n"
        f"{settings.clinic_name}\n"
        f"{settings.clinic_phone}\n"
    )
    message.add_attachment(
        visit.ics, maintype="text", subtype="calendar", filename="visit.ics",
        params={"method": "PUBLISH", "charset": "utf-8"},
    )
    return message


class VisitEmailSender:
    """Sends the confirmation of the booking a payload names, through `settings.smtp_host`.

    `load(booking_id)` runs in a worker thread and gives the visit, or None to send nothing.
    """

    def __init__(self, settings: Settings, load: VisitLoader, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._settings = settings
        self._load = load
        self._clock = clock

    async def send(self, payload: Mapping) -> None:
        settings = self._settings
        if not visit_emails_configured(settings):
            raise DeliveryError("visit confirmations need a mail server (SMTP_HOST)", permanent=True)
        booking_id = int(payload["booking_id"])
        visit = await asyncio.to_thread(self._load, booking_id)
        if visit is None:
            # The lead was deleted, or the visit declined or moved: there is nothing to confirm.
            log.info("Confirmation of booking #%s not sent: the visit is no longer confirmed", booking_id)
            return
        message = build_visit_email(visit, settings, now=self._clock())
        await send_email(message, settings, recipients="the visitor's address")
