"""The lead tables: each captured inquiry, and the notes staff write on it."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime, enum_type, utcnow


class LeadKind(str, Enum):
    """What the visitor asked for; `callback` is a call-back accepted during a hand-off."""

    cost = "cost"
    availability = "availability"
    appointment = "appointment"
    callback = "callback"

    def __str__(self) -> str:
        return self.value

    @property
    def label(self) -> str:
        """As the staff pages and the CSV export name it."""
        return KIND_LABELS[self]


class LeadStatus(str, Enum):
    """Where staff are with a lead: new -> contacted -> scheduled -> closed, or not_a_fit."""

    new = "new"
    contacted = "contacted"
    scheduled = "scheduled"
    closed = "closed"
    not_a_fit = "not_a_fit"

    def __str__(self) -> str:
        return self.value

    @property
    def label(self) -> str:
        """As the staff pages and the CSV export name it."""
        return STATUS_LABELS[self]


KIND_LABELS = {
    LeadKind.cost: "Cost",
    LeadKind.availability: "Availability",
    LeadKind.appointment: "Appointment",
    LeadKind.callback: "Call-back",
}
STATUS_LABELS = {
    LeadStatus.new: "New",
    LeadStatus.contacted: "Contacted",
    LeadStatus.scheduled: "Scheduled",
    LeadStatus.closed: "Closed",
    LeadStatus.not_a_fit: "Not a fit",
}


class Lead(Base):
    """One inquiry a visitor agreed to be contacted about; `id` is the lead number staff see."""

    __tablename__ = "leads"
    __table_args__ = (
        # A retried save of the same submission finds the first one instead of adding a twin.
        UniqueConstraint("conversation_id", "submission_key", name="uq_leads_conversation_submission"),
        Index("ix_leads_status_created_at", "status", "created_at"),
        Index("ix_leads_created_at", "created_at"),
        # SQLite otherwise hands a deleted lead's number to the next one, and a staff notice's
        # link to the old number would open someone else's lead.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[LeadKind] = mapped_column(enum_type(LeadKind, "lead_kind"))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(320))
    area_of_concern: Mapped[str] = mapped_column(Text, default="")
    preferred_times: Mapped[str] = mapped_column(Text, default="")
    insurance: Mapped[str | None] = mapped_column(Text)
    consent_text: Mapped[str] = mapped_column(Text)
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime())
    conversation_id: Mapped[str] = mapped_column(String(255), index=True)
    submission_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[LeadStatus] = mapped_column(
        enum_type(LeadStatus, "lead_status"), default=LeadStatus.new, server_default=LeadStatus.new.value
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        # Only the number, kind and status: a repr can end up in a log line.
        return f"<Lead #{self.id} {self.kind} {self.status}>"


class LeadNote(Base):
    """A note staff wrote on a lead, or a status change (with its optional note)."""

    __tablename__ = "lead_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_id: Mapped[int] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE", name="fk_lead_notes_lead"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL", name="fk_lead_notes_author")
    )
    # Kept as written so the note still names its author if the account is renamed or removed.
    author_login: Mapped[str] = mapped_column(String(320))
    body: Mapped[str] = mapped_column(Text, default="")
    status_from: Mapped[str | None] = mapped_column(String(20))
    status_to: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
