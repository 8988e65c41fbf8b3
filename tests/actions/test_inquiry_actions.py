"""The inquiry form's actions, run the way the action server runs them, on real trackers."""

from __future__ import annotations

import json
import logging
from typing import Any, Callable

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.inquiry import (
    ActionAskDetailsConfirmed,
    ActionCancelInquiry,
    ActionStartInquiry,
    ActionSubmitInquiry,
    ValidateInquiryForm,
)
from bot import inquiry, services
from bot.db import make_engine, make_session_factory, upgrade_database
from bot.leads.models import Lead
from bot.settings import PROJECT_ROOT, Settings
from tests.staff import rasa_events as rasa


@pytest.fixture(scope="module")
def domain() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())


@pytest.fixture
def database(tmp_path, monkeypatch) -> Settings:
    """The action server's settings come from its environment: point them at a fresh database."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CLINIC_OPEN_DAYS", "mon-sun")
    monkeypatch.setenv("CLINIC_OPEN_HOURS", "00:00-23:59")
    services.reset()
    settings = Settings.from_env()
    upgrade_database(make_engine(settings))
    yield settings
    services.reset()


def make_tracker(
    *,
    slots: dict | None = None,
    intent: str = "inform",
    text: str = "",
    entities: list | None = None,
    extracted: dict | None = None,
    sender: str = "visitor-1",
    extra_events: list | None = None,
) -> Tracker:
    """A tracker as the form sees it: the user's message, the form running, then the slots just extracted."""
    latest = {"intent": {"name": intent, "confidence": 0.99}, "text": text, "entities": entities or []}
    events: list[dict[str, Any]] = list(extra_events or [])
    events += [
        {"event": "user", "text": text, "parse_data": latest, "timestamp": 1_700_000_000.0},
        {"event": "action", "name": "inquiry_form"},
    ]
    events += [{"event": "slot", "name": name, "value": value} for name, value in (extracted or {}).items()]
    all_slots = {"inquiry_failures": 0, **(slots or {}), **(extracted or {})}
    return Tracker(sender, all_slots, latest, events, False, None, {"name": "inquiry_form"}, "inquiry_form")


def as_dict(events) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def run_form(domain, tracker) -> tuple[dict, list[dict]]:
    dispatcher = CollectingDispatcher()
    events = await ValidateInquiryForm().run(dispatcher, tracker, domain)
    return as_dict(events), dispatcher.messages


# Starting


@pytest.mark.parametrize(
    "intent, kind",
    [("inquire_cost", "cost"), ("inquire_availability", "availability"), ("request_appointment", "appointment"),
     ("affirm", "callback")],
)
async def test_an_inquiry_remembers_its_kind_and_introduces_itself(domain, intent, kind):
    dispatcher = CollectingDispatcher()
    events = await ActionStartInquiry().run(dispatcher, make_tracker(intent=intent), domain)
    assert as_dict(events)["inquiry_kind"] == kind
    assert dispatcher.messages[0]["response"] == f"utter_inquiry_intro_{kind}"
    assert f"utter_inquiry_intro_{kind}" in domain["responses"]


async def test_an_area_named_when_asking_is_not_asked_again(domain):
    tracker = make_tracker(
        intent="request_appointment", text="can I book in for my knee",
        entities=[{"entity": "body_area", "value": "knee"}],
    )
    events = await ActionStartInquiry().run(CollectingDispatcher(), tracker, domain)
    assert as_dict(events)["area_of_concern"] == "Knee"


async def test_a_new_inquiry_forgets_the_last_one(domain):
    tracker = make_tracker(intent="inquire_cost", slots={"lead_name": "Old Name", "consent": True})
    slots = as_dict(await ActionStartInquiry().run(CollectingDispatcher(), tracker, domain))
    assert slots["lead_name"] is None and slots["consent"] is None


# Which questions are asked


async def test_only_cost_inquiries_ask_about_insurance(domain):
    form = ValidateInquiryForm()
    domain_slots = domain["forms"]["inquiry_form"]["required_slots"]
    cost = await form.required_slots(domain_slots, CollectingDispatcher(), make_tracker(slots={"inquiry_kind": "cost"}), domain)
    booking = await form.required_slots(domain_slots, CollectingDispatcher(), make_tracker(slots={"inquiry_kind": "appointment"}), domain)
    assert "insurance" in cost and "insurance" not in booking
    assert cost.index("insurance") < cost.index("consent")


async def test_no_read_back_when_the_visitor_declines_contact(domain):
    form = ValidateInquiryForm()
    slots = await form.required_slots(
        domain["forms"]["inquiry_form"]["required_slots"], CollectingDispatcher(),
        make_tracker(slots={"inquiry_kind": "appointment", "consent": False}), domain,
    )
    assert "details_confirmed" not in slots


