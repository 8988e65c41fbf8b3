"""The schedule settings: every signed-in account may look, only administrators change them.

Each form posts to its own address; a refused form shows the page again (400) with a message at
each field at fault, and nothing is saved. A saved change goes to the audit log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp_session import get_session

from bot.db import SESSION_FACTORY
from bot.schedule import changes
from bot.schedule.changes import ScheduleChangeError
from bot.schedule.feed import refresh_feed
from bot.staff import schedule_forms as forms
from bot.staff.pages import (
    clinic_tz,
    current_account,
    error_page,
    flash,
    now,
    parse_lead_id,
    redirect,
    render,
    run_db,
    settings,
    url,
)
from bot.staff.schedule_queries import feed_status, load_settings_page


def _factory(request: web.Request):
    return request.config_dict[SESSION_FACTORY]


async def settings_page(request: web.Request, *, failed: dict[str, forms.Form] | None = None,
                        status: int = 200) -> web.Response:
    """The page; `failed` holds a refused form by its name, shown with what was typed and why."""
    account = current_account(request)
    config, moment = settings(request), now(request)
    today = forms.clinic_today(moment, clinic_tz(request))
    page = await asyncio.to_thread(load_settings_page, _factory(request), config, today=today)
    feed_kind, feed_text = feed_status(page.feed, config, now=moment)
    weekly_values = {f"hours-{day.weekday}": changes.hours_text(day.hours) for day in page.summary.weekly}
    return await render(
        request,
        "staff/schedule_settings.html",
        {
            "page": page,
            "can_change": account.is_admin,
            "failed": failed or {},
            "weekly_values": weekly_values,
            "weekdays": changes.WEEKDAYS,
            "today": today,
            "feed_kind": feed_kind,
            "feed_text": feed_text,
            "visits_feed_url": config.public_url.rstrip("/")
            + url(request, "staff_visits_feed", token=page.visits_feed_token),
            "default_hours": config.opening_hours,
        },
        status=status,
    )


async def _admins_only(request: web.Request) -> web.Response | None:
    if current_account(request).is_admin:
        return None
    return await error_page(
        request, 403, "Administrators only", "Only an administrator can change the schedule settings; nothing was changed."
    )


async def _save(
    request: web.Request, form_name: str, read: Callable[[Any], forms.Form], apply: Callable[..., object],
    *, anchor: str, done: str,
) -> web.Response:
    """Check the posted form with `read`; if it holds, `apply(db, checked, actor=, now=)` and go back."""
    refused = await _admins_only(request)
    if refused is not None:
        return refused
    account, moment = current_account(request), now(request)
    checked = read(await request.post())
    if checked.ok:
        def unit(db) -> ScheduleChangeError | None:
            try:
                apply(db, checked, actor=account, now=moment)
            except ScheduleChangeError as problem:
                db.rollback()
                return problem
            return None

        problem = await run_db(request, unit)
        if problem is None:
            flash(await get_session(request), "success", done)
            raise redirect(url(request, "staff_schedule_settings") + "#" + anchor)
        checked.errors[problem.field] = str(problem)
    return await settings_page(request, failed={form_name: checked}, status=400)


def _row_id(request: web.Request, key: str) -> int:
    number = parse_lead_id(request.match_info[key])
    if number is None:
        raise web.HTTPNotFound()
    return number


async def add_visit_type(request: web.Request) -> web.Response:
    return await _save(request, "visit_type_new", forms.read_visit_type,
                       lambda db, checked, **who: changes.add_visit_type(db, checked.change(), **who),
                       anchor="visit-types", done="The visit type was added.")


async def update_visit_type(request: web.Request) -> web.Response:
    number = _row_id(request, "visit_type_id")
    return await _save(
        request, f"visit_type_{number}", forms.read_visit_type,
        lambda db, checked, **who: changes.update_visit_type(db, number, checked.change(), **who),
        anchor="visit-types", done="The visit type was saved.",
    )


async def weekly_hours(request: web.Request) -> web.Response:
    return await _save(request, "hours", forms.read_weekly_hours,
                       lambda db, checked, **who: changes.replace_weekly_hours(db, checked.hours, **who),
                       anchor="hours", done="The weekly hours were saved.")


async def capacity(request: web.Request) -> web.Response:
    return await _save(request, "capacity", forms.read_capacity,
                       lambda db, checked, **who: changes.set_capacity(db, checked.capacity, **who),
                       anchor="capacity", done="The capacity was saved.")


async def add_exception(request: web.Request) -> web.Response:
    today = forms.clinic_today(now(request), clinic_tz(request))
    return await _save(request, "exception_new", lambda form: forms.read_exception(form, today=today),
                       lambda db, checked, **who: changes.add_exception(db, checked.change(), **who),
                       anchor="exceptions", done="The day was added.")


async def delete_exception(request: web.Request) -> web.Response:
    refused = await _admins_only(request)
    if refused is not None:
        return refused
    number = _row_id(request, "exception_id")
    removed = await run_db(request, changes.delete_exception, number, actor=current_account(request), now=now(request))
    flash(await get_session(request), "success" if removed else "info",
          "The day was removed." if removed else "That day had already been removed.")
    raise redirect(url(request, "staff_schedule_settings") + "#exceptions")


async def calendar_feed(request: web.Request) -> web.Response:
    return await _save(
        request, "feed", partial(forms.read_feed, private_allowed=settings(request).calendar_feed_private_addresses),
        lambda db, checked, **who: changes.set_calendar_feed(db, checked.url, **who),
        anchor="calendar",
        done=f"The calendar address was saved. The assistant reads it within "
             f"{settings(request).calendar_refresh_minutes} minutes.",
    )


async def refresh_calendar(request: web.Request) -> web.Response:
    refused = await _admins_only(request)
    if refused is not None:
        return refused
    config, moment = settings(request), now(request)
    async with aiohttp.ClientSession() as client:
        state = await refresh_feed(_factory(request), config, client, now=moment)
    await run_db(request, changes.record_feed_refresh, actor=current_account(request), now=moment)
    kind, text = feed_status(state, config, now=moment)
    flash(await get_session(request), "error" if kind == "failing" else "success", text)
    raise redirect(url(request, "staff_schedule_settings") + "#calendar")


async def new_visits_feed_address(request: web.Request) -> web.Response:
    refused = await _admins_only(request)
    if refused is not None:
        return refused
    await run_db(request, changes.new_visits_feed_address, actor=current_account(request), now=now(request))
    flash(await get_session(request), "success",
          "The confirmed visits' feed has a new address; calendars subscribed to the old one no longer get it.")
    raise redirect(url(request, "staff_schedule_settings") + "#visits-feed")
