"""The confirmed visits' feed and the visitor's invitation: valid iCalendar, stable, no personal details."""

from datetime import timedelta

import icalendar
import pytest

from bot.schedule.bookings import attach_to_lead, confirm, hold
from bot.schedule.calendar import confirmed_visits_ics, short_name, visit_invitation_ics
from tests.leads.factories import PERSONAL_FRAGMENTS
from tests.schedule.builders import NOW, add_lead, add_visit_type, local, set_capacity


def _confirmed(factory, settings, starts, conversation_id, visit_type_id=None):
    held = hold(factory, settings, starts=starts, conversation_id=conversation_id, now=NOW,
                visit_type_id=visit_type_id)
    lead_id = add_lead(factory, settings, conversation_id)
    with factory() as session:
        attach_to_lead(session, settings, booking_id=held.booking_id, conversation_id=conversation_id,
                       lead_id=lead_id, now=NOW)
        booking = confirm(session, booking_id=held.booking_id, now=NOW)
        session.commit()
        return booking


def _events(ics: bytes) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(ics).walk("VEVENT"))


@pytest.mark.parametrize("name, short", [("Maria Lopez", "Maria L."), ("maria de la cruz", "maria C."),
                                         ("Dr. Ann Smith", "Ann S."), ("Cher", "Cher"), ("", "")])
def test_a_visitor_is_named_by_first_name_and_last_initial(name, short):
    assert short_name(name) == short


def test_the_visits_feed_lists_confirmed_visits_only_without_personal_details(session_factory, settings):
    set_capacity(session_factory, 2)
    consult = add_visit_type(session_factory, "Free consultation", 30)
    confirmed = _confirmed(session_factory, settings, local(2024, 3, 11, 9), "conversation-1", consult)
    hold(session_factory, settings, starts=local(2024, 3, 11, 10), conversation_id="other", now=NOW,
         visit_type_id=consult)
    with session_factory() as session:
        ics = confirmed_visits_ics(session, settings, now=NOW)
    [event] = _events(ics)
    assert str(event["SUMMARY"]) == "Free consultation: Maria L."
    assert event.start == confirmed.starts and event.end == confirmed.ends
    assert str(event["UID"]) == f"booking-{confirmed.id}@clinic.example"
    text = ics.decode()
    assert not [fragment for fragment in PERSONAL_FRAGMENTS if fragment != "Maria" and fragment in text]
    with session_factory() as session:
        assert _events(confirmed_visits_ics(session, settings, now=NOW + timedelta(hours=1)))[0]["UID"] == event["UID"]


def test_the_visits_feed_covers_four_weeks_back_and_twelve_ahead(session_factory, settings):
    _confirmed(session_factory, settings, local(2024, 3, 11, 9), "conversation-1")
    with session_factory() as session:
        assert len(_events(confirmed_visits_ics(session, settings, now=NOW + timedelta(weeks=4)))) == 1
        assert _events(confirmed_visits_ics(session, settings, now=NOW + timedelta(weeks=5))) == []
        assert _events(confirmed_visits_ics(session, settings, now=NOW - timedelta(weeks=13))) == []


def test_the_invitation_names_the_visit_and_the_clinic_and_gives_its_phone(session_factory, settings):
    booking = _confirmed(session_factory, settings, local(2024, 3, 11, 9), "conversation-1")
    ics = visit_invitation_ics(booking, settings)
    parsed = icalendar.Calendar.from_ical(ics)
    assert str(parsed["METHOD"]) == "PUBLISH"
    [event] = _events(ics)
    assert str(event["SUMMARY"]) == "Visit at Montross Physical Therapy"
    assert "(804) 493-3256" in str(event["DESCRIPTION"])
    assert event.start == booking.starts and event.end == booking.ends
    assert str(event["UID"]) == f"booking-{booking.id}@clinic.example"
    assert not [fragment for fragment in PERSONAL_FRAGMENTS if fragment in ics.decode()]
