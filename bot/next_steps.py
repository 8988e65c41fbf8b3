"""What happens after an inquiry is saved, told honestly against the clinic's opening hours."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.settings import OpeningHours, Settings


def is_open(hours: OpeningHours, moment: datetime) -> bool:
    return moment.weekday() in hours.days and hours.opens <= moment.time() < hours.closes


def _describe_hours(hours: OpeningHours) -> str:
    names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    days = list(hours.days)
    if days and days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
        day_text = f"{names[days[0]]} to {names[days[-1]]}"
    else:
        day_text = ", ".join(names[d] for d in days)

    return f"{day_text}, {_clock(hours.opens)} to {_clock(hours.closes)}"


def _clock(moment: time) -> str:
    return moment.strftime("%I:%M %p").lstrip("0").replace(":00 ", " ")


def next_open(hours: OpeningHours, moment: datetime) -> datetime:
    """The next moment the clinic opens at or after `moment` (same time zone)."""
    day = moment
    for _ in range(8):
        opening = day.replace(hour=hours.opens.hour, minute=hours.opens.minute, second=0, microsecond=0)
        if day.weekday() in hours.days and opening >= moment:
            return opening
        day = (day + timedelta(days=1)).replace(hour=0, minute=0)
    return moment


def next_steps_message(settings: Settings, first_name: str, now: datetime | None = None) -> str:
    """What happens after the inquiry is saved, honest about opening hours."""
    zone = ZoneInfo(settings.clinic_timezone)
    local = (now or datetime.now(zone)).astimezone(zone)
    hours = settings.opening_hours
    greeting = f"Thank you, {first_name}! Your details are with our front desk."
    if is_open(hours, local):
        return (
            f"{greeting} A member of staff will contact you within one business day to go over "
            f"costs, coverage and times. For anything urgent, call {settings.clinic_phone}."
        )
    reopening = next_open(hours, local)
    if reopening.date() == local.date():
        when = f"once we open at {_clock(reopening.time())} today"
    elif reopening.date() == (local + timedelta(days=1)).date():
        when = f"once we reopen tomorrow ({reopening.strftime('%A')})"
    else:
        when = f"once we reopen on {reopening.strftime('%A')}"
    return (
        f"{greeting} We're closed right now (our hours are {_describe_hours(hours)}), so staff will "
        f"contact you within one business day {when}. "
        f"For a medical emergency, call 911."
    )
