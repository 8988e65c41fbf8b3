"""What staff do with a lead: move it through its statuses and write notes on it.

Each change is noted on the lead and in the audit log, in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot import audit
from bot.audit import Actor, AuditAction
from bot.leads.models import Lead, LeadNote, LeadStatus

MAX_NOTE = 4000
# Forward through the work, or out as not a fit; a finished lead can be reopened.
NEXT_STATUSES: dict[LeadStatus, tuple[LeadStatus, ...]] = {
    LeadStatus.new: (LeadStatus.contacted, LeadStatus.scheduled, LeadStatus.closed, LeadStatus.not_a_fit),
    LeadStatus.contacted: (LeadStatus.scheduled, LeadStatus.closed, LeadStatus.not_a_fit),
    LeadStatus.scheduled: (LeadStatus.closed, LeadStatus.not_a_fit),
    LeadStatus.closed: (LeadStatus.contacted,),
    LeadStatus.not_a_fit: (LeadStatus.contacted,),
}


class LeadChangeError(ValueError):
    """A change staff asked for that cannot be made; the message is fit to show."""


class StatusConflict(LeadChangeError):
    """The lead's status changed since the page was loaded."""


def _require_lead(db: Session, lead_id: int) -> Lead:
    lead = db.get(Lead, lead_id)
    if lead is None:
        raise LeadChangeError(f"Lead #{lead_id} does not exist (it may have been deleted).")
    return lead


def _clean_note(body: str) -> str:
    body = (body or "").strip()
    if len(body) > MAX_NOTE:
        raise LeadChangeError(f"The note is too long: at most {MAX_NOTE} characters.")
    return body


def change_status(
    db: Session,
    lead_id: int,
    new_status: str,
    *,
    expected_status: str,
    actor: Actor,
    note: str,
    now: datetime,
) -> Lead:
    """Move a lead on, with an optional note; refuses moves the workflow does not have.

    `expected_status` is the status the page showed ("" to skip the check): when it no longer
    holds, `StatusConflict`. Other refusals are `LeadChangeError`.
    """
    lead = _require_lead(db, lead_id)
    try:
        target = LeadStatus(new_status)
    except ValueError:
        raise LeadChangeError("Choose the new status from the list.") from None
    body = _clean_note(note)
    current = LeadStatus(lead.status)
    if expected_status and expected_status != current.value:
        raise StatusConflict(
            f"Someone else changed this lead to {current.label!r} meanwhile; nothing was changed. "
            "Check the page and try again."
        )
    if target not in NEXT_STATUSES[current]:
        raise LeadChangeError(f"A lead that is {current.label!r} cannot move to {target.label!r}.")
    lead.status = target
    lead.updated_at = now
    db.add(
        LeadNote(
            lead_id=lead.id,
            author_id=actor.id,
            author_login=actor.login,
            body=body,
            status_from=current.value,
            status_to=target.value,
            created_at=now,
        )
    )
    audit.record(
        db, actor, AuditAction.status_changed, lead_id=lead.id, detail=f"{current.value} → {target.value}", now=now
    )
    return lead


def add_note(db: Session, lead_id: int, body: str, *, actor: Actor, now: datetime) -> LeadNote:
    """Add a note (at most MAX_NOTE characters) to the lead; an empty one is a `LeadChangeError`."""
    lead = _require_lead(db, lead_id)
    text = _clean_note(body)
    if not text:
        raise LeadChangeError("The note is empty; write something to add it.")
    note = LeadNote(lead_id=lead.id, author_id=actor.id, author_login=actor.login, body=text, created_at=now)
    db.add(note)
    lead.updated_at = now
    audit.record(db, actor, AuditAction.note_added, lead_id=lead.id, now=now)
    return note
