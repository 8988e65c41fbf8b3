"""The lead inbox: filtering, paging, status changes, notes, CSV export and deletion."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from math import ceil

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from bot.leads.contact import format_phone
from bot.leads.models import Lead, LeadKind, LeadStatus, OutboxMessage
from bot.staff import audit, transcripts
from bot.staff.models import AuditAction, LeadNote, StaffAccount

PAGE_SIZE = 50
MAX_SEARCH = 100
MAX_NOTE = 4000
_PHONE_SEARCH = re.compile(r"[\d\s().+-]+")

STATUS_LABELS = {
    LeadStatus.new: "New",
    LeadStatus.contacted: "Contacted",
    LeadStatus.scheduled: "Scheduled",
    LeadStatus.closed: "Closed",
    LeadStatus.not_a_fit: "Not a fit",
}
KIND_LABELS = {
    LeadKind.cost: "Cost",
    LeadKind.availability: "Availability",
    LeadKind.appointment: "Appointment",
    LeadKind.callback: "Call-back",
}
# Forward through the work, or out as not a fit; a finished lead can be reopened.
NEXT_STATUSES: dict[LeadStatus, tuple[LeadStatus, ...]] = {
    LeadStatus.new: (LeadStatus.contacted, LeadStatus.scheduled, LeadStatus.closed, LeadStatus.not_a_fit),
    LeadStatus.contacted: (LeadStatus.scheduled, LeadStatus.closed, LeadStatus.not_a_fit),
    LeadStatus.scheduled: (LeadStatus.closed, LeadStatus.not_a_fit),
    LeadStatus.closed: (LeadStatus.contacted,),
    LeadStatus.not_a_fit: (LeadStatus.contacted,),
}


class InboxError(ValueError):
    """A change staff asked for that cannot be made; the message is fit to show."""


class StatusConflict(InboxError):
    """The lead's status changed since the page was loaded."""


@dataclass(frozen=True)
class LeadFilters:
    status: LeadStatus | None = None
    kind: LeadKind | None = None
    received_from: date | None = None
    received_to: date | None = None
    search: str = ""

    def as_params(self) -> dict[str, str]:
        """The filters as query parameters (only those set), for links and forms."""
        params = {
            "status": self.status.value if self.status else "",
            "kind": self.kind.value if self.kind else "",
            "from": self.received_from.isoformat() if self.received_from else "",
            "to": self.received_to.isoformat() if self.received_to else "",
            "q": self.search,
        }
        return {key: value for key, value in params.items() if value}

    @property
    def active(self) -> bool:
        return bool(self.as_params())


@dataclass
class ParsedFilters:
    filters: LeadFilters
    errors: list[str] = field(default_factory=list)


def _date(raw: str, label: str, errors: list[str]) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.append(f"The {label} date {raw!r} is not a date like 2025-03-31; it was left out.")
        return None


def parse_filters(params: Mapping[str, str]) -> ParsedFilters:
    """Filters from query parameters; what cannot be understood is left out with a message."""
    errors: list[str] = []
    status = kind = None
    raw_status = (params.get("status") or "").strip()
    if raw_status:
        try:
            status = LeadStatus(raw_status)
        except ValueError:
            errors.append(f"There is no status {raw_status!r}; showing every status.")
    raw_kind = (params.get("kind") or "").strip()
    if raw_kind:
        try:
            kind = LeadKind(raw_kind)
        except ValueError:
            errors.append(f"There is no inquiry kind {raw_kind!r}; showing every kind.")
    received_from = _date(params.get("from") or "", "from", errors)
    received_to = _date(params.get("to") or "", "to", errors)
    if received_from and received_to and received_from > received_to:
        errors.append("The 'from' date is after the 'to' date; the dates were left out.")
        received_from = received_to = None
    search = " ".join((params.get("q") or "").split())
    if len(search) > MAX_SEARCH:
        errors.append(f"The search was cut to its first {MAX_SEARCH} characters.")
        search = search[:MAX_SEARCH]
    return ParsedFilters(LeadFilters(status, kind, received_from, received_to, search), errors)


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


@dataclass(frozen=True)
class InboxPage:
    leads: list[Lead]
    total: int
    page: int
    pages: int
    new_count: int


def new_lead_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Lead).where(Lead.status == LeadStatus.new)) or 0


