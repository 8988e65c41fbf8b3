"""Leads as a CSV file for a spreadsheet, times in the clinic's time zone."""

from __future__ import annotations

import csv
import io
from datetime import datetime, tzinfo

from bot.leads.contact import format_phone
from bot.leads.models import Lead, LeadKind, LeadStatus

CSV_COLUMNS = (
    "Lead number",
    "Received",
    "Kind",
    "Status",
    "Name",
    "Phone",
    "Email",
    "Area of concern",
    "Preferred times",
    "Insurance",
    "Consent wording",
    "Consented at",
    "Last updated",
)
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _local(moment: datetime | None, clinic_tz: tzinfo) -> str:
    return moment.astimezone(clinic_tz).isoformat(timespec="minutes") if moment else ""


def leads_csv(leads: list[Lead], *, clinic_tz: tzinfo) -> str:
    """The leads as CSV text, a header row then one row each."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for lead in leads:
        row = [
            lead.id,
            _local(lead.created_at, clinic_tz),
            LeadKind(lead.kind).label,
            LeadStatus(lead.status).label,
            lead.name,
            format_phone(lead.phone) if lead.phone else "",
            lead.email or "",
            lead.area_of_concern or "",
            lead.preferred_times or "",
            lead.insurance or "",
            lead.consent_text or "",
            _local(lead.consented_at, clinic_tz),
            _local(lead.updated_at, clinic_tz),
        ]
        writer.writerow([spreadsheet_safe(value) for value in row])
    return buffer.getvalue()
