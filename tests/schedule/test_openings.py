"""Openings: inside the schedule, outside busy times, with a free seat, an hour ahead, on the visit's grid."""

from datetime import date, time, timedelta

import pytest

from bot.schedule.bookings import hold
from bot.schedule.openings import find_openings, schedule_summary
from tests.schedule.builders import (
    NOW, add_busy, add_exception, add_visit_type, local, set_capacity, set_weekly_hours, wall,
)

EVERY_DAY = range(7)


def walls(openings) -> list[str]:
    return [wall(opening.starts) for opening in openings]


def test_with_nothing_set_the_opening_hours_give_one_hour_visits(session_factory, settings):
    # Friday 07:00 local: 08:00 is the first start an hour ahead; Mon-Fri 08:00-17:00 by default.
    openings = find_openings(session_factory, settings, now=NOW)
    assert walls(openings) == ["2024-03-08 08:00 EST", "2024-03-08 09:00 EST", "2024-03-11 08:00 EDT",
                               "2024-03-11 09:00 EDT", "2024-03-12 08:00 EDT", "2024-03-12 09:00 EDT"]
    assert all(o.ends - o.starts == timedelta(hours=60 / 60) and o.visit_type_id is None for o in openings)
    assert {o.visit_name for o in openings} == {"Visit"}
    assert all(o.starts.tzinfo is not None and o.starts.utcoffset() == timedelta(0) for o in openings)


def test_an_opening_starts_at_least_an_hour_from_now(session_factory, settings):
    openings = find_openings(session_factory, settings, now=local(2024, 3, 8, 8, 1), per_day=None, limit=3)
    assert walls(openings) == ["2024-03-08 10:00 EST", "2024-03-08 11:00 EST", "2024-03-08 12:00 EST"]


def test_the_chat_offers_the_first_active_visit_type_marked_for_it_on_its_grid(session_factory, settings):
    add_visit_type(session_factory, "Evaluation", 60, position=0, offered_in_chat=False)
    add_visit_type(session_factory, "Retired", 45, position=1, offered_in_chat=True, active=False)
    consult = add_visit_type(session_factory, "Free consultation", 30, position=2, offered_in_chat=True)
    openings = find_openings(session_factory, settings, now=NOW, limit=3, per_day=None)
    assert walls(openings) == ["2024-03-08 08:00 EST", "2024-03-08 08:30 EST", "2024-03-08 09:00 EST"]
    assert {(o.visit_type_id, o.visit_name) for o in openings} == {(consult, "Free consultation")}


def test_a_visit_type_can_be_asked_for_and_an_inactive_or_unknown_one_has_no_openings(session_factory, settings):
    evaluation = add_visit_type(session_factory, "Evaluation", 90, offered_in_chat=False)
    retired = add_visit_type(session_factory, "Retired", 45, active=False)
    openings = find_openings(session_factory, settings, now=NOW, visit_type_id=evaluation, per_day=None, limit=3)
    assert walls(openings) == ["2024-03-08 08:00 EST", "2024-03-08 09:30 EST", "2024-03-08 11:00 EST"]
    assert find_openings(session_factory, settings, now=NOW, visit_type_id=retired) == []
    assert find_openings(session_factory, settings, now=NOW, visit_type_id=999) == []


def test_with_visit_types_but_none_offered_in_chat_the_chat_offers_nothing(session_factory, settings):
    add_visit_type(session_factory, "Evaluation", 60, offered_in_chat=False)
    assert find_openings(session_factory, settings, now=NOW) == []


def test_weekly_hours_replace_the_opening_hours_and_exceptions_close_or_add(session_factory, settings):
    set_weekly_hours(session_factory, [0, 2], time(13), time(15))   # Mondays and Wednesdays, 1 to 3 pm
    add_exception(session_factory, date(2024, 3, 11), closed=True, note="Staff training")
    add_exception(session_factory, date(2024, 3, 9), starts=time(10), ends=time(12), note="Open Saturday")
    openings = find_openings(session_factory, settings, now=NOW, per_day=None, limit=5)
    assert walls(openings) == ["2024-03-09 10:00 EST", "2024-03-09 11:00 EST", "2024-03-13 13:00 EDT",
                               "2024-03-13 14:00 EDT", "2024-03-18 13:00 EDT"]


