"""The lead tables: each captured inquiry, and the notices about it waiting to go to staff."""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum

from sqlalchemy import (
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import (
    Enum as SAEnum,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db import Base


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timezone-aware timestamp, stored in UTC on every database.

    PostgreSQL keeps `timestamptz` natively; SQLite has no time zones, so the
    value is stored as naive UTC and handed back with UTC attached. Naive values
    are refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, not {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("timestamps must be timezone-aware (for example datetime.now(timezone.utc))")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class LeadKind(str, Enum):
    """What the visitor asked for; `callback` is a call-back accepted during a hand-off."""

    cost = "cost"
    availability = "availability"
    appointment = "appointment"
    callback = "callback"

    def __str__(self) -> str:
        return self.value


class LeadStatus(str, Enum):
    """Where staff are with a lead: new -> contacted -> scheduled -> closed, or not_a_fit."""

    new = "new"
    contacted = "contacted"
    scheduled = "scheduled"
    closed = "closed"
    not_a_fit = "not_a_fit"

    def __str__(self) -> str:
        return self.value


class OutboxChannel(str, Enum):
    email = "email"
    webhook = "webhook"

    def __str__(self) -> str:
        return self.value


def _enum_type(enum_class: type[Enum], name: str) -> SAEnum:
    # VARCHAR plus a CHECK constraint rather than a native PostgreSQL enum: the same
    # schema on both databases, and a new value is a plain constraint change.
    return SAEnum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


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
    kind: Mapped[LeadKind] = mapped_column(_enum_type(LeadKind, "lead_kind"))
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
        _enum_type(LeadStatus, "lead_status"), default=LeadStatus.new, server_default=LeadStatus.new.value
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    outbox_messages: Mapped[list["OutboxMessage"]] = relationship(
        back_populates="lead", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        # Only the number, kind and status: a repr can end up in a log line.
        return f"<Lead #{self.id} {self.kind} {self.status}>"


class OutboxMessage(Base):
    """A notice about a lead that must reach staff, kept until a channel accepted it.

    A worker claims a row by writing a fresh `lease_token` and `lease_expires_at`
    in one conditional UPDATE; only one claim can succeed while the lease runs,
    so several worker processes never send the same row at the same time.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("lead_id", "channel", name="uq_outbox_lead_channel"),
        Index("ix_outbox_due", "sent_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Deleting a lead on the person's request takes its notices with it.
    lead_id: Mapped[int] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE", name="fk_outbox_lead_id_leads"), index=True
    )
    channel: Mapped[OutboxChannel] = mapped_column(_enum_type(OutboxChannel, "outbox_channel"))
    # JSON with the event, lead number, kind, staff link and time; never what the visitor said.
    payload: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(200))
    lease_token: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lead: Mapped[Lead] = relationship(back_populates="outbox_messages")

    def __repr__(self) -> str:
        return f"<OutboxMessage #{self.id} lead #{self.lead_id} {self.channel} attempts={self.attempts}>"
