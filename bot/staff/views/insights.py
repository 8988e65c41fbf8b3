"""Insights: how many people talked to the assistant, what they asked, how many became leads, how
fast staff called back; for every signed-in account, with charts and a CSV of the figures."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from functools import partial

from aiohttp import web

from bot.insights import wording
from bot.insights.charts import HEAT_LEVELS, all_charts
from bot.insights.export import insights_csv
from bot.insights.figures import WEEKDAYS, Insights, gather_insights, hour_label
from bot.insights.period import CUSTOM, PRESET_DAYS, ParsedPeriod, parse_period
from bot.staff.pages import clinic_tz, current_account, now, render, run_db

PERIOD_FIELDS = ("period", "from", "to")


def _period_params(parsed: ParsedPeriod) -> dict[str, str]:
    """The period as query parameters, for the export form and links."""
    period = parsed.period
    if period.key == CUSTOM:
        return {"from": period.first_day.isoformat(), "to": period.last_day.isoformat()}
    return {"period": period.key}


async def _figures(request: web.Request, params: Mapping[str, str]) -> tuple[ParsedPeriod, Insights]:
    zone = clinic_tz(request)
    parsed = parse_period(params, now(request).astimezone(zone).date())
    return parsed, await gather_insights(partial(run_db, request), parsed.period, zone)


async def insights_page(request: web.Request) -> web.Response:
    current_account(request)
    parsed, insights = await _figures(request, request.query)
    # Drawing takes tens of milliseconds: off the event loop, like the queries.
    charts = await asyncio.to_thread(all_charts, insights)
    return await render(
        request,
        "staff/insights.html",
        {
            "insights": insights,
            "charts": charts,
            "parsed": parsed,
            "errors": parsed.errors,
            "presets": list(PRESET_DAYS),
            "period_params": _period_params(parsed),
            "weekdays": WEEKDAYS,
            "hour_label": hour_label,
            "heat_levels": range(HEAT_LEVELS + 1),
            "percent": wording.percent,
            "duration": wording.duration,
            "unanswered_change": wording.share_change(
                insights.unanswered_share, insights.previous_unanswered_share, insights.period.days
            ),
        },
    )


async def insights_export(request: web.Request) -> web.Response:
    """The page's figures as CSV, for the period the form names (posted with the CSRF token)."""
    current_account(request)
    form = await request.post()
    parsed, insights = await _figures(request, {key: str(form.get(key) or "") for key in PERIOD_FIELDS})
    period = insights.period
    filename = f"insights-{period.first_day.isoformat()}-to-{period.last_day.isoformat()}.csv"
    # The byte order mark makes spreadsheet programs read the file as UTF-8.
    return web.Response(
        body=("\ufeff" + insights_csv(insights)).encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
