"""The inquiry's times question with the clinic's open times: offered, picked, held, kept on the lead, released."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.inquiry import (
    ActionAskPreferredTimes,
    ActionCancelInquiry,
    ActionStartInquiry,
    ActionSubmitInquiry,
    ValidateInquiryForm,
)
from bot.db import make_engine, make_session_factory
from bot.leads.models import Lead
from bot.schedule.models import Booking, BookingStatus
from bot.schedule.offers import OTHER_TIMES, opening_payload
from tests.actions.test_inquiry_actions import as_dict, database, domain, make_tracker  # noqa: F401 - fixtures

TZ = ZoneInfo("America/New_York")
ASKING_TIMES = {"inquiry_kind": "appointment", "lead_name": "Maria Lopez", "contact": "804 555 0134",
                "contact_phone": "+18045550134", "area_of_concern": "Knee", "requested_slot": "preferred_times"}


async def ask_times(domain, slots: dict, sender: str = "visitor-1") -> tuple[dict, dict]:
    dispatcher = CollectingDispatcher()
    events = await ActionAskPreferredTimes().run(dispatcher, make_tracker(slots=slots, sender=sender), domain)
    [message] = dispatcher.messages
    return as_dict(events), message


async def reply(domain, slots: dict, text: str, *, entities: list | None = None, sender: str = "visitor-1"):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots=slots, text=text, entities=entities, extracted={}, sender=sender)
    events = await ValidateInquiryForm().run(dispatcher, tracker, domain)
    return as_dict(events), dispatcher.messages


def button(starts: str) -> list[dict]:
    return [{"entity": "opening", "value": starts}]


def bookings(settings) -> list[Booking]:
    with make_session_factory(make_engine(settings))() as session:
        return list(session.scalars(select(Booking).order_by(Booking.id)))


async def test_an_availability_question_is_answered_with_open_times_as_buttons(domain, database):
    slots, message = await ask_times(domain, ASKING_TIMES)
    titles = [b["title"] for b in message["buttons"]]
    assert titles[-1] == "Other times" and 2 <= len(titles) <= 7
    assert len(slots["offered_times"]) == len(titles) - 1
    first = datetime.fromisoformat(slots["offered_times"][0])
    assert first > datetime.now(timezone.utc) + timedelta(minutes=59)
    assert message["buttons"][0]["payload"] == opening_payload(slots["offered_times"][0])
    assert "Which suits you?" in message["text"]


async def test_the_words_that_started_the_inquiry_choose_the_times_offered(domain, database):
    dispatcher = CollectingDispatcher()
    events = await ActionStartInquiry().run(
        dispatcher, make_tracker(intent="inquire_availability", text="anything friday afternoon?"), domain)
    asked = as_dict(events)["times_asked"]
    slots, message = await ask_times(domain, {**ASKING_TIMES, "times_asked": asked})
    for starts in slots["offered_times"]:
        local = datetime.fromisoformat(starts).astimezone(TZ)
        assert local.weekday() == 4 and local.hour >= 12
    assert "Here are our open times on Fri" in message["text"]


async def test_a_cost_inquiry_is_asked_in_words(domain, database):
    slots, message = await ask_times(domain, {**ASKING_TIMES, "inquiry_kind": "cost"})
    assert message["response"] == "utter_ask_preferred_times" and slots["offered_times"] is None


async def test_a_picked_time_is_held_and_never_offered_to_another_visitor(domain, database):
    offered, _ = await ask_times(domain, ASKING_TIMES)
    first = offered["offered_times"][0]
    filled, _ = await reply(domain, {**ASKING_TIMES, **offered}, opening_payload(first), entities=button(first))
    assert filled["preferred_times"] == "{:%a %b} {}, {}".format(
        datetime.fromisoformat(first).astimezone(TZ), datetime.fromisoformat(first).astimezone(TZ).day,
        datetime.fromisoformat(first).astimezone(TZ).strftime("%I:%M %p").lstrip("0"))
    assert filled["requested_start"] and filled["booking_id"]
    [held] = bookings(database)
    assert held.status == BookingStatus.held and held.conversation_id == "visitor-1"

    others, _ = await ask_times(domain, ASKING_TIMES, sender="visitor-2")
    assert first not in others["offered_times"]
    taken, messages = await reply(domain, {**ASKING_TIMES, **others}, opening_payload(first), entities=button(first),
                                  sender="visitor-2")
    assert taken["preferred_times"] is None and "just been taken" in messages[0]["text"]


async def test_typing_one_of_the_shown_times_picks_it(domain, database):
    offered, message = await ask_times(domain, ASKING_TIMES)
    first = datetime.fromisoformat(offered["offered_times"][0]).astimezone(TZ)
    typed = f"{first:%A} at {first.hour % 12 or 12}{'am' if first.hour < 12 else 'pm'}"
    filled, _ = await reply(domain, {**ASKING_TIMES, **offered}, typed)
    assert datetime.fromisoformat(filled["requested_start"]) == first


async def test_asking_about_other_days_offers_them_and_other_times_asks_in_words(domain, database):
    offered, _ = await ask_times(domain, ASKING_TIMES)
    asked, _ = await reply(domain, {**ASKING_TIMES, **offered}, "what about next week?")
    assert asked["preferred_times"] is None and asked["times_asked"] == "what about next week?"
    other, _ = await reply(domain, {**ASKING_TIMES, **offered}, opening_payload(OTHER_TIMES), entities=button(OTHER_TIMES))
    assert other["times_other"] is True and other["preferred_times"] is None
    slots, message = await ask_times(domain, {**ASKING_TIMES, "times_other": True})
    assert message["response"] == "utter_ask_preferred_times"
    words, _ = await reply(domain, {**ASKING_TIMES, **offered}, "weekday mornings")
    assert words["preferred_times"] == "weekday mornings" and words["requested_start"] is None


async def test_the_held_time_becomes_the_leads_requested_time(domain, database):
    offered, _ = await ask_times(domain, ASKING_TIMES)
    first = offered["offered_times"][0]
    filled, _ = await reply(domain, {**ASKING_TIMES, **offered}, opening_payload(first), entities=button(first))
    slots = {**ASKING_TIMES, **filled, "consent": True, "details_confirmed": True, "requested_slot": None}
    consent = {"event": "slot", "name": "consent", "value": True, "timestamp": 1_700_000_100.0}
    dispatcher = CollectingDispatcher()
    await ActionSubmitInquiry().run(dispatcher, make_tracker(slots=slots, intent="affirm", text="yes",
                                                             extra_events=[consent]), domain)
    with make_session_factory(make_engine(database))() as session:
        lead = session.scalars(select(Lead)).one()
        booking = session.scalars(select(Booking)).one()
        assert (booking.lead_id, booking.status) == (lead.id, BookingStatus.requested)
        assert lead.preferred_times == filled["preferred_times"]
        # Kept for staff for HOLD_HOURS, or until the visit would start if that is sooner.
        assert booking.expires_at == min(booking.updated_at + timedelta(hours=24), booking.starts)


@pytest.mark.parametrize("stopped_by", ["stop", "no consent"])
async def test_a_stopped_inquiry_opens_its_held_time_again(domain, database, stopped_by):
    offered, _ = await ask_times(domain, ASKING_TIMES)
    first = offered["offered_times"][0]
    filled, _ = await reply(domain, {**ASKING_TIMES, **offered}, opening_payload(first), entities=button(first))
    slots = {**ASKING_TIMES, **filled}
    dispatcher = CollectingDispatcher()
    if stopped_by == "stop":
        await ActionCancelInquiry().run(dispatcher, make_tracker(slots=slots, intent="stop", text="stop"), domain)
    else:
        await ActionSubmitInquiry().run(dispatcher, make_tracker(slots={**slots, "consent": False}, intent="deny"), domain)
    [booking] = bookings(database)
    assert booking.status == BookingStatus.released
    again, _ = await ask_times(domain, ASKING_TIMES, sender="visitor-2")
    assert first in again["offered_times"]
