"""The inquiry form: start, validate, read back, submit or cancel. The rules live in `bot.inquiry`."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import inquiry, services
from bot.next_steps import next_steps_message
from bot.leads.store import NewLead
from bot.schedule import bookings, offers

log = logging.getLogger(__name__)


def _intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def _text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def _recent_areas(tracker: Tracker, messages: int = 4) -> list[str]:
    """Body areas named in the visitor's last few messages of this session, newest first."""
    areas: list[str] = []
    for event in reversed(tracker.events):
        if event.get("event") == "session_started" or messages == 0:
            break
        if event.get("event") != "user":
            continue
        messages -= 1
        entities = (event.get("parse_data") or {}).get("entities") or []
        areas += [str(e["value"]) for e in entities if e.get("entity") == "body_area" and e.get("value")]
    return areas


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _opening_entity(tracker: Tracker) -> str | None:
    return next(tracker.get_latest_entity_values(offers.OPENING_ENTITY), None)


async def _release_held(tracker: Tracker) -> None:
    """The time held for this conversation opens again (stop, no consent, or other times chosen)."""
    try:
        await asyncio.to_thread(bookings.release_held, services.session_factory(), conversation_id=tracker.sender_id)
    except Exception as error:  # noqa: BLE001 - the hold lapses on its own; the visitor still gets an answer
        log.error("Could not release a held time: %s", type(error).__name__)


def _times_reply(tracker: Tracker, text: str) -> offers.Reply:
    return offers.read_reply(text, opening=_opening_entity(tracker), offered=tracker.get_slot("offered_times"),
                             other_chosen=bool(tracker.get_slot("times_other")), now=_now(), settings=services.settings())


def _cleared_form() -> list[EventType]:
    return [SlotSet(slot, None) for slot in inquiry.FORM_SLOTS] + [SlotSet("inquiry_failures", 0)]


class ActionStartInquiry(Action):
    def name(self) -> str:
        return "action_start_inquiry"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        kind = inquiry.kind_for_intent(_intent(tracker))
        events = _cleared_form() + [SlotSet("inquiry_kind", kind)]
        # An area the visitor already named ("book me in for my knee", or "my knee hurts" a
        # message earlier) need not be asked again; the read-back lets them change it.
        area = next((inquiry.clean_area(value) for value in _recent_areas(tracker)), None)
        if area:
            events.append(SlotSet("area_of_concern", area))
        # "anything Friday afternoon?": the times question later offers Friday afternoon's openings.
        if offers.asked_times(_text(tracker), now=_now(), settings=services.settings()) is not None:
            events.append(SlotSet("times_asked", _text(tracker)))
        dispatcher.utter_message(response=f"utter_inquiry_intro_{kind}")
        return events


