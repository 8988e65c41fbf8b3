"""A lead's visit on its page: the requested time with its status and hold, confirm (the lead is
scheduled, the visitor's email queued), decline (the time opens again), propose another time, and
the clear refusals when a colleague got there first or the time was taken."""

from __future__ import annotations

import asyncio
import dataclasses
import re

import pytest
from sqlalchemy import select

from bot.audit import AuditEntry
from bot.leads import visits
from bot.leads.models import Lead, LeadNote, LeadStatus
from bot.notify.models import OutboxChannel, OutboxMessage
from bot.schedule.models import BookingStatus
from bot.schedule.openings import find_openings
from bot.settings import Settings
from bot.staff.models import StaffAccount
from tests.staff.helpers import FakeClock, Leads, add_account, csrf_from, signed_in
from tests.staff.schedule_helpers import lead_bookings, local, no_schedule_worker, read_booking, request_time  # noqa: F401 - a fixture

MONDAY_ELEVEN = local(2025, 3, 3, 11)
TUESDAY_NINE = local(2025, 3, 4, 9)

pytestmark = pytest.mark.usefixtures("no_schedule_worker")


def _words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def _post_visit(client, lead_id: int, action: str, booking_id: int, status: str, **extra: str):
    page = await client.get(f"/staff/leads/{lead_id}")
    data = {"csrf_token": csrf_from(await page.text()), "booking_id": str(booking_id), "booking_status": status, **extra}
    return await client.post(f"/staff/leads/{lead_id}/visit/{action}", data=data, allow_redirects=False)


def _outbox(database) -> list[OutboxMessage]:
    with database.session_factory() as db:
        return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.fixture
def maria(database, leads, clock) -> tuple[int, int]:
    """Maria's lead, with Tuesday 9:00 AM requested in her chat: (lead id, booking id)."""
    lead_id = leads.add(name="Maria Lopez", email="maria.lopez@example.com", conversation_id="chat-maria")
    return lead_id, request_time(database, lead_id, "chat-maria", now=clock(), starts=TUESDAY_NINE)


@pytest.fixture
def smtp_settings(staff_settings: Settings, smtp_server) -> Settings:
    return dataclasses.replace(staff_settings, smtp_host=smtp_server.host, smtp_port=smtp_server.port,
                               mail_from="frontdesk@clinic.example", outbox_poll_seconds=0.05)


async def test_the_lead_page_shows_the_requested_time_its_status_and_hold(client, maria) -> None:
    lead_id, _ = maria
    await signed_in(client)
    html = await (await client.get(f"/staff/leads/{lead_id}")).text()
    panel = _words(html.split('id="visit"')[1].split("</section>")[0])
    # Requested Monday 10:00 AM: held until the visit would start, sooner than HOLD_HOURS (24).
    assert panel.startswith("> Visit Requested time Tue Mar 4, 9:00 AM –10:00 AM Visit Visit Status Requested "
                            "Held until Tue Mar 4, 9:00 AM")
    assert "Email is not set up (SMTP_HOST): once you confirm, tell the visitor yourself, by phone or from your own email." in panel
    assert "Confirm" in panel and "Decline" in panel and "Propose another time" in panel


async def test_confirming_schedules_the_lead_and_queues_the_visitors_email(
    aiohttp_client, make_staff_app, accounts_made, smtp_settings, smtp_server, database, maria
) -> None:
    client = await aiohttp_client(make_staff_app(smtp_settings))
    lead_id, booking_id = maria
    await signed_in(client)
    response = await _post_visit(client, lead_id, "confirm", booking_id, "requested")
    assert response.status == 303 and response.headers["Location"] == f"/staff/leads/{lead_id}#visit"
    assert read_booking(database, booking_id).status == BookingStatus.confirmed
    with database.session_factory() as db:
        assert db.get(Lead, lead_id).status == LeadStatus.scheduled
        [note] = db.scalars(select(LeadNote).where(LeadNote.lead_id == lead_id))
        assert (note.status_from, note.status_to, note.body) == ("new", "scheduled", "Visit confirmed for Tue Mar 4, 9:00 AM")
        actions = list(db.scalars(select(AuditEntry.action).where(AuditEntry.lead_id == lead_id)))
    assert "visit_confirmed" in actions and "status_changed" in actions
    [row] = _outbox(database)
    assert (row.channel, row.booking_id, row.lead_id) == (OutboxChannel.visit_email, booking_id, lead_id)
    assert "maria" not in row.payload.lower()

    html = await (await client.get(f"/staff/leads/{lead_id}")).text()
    assert "Visit confirmed for Tue Mar 4, 9:00 AM. A confirmation email to the visitor is on its way." in html
    assert '<span class="visit-status visit-status-confirmed">Confirmed</span>' in html
    assert '<span class="status status-scheduled">Scheduled</span>' in html
    # The web app's outbox worker sends it to the visitor.
    for _ in range(200):
        if smtp_server.received:
            break
        await asyncio.sleep(0.05)
    [mail] = smtp_server.received
    assert mail.rcpt_tos == ("maria.lopez@example.com",)
    assert mail.message["Subject"] == "Your visit at Montross Physical Therapy: Tue Mar 4, 9:00 AM"


