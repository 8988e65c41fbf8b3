"""The reports: questions the assistant left unanswered, and the audit log (administrators)."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from bot import audit
from bot.staff import transcripts
from bot.staff.pages import current_account, error_page, now, page_links, page_number, parse_lead_id, render, run_db

UNANSWERED_PERIODS = {"30": 30, "90": 90, "365": 365, "all": None}
DEFAULT_PERIOD = "90"


async def unanswered_page(request: web.Request) -> web.Response:
    current_account(request)
    period = request.query.get("period", DEFAULT_PERIOD)
    if period not in UNANSWERED_PERIODS:
        period = DEFAULT_PERIOD
    days = UNANSWERED_PERIODS[period]
    since = now(request) - timedelta(days=days) if days else None
    questions = await run_db(request, transcripts.unanswered_questions, since=since)
    return await render(
        request,
        "staff/unanswered.html",
        {"questions": questions, "period": period, "periods": list(UNANSWERED_PERIODS)},
    )


async def audit_page(request: web.Request) -> web.Response:
    account = current_account(request)
    if not account.is_admin:
        return await error_page(
            request, 403, "Administrators only", "Only administrators can see the audit log."
        )
    raw_lead = request.query.get("lead", "").strip().lstrip("#")
    lead_id = parse_lead_id(raw_lead) if raw_lead else None
    result = await run_db(request, audit.entries, lead_id=lead_id, page=page_number(request.query.get("page")))
    return await render(
        request,
        "staff/audit.html",
        {
            "result": result,
            "lead_filter": lead_id,
            "lead_input": raw_lead,
            "page_url": page_links(request, "staff_audit", {"lead": str(lead_id)} if lead_id is not None else {}),
        },
    )
