"""Deleting a lead on the person's request: its details, notes, notices and conversation."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot import audit
from bot.audit import Actor, AuditAction
from bot.conversation_log import delete_conversation
from bot.leads.models import Lead, LeadNote
from bot.leads.queries import leads_sharing_conversation

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeletedLead:
    lead_id: int
    # Leads from the same chat: kept, but their conversation is gone with this one.
    sharing_conversation: list[int]


def delete_lead(db: Session, lead_id: int, *, actor: Actor, now: datetime) -> DeletedLead | None:
    """Remove the lead, its notes, its queued notices and its conversation; None when there is no such lead.

    The conversation goes even when another lead came from the same chat: it holds what
    the person typed, which is what they asked to have removed. The other leads keep their
    details and notes; the confirmation page names them first.
    The audit log keeps only that the lead number was deleted, by whom and when.
    """
    lead = db.get(Lead, lead_id)
    if lead is None:
        return None
    sharing = [other.id for other in leads_sharing_conversation(db, lead)]
    conversation_id = lead.conversation_id
    db.execute(delete(LeadNote).where(LeadNote.lead_id == lead_id))
    # Its queued notices go with it: their foreign key cascades.
    db.execute(delete(Lead).where(Lead.id == lead_id))
    delete_conversation(db, conversation_id)
    audit.record(db, actor, AuditAction.deleted, lead_id=lead_id, detail="on the person's request", now=now)
    log.info("Lead #%s deleted on the person's request", lead_id)
    return DeletedLead(lead_id, sharing)