# Answers


async def test_a_name_is_taken_from_a_sentence(domain):
    slots, messages = await run_form(domain, make_tracker(
        slots={"requested_slot": "lead_name"}, text="my name is maria lopez", extracted={"lead_name": "my name is maria lopez"}))
    assert slots["lead_name"] == "Maria Lopez"
    assert messages == []


async def test_a_phone_number_is_stored_in_e164(domain):
    slots, _ = await run_form(domain, make_tracker(
        slots={"requested_slot": "contact"}, text="(804) 555-0134", extracted={"contact": "(804) 555-0134"}))
    assert slots["contact_phone"] == "+18045550134"
    assert slots["contact_email"] is None


async def test_an_email_and_a_phone_in_one_answer_are_both_kept(domain):
    slots, _ = await run_form(domain, make_tracker(
        slots={"requested_slot": "contact"}, text="jo@Example.COM or 804 555 0134",
        extracted={"contact": "jo@Example.COM or 804 555 0134"}))
    assert slots["contact_phone"] == "+18045550134"
    assert slots["contact_email"] == "jo@example.com"


async def test_invalid_contact_is_asked_again_with_a_hint_then_the_phone_is_offered(domain):
    failures = 0
    for attempt in range(3):
        slots, messages = await run_form(domain, make_tracker(
            slots={"requested_slot": "contact", "inquiry_failures": failures}, text="804 555",
            extracted={"contact": "804 555"}))
        assert slots["contact"] is None
        failures = slots["inquiry_failures"]
        assert "area code" in messages[0]["text"]
        offered = any(m.get("response") == "utter_offer_phone" for m in messages)
        assert offered == (attempt == 2)
    assert failures == 3


async def test_an_area_keeps_the_visitors_own_words(domain):
    slots, _ = await run_form(domain, make_tracker(
        slots={"requested_slot": "area_of_concern"}, text="pain in my left hip when I climb stairs",
        extracted={"area_of_concern": "hip"}))
    assert slots["area_of_concern"] == "pain in my left hip when I climb stairs"


async def test_an_area_button_becomes_the_canonical_area(domain):
    slots, _ = await run_form(domain, make_tracker(
        slots={"requested_slot": "area_of_concern"}, text="my lower back", extracted={"area_of_concern": "lower back"}))
    assert slots["area_of_concern"] == "Lower back"


async def test_insurance_can_be_skipped(domain):
    slots, _ = await run_form(domain, make_tracker(
        slots={"requested_slot": "insurance", "inquiry_kind": "cost"}, text="skip", extracted={"insurance": "skip"}))
    assert slots["insurance"] == "not given"


# Consent


@pytest.mark.parametrize("intent, expected", [("affirm", True), ("deny", False)])
async def test_consent_is_a_plain_yes_or_no(domain, intent, expected):
    slots, _ = await run_form(domain, make_tracker(slots={"requested_slot": "consent"}, intent=intent, text="yes"))
    assert slots["consent"] is expected


async def test_an_unclear_consent_answer_is_asked_again(domain):
    slots, messages = await run_form(domain, make_tracker(slots={"requested_slot": "consent"}, intent="inform", text="maybe later"))
    assert slots["consent"] is None
    assert "yes or a no" in messages[0]["text"]


async def test_a_question_while_asking_consent_is_left_to_the_faq_rule(domain):
    slots, messages = await run_form(domain, make_tracker(slots={"requested_slot": "consent"}, intent="faq", text="what is a dexa scan"))
    assert "consent" not in slots and messages == []


# The read-back


FILLED = {
    "inquiry_kind": "cost", "lead_name": "Maria Lopez", "contact": "804 555 0134", "contact_phone": "+18045550134",
    "contact_email": None, "area_of_concern": "Lower back", "preferred_times": "weekday mornings",
    "insurance": "Medicare", "consent": True, "requested_slot": "details_confirmed",
}


async def test_the_read_back_shows_every_detail(domain):
    dispatcher = CollectingDispatcher()
    await ActionAskDetailsConfirmed().run(dispatcher, make_tracker(slots=FILLED), domain)
    text = dispatcher.messages[0]["text"]
    for shown in ["Maria Lopez", "(804) 555-0134", "Lower back", "weekday mornings", "Medicare"]:
        assert shown in text
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/affirm", "/deny"]


