"""The weeks whose summary email was queued, so that each week's goes out once."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime


class WeeklySummarySent(Base):
    """One row per week (its Monday, clinic time) whose summary was queued in the outbox.

    The primary key is the guard: of several web apps, or one restarted, only the first
    insert for a week succeeds, in the transaction that queues the email.
    """

    __tablename__ = "insights_weekly_summaries"

    week_start: Mapped[date] = mapped_column(Date, primary_key=True)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # How many administrators it went to; 0 when none had an email address.
    recipients: Mapped[int] = mapped_column(Integer)