async def test_without_a_mail_server_the_page_says_to_tell_the_visitor_by_phone(client, database, maria) -> None:
    lead_id, booking_id = maria
    await signed_in(client)
    await _post_visit(client, lead_id, "confirm", booking_id, "requested")
    assert _outbox(database) == []
    html = await (await client.get(f"/staff/leads/{lead_id}")).text()
    assert "No email was sent: tell the visitor yourself, by phone or from your own email." in html
    assert "By phone: email is not set up (SMTP_HOST), so no confirmation was emailed." in _words(html)


async def test_a_lead_without_an_email_address_is_told_by_phone(
    aiohttp_client, make_staff_app, accounts_made, smtp_settings, database, leads, clock
) -> None:
    client = await aiohttp_client(make_staff_app(smtp_settings))
    lead_id = leads.add(name="Phone Only", email=None, conversation_id="chat-phone")
    booking_id = request_time(database, lead_id, "chat-phone", now=clock())
    await signed_in(client)
    html = await (await client.get(f"/staff/leads/{lead_id}")).text()
    assert "The visitor gave no email address: once you confirm, tell them by phone." in html
    await _post_visit(client, lead_id, "confirm", booking_id, "requested")
    assert _outbox(database) == []
    assert "By phone: the visitor gave no email address" in _words(await (await client.get(f"/staff/leads/{lead_id}")).text())


async def test_confirming_what_a_colleague_already_confirmed_says_so_and_changes_nothing(client, database, maria) -> None:
    lead_id, booking_id = maria
    await signed_in(client)
    await _post_visit(client, lead_id, "confirm", booking_id, "requested")
    # The same form, sent again from a page loaded before.
    response = await _post_visit(client, lead_id, "confirm", booking_id, "requested")
    assert response.status == 303
    html = await (await client.get(f"/staff/leads/{lead_id}")).text()
    assert "This visit was confirmed meanwhile, perhaps by a colleague; nothing was changed." in html
    with database.session_factory() as db:
        assert len(list(db.scalars(select(LeadNote).where(LeadNote.lead_id == lead_id)))) == 1
        assert list(db.scalars(select(AuditEntry.action).where(AuditEntry.action == "visit_confirmed"))) == ["visit_confirmed"]


async def test_declining_opens_the_time_again(client, database, maria, clock) -> None:
    lead_id, booking_id = maria
    open_before = {o.starts for o in find_openings(database.session_factory, database.settings, now=clock(), per_day=None, limit=50)}
    assert TUESDAY_NINE not in open_before
    await signed_in(client)
    response = await _post_visit(client, lead_id, "decline", booking_id, "requested")
    assert response.status == 303
    assert read_booking(database, booking_id).status == BookingStatus.declined
    open_after = {o.starts for o in find_openings(database.session_factory, database.settings, now=clock(), per_day=None, limit=50)}
    assert TUESDAY_NINE in open_after
    html = await (await client.get(f"/staff/leads/{lead_id}")).text()
    assert "Requested time Tue Mar 4, 9:00 AM declined; the time is open again." in html
    # Declined: nothing to confirm any more, but another time can be proposed.
    panel = html.split('id="visit"')[1].split("</section>")[0]
    assert "Confirm</button>" not in panel and "Propose another time" in panel


async def test_propose_another_time_from_the_next_openings(client, database, maria) -> None:
    lead_id, booking_id = maria
    await signed_in(client)
    page = await client.get(f"/staff/leads/{lead_id}/visit/propose")
    assert page.status == 200
    html = await page.text()
    choices = re.findall(r'<label for="opening-\d+">([^<]+?) <span', html)
    # From Monday 10:00 AM: an hour's notice, four a day, Tuesday 9:00 AM is Maria's own.
    assert choices[:6] == ["Mon Mar 3, 11:00 AM–12:00 PM", "Mon Mar 3, 12:00 PM–1:00 PM", "Mon Mar 3, 1:00 PM–2:00 PM",
                           "Mon Mar 3, 2:00 PM–3:00 PM", "Tue Mar 4, 8:00 AM–9:00 AM", "Tue Mar 4, 10:00 AM–11:00 AM"]
    far = await client.get(f"/staff/leads/{lead_id}/visit/propose?from=9999-12-31")
    assert far.status == 200 and "That is not a date within five years" in await far.text()
    later = await (await client.get(f"/staff/leads/{lead_id}/visit/propose?from=2025-03-10")).text()
    assert re.findall(r'<label for="opening-\d+">([^<]+?) <span', later)[0] == "Mon Mar 10, 8:00 AM–9:00 AM"
    starts = re.search(r'id="opening-5" value="([^"]+)"', html).group(1)
    response = await client.post(
        f"/staff/leads/{lead_id}/visit/propose",
        data={"csrf_token": csrf_from(html), "booking_id": str(booking_id), "booking_status": "requested",
              "starts": starts},
        allow_redirects=False,
    )
    assert response.status == 303
    old, new = lead_bookings(database, lead_id)
    assert (old.status, new.status, new.starts) == (BookingStatus.declined, BookingStatus.proposed, local(2025, 3, 4, 8))
    html = await (await client.get(f"/staff/leads/{lead_id}")).text()
    assert "Proposed Tue Mar 4, 8:00 AM instead of Tue Mar 4, 9:00 AM; held for the visitor until Tue Mar 4, 8:00 AM." in html
    assert "Proposed time" in html and "Proposed by staff" in html


