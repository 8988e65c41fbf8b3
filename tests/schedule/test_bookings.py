"""A picked time's life: held, requested on the lead, confirmed, declined or moved, lapsed."""

from datetime import time, timedelta

import pytest

from bot.leads.models import Lead
from bot.schedule.bookings import (
    BookingStateError, SlotTakenError, attach_to_lead, booking_for_lead, bookings_between, confirm, decline,
    held_for_conversation, hold, lapse_expired, propose, release_held,
)
from bot.schedule.models import BookingStatus
from bot.schedule.openings import find_openings
from tests.schedule.builders import (
    NOW, add_busy, add_lead, add_visit_type, local, read_booking, seat_count, set_capacity,
)

EIGHT = local(2024, 3, 8, 8)
NINE = local(2024, 3, 8, 9)


def offered(factory, settings, now=NOW) -> set:
    return {o.starts for o in find_openings(factory, settings, now=now, per_day=None, limit=100, horizon_days=7)}


def test_a_held_time_is_offered_to_no_one_else(session_factory, settings):
    held = hold(session_factory, settings, starts=EIGHT, conversation_id="a", now=NOW)
    assert held and (held.starts, held.ends, held.visit_name) == (EIGHT, NINE, "Visit")
    assert EIGHT not in offered(session_factory, settings)
    assert hold(session_factory, settings, starts=EIGHT, conversation_id="b", now=NOW) is None
    booking = read_booking(session_factory, held.booking_id)
    assert booking.status == BookingStatus.held and booking.expires_at == NOW + timedelta(minutes=30)
    assert seat_count(session_factory, held.booking_id) == 4


@pytest.mark.parametrize("starts", [
    local(2024, 3, 8, 8, 30),    # off the visit grid
    local(2024, 3, 9, 10),       # Saturday: closed
    local(2024, 3, 8, 7),        # before opening, and within the hour's notice
    local(2024, 3, 8, 16, 30),   # would end after closing
])
def test_only_an_opening_can_be_held(session_factory, settings, starts):
    assert hold(session_factory, settings, starts=starts, conversation_id="a", now=NOW) is None
    assert seat_count(session_factory) == 0


def test_a_busy_time_cannot_be_held(session_factory, settings):
    add_busy(session_factory, NINE - timedelta(minutes=15), NINE)
    assert hold(session_factory, settings, starts=EIGHT, conversation_id="a", now=NOW) is None


def test_a_conversation_holds_one_time_picking_another_lets_the_first_go(session_factory, settings):
    first = hold(session_factory, settings, starts=EIGHT, conversation_id="a", now=NOW)
    second = hold(session_factory, settings, starts=NINE, conversation_id="a", now=NOW)
    assert read_booking(session_factory, first.booking_id).status == BookingStatus.released
    assert seat_count(session_factory, first.booking_id) == 0 and EIGHT in offered(session_factory, settings)
    # Picking a time that is not open still lets the held one go.
    assert hold(session_factory, settings, starts=local(2024, 3, 9, 10), conversation_id="a", now=NOW) is None
    assert read_booking(session_factory, second.booking_id).status == BookingStatus.released


def test_holding_the_same_time_again_keeps_it_and_extends_it(session_factory, settings):
    first = hold(session_factory, settings, starts=NINE, conversation_id="a", now=NOW)
    later = NOW + timedelta(minutes=10)
    again = hold(session_factory, settings, starts=NINE, conversation_id="a", now=later)
    assert again.booking_id == first.booking_id
    assert read_booking(session_factory, first.booking_id).expires_at == later + timedelta(minutes=30)


def test_releasing_a_held_time_opens_it_again(session_factory, settings):
    held = hold(session_factory, settings, starts=EIGHT, conversation_id="a", now=NOW)
    assert release_held(session_factory, conversation_id="a", now=NOW) == 1
    assert release_held(session_factory, conversation_id="a", now=NOW) == 0
    assert read_booking(session_factory, held.booking_id).status == BookingStatus.released
    assert EIGHT in offered(session_factory, settings)


