"""HOLD_HOURS and CALENDAR_REFRESH_MINUTES, read from the environment."""

import pytest

from bot.settings import Settings, SettingsError


def test_requests_are_held_a_day_and_the_feed_refreshed_every_quarter_hour_by_default():
    settings = Settings.from_env({})
    assert (settings.hold_hours, settings.calendar_refresh_minutes) == (24, 15)


def test_both_can_be_set():
    settings = Settings.from_env({"HOLD_HOURS": "48", "CALENDAR_REFRESH_MINUTES": " 5 "})
    assert (settings.hold_hours, settings.calendar_refresh_minutes) == (48, 5)


@pytest.mark.parametrize("name, value", [("HOLD_HOURS", "0"), ("CALENDAR_REFRESH_MINUTES", "-1"),
                                         ("HOLD_HOURS", "a day")])
def test_a_value_below_one_or_not_a_number_is_refused_by_name(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})
