import json
import threading
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import StatementError

from bot.leads.deletion import delete_lead
from bot.leads.models import Lead, LeadKind, LeadStatus
from bot.leads.queries import LeadFilters, find_leads
from bot.leads.store import LeadStore, LeadValidationError
from bot.notify.models import OutboxChannel, OutboxMessage
from bot.staff.accounts import create_account
from tests.leads.factories import (
    PERSONAL_FRAGMENTS,
    a_new_lead,
    count_leads,
    count_rows,
    outbox_rows,
    read_lead,
)


def test_a_saved_lead_reads_back_normalised_and_timezone_aware(store, session_factory, clock):
    consented = datetime(2024, 5, 2, 10, 3, tzinfo=ZoneInfo("America/New_York"))
    lead_id = store.add(a_new_lead(consented_at=consented, insurance="  Anthem  "))

    lead = read_lead(session_factory, lead_id)
    assert lead.id == lead_id
    assert lead.kind is LeadKind.appointment
    assert lead.status is LeadStatus.new
    assert lead.name == "Maria Lopez"
    assert lead.phone == "+18045550188"
    assert lead.email == "Maria.Lopez@example.com"
    assert lead.area_of_concern == "left hip, cracked vertebra after a fall"
    assert lead.preferred_times == "Tuesday mornings before 10"
    assert lead.insurance == "Anthem"
    assert lead.conversation_id == "conversation-1"
    assert lead.consent_text.startswith("Yes, the clinic may contact me")
    for moment in (lead.consented_at, lead.created_at, lead.updated_at):
        assert moment.tzinfo is not None and moment.utcoffset() == timedelta(0)
    assert lead.consented_at == consented
    assert lead.consented_at.hour == 14  # 10:03 in New York is 14:03 UTC
    assert lead.created_at == clock.now


def test_lead_numbers_count_up(store):
    first = store.add(a_new_lead(conversation_id="a"))
    second = store.add(a_new_lead(conversation_id="b"))
    assert second > first


def test_email_only_and_phone_only_leads_are_fine(store, session_factory):
    by_email = read_lead(session_factory, store.add(a_new_lead(phone=None, conversation_id="e")))
    by_phone = read_lead(session_factory, store.add(a_new_lead(email="  ", conversation_id="p")))
    assert (by_email.phone, by_email.email) == (None, "Maria.Lopez@example.com")
    assert (by_phone.phone, by_phone.email) == ("+18045550188", None)


def test_a_new_lead_queues_one_notice_per_configured_channel(store, session_factory):
    lead_id = store.add(a_new_lead())
    rows = outbox_rows(session_factory, lead_id)
    assert sorted(row.channel for row in rows) == [OutboxChannel.email, OutboxChannel.webhook]
    for row in rows:
        assert row.sent_at is None and row.attempts == 0
        assert json.loads(row.payload) == {
            "event": "lead.created",
            "lead_id": lead_id,
            "kind": "appointment",
            "url": f"https://clinic.example/staff/leads/{lead_id}",
            "created_at": read_lead(session_factory, lead_id).created_at.isoformat().replace("+00:00", "Z"),
            # No time was picked in the chat.
            "requested_time": None,
        }
        for fragment in PERSONAL_FRAGMENTS:
            assert fragment.lower() not in row.payload.lower()


def test_without_notice_settings_no_notice_is_queued(session_factory, settings, clock):
    bare = LeadStore(session_factory, settings.with_overrides(smtp_host="", webhook_url=""), clock=clock)
    lead_id = bare.add(a_new_lead())
    assert read_lead(session_factory, lead_id) is not None
    assert outbox_rows(session_factory) == []


def test_email_needs_both_a_server_and_recipients(session_factory, settings, clock):
    no_recipients = LeadStore(session_factory, settings.with_overrides(mail_to=(), webhook_url=""), clock=clock)
    no_recipients.add(a_new_lead())
    assert outbox_rows(session_factory) == []


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"phone": None, "email": None}, "contact", "phone number or an email address"),
        ({"phone": "", "email": "  "}, "contact", "phone number or an email address"),
        ({"phone": "555-0188"}, "phone", "not a valid phone number"),
        ({"email": "maria@"}, "email", "not a valid email address"),
        ({"consent_text": ""}, "consent_text", "consent wording is missing"),
        ({"consent_text": "   "}, "consent_text", "consent wording is missing"),
        ({"consented_at": None}, "consented_at", "time of consent is missing"),
        ({"consented_at": datetime(2024, 5, 2, 14, 3)}, "consented_at", "must carry a time zone"),
        ({"kind": "discount"}, "kind", "Unknown inquiry kind"),
        ({"name": " "}, "name", "name is missing"),
        ({"name": "M" * 201}, "name", "too long"),
        ({"conversation_id": ""}, "conversation_id", "conversation id is missing"),
        ({"preferred_times": "x" * 1001}, "preferred_times", "too long"),
    ],
)
# Validation happens before the database is touched: one database is enough here.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_invalid_details_raise_a_clear_error_and_store_nothing(store, session_factory, changes, field, message):
    with pytest.raises(ValueError, match=message) as raised:
        store.add(a_new_lead(**changes))
    assert isinstance(raised.value, LeadValidationError)
    assert raised.value.field == field
    assert count_leads(session_factory) == 0
    assert count_rows(session_factory, OutboxMessage) == 0


