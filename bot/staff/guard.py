"""The guard in front of every staff page: headers, sign-in, idle and age limits, CSRF,
and the forced change of a one-time password.

Four middlewares, in this order (`bot.staff.app`): `staff_headers` around everything,
`resume_sign_in` finds the request's account, `check_csrf` refuses a POST without the
session's token, `require_sign_in` sends everyone else to the sign-in page. The style
sheet is served past all of them.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import aiohttp_jinja2
from aiohttp import web
from aiohttp.typedefs import Handler
from aiohttp_session import get_session

from bot.staff.auth import ResumedSession, resume_session
from bot.staff.csrf import CSRF_FIELD, csrf_matches
from bot.staff.keys import CURRENT_ACCOUNT, RESUMED_SESSION
from bot.staff.pages import (
    error_page,
    flash,
    idle_limit,
    now,
    page_basics,
    redirect,
    run_db,
    serves_file,
    settings,
    url,
)

log = logging.getLogger(__name__)

SESSION_COOKIE = "clinic_staff"
# The session cookie holds this token; the server keeps its digest (`bot.staff.auth`).
LOGIN_TOKEN = "login"
# The confirmed visits' calendar feed: calendar apps cannot sign in, so its secret address is the key.
VISITS_FEED_ROUTE = "staff_visits_feed"
# Pages anyone may open; everything else needs a signed-in account.
PUBLIC_ROUTES = frozenset({"staff_login", VISITS_FEED_ROUTE})
# Pages open to an account that must first replace its one-time password.
PASSWORD_CHANGE_ROUTES = frozenset({"staff_password", "staff_logout"})

STAFF_CSP = "; ".join(
    [
        "default-src 'none'",
        # Only the idle sign-out's own file (staff/static/idle.js), and its call back to these pages.
        "script-src 'self'",
        "connect-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
STAFF_HEADERS = {
    "Content-Security-Policy": STAFF_CSP,
    # Personal and health details: never kept in a shared browser's cache.
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@web.middleware
async def staff_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The staff headers on every answer, errors included; a failure is a plain 500."""
    if serves_file(request):
        return await handler(request)
    try:
        response = await handler(request)
    except web.HTTPException as error:
        error.headers.update(STAFF_HEADERS)
        raise
    except Exception as error:  # noqa: BLE001 - a failure must still answer with the staff headers
        # The class only: a database error's text can hold what a visitor typed.
        log.error("Staff page %s %s failed: %s", request.method, request.path, error.__class__.__name__)
        log.debug("Staff page failure", exc_info=True)
        response = web.Response(
            status=500, text="Something went wrong on this page, and nothing was changed. Please try again.",
        )
    response.headers.update(STAFF_HEADERS)
    return response


@web.middleware
async def resume_sign_in(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The account whose session the cookie names, while it is neither idle nor too old."""
    if serves_file(request):
        return await handler(request)
    session = await get_session(request)
    resumed = ResumedSession(None)
    token = session.get(LOGIN_TOKEN)
    if isinstance(token, str):
        max_age = timedelta(hours=settings(request).staff_max_session_hours)
        resumed = await run_db(
            request, resume_session, token, now=now(request), idle=idle_limit(request), max_age=max_age
        )
        if resumed.account is None:
            del session[LOGIN_TOKEN]
    request[CURRENT_ACCOUNT] = resumed.account
    request[RESUMED_SESSION] = resumed
    return await handler(request)


@web.middleware
async def check_csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a POST without the session's token (403), before sign-in is even asked for."""
    if request.method == "POST" and not serves_file(request):
        session = await get_session(request)
        form = await request.post()
        if not csrf_matches(session, form.get(CSRF_FIELD)):
            return await error_page(
                request,
                403,
                "This form could not be accepted",
                "The form was out of date or did not come from these staff pages, so nothing was changed. "
                "Go back, reload the page, and try again.",
            )
    return await handler(request)


@web.middleware
async def require_sign_in(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Everyone but a signed-in account goes to the sign-in page, and an account with a
    one-time password to the password page; an unknown address is the staff 404 page."""
    if serves_file(request):
        return await handler(request)
    account = request[CURRENT_ACCOUNT]
    route_name = request.match_info.route.name if request.match_info.route else None
    if account is None and route_name not in PUBLIC_ROUTES:
        return await _to_sign_in(request)
    if account is not None and account.must_change_password and route_name not in PASSWORD_CHANGE_ROUTES:
        raise redirect(url(request, "staff_password"))
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return await error_page(request, 404, "Page not found", "There is no staff page at this address.")


async def _to_sign_in(request: web.Request) -> web.StreamResponse:
    resumed = request[RESUMED_SESSION]
    session = await get_session(request)
    if resumed.timed_out:
        minutes = settings(request).staff_idle_minutes
        flash(session, "info", f"You were signed out after {minutes} minutes without activity.")
    elif resumed.too_old:
        hours = settings(request).staff_max_session_hours
        flash(session, "info", f"You were signed out: a sign-in lasts at most {hours} hours. Please sign in again.")
    target = request.path_qs if request.method == "GET" else None
    login_url = url(request, "staff_login", {"next": target} if target else None)
    if SESSION_COOKIE not in request.cookies and request.method == "GET":
        # Arriving from a link elsewhere (an email), the browser held back the
        # SameSite=Strict cookie; one hop from this site sends it if there is one.
        # Rendered without touching the session: a new cookie now would replace the real one.
        return aiohttp_jinja2.render_template(
            "staff/continue.html", request, {**page_basics(request), "target": login_url}
        )
    raise redirect(login_url)
