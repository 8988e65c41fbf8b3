"""Notices that tell clinic staff a new lead is waiting: by email and by webhook.

A notice carries the kind of inquiry, the lead number, a link to the staff page and
the time it arrived; never anything the visitor said. `queue_lead_notices` (in
`bot.notify.queue`) is how a new lead asks for them. A summary (`build_summary_payload`,
the weekly insights email) is a notice without a lead: a subject, a text and its recipients,
sent by email through the same outbox.
"""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum

LEAD_CREATED = "lead.created"
STAFF_SUMMARY = "staff.summary"


class DeliveryError(Exception):
    """A notice did not go out. `permanent` marks a refusal a retry soon will not fix.

    The message is short and holds no personal details: it is stored on the outbox row.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def build_notice_payload(
    lead_id: int, kind: Enum | str, created_at: datetime, url: str, requested_time: datetime | None = None
) -> dict:
    """What every channel says about a new lead; `url` is the lead's staff page.

    `requested_time` (UTC, as `...Z`, or null): the start of the time the visitor picked in the chat,
    held for them until staff confirm or decline it.
    """
    return {
        "event": LEAD_CREATED,
        "lead_id": lead_id,
        "kind": kind.value if isinstance(kind, Enum) else str(kind),
        "url": url,
        "created_at": _utc_text(created_at),
        "requested_time": _utc_text(requested_time) if requested_time else None,
    }


def build_summary_payload(subject: str, text: str, recipients: list[str], *, message_id: str) -> dict:
    """A summary email for `recipients`; the caller makes sure `text` holds no personal details.
    `message_id` ("<...@domain>") names it once, should it ever be delivered twice."""
    return {"event": STAFF_SUMMARY, "subject": subject, "text": text, "to": list(recipients), "message_id": message_id}
