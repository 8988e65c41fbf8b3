"""The week view of the schedule, and the confirmed visits' feed that staff calendars subscribe to."""

from __future__ import annotations

from aiohttp import web

from bot.staff.pages import clinic_tz, current_account, now, render, run_db, settings, url
from bot.staff.schedule_forms import clinic_today, read_day
from bot.staff.schedule_queries import visits_feed as read_visits_feed
from bot.staff.week import load_week, week_start


async def week_page(request: web.Request) -> web.Response:
    """`?week=YYYY-MM-DD`: the week holding that day (default: this week, the clinic's calendar)."""
    current_account(request)
    moment = now(request)
    today = clinic_today(moment, clinic_tz(request))
    day, usable = read_day(request.query.get("week"), default=today)
    monday = week_start(day)
    week = await run_db(request, load_week, settings(request), monday, now=moment)
    return await render(
        request,
        "staff/schedule_week.html",
        {
            "week": week,
            "week_error": None if usable else "That is not a date within five years (YYYY-MM-DD); this week is shown instead.",
            "this_week": week_start(today),
            "week_url": lambda monday: url(request, "staff_schedule", {"week": monday.isoformat()}),
        },
    )


async def visits_feed(request: web.Request) -> web.Response:
    """GET /staff/calendar/<token>.ics without sign-in (calendar apps cannot): 404 for a wrong token."""
    body = await run_db(request, read_visits_feed, settings(request), request.match_info["token"], now=now(request))
    if body is None:
        raise web.HTTPNotFound()
    return web.Response(
        body=body, content_type="text/calendar", charset="utf-8", headers={"Cache-Control": "no-store"}
    )
