"""The schedule's tables: what staff set (visit types, weekly hours, exceptions, capacity, the
calendar feed), the feed's busy times, and the bookings with the seats they claim.

Times of day and days (`WeeklyHours`, `ScheduleException`) are local to the clinic
(`settings.clinic_timezone`); every timestamp is UTC (`UTCDateTime`).

Capacity is enforced by the database: a booking that holds a time claims one seat in every
15-minute cell it covers (`BookingSeat`), seats are numbered 0..capacity-1, and
UNIQUE(cell_starts, seat) lets no two bookings sit in the same seat of a cell. Seats are
deleted when a booking stops holding its time (released, declined, lapsed).
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import Enum

from sqlalchemy import (
    Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, Time, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime, enum_type, utcnow

# Every booking covers whole 15-minute cells of UTC time (quarter hours in every time zone in use).
CELL_MINUTES = 15
SINGLE_ROW_ID = 1


class VisitType(Base):
    """A kind of visit staff offer, e.g. "Free consultation", 30 minutes."""

    __tablename__ = "visit_types"
    __table_args__ = (
        CheckConstraint("minutes >= 15 AND minutes <= 480 AND minutes % 15 = 0", name="ck_visit_types_minutes"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    minutes: Mapped[int] = mapped_column(Integer)
    # The order staff and visitors see them in, smallest first.
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The chat offers the first active visit type (by position) with this set.
    offered_in_chat: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __repr__(self) -> str:
        return f"<VisitType #{self.id} {self.name!r} {self.minutes} min>"


class WeeklyHours(Base):
    """Bookable hours on one weekday (0 = Monday .. 6 = Sunday), local time; a day may have several."""

    __tablename__ = "weekly_hours"
    __table_args__ = (
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="ck_weekly_hours_weekday"),
        CheckConstraint("ends > starts", name="ck_weekly_hours_ends_after_starts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    weekday: Mapped[int] = mapped_column(Integer)
    starts: Mapped[time] = mapped_column(Time)
    ends: Mapped[time] = mapped_column(Time)


class ScheduleException(Base):
    """One local day that differs: closed all day (`closed`), or extra bookable hours `starts`-`ends`."""

    __tablename__ = "schedule_exceptions"
    __table_args__ = (
        CheckConstraint(
            "closed OR (starts IS NOT NULL AND ends IS NOT NULL AND ends > starts)",
            name="ck_schedule_exceptions_hours",
        ),
        Index("ix_schedule_exceptions_day", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    starts: Mapped[time | None] = mapped_column(Time)
    ends: Mapped[time | None] = mapped_column(Time)
    note: Mapped[str] = mapped_column(String(200), default="")


class ScheduleSettings(Base):
    """The schedule's single row (id 1): capacity, the clinic calendar's feed, the visits feed's secret."""

    __tablename__ = "schedule_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="ck_schedule_settings_single_row"),
        CheckConstraint("capacity >= 1", name="ck_schedule_settings_capacity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False, default=SINGLE_ROW_ID)
    # How many visitors can be seen at the same time.
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    # The clinic calendar's secret iCalendar address (Google's or Outlook's); a secret: never logged.
    calendar_feed_url: Mapped[str | None] = mapped_column(Text)
    # The secret in the address of the confirmed visits' own feed (bot.schedule.calendar).
    visits_feed_token: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class CalendarFeedState(Base):
    """The single row (id 1) saying how the clinic calendar's feed fares, for the staff page."""

    __tablename__ = "calendar_feed_state"
    __table_args__ = (CheckConstraint("id = 1", name="ck_calendar_feed_state_single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False, default=SINGLE_ROW_ID)
    # The last copy that was fetched and read without an error, as fetched.
    last_good_ics: Mapped[str | None] = mapped_column(Text)
    last_good_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_tried_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Cleared by the next good refresh; never holds the feed's address.
    last_error: Mapped[str | None] = mapped_column(String(300))
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BusyTime(Base):
    """A stretch the clinic's calendar is busy (events merged), for the next 12 weeks; replaced per refresh."""

    __tablename__ = "busy_times"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    starts: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends: Mapped[datetime] = mapped_column(UTCDateTime())


class BookingStatus(str, Enum):
    """held (a visitor picked it, inquiry under way) -> requested (on a lead) -> confirmed or declined;
    proposed: staff offered another time; released: the visitor let it go; lapsed: nobody acted in time.

    held, requested, proposed and confirmed hold their time (they have seats); the others do not.
    """

    held = "held"
    requested = "requested"
    proposed = "proposed"
    confirmed = "confirmed"
    declined = "declined"
    released = "released"
    lapsed = "lapsed"

    def __str__(self) -> str:
        return self.value


HOLDING_STATUSES = (BookingStatus.held, BookingStatus.requested, BookingStatus.proposed, BookingStatus.confirmed)
EXPIRING_STATUSES = (BookingStatus.held, BookingStatus.requested, BookingStatus.proposed)


class Booking(Base):
    """A time a visitor picked (and what became of it): `starts`-`ends` UTC, for one visit type."""

    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("ends > starts", name="ck_bookings_ends_after_starts"),
        Index("ix_bookings_starts", "starts"),
        Index("ix_bookings_status_expires_at", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    starts: Mapped[datetime] = mapped_column(UTCDateTime())
    ends: Mapped[datetime] = mapped_column(UTCDateTime())
    visit_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("visit_types.id", ondelete="SET NULL", name="fk_bookings_visit_type")
    )
    # Kept as written, so the booking still names its visit if the visit type is renamed or removed.
    visit_name: Mapped[str] = mapped_column(String(100))
    status: Mapped[BookingStatus] = mapped_column(enum_type(BookingStatus, "booking_status"))
    conversation_id: Mapped[str] = mapped_column(String(255), index=True)
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE", name="fk_bookings_lead"), index=True
    )
    # When a held, requested or proposed time opens again if nobody acts; None once confirmed.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        # No conversation id or lead details: a repr can end up in a log line.
        return f"<Booking #{self.id} {self.status} {self.starts:%Y-%m-%d %H:%M}Z>"


class BookingSeat(Base):
    """One seat a holding booking occupies in one 15-minute cell; see the module docstring."""

    __tablename__ = "booking_seats"
    __table_args__ = (
        UniqueConstraint("cell_starts", "seat", name="uq_booking_seats_cell_seat"),
        CheckConstraint("seat >= 0", name="ck_booking_seats_seat"),
    )

    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE", name="fk_booking_seats_booking"), primary_key=True
    )
    cell_starts: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    seat: Mapped[int] = mapped_column(Integer)