async def test_a_time_taken_since_the_list_was_shown_is_refused_clearly(client, database, leads, maria, clock) -> None:
    lead_id, booking_id = maria
    await signed_in(client)
    html = await (await client.get(f"/staff/leads/{lead_id}/visit/propose")).text()
    # Someone else's chat takes Monday 11:00 AM meanwhile.
    other = leads.add(name="Quick Visitor", conversation_id="chat-quick")
    request_time(database, other, "chat-quick", now=clock(), starts=MONDAY_ELEVEN)
    response = await client.post(
        f"/staff/leads/{lead_id}/visit/propose",
        data={"csrf_token": csrf_from(html), "booking_id": str(booking_id), "booking_status": "requested",
              "starts": MONDAY_ELEVEN.isoformat()},
    )
    assert response.status == 409
    text = await response.text()
    assert "Mon Mar 3, 11:00 AM was taken meanwhile; nothing was changed. Choose another time." in text
    assert [b.status for b in lead_bookings(database, lead_id)] == [BookingStatus.requested]
    garbage = await client.post(f"/staff/leads/{lead_id}/visit/propose", data={
        "csrf_token": csrf_from(html), "booking_id": str(booking_id), "booking_status": "requested", "starts": "soon"})
    assert garbage.status == 400 and "Choose one of the times listed." in await garbage.text()


async def test_a_lead_without_a_requested_time_says_so(client, leads) -> None:
    lead_id = leads.add(name="No Time")
    await signed_in(client)
    html = await (await client.get(f"/staff/leads/{lead_id}")).text()
    assert "No time was picked in the chat." in html
    assert (await client.get(f"/staff/leads/{lead_id}/visit/propose")).status == 409
    assert (await client.get("/staff/leads/999/visit/propose")).status == 404


def test_confirm_decline_and_propose_in_one_transaction_each_on_both_databases(any_database) -> None:
    """The lead's commands, without the pages, on SQLite and PostgreSQL."""
    database = any_database
    clock = FakeClock()
    add_account(database, "frontdesk@clinic.example")
    leads = Leads(database, clock)
    lead_id = leads.add(name="Maria Lopez", conversation_id="chat-pg", conversation=False)
    booking_id = request_time(database, lead_id, "chat-pg", now=clock(), starts=TUESDAY_NINE)
    settings = dataclasses.replace(database.settings, smtp_host="127.0.0.1")

    with database.session_factory() as db:
        actor = db.scalar(select(StaffAccount))
        moved = visits.propose_visit(db, settings, lead_id=lead_id, booking_id=booking_id, expected_status="requested",
                                     starts=local(2025, 3, 5, 9), actor=actor, now=clock())
        db.commit()
        with pytest.raises(visits.VisitChangeError, match="changed meanwhile"):
            visits.confirm_visit(db, settings, lead_id=lead_id, booking_id=booking_id, expected_status="requested",
                                 actor=actor, now=clock())
        db.rollback()
        done = visits.confirm_visit(db, settings, lead_id=lead_id, booking_id=moved.booking.id,
                                    expected_status="proposed", actor=actor, now=clock())
        db.commit()
        assert done.emailed and done.note == "Visit confirmed for Wed Mar 5, 9:00 AM"
        assert db.get(Lead, lead_id).status == LeadStatus.scheduled
        [row] = db.scalars(select(OutboxMessage).where(OutboxMessage.channel == OutboxChannel.visit_email))
        assert row.booking_id == moved.booking.id


async def test_a_visit_confirmed_before_email_was_set_up_still_says_to_phone(
    aiohttp_client, make_staff_app, accounts_made, smtp_settings, database, maria, clock
) -> None:
    lead_id, booking_id = maria
    with database.session_factory() as db:
        actor = db.scalar(select(StaffAccount))
        visits.confirm_visit(db, database.settings, lead_id=lead_id, booking_id=booking_id,
                             expected_status="requested", actor=actor, now=clock())
        db.commit()
    client = await aiohttp_client(make_staff_app(smtp_settings))
    await signed_in(client)
    html = _words(await (await client.get(f"/staff/leads/{lead_id}")).text())
    assert "By phone: no confirmation was emailed when it was confirmed." in html
