"""How the schedule pages show visits, days and times: always words beside any colour."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import jinja2

from bot.notify.visit_email import clock_time, visit_time_label
from bot.schedule.models import BookingStatus

BOOKING_STATUS_LABELS = {
    BookingStatus.held: "Held in a chat",
    BookingStatus.requested: "Requested",
    BookingStatus.proposed: "Proposed by staff",
    BookingStatus.confirmed: "Confirmed",
    BookingStatus.declined: "Declined",
    BookingStatus.released: "Let go by the visitor",
    BookingStatus.lapsed: "Lapsed: nobody confirmed it in time",
}


def booking_status_label(status: BookingStatus | str) -> str:
    try:
        return BOOKING_STATUS_LABELS[BookingStatus(str(status))]
    except ValueError:
        return str(status)


def time_of_day(moment: time) -> str:
    """'9:00 AM' for a time of the clinic's day."""
    return f"{moment.hour % 12 or 12}:{moment:%M} {'AM' if moment.hour < 12 else 'PM'}"


def time_range(starts: datetime, ends: datetime, zone: ZoneInfo) -> str:
    """'9:00 AM–10:00 AM' in the clinic's time zone; 'all day' from one midnight to the next."""
    local_starts, local_ends = starts.astimezone(zone), ends.astimezone(zone)
    if local_starts.time() == local_ends.time() == time(0) and local_ends > local_starts:
        return "all day"
    return f"{clock_time(starts, zone)}–{clock_time(ends, zone)}"


def day_label(day: date) -> str:
    """'Mon Mar 3'."""
    return f"{day:%a %b} {day.day}"


def long_day_label(day: date) -> str:
    """'Monday, March 3, 2025'."""
    return f"{day:%A, %B} {day.day}, {day.year}"


def add_schedule_filters(env: jinja2.Environment, clinic_tz: ZoneInfo) -> None:
    env.filters["visit_time"] = lambda moment: visit_time_label(moment, clinic_tz) if moment else ""
    env.filters["clock_time"] = lambda moment: clock_time(moment, clinic_tz)
    env.filters["time_range"] = lambda pair: time_range(pair[0], pair[1], clinic_tz)
    env.filters["time_of_day"] = time_of_day
    env.filters["day_label"] = day_label
    env.filters["long_day_label"] = long_day_label
    env.filters["booking_status"] = booking_status_label