class ValidateInquiryForm(FormValidationAction):
    def name(self) -> str:
        return "validate_inquiry_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        slots = list(domain_slots)
        if tracker.get_slot("inquiry_kind") != "cost" and "insurance" in slots:
            slots.remove("insurance")
        if tracker.get_slot("consent") is False and "details_confirmed" in slots:
            slots.remove("details_confirmed")
        return slots

    # Free-text answers are read in context (`inquiry.reads_as_answer`) rather than by the
    # classifier's intent alone, so "Dexter Bone" is a name even when "bone" sounds like a question.
    def _answer_to(self, slot: str, tracker: Tracker) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != slot:
            return {}
        text = _text(tracker)
        return {slot: text} if inquiry.reads_as_answer(slot, text, _intent(tracker)) else {}

    async def extract_lead_name(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        return self._answer_to("lead_name", tracker)

    async def extract_contact(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        return self._answer_to("contact", tracker)

    async def extract_area_of_concern(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        return self._answer_to("area_of_concern", tracker)

    async def extract_preferred_times(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "preferred_times":
            return {}
        if opening := _opening_entity(tracker):
            return {"preferred_times": opening}
        # "what about next week?" or "none of those": questions the times question itself answers.
        if _times_reply(tracker, _text(tracker)) != offers.Reply():
            return {"preferred_times": _text(tracker)}
        return self._answer_to("preferred_times", tracker)

    async def extract_insurance(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        return self._answer_to("insurance", tracker)

    @staticmethod
    def _explained(slot: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any] | None:
        """For "why do you need that?": the reason, then the same question again."""
        if tracker.get_slot("requested_slot") != slot or not inquiry.asks_why(_text(tracker), slot):
            return None
        dispatcher.utter_message(text=inquiry.reason_for(slot, services.settings().clinic_phone))
        return {slot: None}

    def _rejected(self, slot: str, hint: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        failures = int(tracker.get_slot("inquiry_failures") or 0) + 1
        dispatcher.utter_message(text=hint)
        if failures >= inquiry.MAX_FAILURES_BEFORE_PHONE:
            dispatcher.utter_message(response="utter_offer_phone")
        return {slot: None, "inquiry_failures": failures}

    def validate_lead_name(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        if value is None:
            return {}
        if (explained := self._explained("lead_name", dispatcher, tracker)) is not None:
            return explained
        name = inquiry.clean_name(str(value))
        if name is None:
            return self._rejected("lead_name", "That doesn't look like a name. What name should our staff ask for? For example, Maria Lopez.", dispatcher, tracker)
        return {"lead_name": name, "inquiry_failures": 0}

    def validate_contact(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        if value is None:
            return {}
        if (explained := self._explained("contact", dispatcher, tracker)) is not None:
            return explained
        found = inquiry.parse_contact(str(value))
        if not found.found:
            if any(ch.isdigit() for ch in str(value)):
                hint = ("That doesn't look like a US phone number. Please include the area code, "
                        "like 804-555-0134, or give an email address instead.")
            else:
                hint = "I couldn't find a phone number or email there. Please type one, like 804-555-0134 or name@example.com."
            return self._rejected("contact", hint, dispatcher, tracker)
        return {"contact": str(value), "contact_phone": found.phone, "contact_email": found.email, "inquiry_failures": 0}

    def validate_area_of_concern(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        if value is None:
            return {}
        if (explained := self._explained("area_of_concern", dispatcher, tracker)) is not None:
            return explained
        # The visitor's own words say more than the entity alone ("my left hip when I climb stairs").

        typed = _text(tracker) if tracker.get_slot("requested_slot") == "area_of_concern" else ""
        area = inquiry.clean_area(typed or str(value))
        # Gibberish is no description of an area, however the form reads it.
        if area is None or (area != inquiry.NOT_GIVEN and _intent(tracker) == "out_of_scope"
                            and not inquiry.find_area(typed or str(value))):
            return self._rejected("area_of_concern", "Please tell me which area you'd like help with, like lower back or hip.", dispatcher, tracker)
        return {"area_of_concern": area, "inquiry_failures": 0}

    async def validate_preferred_times(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        if value is None:
            return {}
        if (explained := self._explained("preferred_times", dispatcher, tracker)) is not None:
            return explained
        reply = _times_reply(tracker, str(value))
        if reply.picked is not None:
            return await self._hold(reply.picked, dispatcher, tracker)
        if reply.unclear:
            dispatcher.utter_message(text="I couldn't tell which of the times shown you mean. Please tap one, or "
                                          "type it as it's shown (like Tue Dec 8, 9:00 AM), or choose Other times.")
            return {"preferred_times": None}
        if reply.asked is not None:
            return {"preferred_times": None, "times_asked": reply.asked, "offered_times": None}
        if reply.other_times:
            await _release_held(tracker)
            return {"preferred_times": None, "times_other": True, "offered_times": None,
                    "booking_id": None, "requested_start": None}
        times = inquiry.clean_times(str(value))
        if times is None or (_intent(tracker) == "out_of_scope" and not inquiry.mentions_time(str(value))):
            return self._rejected("preferred_times", "Which days or times usually work for you? For example: weekday mornings, or any time.", dispatcher, tracker)
        if tracker.get_slot("booking_id") is not None:
            await _release_held(tracker)
        return {"preferred_times": times, "inquiry_failures": 0, "offered_times": None,
                "booking_id": None, "requested_start": None}

    async def _hold(self, starts: datetime, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        settings = services.settings()
        try:
            held = await asyncio.to_thread(bookings.hold, services.session_factory(), settings, starts=starts,
                                           conversation_id=tracker.sender_id, now=_now())
        except Exception as error:  # noqa: BLE001 - the visitor can still give their times in words
            log.error("Could not hold a time: %s", type(error).__name__)
            dispatcher.utter_message(text="Sorry, I couldn't hold that time just now.")
            return {"preferred_times": None, "times_other": True, "offered_times": None}
        if held is None:
            dispatcher.utter_message(text="Sorry, that time has just been taken.")
            return {"preferred_times": None, "offered_times": None}
        return {"preferred_times": offers.label(held.starts, offers.clinic_zone(settings)), "booking_id": held.booking_id,
                "requested_start": held.starts.isoformat(), "offered_times": None, "inquiry_failures": 0}

    def validate_insurance(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        if value is None:
            return {}
        if (explained := self._explained("insurance", dispatcher, tracker)) is not None:
            return explained
        insurance = inquiry.clean_insurance(str(value))
        if insurance is None:
            return self._rejected("insurance", "Just the name of your plan is enough, like Medicare, or say skip.", dispatcher, tracker)
        return {"insurance": insurance, "inquiry_failures": 0}

    # Consent and the read-back use custom extraction: the extractors only classify the answer
    # and the validators act on it, because rasa_sdk drops slots outside the form that an
    # extractor sets, while a validator's slots are kept.
    async def extract_consent(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "consent":
            return {}
        intent = _intent(tracker)
        if intent in inquiry.INTERJECTION_INTENTS:
            return {}
        return {"consent": {"affirm": True, "deny": False}.get(intent or "")}

    def validate_consent(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        if value is None:
            if tracker.get_slot("requested_slot") != "consent":
                return {}
            if (explained := self._explained("consent", dispatcher, tracker)) is not None:
                return explained
            return self._rejected("consent", "Sorry, I need a yes or a no for this one.", dispatcher, tracker)
        return {"consent": bool(value), "inquiry_failures": 0}

    async def extract_details_confirmed(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "details_confirmed":
            return {}
        intent = _intent(tracker)
        if intent in inquiry.SAFETY_AND_STOP_INTENTS:
            return {}
        pressed = inquiry.typed_button(_text(tracker))
        if pressed is not None:
            return {"details_confirmed": pressed == "/affirm"}
        correction = inquiry.parse_correction(_text(tracker), tracker.current_slot_values())
        if intent == "affirm" and (correction is None or correction.asks_again):
            return {"details_confirmed": True}
        if correction is None and intent in inquiry.INTERJECTION_INTENTS:
            return {}
        return {"details_confirmed": False}

    async def validate_details_confirmed(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        if value is True:
            # Saved the moment the visitor confirms, in this turn: were the action server to die before
            # `action_submit_inquiry` runs, Rasa would carry on without it and the lead would be lost.
            # Saving again there returns this lead (the store is idempotent per submission).
            if tracker.get_slot("consent") is True:
                await _save_lead(tracker, domain)
            return {"details_confirmed": True, "correction_requested": False}
        if value is None or tracker.get_slot("requested_slot") != "details_confirmed":
            return {}
        correction = inquiry.parse_correction(_text(tracker), tracker.current_slot_values())
        if correction is None:
            return {"details_confirmed": None, "correction_requested": True}
        changed = dict(correction.slots)
        if "preferred_times" in changed and tracker.get_slot("booking_id") is not None:
            # Another time, or the question again: the held one opens for others.
            await _release_held(tracker)
            changed.update(booking_id=None, requested_start=None, offered_times=None, times_other=None)
        return {**changed, "details_confirmed": None, "correction_requested": False}


class ActionAskDetailsConfirmed(Action):
    def name(self) -> str:
        return "action_ask_details_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if tracker.get_slot("correction_requested"):
            buttons = [{"title": title, "payload": payload}
                       for title, payload in inquiry.correction_fields(tracker.get_slot("inquiry_kind"))]
            dispatcher.utter_message(
                text="Which detail should I change? You can also type the correction, like \"my number is 804-555-0188\".",
                buttons=buttons,
            )
        else:
            dispatcher.utter_message(
                text=inquiry.readback(tracker.current_slot_values()),
                buttons=[{"title": title, "payload": payload} for title, payload in inquiry.READBACK_BUTTONS],
            )
        return []


class ActionAskPreferredTimes(Action):
    """The times question: the clinic's open times as buttons, or, without any, the question in words."""

    def name(self) -> str:
        return "action_ask_preferred_times"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        offer = None
        if offers.offers_times(tracker.get_slot("inquiry_kind"), other_chosen=bool(tracker.get_slot("times_other")),
                               asked_text=tracker.get_slot("times_asked")):
            try:
                offer = await asyncio.to_thread(offers.make_offer, services.session_factory(), services.settings(),
                                                asked_text=tracker.get_slot("times_asked"), now=_now())
            except Exception as error:  # noqa: BLE001 - the visitor can still give their times in words
                log.error("Could not look up open times: %s", type(error).__name__)
        if offer is None:
            dispatcher.utter_message(response="utter_ask_preferred_times")
            return [SlotSet("offered_times", None)]
        dispatcher.utter_message(text=offer.text, buttons=offer.buttons)
        return [SlotSet("offered_times", offer.offered)]


class ActionAcknowledgeRequest(Action):
    """A cost, availability or booking request during the inquiry: it is being taken care of.

    At the times question a request naming days or times is for the form instead, which offers them.
    """

    def name(self) -> str:
        return "action_acknowledge_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        # At the times question, days or times named are its answer, whatever else the message asks.
        if tracker.get_slot("requested_slot") == "preferred_times" and (
                _times_reply(tracker, _text(tracker)) != offers.Reply() or inquiry.mentions_time(_text(tracker))):
            return []
        dispatcher.utter_message(response="utter_inquiry_under_way")
        return []


def _new_lead(tracker: Tracker, domain: DomainDict) -> NewLead:
    slots = tracker.current_slot_values()
    insurance = slots.get("insurance")
    return NewLead(
        kind=slots.get("inquiry_kind") or inquiry.CALLBACK,
        name=slots.get("lead_name") or "",
        phone=slots.get("contact_phone"),
        email=slots.get("contact_email"),
        area_of_concern=slots.get("area_of_concern") or "",
        preferred_times=slots.get("preferred_times") or "",
        insurance=None if insurance in (None, inquiry.NOT_GIVEN) else insurance,
        consent_text=_consent_wording(domain),
        consented_at=_consent_time(tracker),
        conversation_id=tracker.sender_id,
        booking_id=int(slots["booking_id"]) if slots.get("booking_id") is not None else None,
    )


async def _save_lead(tracker: Tracker, domain: DomainDict) -> int | None:
    """The lead of the confirmed inquiry, saved once however often this runs; None when saving failed."""
    try:
        lead_id = await asyncio.to_thread(services.lead_store().add, _new_lead(tracker, domain))
    except Exception as error:  # noqa: BLE001 - the visitor must get an answer whatever failed
        # The error's text may quote the visitor's details, so only its type is logged.
        log.error("Could not save an inquiry: %s", type(error).__name__)
        return None
    log.info("Inquiry saved as lead #%s", lead_id)
    return lead_id


def _consent_wording(domain: DomainDict) -> str:
    variations = domain.get("responses", {}).get("utter_ask_consent") or [{}]
    return variations[0].get("text", "")


def _consent_time(tracker: Tracker) -> datetime:
    for event in reversed(tracker.events):
        if event.get("event") == "slot" and event.get("name") == "consent" and event.get("value") is True:
            if event.get("timestamp"):
                return datetime.fromtimestamp(event["timestamp"], tz=timezone.utc)
            break
    return datetime.now(timezone.utc)


async def _forget_inquiry(tracker: Tracker) -> None:
    """A withdrawn inquiry leaves none of the visitor's details in the conversation log, and holds no time."""
    if tracker.get_slot("booking_id") is not None:
        await _release_held(tracker)
    try:
        await asyncio.to_thread(services.conversation_log().forget_inquiry, tracker.sender_id)
    except Exception as error:  # noqa: BLE001 - the visitor still gets an answer
        log.error("Could not remove a withdrawn inquiry's details: %s", type(error).__name__)


class ActionSubmitInquiry(Action):
    def name(self) -> str:
        return "action_submit_inquiry"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        slots = tracker.current_slot_values()
        if slots.get("consent") is not True:
            await _forget_inquiry(tracker)
            dispatcher.utter_message(response="utter_no_consent")
            return _cleared_form()
        if slots.get("details_confirmed") is not True:
            await _forget_inquiry(tracker)
            dispatcher.utter_message(response="utter_inquiry_stopped")
            return _cleared_form()
        lead_id = await _save_lead(tracker, domain)
        if lead_id is None:
            dispatcher.utter_message(response="utter_inquiry_failed")
            return _cleared_form()
        dispatcher.utter_message(
            text=next_steps_message(services.settings(), inquiry.first_name(slots.get("lead_name") or ""))
        )
        return _cleared_form()


class ActionCancelInquiry(Action):
    def name(self) -> str:
        return "action_cancel_inquiry"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        await _forget_inquiry(tracker)
        dispatcher.utter_message(response="utter_inquiry_stopped")
        return [ActiveLoop(None), SlotSet("requested_slot", None)] + _cleared_form()
