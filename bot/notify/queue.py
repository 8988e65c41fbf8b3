"""Queueing the notices of a new lead, in the transaction that saves it."""

from __future__ import annotations

import json
from datetime import datetime
from enum import Enum

from sqlalchemy.orm import Session

from bot.notify import build_notice_payload
from bot.notify.models import OutboxChannel, OutboxMessage
from bot.settings import Settings


def notice_channels(settings: Settings) -> list[OutboxChannel]:
    """The channels a new lead is announced on: email with a server and recipients, a webhook when set."""
    channels = []
    if settings.smtp_host and settings.mail_to:
        channels.append(OutboxChannel.email)
    if settings.webhook_url:
        channels.append(OutboxChannel.webhook)
    return channels


def queue_lead_notices(
    db: Session, *, lead_id: int, kind: Enum | str, url: str, created_at: datetime, settings: Settings,
    requested_time: datetime | None = None,
) -> None:
    """Add one outbox row per configured channel; the caller's commit saves them with the lead.

    `requested_time`: the start of the time the visitor picked in the chat, when they picked one.
    """
    payload = json.dumps(build_notice_payload(lead_id, kind, created_at, url, requested_time))
    for channel in notice_channels(settings):
        db.add(
            OutboxMessage(
                lead_id=lead_id,
                channel=channel,
                payload=payload,
                attempts=0,
                next_attempt_at=created_at,
                created_at=created_at,
            )
        )
