"""Notices that tell clinic staff a new lead is waiting: by email and by webhook.

A notice carries the kind of inquiry, the lead number, a link to the staff page and
the time it arrived; never anything the visitor said.
"""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum

from bot.settings import Settings

LEAD_CREATED = "lead.created"


class DeliveryError(Exception):
    """A notice did not go out. `permanent` marks a refusal a retry soon will not fix.

    The message is short and holds no personal details: it is stored on the outbox row.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def staff_lead_url(settings: Settings, lead_id: int) -> str:
    return f"{settings.public_url.rstrip('/')}/staff/leads/{lead_id}"


def build_notice_payload(lead_id: int, kind: Enum | str, created_at: datetime, settings: Settings) -> dict:
    """What every channel says about a new lead."""
    return {
        "event": LEAD_CREATED,
        "lead_id": lead_id,
        "kind": kind.value if isinstance(kind, Enum) else str(kind),
        "url": staff_lead_url(settings, lead_id),
        "created_at": created_at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
    }
