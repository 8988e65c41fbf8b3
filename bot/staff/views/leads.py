"""The leads: the list with its filters and export, one lead's page, its status, notes and deletion."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp_session import get_session

from bot import audit
from bot.audit import AuditAction
from bot.leads import queries, workflow
from bot.leads.deletion import delete_lead
from bot.leads.models import LeadKind, LeadStatus
from bot.staff import transcripts
from bot.staff.export import leads_csv
from bot.staff.lead_filters import FILTER_FIELDS, filter_params, parse_filters
from bot.staff.pages import (
    clinic_tz,
    current_account,
    error_page,
    flash,
    lead_id,
    now,
    page_links,
    page_number,
    redirect,
    render,
    run_db,
    settings,
    url,
)
from bot.staff.schedule_queries import visit_panel


async def leads_page(request: web.Request) -> web.Response:
    current_account(request)
    parsed = parse_filters(request.query)
    zone = clinic_tz(request)

    def load(db) -> tuple[Any, int]:
        page = queries.find_leads(db, parsed.filters, page=page_number(request.query.get("page")), clinic_tz=zone)
        return page, queries.new_lead_count(db)

    result, new_count = await run_db(request, load)
    params = filter_params(parsed.filters)
    return await render(
        request,
        "staff/leads.html",
        {
            "result": result,
            "new_count": new_count,
            "filters": parsed.filters,
            "filter_params": params,
            "errors": parsed.errors,
            "statuses": list(LeadStatus),
            "kinds": list(LeadKind),
            "page_url": page_links(request, "staff_leads", params),
        },
    )


async def leads_export(request: web.Request) -> web.Response:
    account = current_account(request)
    form = await request.post()
    parsed = parse_filters({key: str(form.get(key) or "") for key in FILTER_FIELDS})
    zone = clinic_tz(request)
    moment = now(request)

    def export(db) -> str:
        leads = queries.filtered_leads(db, parsed.filters, clinic_tz=zone)
        audit.record_many(
            db, account, AuditAction.exported, [lead.id for lead in leads], detail=f"CSV of {len(leads)} leads",
            now=moment,
        )
        return leads_csv(leads, clinic_tz=zone)

    text = await run_db(request, export)
    filename = f"leads-{moment.astimezone(zone):%Y-%m-%d-%H%M}.csv"
    # The byte order mark makes spreadsheet programs read the file as UTF-8.
    return web.Response(
        body=("\ufeff" + text).encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def _lead_context(request: web.Request, number: int, *, log_view: bool) -> dict[str, Any] | None:
    account = current_account(request)
    moment = now(request)
    config = settings(request)

    def load(db):
        lead = queries.get_lead(db, number)
        if lead is None:
            return None
        if log_view:
            audit.record(db, account, AuditAction.viewed, lead_id=lead.id, now=moment)
        return {
            "lead": lead,
            "notes": queries.notes_for(db, lead.id),
            "transcript": transcripts.transcript(db, lead.conversation_id),
            "visit": visit_panel(db, lead, config),
        }

    context = await run_db(request, load)
    if context is not None:
        context["next_statuses"] = workflow.NEXT_STATUSES[LeadStatus(context["lead"].status)]
        context["note_error"] = context["status_error"] = None
        context["note_text"] = context["status_note"] = ""
    return context


async def _missing_lead(request: web.Request, number: int) -> web.Response:
    return await error_page(
        request, 404, "Lead not found", f"Lead #{number} does not exist. It may have been deleted."
    )


async def _show_lead(
    request: web.Request, number: int, *, log_view: bool, status: int = 200, **form: object
) -> web.Response:
    """The lead's page; after a refused form, with `form`'s error and what was typed."""
    context = await _lead_context(request, number, log_view=log_view)
    if context is None:
        return await _missing_lead(request, number)
    context.update(form)
    return await render(request, "staff/lead.html", context, status=status)


async def lead_page(request: web.Request) -> web.Response:
    return await _show_lead(request, lead_id(request), log_view=True)


async def lead_status(request: web.Request) -> web.Response:
    account = current_account(request)
    number = lead_id(request)
    form = await request.post()
    new_status = str(form.get("status") or "")
    note = str(form.get("note") or "")
    expected = str(form.get("current_status") or "")
    moment = now(request)

    def change(db) -> workflow.LeadChangeError | None:
        try:
            workflow.change_status(
                db, number, new_status, expected_status=expected, actor=account, note=note, now=moment
            )
        except workflow.LeadChangeError as problem:
            db.rollback()
            return problem
        return None

    error = await run_db(request, change)
    if error is None:
        session = await get_session(request)
        flash(session, "success", f"Lead #{number} is now {LeadStatus(new_status).label!r}.")
        raise redirect(url(request, "staff_lead", lead_id=str(number)))
    status = 409 if isinstance(error, workflow.StatusConflict) else 400
    return await _show_lead(request, number, log_view=False, status=status, status_error=str(error), status_note=note)


async def lead_note(request: web.Request) -> web.Response:
    account = current_account(request)
    number = lead_id(request)
    form = await request.post()
    body = str(form.get("note") or "")
    moment = now(request)

    def add(db) -> str | None:
        try:
            workflow.add_note(db, number, body, actor=account, now=moment)
        except workflow.LeadChangeError as problem:
            db.rollback()
            return str(problem)
        return None

    error = await run_db(request, add)
    if error is None:
        session = await get_session(request)
        flash(session, "success", "Your note was added.")
        raise redirect(url(request, "staff_lead", lead_id=str(number)) + "#notes")
    return await _show_lead(request, number, log_view=False, status=400, note_error=error, note_text=body)


async def lead_delete_page(request: web.Request) -> web.Response:
    account = current_account(request)
    number = lead_id(request)
    moment = now(request)

    def load(db):
        lead = queries.get_lead(db, number)
        if lead is None:
            return None
        sharing = queries.leads_sharing_conversation(db, lead)
        # The page names the person, and any other lead of the same chat: views, like a lead's page.
        audit.record(db, account, AuditAction.viewed, lead_id=lead.id, detail="delete confirmation", now=moment)
        audit.record_many(
            db,
            account,
            AuditAction.viewed,
            [other.id for other in sharing],
            detail=f"listed on the delete confirmation of lead #{lead.id}",
            now=moment,
        )
        return {"lead": lead, "sharing": sharing}

    context = await run_db(request, load)
    if context is None:
        return await _missing_lead(request, number)
    return await render(request, "staff/delete.html", context)


async def lead_delete(request: web.Request) -> web.Response:
    account = current_account(request)
    number = lead_id(request)
    deleted = await run_db(request, delete_lead, number, actor=account, now=now(request))
    if deleted is None:
        return await _missing_lead(request, number)
    session = await get_session(request)
    flash(session, "success", f"Lead #{number} was deleted, with its notes and its conversation.")
    if deleted.sharing_conversation:
        others = ", ".join(f"#{other}" for other in deleted.sharing_conversation)
        flash(
            session,
            "info",
            f"Lead{'s' if len(deleted.sharing_conversation) > 1 else ''} {others} came from the same chat: "
            "kept with their details and notes, without the conversation.",
        )
    raise redirect(url(request, "staff_leads"))
