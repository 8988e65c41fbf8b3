"""The staff notice by email, sent over SMTP with aiosmtplib."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiosmtplib

from bot.notify import STAFF_SUMMARY, DeliveryError
from bot.settings import Settings

log = logging.getLogger(__name__)

KIND_LABELS = {
    "cost": "cost inquiry",
    "availability": "availability inquiry",
    "appointment": "appointment inquiry",
    "callback": "call-back request",
}


def _clinic_zone(settings: Settings):
    try:
        return ZoneInfo(settings.clinic_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def _parse_time(raw: str) -> datetime:
    return datetime.fromisoformat(raw.replace("Z", "+00:00"))


def notice_subject(payload: Mapping) -> str:
    label = KIND_LABELS.get(payload["kind"], "inquiry")
    return f"New {label} #{payload['lead_id']}"


def build_notice_email(payload: Mapping, settings: Settings) -> EmailMessage:
    """The message staff receive: what kind of lead, its number, where to open it. Nothing more."""
    lead_id = payload["lead_id"]
    label = KIND_LABELS.get(payload["kind"], "inquiry")
    created_at = _parse_time(payload["created_at"])
    received = created_at.astimezone(_clinic_zone(settings))

    message = EmailMessage()
    message["Subject"] = notice_subject(payload)
    message["From"] = settings.mail_from
    message["To"] = ", ".join(settings.mail_to)
    message["Date"] = format_datetime(received)
    domain = settings.mail_from.rpartition("@")[2] or "localhost"
    # One id per lead: should a notice ever go out twice, mail clients show it once.
    message["Message-ID"] = f"<lead-{lead_id}.{int(created_at.timestamp())}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    requested = ""
    if payload.get("requested_time"):
        starts = _parse_time(payload["requested_time"]).astimezone(_clinic_zone(settings))
        requested = (f"Requested time: {starts.strftime('%A %d %B %Y, %H:%M %Z')} (held for the visitor: "
                     "confirm or decline it on the lead's page)\n")
    message.set_content(
        f"A new {label} came in through the {settings.clinic_name} website assistant.\n"
        "\n"
        f"Lead number: {lead_id}\n"
        f"Kind: {payload['kind']}\n"
        f"Received: {received.strftime('%A %d %B %Y, %H:%M %Z')}\n"
        f"{requested}"
        "\n"
        "Open it in the staff page (sign-in required):\n"
        f"{payload['url']}\n"
        "\n"
        "The visitor's details are kept in the staff page only; this email does not carry them.\n"
    )
    return message


async def send_email(message: EmailMessage, settings: Settings, *, recipients: str) -> dict:
    """Send `message` through `settings.smtp_host`; the addresses refused while others took it.

    Raises `DeliveryError` naming codes and kinds only (the server's text may quote an address):
    permanent for 5xx refusals, temporary for 4xx, timeouts and an unreachable server.
    `recipients` names the addressees in that message ("every recipient", "the visitor's address").
    """
    try:
        refused, _reply = await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            start_tls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = sorted({refusal.code for refusal in exc.recipients})
        raise DeliveryError(
            f"SMTP refused {recipients} ({', '.join(map(str, codes))})",
            permanent=all(code >= 500 for code in codes),
        ) from None
    except aiosmtplib.SMTPResponseException as exc:
        raise DeliveryError(f"SMTP {exc.code} ({type(exc).__name__})", permanent=exc.code >= 500) from None
    except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
        raise DeliveryError(f"SMTP server unreachable ({type(exc).__name__})") from None
    return refused


def build_summary_email(payload: Mapping, settings: Settings) -> EmailMessage:
    """A summary (`bot.notify.build_summary_payload`) as the email its recipients receive."""
    message = EmailMessage()
    message["Subject"] = payload["subject"]
    message["From"] = settings.mail_from
    message["To"] = ", ".join(payload["to"])
    message["Message-ID"] = payload["message_id"]
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(payload["text"])
    return message


def _about(payload: Mapping) -> str:
    """What a notice is about, for a log line: the lead's number, or the summary."""
    return f"lead #{payload['lead_id']}" if "lead_id" in payload else "the summary"


class EmailSender:
    """Sends a lead's notice to `settings.mail_to`, a summary to its own recipients, through `settings.smtp_host`."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def send(self, payload: Mapping) -> None:
        settings = self._settings
        if payload.get("event") == STAFF_SUMMARY:
            if not settings.smtp_host:
                raise DeliveryError("email is not configured (SMTP_HOST)", permanent=True)
            message = build_summary_email(payload, settings)
            recipients = list(payload["to"])
        else:
            if not settings.smtp_host or not settings.mail_to:
                raise DeliveryError("email notices are not configured (SMTP_HOST, MAIL_TO)", permanent=True)
            message = build_notice_email(payload, settings)
            recipients = list(settings.mail_to)
        refused = await send_email(message, settings, recipients="every recipient")
        if refused:
            log.warning(
                "Notice about %s reached %d of %d staff addresses; refused: %s",
                _about(payload),
                len(recipients) - len(refused),
                len(recipients),
                ", ".join(sorted(refused)),
            )
