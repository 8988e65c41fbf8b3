"""How the staff templates show times, phone numbers, addresses and labels."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import jinja2

from bot.leads.contact import format_phone, mailto_href
from bot.leads.models import LeadStatus
from bot.staff.csrf import CSRF_FIELD


def format_time(moment: datetime | None, clinic_tz: ZoneInfo) -> str:
    """'Jul 1, 2025, 7:30 PM' in the clinic's time zone; '' for no time."""
    if moment is None:
        return ""
    local = moment.astimezone(clinic_tz)
    hour = local.hour % 12 or 12
    return f"{local:%b} {local.day}, {local.year}, {hour}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"


def status_label(status: str | None) -> str:
    """A status as notes keep it (text), by its label; one no longer known as it was stored."""
    try:
        return LeadStatus(str(status)).label
    except ValueError:
        return str(status)


def add_display_filters(env: jinja2.Environment, clinic_tz: ZoneInfo) -> None:
    env.filters["local_time"] = lambda moment: format_time(moment, clinic_tz)
    env.filters["iso_time"] = lambda moment: moment.astimezone(clinic_tz).isoformat() if moment else ""
    env.filters["phone"] = lambda number: format_phone(number) if number else ""
    env.filters["mailto"] = mailto_href
    env.filters["status_label"] = status_label
    env.globals["CSRF_FIELD"] = CSRF_FIELD