async def test_yes_at_the_read_back_confirms_and_saves_the_lead_at_once(domain, database):
    consent_event = {"event": "slot", "name": "consent", "value": True, "timestamp": 1_700_000_100.0}
    slots, _ = await run_form(domain, make_tracker(slots=FILLED, intent="affirm", text="yes, that's right",
                                                   sender="conversation-7", extra_events=[consent_event]))
    assert slots["details_confirmed"] is True
    # Saved before `action_submit_inquiry` runs: if the action server died in between, nothing is lost.
    [lead] = stored_leads(database)
    assert (lead.name, lead.conversation_id) == ("Maria Lopez", "conversation-7")

    # The submit that follows (or a confirmation sent again) finds the same lead and thanks the visitor.
    _, messages = await submit(domain, FILLED, sender="conversation-7")
    assert "Thank you, Maria!" in messages[0]["text"]
    assert [lead.id for lead in stored_leads(database)] == [lead.id]


async def test_a_new_number_at_the_read_back_replaces_the_old_one(domain):
    slots, _ = await run_form(domain, make_tracker(slots=FILLED, text="actually my number is 804 555 0188"))
    assert slots["contact_phone"] == "+18045550188"
    assert slots["details_confirmed"] is None
    assert slots["correction_requested"] is False


async def test_no_at_the_read_back_asks_which_detail(domain):
    slots, _ = await run_form(domain, make_tracker(slots=FILLED, intent="deny", text="no"))
    assert slots["correction_requested"] is True
    dispatcher = CollectingDispatcher()
    await ActionAskDetailsConfirmed().run(dispatcher, make_tracker(slots={**FILLED, **slots}), domain)
    titles = [b["title"] for b in dispatcher.messages[0]["buttons"]]
    assert titles == ["Name", "Phone or email", "Area of concern", "Preferred times", "Insurance"]


async def test_naming_a_detail_asks_for_it_again_and_keeps_the_rest(domain):
    slots, _ = await run_form(domain, make_tracker(slots={**FILLED, "correction_requested": True}, text="name"))
    assert slots["lead_name"] is None
    assert "contact_phone" not in slots and "area_of_concern" not in slots


# Submitting


async def submit(domain, slots: dict, sender: str = "visitor-1") -> tuple[list, list]:
    dispatcher = CollectingDispatcher()
    consent_event = {"event": "slot", "name": "consent", "value": True, "timestamp": 1_700_000_100.0}
    tracker = make_tracker(slots={**slots, "details_confirmed": True}, intent="affirm", text="yes",
                           sender=sender, extra_events=[consent_event])
    events = await ActionSubmitInquiry().run(dispatcher, tracker, domain)
    return events, dispatcher.messages


def stored_leads(settings: Settings) -> list[Lead]:
    with make_session_factory(make_engine(settings))() as session:
        return list(session.scalars(select(Lead)))


async def test_a_confirmed_inquiry_becomes_a_lead_with_its_consent_record(domain, database):
    events, messages = await submit(domain, FILLED, sender="conversation-42")
    [lead] = stored_leads(database)
    assert (lead.kind.value, lead.name, lead.phone, lead.area_of_concern, lead.insurance) == (
        "cost", "Maria Lopez", "+18045550134", "Lower back", "Medicare")
    assert lead.conversation_id == "conversation-42"
    assert lead.consent_text == domain["responses"]["utter_ask_consent"][0]["text"]
    assert lead.consented_at.timestamp() == 1_700_000_100.0
    assert lead.status.value == "new"
    assert "Thank you, Maria!" in messages[0]["text"]
    assert as_dict(events)["lead_name"] is None


async def test_a_skipped_insurance_is_stored_as_none(domain, database):
    await submit(domain, {**FILLED, "insurance": "not given"})
    [lead] = stored_leads(database)
    assert lead.insurance is None


async def test_without_consent_nothing_is_stored(domain, database):
    events, messages = await submit(domain, {**FILLED, "consent": False})
    assert stored_leads(database) == []
    assert messages[0]["response"] == "utter_no_consent"


async def test_a_database_failure_tells_the_visitor_and_logs_no_personal_details(domain, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "not-migrated"))
    services.reset()
    caplog.set_level(logging.DEBUG)
    try:
        _, messages = await submit(domain, FILLED)
    finally:
        services.reset()
    assert messages[0]["response"] == "utter_inquiry_failed"
    assert "Maria" not in caplog.text and "5550134" not in caplog.text and "Lower back" not in caplog.text


def logged_inquiry(settings: Settings, sender: str) -> Callable[[], str]:
    """Rasa's log of `sender` filling in the form; returns a reader of what the log holds then."""
    engine = make_engine(settings)
    rasa.create_events_table(engine)
    rasa.insert_events(engine, sender, [
        rasa.user("how much is a visit", "inquire_cost", 1_700_000_000.0),
        rasa.action("action_start_inquiry", 1_700_000_001.0),
        rasa.user("Maria Lopez", "inform", 1_700_000_010.0),
        rasa.slot("lead_name", "Maria Lopez", 1_700_000_010.5),
        rasa.user("804-555-0134", "inform", 1_700_000_020.0),
        rasa.slot("contact_phone", "+18045550134", 1_700_000_020.5),
    ])

    def stored() -> str:
        with engine.connect() as connection:
            return json.dumps(list(connection.scalars(
                select(rasa.EVENTS.c.data).where(rasa.EVENTS.c.sender_id == sender))))
    return stored


