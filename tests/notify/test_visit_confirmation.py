"""The visitor's confirmation email: queued with the confirmation, sent through the outbox with its
retries to the real local SMTP server, with the visit as an .ics file and no health details; and
nothing sent for a lead deleted, or a visit declined, before it went out."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import select

from bot.audit import AuditEntry
from bot.leads.deletion import delete_lead
from bot.leads.visits import VisitChange, confirm_visit, load_visit_confirmation, propose_visit, visit_email_sender
from bot.notify.models import OutboxChannel, OutboxMessage
from bot.notify.visit_email import VisitConfirmation, build_visit_email
from bot.schedule.bookings import attach_to_lead, decline, hold
from bot.schedule.openings import find_openings
from bot.settings import Settings
from tests.leads.factories import PERSONAL_FRAGMENTS, VISITOR, a_new_lead, outbox_rows

# As the lead store keeps it: the domain in lower case.
VISITOR_ADDRESS = "Maria.Lopez@example.com"
# What the email may not carry: contact details other than the address it goes to, health, insurance.
NOT_IN_THE_EMAIL = [fragment for fragment in PERSONAL_FRAGMENTS if fragment.lower() not in ("maria", "maria.lopez", "lopez")]


@dataclass(frozen=True)
class FrontDesk:
    id: int | None = None
    login: str = "frontdesk@clinic.example"


def _requested_visit(store, session_factory, settings: Settings, clock, **lead_changes) -> tuple[int, int]:
    """A lead whose chat picked the first opening: (lead id, booking id)."""
    lead_id = store.add(a_new_lead(**lead_changes))
    first = find_openings(session_factory, settings, now=clock.now)[0]
    held = hold(session_factory, settings, starts=first.starts, conversation_id="conversation-1", now=clock.now)
    with session_factory() as db:
        attach_to_lead(db, settings, booking_id=held.booking_id, conversation_id="conversation-1", lead_id=lead_id,
                       now=clock.now)
        db.commit()
    return lead_id, held.booking_id


def _confirm(session_factory, settings: Settings, clock, lead_id: int, booking_id: int) -> VisitChange:
    with session_factory() as db:
        change = confirm_visit(db, settings, lead_id=lead_id, booking_id=booking_id, expected_status="requested",
                               actor=FrontDesk(), now=clock.now)
        db.commit()
        return change


def _visit_mails(smtp_server) -> list:
    return [mail for mail in smtp_server.received if mail.rcpt_tos == (VISITOR_ADDRESS,)]


@pytest.fixture
def visit_worker(make_worker, session_factory, settings):
    return make_worker(visit_email_sender=visit_email_sender(session_factory, settings))


async def test_the_visitor_gets_the_time_and_an_ics_file_and_no_health_details(
    store, session_factory, settings, clock, smtp_server, visit_worker
) -> None:
    lead_id, booking_id = _requested_visit(store, session_factory, settings, clock)
    change = _confirm(session_factory, settings, clock, lead_id, booking_id)
    assert change.emailed
    [row] = [row for row in outbox_rows(session_factory, lead_id) if row.channel == OutboxChannel.visit_email]
    # The row names the booking, never the visitor.
    assert row.booking_id == booking_id and json.loads(row.payload) == {"event": "visit.confirmed", "booking_id": booking_id}

    await visit_worker.deliver_due()

    [mail] = _visit_mails(smtp_server)
    message = mail.message
    assert mail.mail_from == "assistant@clinic.example" and message["From"] == "assistant@clinic.example"
    assert message["To"] == VISITOR_ADDRESS
    starts = change.booking.starts
    local = starts.astimezone(ZoneInfo(settings.clinic_timezone))
    label = f"{local:%a %b} {local.day}, {local.hour % 12 or 12}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"
    assert message["Subject"] == f"Your visit at Montross Physical Therapy: {label}"
    body = message.get_body(("plain",)).get_content()
    assert "Hello Maria," in body and "(804) 493-3256" in body and "To change or cancel it, please call us" in body
    assert f"{local:%A, %B} {local.day}, {local.year}" in body
    # The address it goes to aside, nothing about the visitor: no surname, phone, area, times asked, insurance.
    raw = message.as_string().replace(VISITOR_ADDRESS, "")
    assert "lopez" not in raw.lower()
    for fragment in NOT_IN_THE_EMAIL + [VISITOR["area_of_concern"], VISITOR["insurance"], VISITOR["preferred_times"]]:
        assert fragment.lower() not in raw.lower(), fragment

    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "PUBLISH" and attachment.get_filename() == "visit.ics"
    calendar = icalendar.Calendar.from_ical(attachment.get_content())
    [event] = calendar.walk("VEVENT")
    assert event.decoded("DTSTART").astimezone(timezone.utc) == starts.astimezone(timezone.utc)
    assert event.decoded("DTEND").astimezone(timezone.utc) == change.booking.ends.astimezone(timezone.utc)
    assert "Maria" not in calendar.to_ical().decode()

    [row] = [row for row in outbox_rows(session_factory, lead_id) if row.channel == OutboxChannel.visit_email]
    assert row.sent_at is not None and row.last_error is None
    # Sent once.
    assert await visit_worker.deliver_due() == 0
    assert len(_visit_mails(smtp_server)) == 1


async def test_a_mail_server_outage_is_retried_and_the_email_goes_out_once_it_is_back(
    store, session_factory, settings, clock, smtp_server, visit_worker
) -> None:
    lead_id, booking_id = _requested_visit(store, session_factory, settings, clock)
    _confirm(session_factory, settings, clock, lead_id, booking_id)
    smtp_server.stop()
    assert await visit_worker.deliver_due() == 0
    [row] = [row for row in outbox_rows(session_factory, lead_id) if row.channel == OutboxChannel.visit_email]
    assert row.sent_at is None and row.attempts == 1 and "unreachable" in row.last_error
    assert VISITOR_ADDRESS not in row.last_error
    smtp_server.start()
    clock.move_to(row.next_attempt_at)
    assert await visit_worker.deliver_due() >= 1
    assert len(_visit_mails(smtp_server)) == 1


async def test_a_lead_deleted_before_the_email_went_out_gets_nothing(
    store, session_factory, settings, clock, smtp_server, visit_worker
) -> None:
    lead_id, booking_id = _requested_visit(store, session_factory, settings, clock)
    _confirm(session_factory, settings, clock, lead_id, booking_id)
    sender = visit_email_sender(session_factory, settings)
    with session_factory() as db:
        delete_lead(db, lead_id, actor=FrontDesk(), now=clock.now)
        db.commit()
    # Its outbox rows went with it; a sender that had already claimed one reads nothing to send.
    assert outbox_rows(session_factory, lead_id) == []
    await sender.send({"event": "visit.confirmed", "booking_id": booking_id})
    await visit_worker.deliver_due()
    assert _visit_mails(smtp_server) == []


async def test_a_visit_declined_before_the_email_went_out_is_not_confirmed_to_the_visitor(
    store, session_factory, settings, clock, smtp_server, visit_worker
) -> None:
    lead_id, booking_id = _requested_visit(store, session_factory, settings, clock)
    _confirm(session_factory, settings, clock, lead_id, booking_id)
    with session_factory() as db:
        decline(db, booking_id=booking_id, now=clock.now)
        db.commit()
    assert load_visit_confirmation(session_factory, settings, booking_id) is None
    await visit_worker.deliver_due()
    assert _visit_mails(smtp_server) == []
    [row] = [row for row in outbox_rows(session_factory, lead_id) if row.channel == OutboxChannel.visit_email]
    assert row.sent_at is not None


async def test_without_smtp_or_an_email_address_nothing_is_queued(store, session_factory, settings, clock) -> None:
    no_smtp = dataclasses.replace(settings, smtp_host="")
    lead_id, booking_id = _requested_visit(store, session_factory, no_smtp, clock)
    assert not _confirm(session_factory, no_smtp, clock, lead_id, booking_id).emailed
    assert visit_email_sender(session_factory, no_smtp) is None
    with session_factory() as db:
        assert db.scalars(select(OutboxMessage).where(OutboxMessage.channel == OutboxChannel.visit_email)).all() == []
        assert db.scalar(select(AuditEntry.detail).where(AuditEntry.action == "visit_confirmed")).startswith(
            f"booking #{booking_id}, ")


async def test_a_lead_without_email_is_not_emailed(store, session_factory, settings, clock) -> None:
    lead_id, booking_id = _requested_visit(store, session_factory, settings, clock, email=None)
    assert not _confirm(session_factory, settings, clock, lead_id, booking_id).emailed
    assert [row.channel for row in outbox_rows(session_factory, lead_id)] == [OutboxChannel.email]


async def test_a_second_confirmed_visit_of_the_same_lead_gets_its_own_email(
    store, session_factory, settings, clock, smtp_server, visit_worker
) -> None:
    lead_id, booking_id = _requested_visit(store, session_factory, settings, clock)
    first = _confirm(session_factory, settings, clock, lead_id, booking_id)
    await visit_worker.deliver_due()
    later = find_openings(session_factory, settings, now=clock.now, limit=4)[-1].starts
    with session_factory() as db:
        moved = propose_visit(db, settings, lead_id=lead_id, booking_id=booking_id, expected_status="confirmed",
                              starts=later, actor=FrontDesk(), now=clock.now)
        db.commit()
    with session_factory() as db:
        confirm_visit(db, settings, lead_id=lead_id, booking_id=moved.booking.id, expected_status="proposed",
                      actor=FrontDesk(), now=clock.now)
        db.commit()
    await visit_worker.deliver_due()
    subjects = [mail.message["Subject"] for mail in _visit_mails(smtp_server)]
    assert len(subjects) == 2 and subjects[0] != subjects[1]
    assert first.booking.id != moved.booking.id


def test_the_email_names_the_time_in_the_clinics_zone() -> None:
    settings = Settings(clinic_timezone="America/New_York", mail_from="desk@montross.example",
                        clinic_phone="(804) 493-3256")
    visit = VisitConfirmation(
        booking_id=7, to="visitor@example.com", first_name="Maria", visit_name="Free consultation",
        starts=datetime(2026, 12, 8, 14, 0, tzinfo=timezone.utc), ends=datetime(2026, 12, 8, 14, 30, tzinfo=timezone.utc),
        ics=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
    )
    message = build_visit_email(visit, settings, now=datetime(2026, 12, 1, tzinfo=timezone.utc))
    assert message["Subject"] == "Your visit at Montross Physical Therapy: Tue Dec 8, 9:00 AM"
    assert message["Message-ID"] == "<visit-7@montross.example>"
    body = message.get_body(("plain",)).get_content()
    assert "Free consultation\n    Tuesday, December 8, 2026, 9:00 AM to 9:30 AM (EST)" in body
