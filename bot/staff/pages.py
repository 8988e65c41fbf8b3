"""What every staff page handler uses: the time, the settings, the database, addresses, rendering."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import Session as CookieSession
from aiohttp_session import get_session

from bot.db import SESSION_FACTORY, utcnow
from bot.settings import SETTINGS, Settings
from bot.staff.csrf import csrf_token
from bot.staff.keys import CURRENT_ACCOUNT, STAFF_CLOCK
from bot.staff.models import StaffAccount

T = TypeVar("T")

STATIC_ROUTE = "staff_static"
_FLASH = "flash"
# A signed-in page reloads itself this long after the idle limit, when the server has
# surely ended the session: an unattended screen then shows the sign-in page instead.
IDLE_RELOAD_MARGIN_SECONDS = 5
# How long before the idle sign-out the page warns, with a button to stay signed in.
IDLE_WARNING_SECONDS = 120
# The largest id the leads table can hold (a 32-bit integer on PostgreSQL); past it there is no lead.
MAX_LEAD_ID = 2**31 - 1


def now(request: web.Request) -> datetime:
    return request.config_dict.get(STAFF_CLOCK, utcnow)()


def settings(request: web.Request) -> Settings:
    return request.config_dict[SETTINGS]


def idle_limit(request: web.Request) -> timedelta:
    return timedelta(minutes=settings(request).staff_idle_minutes)


def clinic_tz(request: web.Request) -> ZoneInfo:
    return ZoneInfo(settings(request).clinic_timezone)


def serves_file(request: web.Request) -> bool:
    """A request for the pages' style sheet: no sign-in, no CSRF, no staff headers."""
    return request.match_info.route.name == STATIC_ROUTE


async def run_db(request: web.Request, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `work(db, ...)` in a worker thread in one transaction, committed when it returns."""
    factory = request.config_dict[SESSION_FACTORY]

    def unit() -> T:
        # Results are shown after the commit: keep their loaded values.
        with factory(expire_on_commit=False) as db:
            result = work(db, *args, **kwargs)
            db.commit()
            return result

    return await asyncio.to_thread(unit)


def url(request: web.Request, name: str, query: Mapping[str, str] | None = None, **parts: str) -> str:
    """The address of the staff route `name`, with `query` when given."""
    address = request.app.router[name].url_for(**parts)
    if query:
        address = address.with_query(query)
    return str(address)


def page_links(request: web.Request, name: str, query: Mapping[str, str]) -> Callable[[int], str]:
    """Page number -> address of that page of route `name`, keeping `query` (page 1 without a number)."""

    def page_url(number: int) -> str:
        return url(request, name, {**query, "page": str(number)} if number > 1 else query)

    return page_url


# Far past any list's end; a larger number would not fit the database's OFFSET.
MAX_PAGE = 1_000_000


def page_number(raw: str | None) -> int:
    try:
        return min(MAX_PAGE, max(1, int(raw or "1")))
    except ValueError:
        return 1


def redirect(location: str) -> web.HTTPException:
    return web.HTTPSeeOther(location)


def safe_next(request: web.Request, target: str | None, default: str) -> str:
    """Only a path inside the staff pages: a crafted link cannot send people elsewhere."""
    if not target:
        return default
    home = url(request, "staff_index")
    parts = urlsplit(target)
    inside = parts.path == home or parts.path.startswith(home + "/")
    if parts.scheme or parts.netloc or not inside or target.startswith("//"):
        return default
    if "\\" in target or "\n" in target or "\r" in target:
        return default
    return target


def parse_lead_id(raw: str) -> int | None:
    """A lead number that can exist, or None."""
    # Longer than the largest number has digits: Python refuses to read over 4,300 digits at all.
    if not raw.isascii() or not raw.isdigit():
        return None
    digits = raw.lstrip("0")
    if len(digits) > len(str(MAX_LEAD_ID)):
        return None
    number = int(digits or "0")
    return number if 0 < number <= MAX_LEAD_ID else None


def lead_id(request: web.Request) -> int:
    """The lead number in the address; 404 for one that cannot exist."""
    number = parse_lead_id(request.match_info["lead_id"])
    if number is None:
        raise web.HTTPNotFound()
    return number


def current_account(request: web.Request) -> StaffAccount:
    """The signed-in account; the guard has sent everyone else to the sign-in page."""
    account = request.get(CURRENT_ACCOUNT)
    if not isinstance(account, StaffAccount):
        raise web.HTTPFound(request.app.router["staff_login"].url_for())
    return account


def flash(session: CookieSession, kind: str, text: str) -> None:
    """A message for the next page shown ("success", "info" or "error"); the last five are kept."""
    messages = list(session.get(_FLASH) or [])
    messages.append([kind, text])
    session[_FLASH] = messages[-5:]


def _idle_reload_target(request: web.Request) -> str | None:
    """Where an idle page reloads: itself (None), or for an answer to a form, which a
    reload cannot send again, the page that form was on."""
    if request.method == "GET":
        return None
    if "lead_id" in request.match_info:
        return url(request, "staff_lead", lead_id=request.match_info["lead_id"])
    return url(request, "staff_leads")


def page_basics(request: web.Request) -> dict[str, Any]:
    """What the base template needs, without touching the session."""
    config = settings(request)
    return {
        "account": request.get(CURRENT_ACCOUNT),
        "csrf_token": "",
        "messages": [],
        "clinic_name": config.clinic_name,
        "idle_minutes": config.staff_idle_minutes,
        "idle_reload_seconds": config.staff_idle_minutes * 60 + IDLE_RELOAD_MARGIN_SECONDS,
        "idle_reload_target": _idle_reload_target(request),
        "IDLE_WARNING_SECONDS": IDLE_WARNING_SECONDS,
        "route_name": request.match_info.route.name if request.match_info.route else None,
    }


async def render(
    request: web.Request, template: str, context: Mapping[str, Any] | None = None, *, status: int = 200
) -> web.Response:
    """The page `template` with the session's CSRF token and waiting messages."""
    session = await get_session(request)
    page = page_basics(request)
    page.update(csrf_token=csrf_token(session), messages=session.pop(_FLASH, None) or [])
    page.update(context or {})
    return aiohttp_jinja2.render_template(template, request, page, status=status)


async def error_page(request: web.Request, status: int, title: str, message: str) -> web.Response:
    return await render(request, "staff/error.html", {"title": title, "message": message}, status=status)
