"""Finding leads: one by number, its notes, the others from its chat, and filtered lists."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from bot.db import Page, paginate
from bot.leads.models import Lead, LeadKind, LeadNote, LeadStatus

PAGE_SIZE = 50
_PHONE_SEARCH = re.compile(r"[\d\s().+-]+")


@dataclass(frozen=True)
class LeadFilters:
    """Which leads to list; unset fields do not filter. Dates are the clinic's calendar days."""

    status: LeadStatus | None = None
    kind: LeadKind | None = None
    received_from: date | None = None
    received_to: date | None = None
    search: str = ""

    @property
    def active(self) -> bool:
        return any((self.status, self.kind, self.received_from, self.received_to, self.search))


def get_lead(db: Session, lead_id: int) -> Lead | None:
    return db.get(Lead, lead_id)


def notes_for(db: Session, lead_id: int) -> list[LeadNote]:
    """The lead's notes and status changes, newest first."""
    return list(
        db.scalars(
            select(LeadNote).where(LeadNote.lead_id == lead_id).order_by(LeadNote.created_at.desc(), LeadNote.id.desc())
        )
    )


def leads_sharing_conversation(db: Session, lead: Lead) -> list[Lead]:
    """The other leads made in the same chat (a visitor may send several inquiries in one)."""
    return list(
        db.scalars(
            select(Lead)
            .where(Lead.conversation_id == lead.conversation_id, Lead.id != lead.id)
            .order_by(Lead.created_at, Lead.id)
        )
    )


def _where(filters: LeadFilters, clinic_tz: tzinfo) -> list:
    conditions = []
    if filters.status is not None:
        conditions.append(Lead.status == filters.status)
    if filters.kind is not None:
        conditions.append(Lead.kind == filters.kind)
    # Dates are the clinic's calendar days, whatever time zone the server runs in.
    if filters.received_from is not None:
        conditions.append(Lead.created_at >= datetime.combine(filters.received_from, time.min, clinic_tz))
    if filters.received_to is not None:
        end = datetime.combine(filters.received_to + timedelta(days=1), time.min, clinic_tz)
        conditions.append(Lead.created_at < end)
    if filters.search:
        text = filters.search
        matches = [
            Lead.name.icontains(text, autoescape=True),
            Lead.email.icontains(text, autoescape=True),
            Lead.phone.contains(text, autoescape=True),
        ]
        digits = "".join(char for char in text if char.isdigit())
        if len(digits) >= 3 and _PHONE_SEARCH.fullmatch(text):
            # Phones are stored as +18045550188: "(804) 555-0188" finds it by its digits.
            # Only a search that is all phone characters: "Maria 804" or "j123@x.com" is
            # not a phone number, and matching its digits would list strangers.
            matches.append(Lead.phone.contains(digits, autoescape=True))
        conditions.append(or_(*matches))
    return conditions


def _newest_first(filters: LeadFilters, clinic_tz: tzinfo) -> Select:
    return select(Lead).where(*_where(filters, clinic_tz)).order_by(Lead.created_at.desc(), Lead.id.desc())


def find_leads(
    db: Session, filters: LeadFilters, *, page: int, clinic_tz: tzinfo, size: int = PAGE_SIZE
) -> Page[Lead]:
    """One page of the leads `filters` select, newest first."""
    return paginate(db, _newest_first(filters, clinic_tz), page=page, size=size)


def filtered_leads(db: Session, filters: LeadFilters, *, clinic_tz: tzinfo) -> list[Lead]:
    """Every lead `filters` select, newest first (for an export)."""
    return list(db.scalars(_newest_first(filters, clinic_tz)))


def new_lead_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Lead).where(Lead.status == LeadStatus.new)) or 0
