from datetime import datetime, timezone

from sqlalchemy import create_engine, select

from bot.leads.models import Lead, LeadKind
from bot.leads.links import lead_page_url
from bot.notify import build_notice_payload
from bot.notify.email import EmailSender, build_notice_email
from bot.settings import Settings
from tests.leads.factories import PERSONAL_FRAGMENTS, STAFF_ADDRESS, VISITOR, a_new_lead, outbox_rows

NOTICE_SETTINGS = Settings(
    public_url="https://clinic.example",
    clinic_timezone="America/New_York",
    mail_from="assistant@clinic.example",
    mail_to=(STAFF_ADDRESS,),
)


def test_the_notice_names_the_kind_the_number_and_the_staff_link():
    settings = NOTICE_SETTINGS
    created = datetime(2024, 5, 2, 18, 30, tzinfo=timezone.utc)
    message = build_notice_email(build_notice_payload(12, LeadKind.appointment, created, lead_page_url(settings.public_url, 12)), settings)

    assert message["Subject"] == "New appointment inquiry #12"
    assert message["From"] == "assistant@clinic.example"
    assert message["To"] == STAFF_ADDRESS
    body = message.get_content()
    assert "Lead number: 12" in body
    assert "Kind: appointment" in body
    assert "https://clinic.example/staff/leads/12" in body
    # Received time in the clinic's own time zone (18:30 UTC is 14:30 in New York in May).
    assert "Thursday 02 May 2024, 14:30 EDT" in body


def test_the_notice_names_the_time_the_visitor_picked_in_the_clinics_zone():
    created = datetime(2026, 12, 7, 15, 0, tzinfo=timezone.utc)
    picked = datetime(2026, 12, 8, 14, 0, tzinfo=timezone.utc)
    payload = build_notice_payload(7, LeadKind.availability, created, "https://clinic.example/staff/leads/7", picked)
    assert payload["requested_time"] == "2026-12-08T14:00:00Z"
    body = build_notice_email(payload, NOTICE_SETTINGS).get_content()
    assert "Requested time: Tuesday 08 December 2026, 09:00 EST" in body
    assert "Requested time" not in build_notice_email(
        build_notice_payload(7, LeadKind.availability, created, "https://clinic.example/staff/leads/7"), NOTICE_SETTINGS
    ).get_content()


def test_each_kind_has_its_own_subject():
    settings = NOTICE_SETTINGS
    created = datetime(2024, 5, 2, 18, 30, tzinfo=timezone.utc)
    subjects = {
        kind: build_notice_email(build_notice_payload(3, kind, created, lead_page_url(settings.public_url, 3)), settings)["Subject"]
        for kind in LeadKind
    }
    assert subjects == {
        LeadKind.cost: "New cost inquiry #3",
        LeadKind.availability: "New availability inquiry #3",
        LeadKind.appointment: "New appointment inquiry #3",
        LeadKind.callback: "New call-back request #3",
    }


async def test_a_new_lead_reaches_staff_by_email_without_personal_details(
    store, make_worker, smtp_server, session_factory
):
    lead_id = store.add(a_new_lead(kind=LeadKind.cost))
    # Saving queues the notice; nothing is sent from inside the save.
    assert smtp_server.received == []

    assert await make_worker().deliver_due() == 1

    [mail] = smtp_server.received
    assert mail.rcpt_tos == (STAFF_ADDRESS,)
    assert mail.mail_from == "assistant@clinic.example"
    assert mail.message["Subject"] == f"New cost inquiry #{lead_id}"
    assert f"https://clinic.example/staff/leads/{lead_id}" in mail.message.get_content()
    raw = mail.message.as_string()
    for fragment in PERSONAL_FRAGMENTS + tuple(VISITOR.values()):
        assert fragment.lower() not in raw.lower(), fragment

    [row] = outbox_rows(session_factory, lead_id)
    assert row.sent_at is not None and row.attempts == 1 and row.last_error is None


async def test_a_sent_notice_is_not_sent_again(store, make_worker, smtp_server):
    store.add(a_new_lead())
    worker = make_worker()
    assert await worker.deliver_due() == 1
    assert await worker.deliver_due() == 0
    assert await make_worker().deliver_due() == 0
    assert len(smtp_server.received) == 1


async def test_the_lead_is_committed_before_its_notice_is_sent(store, make_worker, smtp_server, settings):
    # An independent connection, as the staff page would use when the link is clicked.
    observer = create_engine(settings.effective_database_url.replace("postgresql://", "postgresql+psycopg://"))
    seen_at_send_time = []

    class CheckingSender(EmailSender):
        async def send(self, payload):
            with observer.connect() as connection:
                seen_at_send_time.append(
                    connection.execute(select(Lead.id, Lead.name).where(Lead.id == payload["lead_id"])).one_or_none()
                )
            await super().send(payload)

    try:
        lead_id = store.add(a_new_lead())
        assert await make_worker(email_sender=CheckingSender(settings)).deliver_due() == 1
    finally:
        observer.dispose()
    assert seen_at_send_time == [(lead_id, "Maria Lopez")]
    assert len(smtp_server.received) == 1


async def test_every_staff_address_gets_the_notice(store, make_worker, smtp_server, settings):
    two = settings.with_overrides(mail_to=("frontdesk@clinic.example", "manager@clinic.example"))
    store.add(a_new_lead())
    assert await make_worker(settings=two).deliver_due() == 1
    [mail] = smtp_server.received
    assert set(mail.rcpt_tos) == {"frontdesk@clinic.example", "manager@clinic.example"}


async def test_saving_and_notifying_log_no_personal_details_at_info(store, make_worker, smtp_server, clock, caplog):
    caplog.set_level("INFO")
    smtp_server.refuse("451 4.3.0 Try again later")
    store.add(a_new_lead())
    worker = make_worker()
    await worker.deliver_due()
    smtp_server.accept()
    clock.advance(3600)
    await worker.deliver_due()
    assert len(smtp_server.received) == 1

    ours = [record for record in caplog.records if record.name.startswith("bot.")]
    assert any("saved" in record.getMessage() for record in ours)
    assert any("sent" in record.getMessage() for record in ours)
    # The test SMTP server's own log ("mail.log") is not the product's.
    logged = "\n".join(record.getMessage() for record in caplog.records if record.name != "mail.log")
    for fragment in PERSONAL_FRAGMENTS + tuple(VISITOR.values()):
        assert fragment.lower() not in logged.lower(), fragment
