"""The schedule's time arithmetic: local hours to UTC across daylight-saving changes, the grid, intervals."""

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.schedule.hours import DayRules, IntervalSet, cells, day_blocks, grid, local_to_utc, merge
from tests.schedule.builders import NEW_YORK, UTC, local, wall

SPRING_FORWARD = date(2024, 3, 10)
FALL_BACK = date(2024, 11, 3)


def test_a_local_time_is_the_utc_instant_the_clinic_clock_shows_it():
    assert local_to_utc(date(2024, 1, 15), time(8), NEW_YORK) == datetime(2024, 1, 15, 13, tzinfo=UTC)
    assert local_to_utc(date(2024, 7, 15), time(8), NEW_YORK) == datetime(2024, 7, 15, 12, tzinfo=UTC)


def test_a_time_the_clock_skips_is_the_moment_it_jumps():
    jump = datetime(2024, 3, 10, 7, tzinfo=UTC)  # 02:00 EST becomes 03:00 EDT
    assert local_to_utc(SPRING_FORWARD, time(2), NEW_YORK) == jump
    assert local_to_utc(SPRING_FORWARD, time(2, 30), NEW_YORK) == jump
    assert local_to_utc(SPRING_FORWARD, time(3), NEW_YORK) == jump


def test_a_time_the_clock_shows_twice_is_its_first_showing():
    assert local_to_utc(FALL_BACK, time(1, 30), NEW_YORK) == datetime(2024, 11, 3, 5, 30, tzinfo=UTC)
    assert wall(local_to_utc(FALL_BACK, time(1, 30), NEW_YORK)) == "2024-11-03 01:30 EDT"


@pytest.mark.parametrize("day, hours", [(SPRING_FORWARD, 3), (FALL_BACK, 5), (date(2024, 6, 2), 4)])
def test_a_block_lasts_as_long_as_the_clock_on_the_wall_says(day, hours):
    rules = DayRules({}, frozenset(), {day: [(time(0), time(4))]})
    [(starts, ends)] = day_blocks(rules, day, NEW_YORK)
    assert ends - starts == timedelta(hours=hours)


def test_the_grid_runs_in_real_minutes_through_a_daylight_saving_change():
    rules = DayRules({}, frozenset(), {SPRING_FORWARD: [(time(0), time(4))], FALL_BACK: [(time(0), time(4))]})
    spring = [wall(moment) for block in day_blocks(rules, SPRING_FORWARD, NEW_YORK) for moment in grid(block, 60)]
    assert spring == ["2024-03-10 00:00 EST", "2024-03-10 01:00 EST", "2024-03-10 03:00 EDT"]
    fall = [wall(moment) for block in day_blocks(rules, FALL_BACK, NEW_YORK) for moment in grid(block, 60)]
    assert fall == ["2024-11-03 00:00 EDT", "2024-11-03 01:00 EDT", "2024-11-03 01:00 EST",
                    "2024-11-03 02:00 EST", "2024-11-03 03:00 EST"]


def test_weekly_and_extra_hours_join_and_a_closed_day_has_none():
    monday = date(2024, 3, 11)
    rules = DayRules({0: [(time(8), time(12)), (time(13), time(17))]}, frozenset({date(2024, 3, 18)}),
                     {monday: [(time(11), time(14))]})
    assert day_blocks(rules, monday, NEW_YORK) == [(local(2024, 3, 11, 8), local(2024, 3, 11, 17))]
    assert day_blocks(rules, date(2024, 3, 18), NEW_YORK) == []
    assert day_blocks(rules, date(2024, 3, 12), NEW_YORK) == []


def test_the_grid_starts_at_the_block_and_keeps_each_visit_inside_it():
    block = (local(2024, 3, 11, 8), local(2024, 3, 11, 10, 45))
    assert [wall(moment)[-9:-4] for moment in grid(block, 30)] == ["08:00", "08:30", "09:00", "09:30", "10:00"]
    assert [wall(moment)[-9:-4] for moment in grid(block, 60)] == ["08:00", "09:00"]


def test_merge_joins_overlapping_and_touching_intervals():
    a, b, c, d = (local(2024, 3, 11, hour) for hour in (8, 9, 10, 11))
    assert merge([(c, d), (a, b), (b, c)]) == [(a, d)]
    assert merge([(a, b), (c, d), (b, b)]) == [(a, b), (c, d)]


def test_an_interval_set_tells_overlap_from_touching():
    a, b, c, d = (local(2024, 3, 11, hour) for hour in (8, 9, 10, 11))
    busy = IntervalSet([(b, c)])
    assert not busy.overlaps(a, b) and not busy.overlaps(c, d)
    assert busy.overlaps(a, b + timedelta(minutes=1)) and busy.overlaps(c - timedelta(minutes=1), d)
    assert busy.overlaps(a, d)
    assert busy.contains(b, c) and not busy.contains(a, c) and not busy.contains(b, d)


def test_cells_cover_every_quarter_hour_a_stretch_touches():
    assert cells(local(2024, 3, 11, 8), local(2024, 3, 11, 9), 15) == [
        local(2024, 3, 11, 8, minute) for minute in (0, 15, 30, 45)]
    assert cells(local(2024, 3, 11, 8, 10), local(2024, 3, 11, 8, 20), 15) == [
        local(2024, 3, 11, 8), local(2024, 3, 11, 8, 15)]


@given(day=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
       first=st.integers(0, 90), last=st.integers(1, 95), minutes=st.sampled_from([15, 30, 45, 60, 90]))
def test_on_any_day_the_grid_tiles_the_block_without_repeats(day, first, last, minutes):
    starts, ends = time(*divmod(first * 15, 60)), time(*divmod(min(max(last, first + 1), 95) * 15, 60))
    rules = DayRules({day.weekday(): [(starts, ends)]}, frozenset(), {})
    for block in day_blocks(rules, day, NEW_YORK):
        moments = list(grid(block, minutes))
        assert len(set(moments)) == len(moments)
        assert all(later - earlier == timedelta(minutes=minutes) for earlier, later in zip(moments, moments[1:]))
        assert not moments or block[1] - (moments[-1] + timedelta(minutes=minutes)) < timedelta(minutes=minutes)
