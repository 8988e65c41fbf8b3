"""The audit log: who viewed, changed, exported or deleted which lead, who signed in, who changed
the schedule or a visit, and when.

Entries name the staff account, the action and the lead number. `detail` is short and
written by this code (a status change, a count), never text a visitor typed, so a
lead deleted on the person's request leaves nothing personal behind here.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Protocol

from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.db import Base, Page, UTCDateTime, paginate, utcnow

AUDIT_PAGE_SIZE = 100
MAX_DETAIL = 500


class Actor(Protocol):
    """Whoever did it: a staff account (`bot.staff.models.StaffAccount`)."""

    id: int
    login: str


class AuditAction(str, Enum):
    viewed = "viewed"
    status_changed = "status_changed"
    note_added = "note_added"
    exported = "exported"
    deleted = "deleted"
    signed_in = "signed_in"
    sign_in_failed = "sign_in_failed"
    account_locked = "account_locked"
    signed_out = "signed_out"
    password_changed = "password_changed"
    visit_confirmed = "visit_confirmed"
    visit_declined = "visit_declined"
    visit_proposed = "visit_proposed"
    schedule_changed = "schedule_changed"

    def __str__(self) -> str:
        return self.value

    @property
    def label(self) -> str:
        return AUDIT_LABELS[self]


AUDIT_LABELS = {
    AuditAction.viewed: "Viewed",
    AuditAction.status_changed: "Changed status",
    AuditAction.note_added: "Added a note",
    AuditAction.exported: "Exported",
    AuditAction.deleted: "Deleted",
    AuditAction.signed_in: "Signed in",
    AuditAction.sign_in_failed: "Failed sign-in",
    AuditAction.account_locked: "Sign-in locked",
    AuditAction.signed_out: "Signed out",
    AuditAction.password_changed: "Changed password",
    AuditAction.visit_confirmed: "Confirmed a visit",
    AuditAction.visit_declined: "Declined a visit",
    AuditAction.visit_proposed: "Proposed a time",
    AuditAction.schedule_changed: "Changed the schedule",
}


class AuditEntry(Base):
    """Who did what to which lead, and when. Never holds what a visitor said.

    `lead_id` is a plain number, not a foreign key: the entry outlives a deleted lead.
    """

    __tablename__ = "staff_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL", name="fk_staff_audit_actor")
    )
    actor_login: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(32))
    lead_id: Mapped[int | None] = mapped_column(Integer, index=True)
    detail: Mapped[str] = mapped_column(String(MAX_DETAIL), default="")

    @property
    def action_label(self) -> str:
        try:
            return AuditAction(self.action).label
        except ValueError:
            return self.action


def record(
    db: Session,
    actor: Actor | None,
    action: AuditAction,
    *,
    lead_id: int | None = None,
    detail: str = "",
    now: datetime | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        at=now or utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor_login=actor.login if actor is not None else "",
        action=action.value,
        lead_id=lead_id,
        detail=detail[:MAX_DETAIL],
    )
    db.add(entry)
    return entry


def record_many(
    db: Session,
    actor: Actor,
    action: AuditAction,
    lead_ids: list[int],
    *,
    detail: str = "",
    now: datetime | None = None,
) -> None:
    """One entry per lead number, all at the same moment (an export, a list of leads shown)."""
    now = now or utcnow()
    for lead_id in lead_ids:
        record(db, actor, action, lead_id=lead_id, detail=detail, now=now)


def entries(db: Session, *, lead_id: int | None = None, page: int = 1) -> Page[AuditEntry]:
    """Newest first, optionally for one lead number, AUDIT_PAGE_SIZE a page."""
    query = select(AuditEntry)
    if lead_id is not None:
        query = query.where(AuditEntry.lead_id == lead_id)
    query = query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    return paginate(db, query, page=page, size=AUDIT_PAGE_SIZE)