def inbox_page(db: Session, filters: LeadFilters, *, page: int, clinic_tz: tzinfo) -> InboxPage:
    conditions = _where(filters, clinic_tz)
    total = db.scalar(select(func.count()).select_from(Lead).where(*conditions)) or 0
    pages = max(1, ceil(total / PAGE_SIZE))
    page = min(max(1, page), pages)
    leads = db.scalars(
        select(Lead)
        .where(*conditions)
        .order_by(Lead.created_at.desc(), Lead.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    return InboxPage(list(leads), total, page, pages, new_lead_count(db))


def filtered_leads(db: Session, filters: LeadFilters, *, clinic_tz: tzinfo) -> list[Lead]:
    return list(
        db.scalars(select(Lead).where(*_where(filters, clinic_tz)).order_by(Lead.created_at.desc(), Lead.id.desc()))
    )


def get_lead(db: Session, lead_id: int) -> Lead | None:
    return db.get(Lead, lead_id)


def notes_for(db: Session, lead_id: int) -> list[LeadNote]:
    return list(
        db.scalars(
            select(LeadNote).where(LeadNote.lead_id == lead_id).order_by(LeadNote.created_at.desc(), LeadNote.id.desc())
        )
    )


def _require_lead(db: Session, lead_id: int) -> Lead:
    lead = db.get(Lead, lead_id)
    if lead is None:
        raise InboxError(f"Lead #{lead_id} does not exist (it may have been deleted).")
    return lead


def _clean_note(body: str) -> str:
    body = (body or "").strip()
    if len(body) > MAX_NOTE:
        raise InboxError(f"The note is too long: at most {MAX_NOTE} characters.")
    return body


def change_status(
    db: Session,
    lead_id: int,
    new_status: str,
    *,
    expected_status: str,
    actor: StaffAccount,
    note: str,
    now: datetime,
) -> Lead:
    """Move a lead on, with an optional note; refuses moves the workflow does not have."""
    lead = _require_lead(db, lead_id)
    try:
        target = LeadStatus(new_status)
    except ValueError:
        raise InboxError("Choose the new status from the list.") from None
    body = _clean_note(note)
    current = LeadStatus(lead.status)
    if expected_status and expected_status != current.value:
        raise StatusConflict(
            f"Someone else changed this lead to {STATUS_LABELS[current]!r} meanwhile; nothing was changed. "
            "Check the page and try again."
        )
    if target not in NEXT_STATUSES[current]:
        raise InboxError(f"A lead that is {STATUS_LABELS[current]!r} cannot move to {STATUS_LABELS[target]!r}.")
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


def add_note(db: Session, lead_id: int, body: str, *, actor: StaffAccount, now: datetime) -> LeadNote:
    lead = _require_lead(db, lead_id)
    text = _clean_note(body)
    if not text:
        raise InboxError("The note is empty; write something to add it.")
    note = LeadNote(lead_id=lead.id, author_id=actor.id, author_login=actor.login, body=text, created_at=now)
    db.add(note)
    lead.updated_at = now
    audit.record(db, actor, AuditAction.note_added, lead_id=lead.id, now=now)
    return note


def leads_sharing_conversation(db: Session, lead: Lead) -> list[Lead]:
    """The other leads made in the same chat (a visitor may send several inquiries in one)."""
    return list(
        db.scalars(
            select(Lead)
            .where(Lead.conversation_id == lead.conversation_id, Lead.id != lead.id)
            .order_by(Lead.created_at, Lead.id)
        )
    )


@dataclass(frozen=True)
class DeletedLead:
    lead_id: int
    # Leads from the same chat: kept, but their conversation is gone with this one.
    sharing_conversation: list[int]


def delete_lead(db: Session, lead_id: int, *, actor: StaffAccount, now: datetime) -> DeletedLead | None:
    """Remove the lead, its notes, its queued notices and its conversation, on the person's request.

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
    db.execute(delete(OutboxMessage).where(OutboxMessage.lead_id == lead_id))
    db.execute(delete(Lead).where(Lead.id == lead_id))
    transcripts.delete_conversation(db, conversation_id)
    audit.record(db, actor, AuditAction.deleted, lead_id=lead_id, detail="on the person's request", now=now)
    return DeletedLead(lead_id, sharing)


CSV_COLUMNS = (
    "Lead number",
    "Received",
    "Kind",
    "Status",
    "Name",
    "Phone",
    "Email",
    "Area of concern",
    "Preferred times",
    "Insurance",
    "Consent wording",
    "Consented at",
    "Last updated",
)
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _local(moment: datetime | None, clinic_tz: tzinfo) -> str:
    return moment.astimezone(clinic_tz).isoformat(timespec="minutes") if moment else ""


def leads_csv(leads: list[Lead], *, clinic_tz: tzinfo) -> str:
    """The leads as CSV, one row each, times in the clinic's time zone."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for lead in leads:
        row = [
            lead.id,
            _local(lead.created_at, clinic_tz),
            KIND_LABELS.get(LeadKind(lead.kind), str(lead.kind)),
            STATUS_LABELS.get(LeadStatus(lead.status), str(lead.status)),
            lead.name,
            format_phone(lead.phone) if lead.phone else "",
            lead.email or "",
            lead.area_of_concern or "",
            lead.preferred_times or "",
            lead.insurance or "",
            lead.consent_text or "",
            _local(lead.consented_at, clinic_tz),
            _local(lead.updated_at, clinic_tz),
        ]
        writer.writerow([spreadsheet_safe(value) for value in row])
    return buffer.getvalue()
