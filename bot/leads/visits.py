"""A lead's visit: staff confirm, decline or move the time the visitor picked in the chat.

Each change works in the caller's transaction, so the booking, the lead's status and note, the
audit entry and the visitor's confirmation email are saved together or not at all. Every refusal
is a `VisitChangeError` whose message is fit to show. Notes and audit entries name the time and
the booking's number, never anything the visitor typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from bot import audit
from bot.audit import Actor, AuditAction
from bot.leads import workflow
from bot.leads.models import Lead, LeadStatus
from bot.notify.visit_email import (
    VisitConfirmation,
    VisitEmailSender,
    queue_visit_confirmation,
    visit_emails_configured,
    visit_time_label,
)
from bot.schedule import bookings
from bot.schedule.calendar import short_name, visit_invitation_ics
from bot.schedule.models import Booking, BookingStatus
from bot.settings import Settings

# Why a visit can no longer be changed as the page showed it, by what became of it.
_GONE_MEANWHILE = {
    BookingStatus.confirmed: "This visit was confirmed meanwhile, perhaps by a colleague; nothing was changed.",
    BookingStatus.declined: "This time was declined meanwhile, perhaps by a colleague; nothing was changed.",
    BookingStatus.lapsed: "Nobody confirmed this time before its hold ran out, so it is open again and nothing "
                          "was changed. Propose a time instead.",
    BookingStatus.released: "The visitor let this time go; nothing was changed.",
}
_CHANGED = "This visit changed meanwhile (a colleague may have moved it); nothing was changed. Check the page."


class VisitChangeError(workflow.LeadChangeError):
    """A change to a lead's visit that cannot be made; the message is fit to show."""


@dataclass(frozen=True)
class VisitChange:
    """What a change did: the booking as it is now, the note written on the lead, and whether the
    visitor's confirmation email was queued."""

    booking: Booking
    note: str
    emailed: bool = False


def _current_visit(db: Session, lead_id: int, booking_id: int, expected_status: str) -> tuple[Lead, Booking]:
    """The lead and its current booking, as the page showed them; VisitChangeError otherwise."""
    lead = db.get(Lead, lead_id)
    if lead is None:
        raise VisitChangeError(f"Lead #{lead_id} does not exist (it may have been deleted).")
    booking = bookings.booking_for_lead(db, lead_id)
    if booking is None:
        raise VisitChangeError(f"Lead #{lead_id} has no requested time.")
    if booking.id != booking_id:
        raise VisitChangeError(_CHANGED)
    if expected_status and booking.status.value != expected_status:
        raise VisitChangeError(_GONE_MEANWHILE.get(booking.status, _CHANGED))
    return lead, booking


def _label(moment: datetime, settings: Settings) -> str:
    return visit_time_label(moment, ZoneInfo(settings.clinic_timezone))


def confirm_visit(
    db: Session, settings: Settings, *, lead_id: int, booking_id: int, expected_status: str, actor: Actor,
    now: datetime,
) -> VisitChange:
    """Confirm the lead's requested or proposed time; the lead moves to `scheduled` with the note
    "Visit confirmed for Tue Dec 8, 9:00 AM", and the visitor's confirmation email is queued when
    the lead has an email address and a mail server is set.

    A closed lead, or one that is not a fit, is refused: reopen it first.
    """
    lead, booking = _current_visit(db, lead_id, booking_id, expected_status)
    if booking.status not in (BookingStatus.requested, BookingStatus.proposed):
        raise VisitChangeError(_GONE_MEANWHILE.get(booking.status, _CHANGED))
    status = LeadStatus(lead.status)
    if status not in (LeadStatus.new, LeadStatus.contacted, LeadStatus.scheduled):
        raise VisitChangeError(f"This lead is {status.label!r}: move it back to 'Contacted' before confirming a visit.")
    try:
        bookings.confirm(db, booking_id=booking.id, now=now)
    except bookings.BookingStateError:
        raise VisitChangeError(_CHANGED) from None
    note = f"Visit confirmed for {_label(booking.starts, settings)}"
    if status == LeadStatus.scheduled:
        workflow.add_note(db, lead_id, note, actor=actor, now=now)
    else:
        workflow.change_status(
            db, lead_id, LeadStatus.scheduled.value, expected_status="", actor=actor, note=note, now=now
        )
    emailed = visit_emails_configured(settings) and bool(lead.email)
    if emailed:
        queue_visit_confirmation(db, lead_id=lead_id, booking_id=booking.id, now=now)
    audit.record(db, actor, AuditAction.visit_confirmed, lead_id=lead_id,
                 detail=f"booking #{booking.id}, {_label(booking.starts, settings)}", now=now)
    return VisitChange(booking, note, emailed)


