"""Finding leads, status changes, notes, deletion, the CSV export, transcripts and unanswered questions,
on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.audit import AuditEntry
from bot.leads import queries, workflow
from bot.leads.deletion import delete_lead
from bot.leads.models import Lead, LeadKind, LeadNote, LeadStatus
from bot.leads.queries import LeadFilters
from bot.leads.store import LeadStore
from bot.leads.workflow import LeadChangeError, StatusConflict
from bot.notify.models import OutboxMessage
from bot.staff import transcripts
from bot.staff.export import leads_csv
from bot.staff.lead_filters import parse_filters
from bot.staff.models import StaffAccount
from tests.staff import rasa_events
from tests.staff.helpers import STAFF_EMAIL, Leads, add_account

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def staff(any_database) -> StaffAccount:
    add_account(any_database, STAFF_EMAIL)
    with any_database.session_factory() as db:
        return db.scalar(select(StaffAccount))


@pytest.fixture
def db_leads(any_database, clock) -> Leads:
    return Leads(any_database, clock)


def _page(database, filters: LeadFilters = LeadFilters(), page: int = 1):
    with database.session_factory() as db:
        return queries.find_leads(db, filters, page=page, clinic_tz=NEW_YORK)


def test_newest_first_with_the_count_of_new_ones(any_database, db_leads, clock) -> None:
    first = db_leads.add(name="Ann Older")
    clock.advance(hours=1)
    second = db_leads.add(name="Ben Newer")
    with any_database.session_factory() as db:
        db.get(Lead, first).status = LeadStatus.contacted
        db.commit()
    result = _page(any_database)
    with any_database.session_factory() as db:
        new_count = queries.new_lead_count(db)
    assert [lead.id for lead in result.items] == [second, first]
    assert (result.total, new_count) == (2, 1)


def test_filters_by_status_kind_and_clinic_dates(any_database, db_leads) -> None:
    # 22:30 in New York on March 3 is already March 4 in UTC: the clinic's day counts.
    evening = datetime(2025, 3, 4, 3, 30, tzinfo=timezone.utc)
    morning = datetime(2025, 3, 4, 14, 0, tzinfo=timezone.utc)
    cost = db_leads.add(name="Cora Cost", kind=LeadKind.cost, created_at=evening)
    booking = db_leads.add(name="Dan Booking", kind=LeadKind.appointment, created_at=morning)

    def ids(**filters) -> list[int]:
        return [lead.id for lead in _page(any_database, LeadFilters(**filters)).items]

    assert ids(kind=LeadKind.cost) == [cost]
    assert ids(status=LeadStatus.new) == [booking, cost]
    assert ids(status=LeadStatus.closed) == []
    assert ids(received_from=date(2025, 3, 3), received_to=date(2025, 3, 3)) == [cost]
    assert ids(received_from=date(2025, 3, 4)) == [booking]
    assert ids(received_to=date(2025, 3, 2)) == []


def test_search_by_name_phone_or_email(any_database, db_leads) -> None:
    maria = db_leads.add(name="Maria Lopez", phone="(804) 555-0188", email="maria.lopez@example.com")
    sam = db_leads.add(name="Sam 100% Smith", phone=None, email="sam@example.org")

    def found(text: str) -> list[int]:
        return [lead.id for lead in _page(any_database, LeadFilters(search=text)).items]

    assert found("lopez") == [maria]
    assert found("MARIA") == [maria]
    assert found("804-555-0188") == [maria]
    assert found("(804) 555") == [maria]
    assert found("+18045550188") == [maria]
    assert found("example.org") == [sam]
    # Typed characters are matched literally, never as wildcards.
    assert found("100%") == [sam]
    assert found("_") == []


def test_digits_match_phones_only_when_the_search_is_a_phone_number(any_database, db_leads) -> None:
    maria = db_leads.add(name="Maria Lopez", phone="(804) 555-0188", email="maria.lopez@example.com")
    ron = db_leads.add(name="Ron Vance", phone="(540) 231-2345", email="ron@example.com")
    jo = db_leads.add(name="Jo Park", phone=None, email="j231@x.com")

    def found(text: str) -> list[int]:
        return [lead.id for lead in _page(any_database, LeadFilters(search=text)).items]

    assert found("j231@x.com") == [jo]
    assert found("Maria 804") == []
    assert found("Ron 540") == []
    assert found("(540) 231-2345") == [ron]
    assert found("+1 540.231") == [ron]
    assert found("804") == [maria]


def test_pages_of_50(any_database, db_leads, clock) -> None:
    for _ in range(51):
        db_leads.add(conversation=False)
        clock.advance(minutes=1)
    first, second = _page(any_database, page=1), _page(any_database, page=2)
    assert (len(first.items), len(second.items), first.pages) == (50, 1, 2)
    assert second.items[0].name == "Visitor 1"
    assert _page(any_database, page=99).page == 2


def test_parse_filters_explains_what_it_left_out() -> None:
    parsed = parse_filters({"status": "lost", "kind": "cost", "from": "03/04/2025", "q": "  ann   lee "})
    assert parsed.filters == LeadFilters(kind=LeadKind.cost, search="ann lee")
    assert any("no status 'lost'" in error for error in parsed.errors)
    assert any("'03/04/2025' is not a date" in error for error in parsed.errors)
    swapped = parse_filters({"from": "2025-03-05", "to": "2025-03-01"})
    assert swapped.filters == LeadFilters() and "after the 'to' date" in swapped.errors[0]


def test_status_moves_forward_with_notes_and_audit(any_database, db_leads, staff, clock) -> None:
    lead_id = db_leads.add()
    with any_database.session_factory() as db:
        workflow.change_status(
            db, lead_id, "contacted", expected_status="new", actor=staff, note="Left a voicemail", now=clock()
        )
        db.commit()
    with any_database.session_factory() as db:
        with pytest.raises(LeadChangeError, match="cannot move to 'New'"):
            workflow.change_status(db, lead_id, "new", expected_status="contacted", actor=staff, note="", now=clock())
        with pytest.raises(StatusConflict, match="changed this lead to 'Contacted' meanwhile"):
            workflow.change_status(db, lead_id, "scheduled", expected_status="new", actor=staff, note="", now=clock())
        with pytest.raises(LeadChangeError, match="Choose the new status"):
            workflow.change_status(db, lead_id, "done", expected_status="", actor=staff, note="", now=clock())
        with pytest.raises(LeadChangeError, match="empty"):
            workflow.add_note(db, lead_id, "   ", actor=staff, now=clock())
        workflow.add_note(db, lead_id, "Prefers text messages", actor=staff, now=clock())
        db.commit()
    with any_database.session_factory() as db:
        assert db.get(Lead, lead_id).status is LeadStatus.contacted
        notes = queries.notes_for(db, lead_id)
        assert {(n.author_login, n.status_from, n.status_to, n.body) for n in notes} == {
            (STAFF_EMAIL, "new", "contacted", "Left a voicemail"),
            (STAFF_EMAIL, None, None, "Prefers text messages"),
        }
        audit = [(e.action, e.lead_id, e.detail) for e in db.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert audit == [("status_changed", lead_id, "new → contacted"), ("note_added", lead_id, "")]


def test_transcript_reads_rasa_events(any_database, db_leads, clock) -> None:
    with any_database.session_factory() as db:
        # Migrating made Rasa's table, empty until the chat's first message.
        assert transcripts.transcript(db, "conversation-1") == transcripts.Transcript(available=True, turns=[])
        assert transcripts.transcript(db, None) == transcripts.Transcript(available=False)
    lead_id = db_leads.add(name="Maria Lopez")
    with any_database.session_factory() as db:
        lead = db.get(Lead, lead_id)
        result = transcripts.transcript(db, lead.conversation_id)
    assert result.available
    assert [(turn.speaker, turn.text) for turn in result.turns] == [
        ("visitor", "Can I book an appointment?"),
        ("assistant", "Happy to help you book. What is your name?"),
        ("visitor", "Maria Lopez"),
        ("assistant", "Which area bothers you?"),
        ("visitor", "Hip"),
        ("assistant", "Thank you. Staff will call you back within one business day."),
    ]
    assert [button.title for button in result.turns[3].buttons] == ["Hip", "Spine / back"]
    assert result.turns[4].clicked_payload == '/inform{"body_area":"hip"}'
    assert result.turns[0].at == datetime.fromtimestamp(clock().timestamp() - 59, tz=timezone.utc)


def test_delete_removes_the_lead_notes_notices_and_conversation(any_database, staff, clock) -> None:
    settings = any_database.settings.with_overrides(
        smtp_host="127.0.0.1", mail_to=("frontdesk@clinic.example",), webhook_url="https://hooks.example/lead"
    )
    leads = Leads(any_database, clock)
    leads.store = LeadStore(any_database.session_factory, settings, clock=clock)
    gone = leads.add(name="Maria Lopez", email="maria@example.com", area_of_concern="cracked vertebra")
    kept = leads.add(name="Other Person")
    with any_database.session_factory() as db:
        workflow.add_note(db, gone, "Called Maria about her vertebra", actor=staff, now=clock())
        workflow.change_status(
            db, gone, "contacted", expected_status="new", actor=staff, note="Maria said yes", now=clock()
        )
        db.commit()
        assert db.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.lead_id == gone)) == 2

    with any_database.session_factory() as db:
        assert delete_lead(db, gone, actor=staff, now=clock())
        db.commit()
    with any_database.session_factory() as db:
        assert db.get(Lead, gone) is None
        assert db.scalar(select(func.count()).select_from(LeadNote).where(LeadNote.lead_id == gone)) == 0
        assert db.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.lead_id == gone)) == 0
        assert db.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.lead_id == kept)) == 2
        entries = list(db.scalars(select(AuditEntry).where(AuditEntry.lead_id == gone).order_by(AuditEntry.id)))
        assert not delete_lead(db, gone, actor=staff, now=clock())
    assert rasa_events.count_events(any_database.engine, "conversation-1") == 0
    assert rasa_events.count_events(any_database.engine, "conversation-2") > 0
    assert entries[-1].action == "deleted" and entries[-1].lead_id == gone
    # Nothing the person said or gave survives in the audit log.
    for entry in entries:
        text = f"{entry.actor_login} {entry.action} {entry.detail}".lower()
        for fragment in ("maria", "lopez", "vertebra", "555", "example.com"):
            assert fragment not in text


REPHRASE = "Sorry, I didn't quite understand. Could you say it another way?"
OUTSIDE = "Sorry, that's outside what I can help with."


def test_unanswered_questions_grouped_newest_first_without_people(any_database, db_leads) -> None:
    rasa_events.create_events_table(any_database.engine)
    base = datetime(2025, 3, 1, tzinfo=timezone.utc).timestamp()
    rasa_events.insert_events(
        any_database.engine,
        "visitor-a",
        [
            *rasa_events.turn("Do you treat horses?", "out_of_scope", "utter_out_of_scope", OUTSIDE, base + 10),
            *rasa_events.turn(
                "Is swimming good for my bones?", "nlu_fallback", "utter_ask_rephrase", REPHRASE, base + 20
            ),
            *rasa_events.turn("What is a DEXA scan?", "faq", "utter_faq", "A DEXA scan measures...", base + 30),
        ],
    )
    rasa_events.insert_events(
        any_database.engine,
        "visitor-b",
        [
            *rasa_events.turn("do you  treat HORSES?", "out_of_scope", "utter_out_of_scope", OUTSIDE, base + 40),
            *rasa_events.turn(
                "Call me at 804-555-0188 about swimming", "nlu_fallback", "utter_ask_rephrase", REPHRASE, base + 50
            ),
        ],
    )
    with any_database.session_factory() as db:
        questions = transcripts.unanswered_questions(db)
        recent = transcripts.unanswered_questions(db, since=datetime.fromtimestamp(base + 35, tz=timezone.utc))
    assert [(q.text, q.count) for q in questions] == [
        ("Call me at [phone number] about swimming", 1),
        ("do you treat HORSES?", 2),
        ("Is swimming good for my bones?", 1),
    ]
    assert questions[1].last_asked == datetime.fromtimestamp(base + 40, tz=timezone.utc)
    assert [q.count for q in recent] == [1, 1]


def test_unanswered_means_the_assistant_answered_with_a_fallback(any_database, db_leads) -> None:
    rasa_events.create_events_table(any_database.engine)
    base = datetime(2025, 3, 1, tzinfo=timezone.utc).timestamp()
    # Classified with confidence, but no dialogue rule fitted: the generic "lost track" reply.
    rasa_events.insert_events(
        any_database.engine,
        "visitor-c",
        rasa_events.core_fallback("Can my grandson come to the session?", "faq", base + 10),
    )
    # Classified out of scope, yet answered: the greeting rule took it.
    rasa_events.insert_events(
        any_database.engine,
        "visitor-d",
        rasa_events.turn("hello out there", "out_of_scope", "utter_greet", "Hello! I can help with...", base + 20),
    )
    # The whole booking: the visitor's name is classified out of scope, and the form takes it.
    db_leads.add(name="Xiu Zhang", created_at=datetime.fromtimestamp(base + 90, tz=timezone.utc))
    # During a form the visitor's answer was not taken, and the out_of_scope rule answered it
    # before the form asked again: still a form answer, and it holds a personal detail.
    rasa_events.insert_events(
        any_database.engine,
        "visitor-e",
        [
            rasa_events.action("inquiry_form", base + 100),
            rasa_events.active_loop("inquiry_form", base + 100.1),
            rasa_events.bot("May the clinic's staff contact you?", base + 100.2, utter="utter_ask_consent"),
            rasa_events.action("action_listen", base + 100.3),
            rasa_events.user("only after 5, my husband Jim answers", "out_of_scope", base + 110),
            rasa_events.rejected("inquiry_form", base + 110.1),
            rasa_events.user_featurization(base + 110.2),
            rasa_events.action("utter_out_of_scope", base + 110.3),
            rasa_events.bot(OUTSIDE, base + 110.4, utter="utter_out_of_scope"),
            rasa_events.action("inquiry_form", base + 110.5),
            rasa_events.bot("May the clinic's staff contact you?", base + 110.6, utter="utter_ask_consent"),
            rasa_events.action("action_listen", base + 110.7),
            rasa_events.user("/stop", "stop", base + 120),
            rasa_events.user_featurization(base + 120.1),
            rasa_events.action("action_cancel_inquiry", base + 120.2),
            rasa_events.active_loop(None, base + 120.3),
            rasa_events.action("action_listen", base + 120.4),
            # Once the form is over, a question the assistant cannot answer counts again.
            *rasa_events.turn("Do you sell bone broth?", "out_of_scope", "utter_out_of_scope", OUTSIDE, base + 130),
        ],
    )
    # A new session ends a form that was never closed.
    rasa_events.insert_events(
        any_database.engine,
        "visitor-f",
        [
            rasa_events.action("inquiry_form", base + 200),
            rasa_events.active_loop("inquiry_form", base + 200.1),
            rasa_events.action("action_listen", base + 200.2),
            {"event": "session_started", "timestamp": base + 4000},
            rasa_events.action("action_listen", base + 4000.1),
            *rasa_events.turn("Do you have parking?", "nlu_fallback", "utter_ask_rephrase", REPHRASE, base + 4010),
        ],
    )
    with any_database.session_factory() as db:
        questions = transcripts.unanswered_questions(db)
    assert [q.text for q in questions] == [
        "Do you have parking?",
        "Do you sell bone broth?",
        "Can my grandson come to the session?",
    ]


def test_unanswered_questions_without_the_events_table(any_database) -> None:
    with any_database.session_factory() as db:
        assert transcripts.unanswered_questions(db) == []


def test_csv_has_every_field_and_neutralises_formulas(any_database, db_leads) -> None:
    lead_id = db_leads.add(
        name="=HYPERLINK(\"http://evil.example\",\"click\")",
        email="ann@example.com",
        area_of_concern="@SUM(1+1)",
        preferred_times="-2+3",
        insurance="+1 Anthem",
        created_at=datetime(2025, 3, 4, 14, 5, tzinfo=timezone.utc),
    )
    with any_database.session_factory() as db:
        text = leads_csv(queries.filtered_leads(db, LeadFilters(), clinic_tz=NEW_YORK), clinic_tz=NEW_YORK)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1
    row = rows[0]
    assert row["Lead number"] == str(lead_id)
    assert row["Received"] == "2025-03-04T09:05-05:00"
    assert row["Name"] == "'=HYPERLINK(\"http://evil.example\",\"click\")"
    assert row["Area of concern"] == "'@SUM(1+1)"
    assert row["Preferred times"] == "'-2+3"
    assert row["Insurance"] == "'+1 Anthem"
    assert row["Phone"] == "(804) 555-0188"
    assert row["Email"] == "ann@example.com"
    assert row["Kind"] == "Appointment" and row["Status"] == "New"
    assert row["Consent wording"].startswith("May the clinic's staff contact you")