def test_busy_times_block_every_opening_they_touch_but_not_their_neighbours(session_factory, settings):
    add_busy(session_factory, local(2024, 3, 8, 9, 30), local(2024, 3, 8, 10, 15))
    add_busy(session_factory, local(2024, 3, 8, 12), local(2024, 3, 8, 13))
    openings = find_openings(session_factory, settings, now=NOW, per_day=None, limit=7)
    assert walls(openings) == ["2024-03-08 08:00 EST", "2024-03-08 11:00 EST", "2024-03-08 13:00 EST",
                               "2024-03-08 14:00 EST", "2024-03-08 15:00 EST", "2024-03-08 16:00 EST",
                               "2024-03-11 08:00 EDT"]


def test_windows_keep_only_openings_wholly_inside_one(session_factory, settings):
    windows = [(local(2024, 3, 12, 9, 30), local(2024, 3, 12, 12)),   # 10:00 and 11:00 fit
               (local(2024, 3, 14, 15), local(2024, 3, 14, 15, 59))]  # too short for an hour
    openings = find_openings(session_factory, settings, now=NOW, windows=windows, per_day=None)
    assert walls(openings) == ["2024-03-12 10:00 EDT", "2024-03-12 11:00 EDT"]
    assert find_openings(session_factory, settings, now=NOW, windows=[]) == []
    past = [(NOW - timedelta(days=2), NOW)]
    assert find_openings(session_factory, settings, now=NOW, windows=past) == []


def test_per_day_spreads_the_offers_and_limit_caps_them(session_factory, settings):
    one_a_day = find_openings(session_factory, settings, now=NOW, per_day=1, limit=3)
    assert walls(one_a_day) == ["2024-03-08 08:00 EST", "2024-03-11 08:00 EDT", "2024-03-12 08:00 EDT"]
    assert len(find_openings(session_factory, settings, now=NOW, per_day=None, limit=20)) == 20


def test_nothing_is_offered_beyond_the_horizon(session_factory, settings):
    openings = find_openings(session_factory, settings, now=NOW, per_day=None, limit=500, horizon_days=7)
    assert openings and max(o.starts for o in openings) < NOW + timedelta(days=7)
    assert len(openings) == 5 * 9 - 0  # Fri 8-16, Mon-Thu, Fri until 07:00 + 7 days: five days of nine visits


def test_a_held_time_is_offered_until_capacity_is_reached(session_factory, settings):
    set_capacity(session_factory, 2)
    first = find_openings(session_factory, settings, now=NOW)[0]
    assert hold(session_factory, settings, starts=first.starts, conversation_id="a", now=NOW)
    assert find_openings(session_factory, settings, now=NOW)[0] == first
    assert hold(session_factory, settings, starts=first.starts, conversation_id="b", now=NOW)
    assert first not in find_openings(session_factory, settings, now=NOW, per_day=None, limit=50)


def test_a_longer_visit_needs_a_seat_in_every_quarter_hour_it_covers(session_factory, settings):
    consult = add_visit_type(session_factory, "Free consultation", 30, position=0)
    evaluation = add_visit_type(session_factory, "Evaluation", 60, position=1, offered_in_chat=False)
    assert hold(session_factory, settings, starts=local(2024, 3, 8, 8, 30), conversation_id="a", now=NOW,
                visit_type_id=consult)
    hours = find_openings(session_factory, settings, now=NOW, visit_type_id=evaluation, per_day=None, limit=2)
    assert walls(hours) == ["2024-03-08 09:00 EST", "2024-03-08 10:00 EST"]


def test_naive_times_are_refused(session_factory, settings):
    with pytest.raises(ValueError):
        find_openings(session_factory, settings, now=NOW.replace(tzinfo=None))