def decline_visit(
    db: Session, settings: Settings, *, lead_id: int, booking_id: int, expected_status: str, actor: Actor,
    now: datetime,
) -> VisitChange:
    """Decline the lead's requested or proposed time: it opens again for others. Noted on the lead."""
    _lead, booking = _current_visit(db, lead_id, booking_id, expected_status)
    if booking.status not in (BookingStatus.requested, BookingStatus.proposed):
        raise VisitChangeError(_GONE_MEANWHILE.get(booking.status, _CHANGED))
    try:
        bookings.decline(db, booking_id=booking.id, now=now)
    except bookings.BookingStateError:
        raise VisitChangeError(_CHANGED) from None
    label = _label(booking.starts, settings)
    note = f"Requested time {label} declined; the time is open again."
    workflow.add_note(db, lead_id, note, actor=actor, now=now)
    audit.record(db, actor, AuditAction.visit_declined, lead_id=lead_id, detail=f"booking #{booking.id}, {label}",
                 now=now)
    return VisitChange(booking, note)


def propose_visit(
    db: Session, settings: Settings, *, lead_id: int, booking_id: int, expected_status: str, starts: datetime,
    actor: Actor, now: datetime,
) -> VisitChange:
    """Offer the lead another time (aware `starts`), held for it HOLD_HOURS; the time it had opens again.

    Refused when the time has no free place left (taken since the page was shown) or has passed.
    """
    _lead, old = _current_visit(db, lead_id, booking_id, expected_status)
    try:
        new = bookings.propose(db, settings, booking_id=old.id, starts=starts, now=now)
    except bookings.SlotTakenError:
        raise VisitChangeError(
            f"{_label(starts, settings)} was taken meanwhile; nothing was changed. Choose another time."
        ) from None
    except bookings.BookingStateError:
        if starts <= now:
            raise VisitChangeError("That time has passed; nothing was changed. Choose another time.") from None
        raise VisitChangeError(_CHANGED) from None
    label = _label(new.starts, settings)
    note = f"Proposed {label} instead of {_label(old.starts, settings)}"
    if new.expires_at is not None:
        note += f"; held for the visitor until {_label(new.expires_at, settings)}"
    workflow.add_note(db, lead_id, note + ".", actor=actor, now=now)
    audit.record(db, actor, AuditAction.visit_proposed, lead_id=lead_id,
                 detail=f"booking #{new.id} in place of #{old.id}, {label}", now=now)
    return VisitChange(new, note + ".")


def load_visit_confirmation(factory: sessionmaker, settings: Settings, booking_id: int) -> VisitConfirmation | None:
    """The confirmation to email for booking `booking_id`, read now; None when the booking or its
    lead is gone, the visit is no longer confirmed, or the lead has no email address."""
    with factory() as db:
        booking = db.get(Booking, booking_id)
        if booking is None or booking.status != BookingStatus.confirmed or booking.lead_id is None:
            return None
        lead = db.get(Lead, booking.lead_id)
        if lead is None or not lead.email:
            return None
        return VisitConfirmation(
            booking_id=booking.id,
            to=lead.email,
            first_name=short_name(lead.name).split(" ")[0],
            visit_name=booking.visit_name,
            starts=booking.starts,
            ends=booking.ends,
            ics=visit_invitation_ics(booking, settings),
        )


def visit_email_sender(factory: sessionmaker, settings: Settings) -> VisitEmailSender | None:
    """The outbox's sender of visit confirmations, reading visits from `factory`; None without SMTP_HOST."""
    if not visit_emails_configured(settings):
        return None
    return VisitEmailSender(settings, partial(load_visit_confirmation, factory, settings))