def test_the_same_submission_saved_twice_is_one_lead_with_one_set_of_notices(store, session_factory):
    first = store.add(a_new_lead())
    # A retried action call stamps a fresh consent time; it is still the same submission.
    again = store.add(a_new_lead(consented_at=datetime.now(timezone.utc)))
    assert again == first
    assert count_leads(session_factory) == 1
    assert len(outbox_rows(session_factory)) == 2


def test_formatting_differences_do_not_make_a_second_lead(store, session_factory):
    first = store.add(a_new_lead(phone="(804) 555-0188", email="Maria.Lopez@EXAMPLE.com"))
    again = store.add(a_new_lead(phone="+1 804 555 0188", email="Maria.Lopez@example.com"))
    assert again == first
    assert count_leads(session_factory) == 1


def test_different_details_or_conversations_are_different_leads(store, session_factory):
    first = store.add(a_new_lead())
    corrected = store.add(a_new_lead(phone="804 493 3256"))
    other_kind = store.add(a_new_lead(kind=LeadKind.cost))
    other_visitor = store.add(a_new_lead(conversation_id="conversation-2"))
    assert len({first, corrected, other_kind, other_visitor}) == 4
    assert count_leads(session_factory) == 4


def test_a_caller_supplied_submission_key_decides_sameness(store, session_factory):
    first = store.add(a_new_lead(submission_key="message-17"))
    retried_with_edits = store.add(a_new_lead(submission_key="message-17", preferred_times="any afternoon"))
    second_submission = store.add(a_new_lead(submission_key="message-42"))
    assert retried_with_edits == first
    assert second_submission != first
    assert count_leads(session_factory) == 2


def test_two_processes_saving_the_same_submission_at_once_make_one_lead(session_factory, settings, clock):
    # Two stores on separate sessions, released together, as two action-server workers would be.
    stores = [LeadStore(session_factory, settings, clock=clock) for _ in range(4)]
    barrier = threading.Barrier(len(stores))
    results: list[int] = []
    errors: list[BaseException] = []

    def save(store):
        try:
            barrier.wait()
            results.append(store.add(a_new_lead()))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(results)) == 1 and len(results) == len(stores)
    assert count_leads(session_factory) == 1
    assert len(outbox_rows(session_factory)) == 2


def test_lead_and_notices_are_saved_together_or_not_at_all(store, session_factory, monkeypatch):
    def broken_payload(*args, **kwargs):
        raise RuntimeError("notice could not be built")

    monkeypatch.setattr("bot.leads.store.queue_lead_notices", broken_payload)
    with pytest.raises(RuntimeError):
        store.add(a_new_lead())
    assert count_leads(session_factory) == 0
    assert count_rows(session_factory, OutboxMessage) == 0


def test_leads_are_found_newest_first_and_filtered(store, session_factory, clock):
    ids = []
    for number, kind in enumerate([LeadKind.cost, LeadKind.appointment, LeadKind.cost]):
        ids.append(store.add(a_new_lead(kind=kind, conversation_id=f"c{number}")))
        clock.advance(60)

    def found(size: int = 50, **filters) -> list[int]:
        with session_factory() as session:
            page = find_leads(session, LeadFilters(**filters), page=1, clinic_tz=timezone.utc, size=size)
        return [lead.id for lead in page.items]

    assert found() == list(reversed(ids))
    assert found(kind=LeadKind.cost) == [ids[2], ids[0]]
    assert found(status=LeadStatus.new, size=1) == [ids[2]]
    assert found(status=LeadStatus.closed) == []


def test_deleting_a_lead_removes_its_notices(store, session_factory, clock):
    kept = store.add(a_new_lead(conversation_id="kept"))
    removed = store.add(a_new_lead(conversation_id="removed"))

    with session_factory() as session:
        staff = create_account(session, "frontdesk@clinic.example", "lantern orbit cello 42")
        assert delete_lead(session, removed, actor=staff, now=clock()) is not None
        session.commit()
    assert read_lead(session_factory, removed) is None
    assert {row.lead_id for row in outbox_rows(session_factory)} == {kept}
    with session_factory() as session:
        assert delete_lead(session, removed, actor=staff, now=clock()) is None


def test_status_changes_stamp_updated_at(store, session_factory, clock):
    lead_id = store.add(a_new_lead())
    created = read_lead(session_factory, lead_id).created_at
    clock.advance(3600)
    with session_factory() as session:
        lead = session.get(Lead, lead_id)
        lead.status = LeadStatus.contacted
        session.commit()
    lead = read_lead(session_factory, lead_id)
    assert lead.status is LeadStatus.contacted
    assert lead.created_at == created
    assert lead.updated_at > created


def test_naive_timestamps_are_refused_rather_than_guessed(session_factory):
    with session_factory() as session:
        session.add(
            Lead(
                kind=LeadKind.cost,
                name="x",
                phone="+18045550188",
                consent_text="yes",
                consented_at=datetime(2024, 1, 1, 12, 0),
                conversation_id="naive",
                submission_key="k",
            )
        )
        with pytest.raises(StatementError, match="timezone-aware"):
            session.commit()


def test_the_lead_repr_carries_no_personal_details(store, session_factory):
    lead = read_lead(session_factory, store.add(a_new_lead()))
    assert "Maria" not in repr(lead) and "0188" not in repr(lead)
