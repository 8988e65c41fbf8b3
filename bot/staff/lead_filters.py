"""The lead list's filters as they travel in addresses and forms: read, with what was left out, and written."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import TypeVar

from bot.leads.models import LeadKind, LeadStatus
from bot.leads.queries import LeadFilters

MAX_SEARCH = 100
E = TypeVar("E", bound=Enum)
FILTER_FIELDS = ("status", "kind", "from", "to", "q")


@dataclass
class ParsedFilters:
    filters: LeadFilters
    errors: list[str] = field(default_factory=list)


def _choice(enum_class: type[E], raw: str | None, missing: str, errors: list[str]) -> E | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return enum_class(raw)
    except ValueError:
        errors.append(missing.format(raw=raw))
        return None


def _date(raw: str, label: str, errors: list[str]) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.append(f"The {label} date {raw!r} is not a date like 2025-03-31; it was left out.")
        return None


def parse_filters(params: Mapping[str, str]) -> ParsedFilters:
    """Filters from query parameters; what cannot be understood is left out with a message."""
    errors: list[str] = []
    status = _choice(LeadStatus, params.get("status"), "There is no status {raw!r}; showing every status.", errors)
    kind = _choice(LeadKind, params.get("kind"), "There is no inquiry kind {raw!r}; showing every kind.", errors)
    received_from = _date(params.get("from") or "", "from", errors)
    received_to = _date(params.get("to") or "", "to", errors)
    if received_from and received_to and received_from > received_to:
        errors.append("The 'from' date is after the 'to' date; the dates were left out.")
        received_from = received_to = None
    search = " ".join((params.get("q") or "").split())
    if len(search) > MAX_SEARCH:
        errors.append(f"The search was cut to its first {MAX_SEARCH} characters.")
        search = search[:MAX_SEARCH]
    return ParsedFilters(LeadFilters(status, kind, received_from, received_to, search), errors)


def filter_params(filters: LeadFilters) -> dict[str, str]:
    """The filters as query parameters (only those set), for links and forms."""
    params = {
        "status": filters.status.value if filters.status else "",
        "kind": filters.kind.value if filters.kind else "",
        "from": filters.received_from.isoformat() if filters.received_from else "",
        "to": filters.received_to.isoformat() if filters.received_to else "",
        "q": filters.search,
    }
    return {key: value for key, value in params.items() if value}