def _every_opening(session_factory, settings, now, days):
    return find_openings(session_factory, settings, now=now, per_day=None, limit=10_000, horizon_days=days)


@pytest.mark.parametrize("day, night", [
    (date(2024, 3, 10), ["00:00 EST", "01:00 EST", "03:00 EDT"]),
    (date(2024, 11, 3), ["00:00 EDT", "01:00 EDT", "01:00 EST", "02:00 EST", "03:00 EST"]),
])
def test_daylight_saving_changes_offer_no_time_twice_skipped_or_shifted(session_factory, settings, day, night):
    set_weekly_hours(session_factory, EVERY_DAY, time(8), time(17))
    for each in (day - timedelta(days=7), day, day + timedelta(days=7)):
        add_exception(session_factory, each, starts=time(0), ends=time(4), note="Night clinic")
    start = day - timedelta(days=9)
    now = local(start.year, start.month, start.day, 12)
    openings = _every_opening(session_factory, settings, now, days=20)
    starts = [o.starts for o in openings]
    assert len(set(starts)) == len(starts) and starts == sorted(starts)
    assert all(o.ends - o.starts == timedelta(hours=1) for o in openings)
    by_day: dict[str, list[str]] = {}
    for opening in openings:
        local_day, clock = wall(opening.starts).split(" ", 1)
        by_day.setdefault(local_day, []).append(clock)
    daytime = [f"{hour:02d}:00" for hour in range(8, 17)]
    # The first and last days are cut by the hour's notice and the horizon.
    for local_day, clocks in list(by_day.items())[1:-1]:
        assert [clock[:5] for clock in clocks if clock >= "08"] == daytime, local_day   # never shifted
    # The night block on the change day: every real hour in it once, the repeated hour both times.
    assert by_day[day.isoformat()][:len(night)] == night
    week_before = (day - timedelta(days=7)).isoformat()
    assert [clock[:5] for clock in by_day[week_before][:4]] == ["00:00", "01:00", "02:00", "03:00"]
    # Back to back: no gap in the night block (nothing skipped), no overlap (nothing twice).
    nights = [o for o in openings if wall(o.starts).startswith(day.isoformat()) and o.starts < local(
        day.year, day.month, day.day, 8)]
    assert all(a.ends == b.starts for a, b in zip(nights, nights[1:]))
    assert nights[-1].ends == local(day.year, day.month, day.day, 4)


def test_daylight_saving_holds_claim_the_right_hours(session_factory, settings):
    day = date(2024, 11, 3)
    add_exception(session_factory, day, starts=time(0), ends=time(4))
    now = local(2024, 11, 1, 12)
    night = [o for o in _every_opening(session_factory, settings, now, days=3) if o.starts.date() <= day]
    for index, opening in enumerate(night):
        assert hold(session_factory, settings, starts=opening.starts, conversation_id=f"c{index}", now=now)
    remaining = {o.starts for o in _every_opening(session_factory, settings, now, days=3)}
    assert not remaining & {o.starts for o in night}


def test_the_schedule_summary_shows_what_applies(session_factory, settings):
    summary = schedule_summary(session_factory, settings, today=date(2024, 3, 8))
    assert summary.weekly_from_settings and summary.capacity == 1 and not summary.calendar_feed_set
    assert [day.hours for day in summary.weekly][:2] == [((time(8), time(17)),)] * 2 and summary.weekly[5].hours == ()
    assert summary.chat_visit.minutes == 60
    set_weekly_hours(session_factory, [5], time(9), time(12))
    add_exception(session_factory, date(2024, 3, 1), closed=True)
    add_exception(session_factory, date(2024, 12, 25), closed=True, note="Christmas")
    summary = schedule_summary(session_factory, settings, today=date(2024, 3, 8))
    assert not summary.weekly_from_settings and summary.weekly[5].hours == ((time(9), time(12)),)
    assert [e.note for e in summary.exceptions] == ["Christmas"]