def _attach(factory, settings, booking_id, lead_id, now=NOW, conversation_id="conversation-1"):
    with factory() as session:
        booking = attach_to_lead(session, settings, booking_id=booking_id, conversation_id=conversation_id,
                                 lead_id=lead_id, now=now)
        session.commit()
        return booking


def test_saving_the_lead_turns_the_hold_into_a_request(session_factory, settings):
    held = hold(session_factory, settings, starts=EIGHT, conversation_id="conversation-1", now=NOW)
    lead_id = add_lead(session_factory, settings)
    booking = _attach(session_factory, settings, held.booking_id, lead_id)
    assert (booking.status, booking.lead_id) == (BookingStatus.requested, lead_id)
    # HOLD_HOURS is 24, but the visit starts an hour after the request: the hold ends then.
    assert booking.expires_at == min(NOW + timedelta(hours=24), EIGHT) == EIGHT
    assert _attach(session_factory, settings, held.booking_id, lead_id).id == held.booking_id   # again: the same
    assert seat_count(session_factory, held.booking_id) == 4
    assert held_for_conversation_of(session_factory, "conversation-1") is None


def held_for_conversation_of(factory, conversation_id):
    with factory() as session:
        return held_for_conversation(session, conversation_id)


def test_a_hold_is_attached_only_to_its_own_conversation_and_once(session_factory, settings):
    held = hold(session_factory, settings, starts=EIGHT, conversation_id="conversation-1", now=NOW)
    lead_id = add_lead(session_factory, settings)
    other_lead = add_lead(session_factory, settings, conversation_id="conversation-2")
    assert _attach(session_factory, settings, held.booking_id, other_lead, conversation_id="conversation-2") is None
    assert _attach(session_factory, settings, held.booking_id, lead_id)
    assert _attach(session_factory, settings, held.booking_id, other_lead) is None
    assert _attach(session_factory, settings, 999, lead_id) is None


def test_a_hold_that_lapsed_is_claimed_again_if_still_free(session_factory, settings):
    held = hold(session_factory, settings, starts=NINE, conversation_id="conversation-1", now=NOW)
    assert lapse_expired(session_factory, now=NOW + timedelta(minutes=31)) == 1
    assert read_booking(session_factory, held.booking_id).status == BookingStatus.lapsed
    assert seat_count(session_factory) == 0
    booking = _attach(session_factory, settings, held.booking_id, add_lead(session_factory, settings),
                      now=NOW + timedelta(minutes=40))
    assert booking.status == BookingStatus.requested and seat_count(session_factory, held.booking_id) == 4


def test_a_lapsed_hold_whose_time_was_taken_is_not_attached_and_the_lead_is_saved_anyway(session_factory, settings):
    held = hold(session_factory, settings, starts=EIGHT, conversation_id="conversation-1", now=NOW)
    lapse_expired(session_factory, now=NOW + timedelta(minutes=31))
    assert hold(session_factory, settings, starts=EIGHT, conversation_id="someone-else", now=NOW)
    # As the lead store does: the lead and the request in one transaction.
    with session_factory() as session:
        lead = Lead(kind="appointment", name="Maria Lopez", phone="+18045550188", consent_text="yes",
                    consented_at=NOW, conversation_id="conversation-1", submission_key="k")
        session.add(lead)
        session.flush()
        assert attach_to_lead(session, settings, booking_id=held.booking_id, conversation_id="conversation-1",
                              lead_id=lead.id, now=NOW + timedelta(minutes=40)) is None
        session.commit()
        lead_id = lead.id
    with session_factory() as session:
        assert session.get(Lead, lead_id) is not None
    assert read_booking(session_factory, held.booking_id).status == BookingStatus.lapsed


