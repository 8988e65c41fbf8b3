"""A picked time's life: held for the visitor during the inquiry, requested on the lead, then
confirmed, declined or moved by staff; held, requested and proposed times lapse when nobody acts.

    held --attach_to_lead--> requested --confirm--> confirmed
      |                          |  \\--decline--> declined
      |                          \\--propose--> declined + a new booking, proposed --confirm--> ...
      +--release_held / hold of another time--> released
    held, requested, proposed --past expires_at (lapse_expired)--> lapsed

Every booking that holds its time has a seat in each of its 15-minute cells, so no time is ever
held beyond capacity, whatever runs at once (bot/schedule/seats.py). Changes of status are
conditional updates (`... WHERE status IN (...)`), so two processes acting on one booking cannot
both win. Functions taking a `session` work inside the caller's transaction and do not commit.
Log lines name bookings by number only.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.db import utcnow
from bot.schedule import openings, rules, seats
from bot.schedule.hours import aware_utc
from bot.schedule.models import EXPIRING_STATUSES, HOLDING_STATUSES, Booking, BookingStatus
from bot.schedule.rules import Visit
from bot.settings import Settings

log = logging.getLogger(__name__)


class BookingError(ValueError):
    """A booking cannot be changed as asked; the message says why."""


class BookingStateError(BookingError):
    """The booking is missing or not in a status this change starts from."""


class SlotTakenError(BookingError):
    """The time has no free seat (capacity reached)."""


class Hold(NamedTuple):
    """A time held for a conversation: the booking's number, aware UTC start and end, the visit's name."""

    booking_id: int
    starts: datetime
    ends: datetime
    visit_name: str


def _hold_of(booking: Booking) -> Hold:
    return Hold(booking.id, booking.starts, booking.ends, booking.visit_name)


def _set_status(session: Session, booking: Booking, allowed: Collection[BookingStatus], **values) -> bool:
    """Move `booking` to new values if its status is still one of `allowed`; False if it changed meanwhile."""
    result = session.execute(
        update(Booking).where(Booking.id == booking.id, Booking.status.in_(list(allowed))).values(**values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(booking)
    return result.rowcount == 1


def _release_held(session: Session, conversation_id: str, now: datetime, keep: int | None = None) -> int:
    query = update(Booking).where(Booking.conversation_id == conversation_id, Booking.status == BookingStatus.held)
    if keep is not None:
        query = query.where(Booking.id != keep)
    released = list(session.scalars(
        query.values(status=BookingStatus.released, expires_at=None, updated_at=now).returning(Booking.id)
        .execution_options(synchronize_session=False)
    ))
    seats.free(session, released)
    return len(released)


def hold(factory: sessionmaker, settings: Settings, *, starts: datetime, conversation_id: str, now: datetime,
         visit_type_id: int | None = None, minutes_held: int = 30) -> Hold | None:
    """Hold the opening at `starts` for the conversation for `minutes_held` minutes; commits.

    The conversation's other held time, if any, is released first (one held time per
    conversation), also when this one cannot be held; holding the time it already holds keeps
    it and gives it another `minutes_held`. None when `starts` is not (or no longer) an opening
    of the visit type (None: the chat's) or has no free seat. Naive datetimes raise ValueError.
    """
    starts, now = aware_utc(starts, "starts"), aware_utc(now, "now")
    if not conversation_id:
        raise ValueError("a conversation id is needed to hold a time")
    expires_at = now + timedelta(minutes=minutes_held)

    def attempt() -> Hold | None:
        with factory() as session:
            seats.lock_for_claim(session)
            visit = rules.resolve_visit(session, visit_type_id)
            usable = visit is not None and openings.is_opening(session, settings, visit, starts, now)
            same = None
            if usable:
                length = timedelta(minutes=visit.minutes)
                same = next((booking for booking in session.scalars(select(Booking).where(
                    Booking.conversation_id == conversation_id, Booking.status == BookingStatus.held))
                    if (booking.starts, booking.ends, booking.visit_type_id) == (starts, starts + length, visit.id)),
                    None)
            _release_held(session, conversation_id, now, keep=same.id if same else None)
            if same is not None:
                _set_status(session, same, [BookingStatus.held], expires_at=expires_at, updated_at=now)
                booking = same
            else:
                booking = _claim_new(session, visit, starts, conversation_id, BookingStatus.held, expires_at,
                                     now) if usable else None
            session.commit()
            return _hold_of(booking) if booking else None

    held = seats.retrying(attempt, "A hold")
    if held is None:
        log.info("A picked time could not be held (taken or no longer open)")
    else:
        log.info("Booking #%s held", held.booking_id)
    return held


def _claim_new(session: Session, visit: Visit, starts: datetime, conversation_id: str, status: BookingStatus,
               expires_at: datetime | None, now: datetime, *, lead_id: int | None = None,
               ends: datetime | None = None) -> Booking | None:
    """A new booking with its seats, or None (nothing written) when a cell is full; flushes."""
    ends = ends or starts + timedelta(minutes=visit.minutes)
    chosen = seats.assign(session, starts, ends, rules.capacity(session))
    if chosen is None:
        return None
    booking = Booking(starts=starts, ends=ends, visit_type_id=visit.id, visit_name=visit.name, status=status,
                      conversation_id=conversation_id, lead_id=lead_id, expires_at=expires_at,
                      created_at=now, updated_at=now)
    session.add(booking)
    session.flush()
    seats.take(session, booking.id, chosen)
    return booking


def release_held(factory: sessionmaker, *, conversation_id: str, now: datetime | None = None) -> int:
    """Let the conversation's held time (not yet on a lead) go: released, seats freed; commits; how many."""
    now = aware_utc(now, "now") if now is not None else utcnow()

    def attempt() -> int:
        with factory() as session:
            seats.lock_for_claim(session)
            count = _release_held(session, conversation_id, now)
            session.commit()
            return count

    return seats.retrying(attempt, "A release")


def _in_savepoint(session: Session, work, what: str):
    """`work(session)` in a savepoint of the caller's transaction, again after each conflict."""
    seats.lock_for_claim(session)

    def attempt():
        with session.begin_nested():
            return work()

    return seats.retrying(attempt, what)


def _visit_of(booking: Booking) -> Visit:
    return Visit(booking.visit_type_id, booking.visit_name, int((booking.ends - booking.starts).total_seconds() // 60))


def attach_to_lead(session: Session, settings: Settings, *, booking_id: int, conversation_id: str, lead_id: int,
                   now: datetime) -> Booking | None:
    """Make the conversation's held time a request on the lead, inside the caller's transaction.

    held -> requested, `lead_id` set, expiring HOLD_HOURS after `now` (or when the visit starts, if sooner). A hold that lapsed
    meanwhile takes its time again if it is still an opening with a free seat. Attaching again
    to the same lead returns the booking as it is. None (nothing changed) when the booking is
    unknown, of another conversation or lead, released or declined, or its time is gone.
    """
    now = aware_utc(now, "now")
    expires_at = now + timedelta(hours=settings.hold_hours)

    def work() -> Booking | None:
        booking = session.get(Booking, booking_id, populate_existing=True)
        if booking is None or booking.conversation_id != conversation_id:
            return None
        if booking.lead_id is not None:
            return booking if booking.lead_id == lead_id and booking.status in HOLDING_STATUSES else None
        if booking.status == BookingStatus.held and _set_status(
            session, booking, [BookingStatus.held], status=BookingStatus.requested, lead_id=lead_id,
            expires_at=min(expires_at, booking.starts), updated_at=now,
        ):
            return booking
        if booking.status != BookingStatus.lapsed:
            return None
        visit = _visit_of(booking)
        if not openings.fits_schedule(session, settings, visit, booking.starts, booking.ends, now):
            return None
        chosen = seats.assign(session, booking.starts, booking.ends, rules.capacity(session))
        if chosen is None:
            return None
        seats.take(session, booking.id, chosen)
        if not _set_status(session, booking, [BookingStatus.lapsed], status=BookingStatus.requested,
                           lead_id=lead_id, expires_at=min(expires_at, booking.starts), updated_at=now):
            raise BookingStateError("the booking changed while it was being attached")
        return booking

    attached = _in_savepoint(session, work, "Attaching a booking")
    if attached is None:
        log.info("The picked time could not be kept for lead #%s", lead_id)
    else:
        log.info("Booking #%s requested on lead #%s", attached.id, lead_id)
    return attached


def _get(session: Session, booking_id: int) -> Booking:
    booking = session.get(Booking, booking_id, populate_existing=True)
    if booking is None:
        raise BookingStateError(f"There is no booking #{booking_id}.")
    return booking


def confirm(session: Session, *, booking_id: int, now: datetime) -> Booking:
    """requested or proposed -> confirmed (it no longer expires); confirming again changes nothing.

    Raises BookingStateError for an unknown booking or any other status.
    """
    now = aware_utc(now, "now")
    booking = _get(session, booking_id)
    if booking.status == BookingStatus.confirmed:
        return booking
    allowed = [BookingStatus.requested, BookingStatus.proposed]
    if booking.status not in allowed or not _set_status(
        session, booking, allowed, status=BookingStatus.confirmed, expires_at=None, updated_at=now
    ):
        raise BookingStateError(f"Booking #{booking_id} is {booking.status.value}; only a requested or proposed "
                                "time can be confirmed.")
    log.info("Booking #%s confirmed", booking_id)
    return booking


def decline(session: Session, *, booking_id: int, now: datetime) -> Booking:
    """held, requested, proposed, confirmed or lapsed -> declined, its seats freed; declining again changes nothing.

    Raises BookingStateError for an unknown or released booking.
    """
    now = aware_utc(now, "now")
    booking = _get(session, booking_id)
    if booking.status == BookingStatus.declined:
        return booking
    allowed = [*HOLDING_STATUSES, BookingStatus.lapsed]
    if booking.status not in allowed or not _set_status(
        session, booking, allowed, status=BookingStatus.declined, expires_at=None, updated_at=now
    ):
        raise BookingStateError(f"Booking #{booking_id} is {booking.status.value} and cannot be declined.")
    seats.free(session, [booking.id])
    log.info("Booking #%s declined", booking_id)
    return booking


def propose(session: Session, settings: Settings, *, booking_id: int, starts: datetime, now: datetime) -> Booking:
    """Staff offer the lead another time: a new booking, proposed, of the same visit and length,
    expiring HOLD_HOURS after `now`; the old one is declined (its seats freed) unless it lapsed or
    was declined already. Staff may propose outside the schedule and busy times; capacity still holds.

    Raises BookingStateError when the booking is unknown, on no lead, or released, or `starts`
    is not after `now`; SlotTakenError when the new time has no free seat (nothing changes then).
    """
    starts, now = aware_utc(starts, "starts"), aware_utc(now, "now")
    if starts <= now:
        raise BookingStateError("A proposed time must be in the future.")

    def work() -> Booking:
        old = _get(session, booking_id)
        if old.lead_id is None or old.status in (BookingStatus.held, BookingStatus.released):
            raise BookingStateError(f"Booking #{booking_id} is not a request on a lead; nothing to propose for.")
        if old.status in HOLDING_STATUSES:
            seats.free(session, [old.id])
            if not _set_status(session, old, HOLDING_STATUSES, status=BookingStatus.declined, expires_at=None,
                               updated_at=now):
                raise BookingStateError(f"Booking #{booking_id} changed meanwhile; try again.")
        new = _claim_new(session, _visit_of(old), starts, old.conversation_id, BookingStatus.proposed,
                         min(now + timedelta(hours=settings.hold_hours), starts), now, lead_id=old.lead_id,
                         ends=starts + (old.ends - old.starts))
        if new is None:
            raise SlotTakenError("That time has no free place left; choose another.")
        return new

    proposed = _in_savepoint(session, work, "A proposal")
    log.info("Booking #%s proposed in place of #%s", proposed.id, booking_id)
    return proposed


def lapse_expired(factory: sessionmaker, *, now: datetime) -> int:
    """held, requested and proposed bookings past `expires_at` -> lapsed, seats freed; commits; how many."""
    now = aware_utc(now, "now")
    due = (Booking.status.in_(list(EXPIRING_STATUSES)), Booking.expires_at <= now)
    with factory() as session:
        if session.scalar(select(Booking.id).where(*due).limit(1)) is None:
            return 0

    def attempt() -> int:
        with factory() as session:
            seats.lock_for_claim(session)
            lapsed = list(session.scalars(
                update(Booking).where(*due).values(status=BookingStatus.lapsed, updated_at=now)
                .returning(Booking.id).execution_options(synchronize_session=False)
            ))
            seats.free(session, lapsed)
            session.commit()
            return len(lapsed)

    count = seats.retrying(attempt, "Lapsing")
    if count:
        log.info("%d held or requested time(s) lapsed and opened again", count)
    return count


def bookings_between(session: Session, *, starts: datetime, ends: datetime) -> list[Booking]:
    """Bookings sharing time with `starts`-`ends`, every status but released, by start (staff week view)."""
    starts, ends = aware_utc(starts, "starts"), aware_utc(ends, "ends")
    return list(session.scalars(
        select(Booking).where(Booking.starts < ends, Booking.ends > starts, Booking.status != BookingStatus.released)
        .order_by(Booking.starts, Booking.id)
    ))


def booking_for_lead(session: Session, lead_id: int) -> Booking | None:
    """The lead's current booking: its newest one that was not released."""
    return session.scalar(
        select(Booking).where(Booking.lead_id == lead_id, Booking.status != BookingStatus.released)
        .order_by(Booking.created_at.desc(), Booking.id.desc()).limit(1)
    )


def held_for_conversation(session: Session, conversation_id: str) -> Booking | None:
    """The conversation's held time (not yet on a lead), if any."""
    return session.scalar(
        select(Booking).where(Booking.conversation_id == conversation_id, Booking.status == BookingStatus.held)
        .order_by(Booking.id.desc()).limit(1)
    )
