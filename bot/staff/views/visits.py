"""A lead's visit: confirm or decline the time the visitor picked, or propose another one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp_session import get_session

from bot.db import SESSION_FACTORY
from bot.leads import queries, visits
from bot.leads.visits import VisitChange, VisitChangeError
from bot.staff.pages import (
    clinic_tz,
    current_account,
    error_page,
    flash,
    lead_id,
    now,
    redirect,
    render,
    run_db,
    settings,
    url,
)
from bot.staff.schedule_forms import clinic_today, read_day, read_proposed_time
from bot.staff.schedule_queries import proposal_openings, visit_panel


async def _change(request: web.Request, change: Callable[..., VisitChange], **fields: Any) -> VisitChange | str:
    """Run `change` for the lead in the address and the posted booking: the change, or why it was refused."""
    account = current_account(request)
    number = lead_id(request)
    form = await request.post()
    booking_id = str(form.get("booking_id") or "")
    if not booking_id.isdigit():
        return "The form did not say which visit; reload the page and try again."
    config, moment = settings(request), now(request)

    def unit(db) -> VisitChange | str:
        try:
            return change(db, config, lead_id=number, booking_id=int(booking_id),
                          expected_status=str(form.get("booking_status") or ""), actor=account, now=moment, **fields)
        except VisitChangeError as problem:
            db.rollback()
            return str(problem)

    return await run_db(request, unit)


async def _done(request: web.Request, outcome: VisitChange | str, success: str) -> web.Response:
    session = await get_session(request)
    if isinstance(outcome, str):
        flash(session, "error", outcome)
    else:
        flash(session, "success", success)
    raise redirect(url(request, "staff_lead", lead_id=str(lead_id(request))) + "#visit")


async def confirm(request: web.Request) -> web.Response:
    outcome = await _change(request, visits.confirm_visit)
    if isinstance(outcome, str):
        return await _done(request, outcome, "")
    told = ("A confirmation email to the visitor is on its way." if outcome.emailed
            else "No email was sent: tell the visitor yourself, by phone or from your own email.")
    return await _done(request, outcome, f"{outcome.note}. {told}")


async def decline(request: web.Request) -> web.Response:
    outcome = await _change(request, visits.decline_visit)
    return await _done(request, outcome, outcome.note if isinstance(outcome, VisitChange) else "")


async def propose_page(request: web.Request, *, error: str | None = None, status: int = 200) -> web.Response:
    """`?from=YYYY-MM-DD`: the openings from that day on (default: today), to propose one."""
    current_account(request)
    number = lead_id(request)
    config, moment = settings(request), now(request)
    today = clinic_today(moment, clinic_tz(request))
    look_from, usable = read_day(request.query.get("from"), default=today)
    look_from = max(look_from, today)

    def load(db):
        lead = queries.get_lead(db, number)
        return None if lead is None else (lead, visit_panel(db, lead, config))

    found = await run_db(request, load)
    if found is None:
        return await error_page(request, 404, "Lead not found", f"Lead #{number} does not exist. It may have been deleted.")
    lead, panel = found
    if not panel.can_propose:
        return await error_page(request, 409, "Nothing to move", f"Lead #{number} has no requested time to move.")
    assert panel.booking is not None
    openings = await asyncio.to_thread(
        proposal_openings, request.config_dict[SESSION_FACTORY], config, booking_id=panel.booking.id,
        look_from=look_from, now=moment,
    )
    return await render(
        request,
        "staff/visit_propose.html",
        {
            "lead": lead, "visit": panel, "openings": openings, "look_from": look_from, "today": today,
            "from_error": None if usable else "That is not a date within five years (YYYY-MM-DD); openings from today are shown.",
            "propose_error": error,
        },
        status=status,
    )


async def propose(request: web.Request) -> web.Response:
    form = await request.post()
    starts = read_proposed_time(str(form.get("starts") or ""))
    if starts is None:
        return await propose_page(request, error="Choose one of the times listed.", status=400)
    outcome = await _change(request, visits.propose_visit, starts=starts)
    if isinstance(outcome, str):
        return await propose_page(request, error=outcome, status=409)
    return await _done(request, outcome, outcome.note)
