"""The outbox: notices about new leads, kept until a channel accepted them."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime, enum_type, utcnow


class OutboxChannel(str, Enum):
    email = "email"
    webhook = "webhook"
    # The visitor's confirmation of a visit staff confirmed (bot.notify.visit_email).
    visit_email = "visit_email"

    def __str__(self) -> str:
        return self.value


class OutboxMessage(Base):
    """A notice that must reach staff, kept until a channel accepted it: about a new lead,
    or (without a lead) a summary such as the weekly insights email.

    A worker claims a row by writing a fresh `lease_token` and `lease_expires_at`
    in one conditional UPDATE; only one claim can succeed while the lease runs,
    so several worker processes never send the same row at the same time.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        # A lead's notices: one per channel. A visit confirmation: one per booking (a lead may
        # have several visits confirmed, one after another).
        Index(
            "uq_outbox_lead_channel", "lead_id", "channel", unique=True,
            sqlite_where=text("booking_id IS NULL"), postgresql_where=text("booking_id IS NULL"),
        ),
        UniqueConstraint("booking_id", name="uq_outbox_booking"),
        Index("ix_outbox_due", "sent_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Deleting a lead on the person's request takes its notices with it. None: a summary.
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE", name="fk_outbox_lead_id_leads"), index=True
    )
    channel: Mapped[OutboxChannel] = mapped_column(enum_type(OutboxChannel, "outbox_channel"))
    # JSON with the event, lead number, kind, staff link and time, or a summary's subject, text
    # and recipients; never what a visitor said.
    payload: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A visit confirmation's booking (`bookings.id`); the sender reads the visitor's details
    # when it sends. A plain number: the row goes with its lead, and the booking with it.
    booking_id: Mapped[int | None] = mapped_column(Integer)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(200))
    lease_token: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        about = f"lead #{self.lead_id}" if self.lead_id is not None else "summary"
        return f"<OutboxMessage #{self.id} {about} {self.channel} attempts={self.attempts}>"