def _requested(factory, settings, starts=EIGHT):
    held = hold(factory, settings, starts=starts, conversation_id="conversation-1", now=NOW)
    return _attach(factory, settings, held.booking_id, add_lead(factory, settings))


def test_a_request_lapses_after_hold_hours_and_the_time_opens_again(session_factory, settings):
    monday = local(2024, 3, 11, 9)
    booking = _requested(session_factory, settings, starts=monday)
    assert lapse_expired(session_factory, now=NOW + timedelta(hours=23)) == 0
    assert lapse_expired(session_factory, now=NOW + timedelta(hours=24)) == 1
    assert read_booking(session_factory, booking.id).status == BookingStatus.lapsed
    assert seat_count(session_factory) == 0
    assert monday in offered(session_factory, settings, now=local(2024, 3, 10, 12))


def test_a_request_for_a_visit_sooner_than_hold_hours_lapses_when_the_visit_would_start(session_factory, settings):
    booking = _requested(session_factory, settings)
    assert booking.expires_at == EIGHT
    assert lapse_expired(session_factory, now=EIGHT - timedelta(minutes=1)) == 0
    assert lapse_expired(session_factory, now=EIGHT) == 1


def test_staff_confirm_a_request_and_it_never_lapses(session_factory, settings):
    booking = _requested(session_factory, settings)
    with session_factory() as session:
        confirmed = confirm(session, booking_id=booking.id, now=NOW)
        assert confirm(session, booking_id=booking.id, now=NOW).status == BookingStatus.confirmed
        session.commit()
    assert (confirmed.status, confirmed.expires_at) == (BookingStatus.confirmed, None)
    assert lapse_expired(session_factory, now=NOW + timedelta(days=30)) == 0
    with session_factory() as session, pytest.raises(BookingStateError):
        confirm(session, booking_id=999, now=NOW)


def test_only_a_request_or_a_proposal_can_be_confirmed(session_factory, settings):
    held = hold(session_factory, settings, starts=EIGHT, conversation_id="a", now=NOW)
    with session_factory() as session, pytest.raises(BookingStateError):
        confirm(session, booking_id=held.booking_id, now=NOW)


def test_declining_frees_the_time(session_factory, settings):
    booking = _requested(session_factory, settings)
    with session_factory() as session:
        assert decline(session, booking_id=booking.id, now=NOW).status == BookingStatus.declined
        assert decline(session, booking_id=booking.id, now=NOW).status == BookingStatus.declined
        session.commit()
    assert seat_count(session_factory) == 0 and EIGHT in offered(session_factory, settings)
    with session_factory() as session, pytest.raises(BookingStateError):
        confirm(session, booking_id=booking.id, now=NOW)


def test_staff_propose_another_time_for_the_same_lead(session_factory, settings):
    booking = _requested(session_factory, settings)
    later = NOW + timedelta(minutes=20)
    with session_factory() as session:
        # Half an hour later, overlapping the old time: its seats are freed first, so one seat is enough.
        proposed = propose(session, settings, booking_id=booking.id, starts=EIGHT + timedelta(minutes=30), now=later)
        session.commit()
    assert (proposed.status, proposed.lead_id) == (BookingStatus.proposed, booking.lead_id)
    assert (proposed.starts, proposed.ends) == (EIGHT + timedelta(minutes=30), NINE + timedelta(minutes=30))
    # Held for the visitor until it would start, sooner than HOLD_HOURS.
    assert proposed.expires_at == EIGHT + timedelta(minutes=30)
    assert read_booking(session_factory, booking.id).status == BookingStatus.declined
    assert seat_count(session_factory, booking.id) == 0 and seat_count(session_factory, proposed.id) == 4
    with session_factory() as session:
        assert booking_for_lead(session, booking.lead_id).id == proposed.id
        assert confirm(session, booking_id=proposed.id, now=later).status == BookingStatus.confirmed
        session.commit()


