"""What the assistant says happens after an inquiry is saved, by the clinic's opening hours."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.next_steps import next_steps_message
from bot.settings import Settings

NEW_YORK = ZoneInfo("America/New_York")


def test_during_opening_hours_staff_call_within_a_business_day():
    tuesday_morning = datetime(2026, 11, 24, 10, 0, tzinfo=NEW_YORK)
    message = next_steps_message(Settings(), "Maria", now=tuesday_morning)
    assert "within one business day" in message and "closed" not in message


def test_after_hours_the_message_says_when_the_clinic_reopens():
    friday_evening = datetime(2026, 11, 27, 19, 30, tzinfo=NEW_YORK)
    message = next_steps_message(Settings(), "Maria", now=friday_evening)
    assert "closed right now" in message
    assert "Monday to Friday, 8 AM to 5 PM" in message
    assert "reopen on Monday" in message


def test_before_opening_the_message_says_today():
    tuesday_early = datetime(2026, 11, 24, 6, 45, tzinfo=NEW_YORK)
    message = next_steps_message(Settings(), "Maria", now=tuesday_early)
    assert "once we open at 8 AM today" in message


def test_after_closing_on_a_weekday_the_message_says_tomorrow():
    monday_evening = datetime(2026, 11, 23, 18, 0, tzinfo=NEW_YORK)
    message = next_steps_message(Settings(), "Maria", now=monday_evening)
    assert "once we reopen tomorrow (Tuesday)" in message


def test_opening_hours_come_from_settings():
    settings = Settings.from_env({"CLINIC_OPEN_DAYS": "mon,wed", "CLINIC_OPEN_HOURS": "12:00-18:30"})
    wednesday_noon = datetime(2026, 11, 25, 12, 15, tzinfo=NEW_YORK)
    tuesday_noon = datetime(2026, 11, 24, 12, 15, tzinfo=NEW_YORK)
    assert "closed" not in next_steps_message(settings, "Jo", now=wednesday_noon)
    closed = next_steps_message(settings, "Jo", now=tuesday_noon)
    assert "Monday, Wednesday, 12 PM to 6:30 PM" in closed and "reopen tomorrow (Wednesday)" in closed
