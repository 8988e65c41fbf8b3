"""The audit log: who viewed, changed, exported or deleted which lead, and when.

Entries name the staff account, the action and the lead number. `detail` is short and
written by this code (a status change, a count), never text a visitor typed, so a
lead deleted on the person's request leaves nothing personal behind here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from math import ceil

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.leads.models import utcnow
from bot.staff.models import AuditAction, AuditEntry, StaffAccount

AUDIT_PAGE_SIZE = 100


def record(
    db: Session,
    actor: StaffAccount | None,
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
        detail=detail[:500],
    )
    db.add(entry)
    return entry


def record_many(
    db: Session,
    actor: StaffAccount,
    action: AuditAction,
    lead_ids: list[int],
    *,
    detail: str = "",
    now: datetime | None = None,
) -> None:
    now = now or utcnow()
    db.add_all(
        AuditEntry(
            at=now, actor_id=actor.id, actor_login=actor.login, action=action.value, lead_id=lead_id, detail=detail
        )
        for lead_id in lead_ids
    )


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int
    pages: int


def entries(db: Session, *, lead_id: int | None = None, page: int = 1) -> AuditPage:
    """Newest first, optionally for one lead number."""
    query = select(AuditEntry)
    if lead_id is not None:
        query = query.where(AuditEntry.lead_id == lead_id)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, ceil(total / AUDIT_PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = db.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(AUDIT_PAGE_SIZE)
        .offset((page - 1) * AUDIT_PAGE_SIZE)
    )
    return AuditPage(entries=list(rows), total=total, page=page, pages=pages)