def test_a_proposal_to_a_full_time_changes_nothing(session_factory, settings):
    booking = _requested(session_factory, settings)
    assert hold(session_factory, settings, starts=NINE, conversation_id="b", now=NOW)
    with session_factory() as session:
        with pytest.raises(SlotTakenError):
            propose(session, settings, booking_id=booking.id, starts=NINE, now=NOW)
        session.commit()
    assert read_booking(session_factory, booking.id).status == BookingStatus.requested
    assert seat_count(session_factory, booking.id) == 4


def test_a_proposal_needs_a_request_on_a_lead_and_a_future_time(session_factory, settings):
    held = hold(session_factory, settings, starts=EIGHT, conversation_id="a", now=NOW)
    with session_factory() as session:
        with pytest.raises(BookingStateError):
            propose(session, settings, booking_id=held.booking_id, starts=NINE, now=NOW)
        with pytest.raises(BookingStateError):
            propose(session, settings, booking_id=held.booking_id, starts=NOW - timedelta(hours=1), now=NOW)


def test_the_week_view_shows_every_booking_but_released_ones(session_factory, settings):
    set_capacity(session_factory, 2)
    requested = _requested(session_factory, settings)
    released = hold(session_factory, settings, starts=NINE, conversation_id="x", now=NOW)
    release_held(session_factory, conversation_id="x", now=NOW)
    other = hold(session_factory, settings, starts=local(2024, 3, 11, 8), conversation_id="y", now=NOW)
    with session_factory() as session:
        week = bookings_between(session, starts=local(2024, 3, 8), ends=local(2024, 3, 15))
        friday = bookings_between(session, starts=local(2024, 3, 8), ends=local(2024, 3, 9))
    assert [b.id for b in week] == [requested.id, other.booking_id]
    assert [b.id for b in friday] == [requested.id] and released.booking_id not in [b.id for b in week]


def test_the_lead_s_booking_goes_when_the_lead_does(session_factory, settings, engine):
    booking = _requested(session_factory, settings)
    with session_factory() as session:
        session.delete(session.get(Lead, booking.lead_id))
        session.commit()
    with session_factory() as session:
        assert booking_for_lead(session, booking.lead_id) is None
    assert seat_count(session_factory) == 0


def test_a_visit_type_keeps_its_name_on_bookings_when_removed(session_factory, settings):
    consult = add_visit_type(session_factory, "Free consultation", 30)
    held = hold(session_factory, settings, starts=EIGHT, conversation_id="a", now=NOW, visit_type_id=consult)
    assert held.visit_name == "Free consultation" and held.ends - held.starts == timedelta(minutes=30)
    from bot.schedule.models import VisitType
    with session_factory() as session:
        session.delete(session.get(VisitType, consult))
        session.commit()
    booking = read_booking(session_factory, held.booking_id)
    assert (booking.visit_type_id, booking.visit_name) == (None, "Free consultation")


def test_weekly_hours_are_honoured_when_holding(session_factory, settings):
    from tests.schedule.builders import set_weekly_hours
    set_weekly_hours(session_factory, [4], time(13), time(15))
    assert hold(session_factory, settings, starts=EIGHT, conversation_id="a", now=NOW) is None
    assert hold(session_factory, settings, starts=local(2024, 3, 8, 13), conversation_id="a", now=NOW)


def test_no_visitor_detail_reaches_the_log(session_factory, settings, caplog):
    from tests.leads.factories import PERSONAL_FRAGMENTS
    with caplog.at_level("DEBUG", logger="bot"):
        booking = _requested(session_factory, settings)
        with session_factory() as session:
            propose(session, settings, booking_id=booking.id, starts=NINE, now=NOW)
            session.commit()
        hold(session_factory, settings, starts=local(2024, 3, 11, 8), conversation_id="conversation-1", now=NOW)
        lapse_expired(session_factory, now=NOW + timedelta(days=2))
    logged = caplog.text
    assert "Booking #" in logged
    assert "conversation-1" not in logged and not [f for f in PERSONAL_FRAGMENTS if f in logged]