async def test_stop_leaves_the_form_and_forgets_the_details(domain, database):
    log = logged_inquiry(database, "visitor-1")
    dispatcher = CollectingDispatcher()
    events = await ActionCancelInquiry().run(dispatcher, make_tracker(slots=FILLED), domain)
    assert ActiveLoop(None) in events
    assert SlotSet("lead_name", None) in events
    assert dispatcher.messages[0]["response"] == "utter_inquiry_stopped"
    assert "Maria" not in log() and "555-0134" not in log() and "5550134" not in log()
    assert stored_leads(database) == []


async def test_without_consent_the_details_leave_the_conversation_log_too(domain, database):
    log = logged_inquiry(database, "visitor-1")
    await submit(domain, {**FILLED, "consent": False})
    assert "Maria" not in log() and "555-0134" not in log() and "5550134" not in log()


async def test_an_area_named_a_message_earlier_is_not_asked_again(domain):
    earlier = {"event": "user", "text": "my knee hurts when I climb stairs",
               "parse_data": {"intent": {"name": "faq"}, "entities": [{"entity": "body_area", "value": "knee"}]}}
    tracker = make_tracker(intent="inquire_cost", text="how much does a visit cost", extra_events=[earlier])
    events = await ActionStartInquiry().run(CollectingDispatcher(), tracker, domain)
    assert as_dict(events)["area_of_concern"] == "Knee"


async def test_an_area_from_an_earlier_session_is_not_carried_over(domain):
    earlier = {"event": "user", "text": "my knee hurts",
               "parse_data": {"intent": {"name": "faq"}, "entities": [{"entity": "body_area", "value": "knee"}]}}
    tracker = make_tracker(intent="inquire_cost", text="how much does a visit cost",
                           extra_events=[earlier, {"event": "session_started"}])
    events = await ActionStartInquiry().run(CollectingDispatcher(), tracker, domain)
    assert as_dict(events).get("area_of_concern") is None


# Replies read in context: the form itself decides whether a reply answers its question.

async def test_a_name_that_sounds_like_a_question_is_taken_as_the_name(domain):
    slots, messages = await run_form(domain, make_tracker(
        slots={"requested_slot": "lead_name"}, intent="faq", text="Dexter Bone"))
    assert slots["lead_name"] == "Dexter Bone"
    assert messages == []


@pytest.mark.parametrize("intent, text", [("faq", "what's a dexa scan?"), ("self_harm", "I want to kill myself"),
                                          ("emergency", "my mom fell and can't get up"), ("stop", "stop")])
async def test_a_question_or_a_crisis_is_left_to_its_rule(domain, intent, text):
    # No slot set: Rasa rejects the form, and the rule for the intent answers first.
    slots, messages = await run_form(domain, make_tracker(slots={"requested_slot": "lead_name"}, intent=intent, text=text))
    slots.pop("requested_slot", None)
    assert slots == {} and messages == []


@pytest.mark.parametrize("text", ["asdf", "blorf quantum zebra", "test test"])
async def test_a_mash_at_the_name_question_is_asked_again(domain, text):
    slots, messages = await run_form(domain, make_tracker(
        slots={"requested_slot": "lead_name"}, intent="out_of_scope", text=text))
    assert slots["lead_name"] is None
    assert "doesn't look like a name" in messages[0]["text"]


async def test_why_a_detail_is_needed_is_explained_and_the_question_asked_again(domain):
    slots, messages = await run_form(domain, make_tracker(
        slots={"requested_slot": "contact", "inquiry_failures": 0}, intent="out_of_scope", text="why do you need that?"))
    assert slots["contact"] is None and "inquiry_failures" not in slots
    assert messages[0]["text"] == inquiry.reason_for("contact", Settings.from_env({}).clinic_phone)


async def test_why_consent_is_asked_is_explained(domain):
    slots, messages = await run_form(domain, make_tracker(
        slots={"requested_slot": "consent"}, intent="out_of_scope", text="why do you need my permission for that?"))
    assert slots["consent"] is None
    assert messages[0]["text"] == inquiry.reason_for("consent", Settings.from_env({}).clinic_phone)


async def test_gibberish_is_no_area(domain):
    slots, messages = await run_form(domain, make_tracker(
        slots={"requested_slot": "area_of_concern"}, intent="out_of_scope", text="blorf quantum zebra"))
    assert slots["area_of_concern"] is None
    assert "which area" in messages[0]["text"]
