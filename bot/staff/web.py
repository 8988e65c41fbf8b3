"""The staff pages under /staff: sign-in, the lead inbox, a lead's page, the audit log.

`setup_staff(app, settings)` adds them to the web app. Every page but sign-in needs a
signed-in account; every POST needs the session's CSRF token (checked once, in
`staff_guard`, so no form can forget it). Database work runs in a worker thread, one
session per unit of work.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import weakref
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler
from aiohttp_session import Session as CookieSession
from aiohttp_session import get_session, new_session, session_middleware
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import Fernet

from bot.leads.contact import format_phone, mailto_href
from bot.leads.models import LeadKind, LeadStatus, utcnow
from bot.secrets import SESSION_KEY_FILE, key_file
from bot.settings import Settings
from bot.staff import audit, inbox, transcripts
from bot.staff.accounts import AccountError, normalize_login, set_password, verify_password
from bot.staff.auth import (
    CSRF_FIELD,
    SignInOutcome,
    ThrottlePolicy,
    blocked_until,
    csrf_matches,
    csrf_token,
    device_cookie_value,
    end_session,
    parse_device_cookie,
    record_failure,
    record_success,
    resume_session,
    rotate_csrf_token,
    sign_in,
    start_session,
    token_digest,
)
from bot.staff.models import AuditAction, StaffAccount

log = logging.getLogger(__name__)

STAFF_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = STAFF_DIR / "templates"
STATIC_DIR = STAFF_DIR / "static"

SESSION_COOKIE = "clinic_staff"
DEVICE_COOKIE = "clinic_staff_device"
DEVICE_COOKIE_MAX_AGE = 180 * 24 * 3600
MIN_SESSION_SECRET = 32

STAFF_SETTINGS = web.AppKey("staff_settings", Settings)
STAFF_CLOCK = web.AppKey("staff_clock", Callable[[], datetime])
STAFF_THROTTLE = web.AppKey("staff_throttle", ThrottlePolicy)
STAFF_JINJA = web.AppKey("staff_jinja", jinja2.Environment)
STAFF_SIGN_IN_LOCKS = web.AppKey("staff_sign_in_locks", weakref.WeakValueDictionary)
CURRENT_ACCOUNT = web.RequestKey("staff_account", object)

_LOGIN_TOKEN = "login"
_FLASH = "flash"
# Pages anyone may open; everything else under /staff needs a signed-in account.
PUBLIC_ROUTES = frozenset({"staff_login"})
# Pages open to an account that must first replace its one-time password.
PASSWORD_CHANGE_ROUTES = frozenset({"staff_password", "staff_logout"})
UNANSWERED_PERIODS = {"30": 30, "90": 90, "365": 365, "all": None}

STAFF_CSP = "; ".join(
    [
        "default-src 'none'",
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

T = TypeVar("T")


# --- setup ---------------------------------------------------------------------------


def session_fernet(settings: Settings) -> Fernet:
    """The key for the session cookies: from SESSION_SECRET, else a key file made once."""
    if settings.session_secret:
        if len(settings.session_secret) < MIN_SESSION_SECRET:
            raise ValueError(f"SESSION_SECRET must be at least {MIN_SESSION_SECRET} characters long")
        digest = hashlib.sha256(settings.session_secret.encode("utf-8")).digest()
        return Fernet(base64.urlsafe_b64encode(digest))
    path = settings.data_dir / SESSION_KEY_FILE
    key = key_file(path, Fernet.generate_key)
    try:
        return Fernet(key)
    except ValueError:
        raise ValueError(f"{path} does not hold a valid session key; delete it to make a new one") from None


def setup_staff(app: web.Application, settings: Settings) -> None:
    """Add the staff pages, their sessions and their templates to the web app."""
    app[STAFF_SETTINGS] = settings
    if STAFF_CLOCK not in app:
        app[STAFF_CLOCK] = utcnow
    if STAFF_THROTTLE not in app:
        app[STAFF_THROTTLE] = ThrottlePolicy()
    # Weak: a lock lives only while attempts on that login wait or run, so logins
    # someone makes up do not pile up in memory.
    app[STAFF_SIGN_IN_LOCKS] = weakref.WeakValueDictionary()
    storage = EncryptedCookieStorage(
        session_fernet(settings),
        cookie_name=SESSION_COOKIE,
        path="/staff",
        httponly=True,
        samesite="Strict",
        secure=settings.cookie_secure,
        # A browser-session cookie: the idle limit is enforced on the server.
        max_age=None,
    )
    app.middlewares.append(session_middleware(storage))
    app.middlewares.append(staff_guard)

    env = aiohttp_jinja2.setup(
        app,
        app_key=STAFF_JINJA,
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    clinic_tz = ZoneInfo(settings.clinic_timezone)
    env.filters["local_time"] = lambda moment: format_time(moment, clinic_tz)
    env.filters["iso_time"] = lambda moment: moment.astimezone(clinic_tz).isoformat() if moment else ""
    env.filters["phone"] = lambda number: format_phone(number) if number else ""
    env.filters["mailto"] = mailto_href
    env.filters["status_label"] = status_label
    env.filters["kind_label"] = kind_label
    env.globals["STATUS_LABELS"] = inbox.STATUS_LABELS
    env.globals["KIND_LABELS"] = inbox.KIND_LABELS
    env.globals["CSRF_FIELD"] = CSRF_FIELD

    setup_staff_routes(app)


def setup_staff_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/staff", index, name="staff_index")
    login = router.add_resource("/staff/login", name="staff_login")
    login.add_route("GET", login_page)
    login.add_route("POST", login_submit)
    router.add_post("/staff/logout", logout, name="staff_logout")
    password = router.add_resource("/staff/password", name="staff_password")
    password.add_route("GET", password_page)
    password.add_route("POST", password_submit)
    router.add_get("/staff/leads", leads_page, name="staff_leads")
    router.add_post("/staff/leads/export", leads_export, name="staff_leads_export")
    router.add_get(r"/staff/leads/{lead_id:\d+}", lead_page, name="staff_lead")
    router.add_post(r"/staff/leads/{lead_id:\d+}/status", lead_status, name="staff_lead_status")
    router.add_post(r"/staff/leads/{lead_id:\d+}/notes", lead_note, name="staff_lead_note")
    delete = router.add_resource(r"/staff/leads/{lead_id:\d+}/delete", name="staff_lead_delete")
    delete.add_route("GET", lead_delete_page)
    delete.add_route("POST", lead_delete)
    router.add_get("/staff/unanswered", unanswered_page, name="staff_unanswered")
    router.add_get("/staff/audit", audit_page, name="staff_audit")
    router.add_static("/staff/static/", STATIC_DIR, name="staff_static", append_version=True)


# --- helpers -------------------------------------------------------------------------


def format_time(moment: datetime | None, clinic_tz: ZoneInfo) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(clinic_tz)
    hour = local.hour % 12 or 12
    return f"{local:%b} {local.day}, {local.year}, {hour}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"


def status_label(status: object) -> str:
    try:
        return inbox.STATUS_LABELS[LeadStatus(str(status))]
    except ValueError:
        return str(status)


def kind_label(kind: object) -> str:
    try:
        return inbox.KIND_LABELS[LeadKind(str(kind))]
    except ValueError:
        return str(kind)


def _now(request: web.Request) -> datetime:
    return request.app[STAFF_CLOCK]()


def _settings(request: web.Request) -> Settings:
    return request.app[STAFF_SETTINGS]


def _idle(request: web.Request) -> timedelta:
    return timedelta(minutes=_settings(request).staff_idle_minutes)


def _clinic_tz(request: web.Request) -> ZoneInfo:
    return ZoneInfo(_settings(request).clinic_timezone)


async def run_db(request: web.Request, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `work(db, ...)` in a worker thread in one transaction, committed when it returns."""
    # Imported here: `bot.web` imports this module while it is being set up.
    from bot.web.keys import SESSION_FACTORY

    factory = request.app[SESSION_FACTORY]

    def unit() -> T:
        # Results are shown after the commit: keep their loaded values.
        with factory(expire_on_commit=False) as db:
            result = work(db, *args, **kwargs)
            db.commit()
            return result

    return await asyncio.to_thread(unit)


def current_account(request: web.Request) -> StaffAccount:
    account = request.get(CURRENT_ACCOUNT)
    if not isinstance(account, StaffAccount):
        raise web.HTTPFound(request.app.router["staff_login"].url_for())
    return account


def flash(session: CookieSession, kind: str, text: str) -> None:
    messages = list(session.get(_FLASH) or [])
    messages.append([kind, text])
    session[_FLASH] = messages[-5:]


# A signed-in page reloads itself this long after the idle limit, when the server has
# surely ended the session: an unattended screen then shows the sign-in page instead.
IDLE_RELOAD_MARGIN_SECONDS = 5


def _idle_reload_target(request: web.Request) -> str | None:
    """Where an idle page reloads: itself (None), or for an answer to a form, which a
    reload cannot send again, the page that form was on."""
    if request.method == "GET":
        return None
    if "lead_id" in request.match_info:
        return _url(request, "staff_lead", lead_id=request.match_info["lead_id"])
    return _url(request, "staff_leads")


def _page_basics(request: web.Request) -> dict[str, Any]:
    settings = _settings(request)
    return {
        "account": request.get(CURRENT_ACCOUNT),
        "csrf_token": "",
        "messages": [],
        "clinic_name": settings.clinic_name,
        "idle_minutes": settings.staff_idle_minutes,
        "idle_reload_seconds": settings.staff_idle_minutes * 60 + IDLE_RELOAD_MARGIN_SECONDS,
        "idle_reload_target": _idle_reload_target(request),
        "route_name": request.match_info.route.name if request.match_info.route else None,
    }


async def render(
    request: web.Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> web.Response:
    session = await get_session(request)
    page = _page_basics(request)
    page.update(csrf_token=csrf_token(session), messages=session.pop(_FLASH, None) or [])
    page.update(context or {})
    return aiohttp_jinja2.render_template(template, request, page, app_key=STAFF_JINJA, status=status)


async def error_page(request: web.Request, status: int, title: str, message: str) -> web.Response:
    return await render(request, "staff/error.html", {"title": title, "message": message}, status=status)


def _safe_next(target: str | None, default: str) -> str:
    """Only a path inside the staff pages: a crafted link cannot send people elsewhere."""
    if not target:
        return default
    parts = urlsplit(target)
    inside = parts.path == "/staff" or parts.path.startswith("/staff/")
    if parts.scheme or parts.netloc or not inside or target.startswith("//"):
        return default
    if "\\" in target or "\n" in target or "\r" in target:
        return default
    return target


def _redirect(location: str) -> web.HTTPException:
    return web.HTTPSeeOther(location)


def _url(request: web.Request, name: str, query: dict[str, str] | None = None, **parts: str) -> str:
    url = request.app.router[name].url_for(**parts)
    if query:
        url = url.with_query(query)
    return str(url)


# The largest id the leads table can hold (a 32-bit integer on PostgreSQL); past it there is no lead.
MAX_LEAD_ID = 2**31 - 1


def _parse_lead_id(raw: str) -> int | None:
    if not raw.isascii() or not raw.isdigit():
        return None
    number = int(raw)
    return number if 0 < number <= MAX_LEAD_ID else None


def _lead_id(request: web.Request) -> int:
    lead_id = _parse_lead_id(request.match_info["lead_id"])
    if lead_id is None:
        raise web.HTTPNotFound()
    return lead_id


def _is_staff_path(path: str) -> bool:
    return (path == "/staff" or path.startswith("/staff/")) and not path.startswith("/staff/static/")


# --- the guard -----------------------------------------------------------------------


@web.middleware
async def staff_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Sign-in, idle timeout, CSRF and headers for every page under /staff."""
    if not _is_staff_path(request.path):
        return await handler(request)
    try:
        response = await _guarded(request, handler)
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


async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    session = await get_session(request)
    account: StaffAccount | None = None
    timed_out = too_old = False
    token = session.get(_LOGIN_TOKEN)
    if isinstance(token, str):
        max_age = timedelta(hours=_settings(request).staff_max_session_hours)
        resumed = await run_db(
            request, resume_session, token, now=_now(request), idle=_idle(request), max_age=max_age
        )
        account, timed_out, too_old = resumed.account, resumed.timed_out, resumed.too_old
        if account is None:
            del session[_LOGIN_TOKEN]
    request[CURRENT_ACCOUNT] = account

    if request.method == "POST":
        form = await request.post()
        if not csrf_matches(session, form.get(CSRF_FIELD)):
            return await error_page(
                request,
                403,
                "This form could not be accepted",
                "The form was out of date or did not come from these staff pages, so nothing was changed. "
                "Go back, reload the page, and try again.",
            )

    route_name = request.match_info.route.name if request.match_info.route else None
    if account is None and route_name not in PUBLIC_ROUTES:
        if timed_out:
            minutes = _settings(request).staff_idle_minutes
            flash(session, "info", f"You were signed out after {minutes} minutes without activity.")
        elif too_old:
            hours = _settings(request).staff_max_session_hours
            flash(session, "info", f"You were signed out: a sign-in lasts at most {hours} hours. Please sign in again.")
        target = request.path_qs if request.method == "GET" else None
        login_url = _url(request, "staff_login", {"next": target} if target else None)
        if SESSION_COOKIE not in request.cookies and request.method == "GET":
            # Arriving from a link elsewhere (an email), the browser held back the
            # SameSite=Strict cookie; one hop from this site sends it if there is one.
            # Rendered without touching the session: a new cookie now would replace the real one.
            return aiohttp_jinja2.render_template(
                "staff/continue.html",
                request,
                {**_page_basics(request), "target": login_url},
                app_key=STAFF_JINJA,
            )
        raise _redirect(login_url)
    if account is not None and account.must_change_password and route_name not in PASSWORD_CHANGE_ROUTES:
        raise _redirect(_url(request, "staff_password"))
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return await error_page(request, 404, "Page not found", "There is no staff page at this address.")


# --- sign-in and password ------------------------------------------------------------


async def index(request: web.Request) -> web.Response:
    raise _redirect(_url(request, "staff_leads"))


async def login_page(request: web.Request) -> web.Response:
    next_url = _safe_next(request.query.get("next"), _url(request, "staff_leads"))
    if request.get(CURRENT_ACCOUNT) is not None:
        raise _redirect(next_url)
    return await render(request, "staff/login.html", {"next": next_url, "login": "", "error": None})


async def login_submit(request: web.Request) -> web.Response:
    form = await request.post()
    login = str(form.get("login") or "").strip()
    password = str(form.get("password") or "")
    next_url = _safe_next(str(form.get("next") or ""), _url(request, "staff_leads"))
    if not login or not password:
        return await render(
            request,
            "staff/login.html",
            {"next": next_url, "login": login, "error": "Enter your email address (or admin) and your password."},
            status=400,
        )
    device_tokens = parse_device_cookie(request.cookies.get(DEVICE_COOKIE))
    policy = request.app[STAFF_THROTTLE]
    idle = _idle(request)

    def attempt(db, now: datetime):
        result = sign_in(db, login, password, device_tokens=device_tokens, now=now, policy=policy)
        token = None
        if result.outcome is SignInOutcome.signed_in and result.account is not None:
            token = start_session(db, result.account, now=now, idle=idle)
        return result, token

    # One attempt per account at a time in this process: each sees the counters the one
    # before it left, so attempts sent together are throttled as if sent one by one.
    locks = request.app[STAFF_SIGN_IN_LOCKS]
    lock = locks.setdefault(normalize_login(login), asyncio.Lock())
    async with lock:
        now = _now(request)
        result, token = await run_db(request, attempt, now)
    if result.outcome is SignInOutcome.signed_in and token and result.account is not None:
        session = await new_session(request)
        session[_LOGIN_TOKEN] = token
        csrf_token(session)
        destination = _url(request, "staff_password") if result.account.must_change_password else next_url
        response = web.HTTPSeeOther(destination)
        if result.new_device_token:
            response.set_cookie(
                DEVICE_COOKIE,
                device_cookie_value(result.new_device_token, device_tokens),
                max_age=DEVICE_COOKIE_MAX_AGE,
                path=_url(request, "staff_login"),
                httponly=True,
                samesite="Strict",
                secure=_settings(request).cookie_secure,
            )
        raise response

    if result.outcome is SignInOutcome.throttled and result.retry_at is not None:
        when = _wait_words(result.retry_at, now)
        error = f"Too many failed sign-ins for this account. Try again in {when}."
        if result.just_locked:
            error = f"That password was wrong again, so sign-in to this account is paused. Try again in {when}."
        status = 429
    elif result.outcome is SignInOutcome.disabled:
        error, status = "This account has been disabled. Ask an administrator to enable it.", 403
    else:
        error, status = "The email address or password is not right.", 401
    return await render(
        request, "staff/login.html", {"next": next_url, "login": login, "error": error}, status=status
    )


def _wait_words(until: datetime, now: datetime) -> str:
    wait = max(1, int((until - now).total_seconds() + 0.999))
    if wait >= 60:
        minutes = (wait + 59) // 60
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{wait} second{'s' if wait != 1 else ''}"


async def logout(request: web.Request) -> web.Response:
    session = await get_session(request)
    token = session.get(_LOGIN_TOKEN)
    account = request.get(CURRENT_ACCOUNT)
    now = _now(request)

    def sign_out(db):
        if isinstance(token, str):
            end_session(db, token)
        if isinstance(account, StaffAccount):
            audit.record(db, account, AuditAction.signed_out, now=now)

    await run_db(request, sign_out)
    session.invalidate()
    flash(session, "info", "You are signed out.")
    raise _redirect(_url(request, "staff_login"))


async def password_page(request: web.Request) -> web.Response:
    account = current_account(request)
    return await render(request, "staff/password.html", {"error": None, "forced": account.must_change_password})


async def password_submit(request: web.Request) -> web.Response:
    account = current_account(request)
    session = await get_session(request)
    form = await request.post()
    current = str(form.get("current_password") or "")
    new = str(form.get("new_password") or "")
    confirm = str(form.get("confirm_password") or "")
    token = session.get(_LOGIN_TOKEN)
    now = _now(request)
    policy = request.app[STAFF_THROTTLE]
    signed_out = False

    def change(db) -> str | None:
        nonlocal signed_out
        fresh = db.get(StaffAccount, account.id)
        if fresh is None:
            return "The current password is not right."
        # The current password is guessed here as on the sign-in page: the same counter, waits and lock.
        retry_at = blocked_until(fresh, now, policy)
        if retry_at is not None:
            return f"Too many wrong passwords for this account. Try again in {_wait_words(retry_at, now)}."
        if not verify_password(fresh.password_hash, current):
            just_locked, locked_until = record_failure(db, fresh, now, policy)
            audit.record(db, fresh, AuditAction.account_locked if just_locked else AuditAction.sign_in_failed,
                         detail="password change", now=now)
            if locked_until is not None and locked_until > now:
                # Whoever keeps guessing in this browser is not trusted with it any longer.
                end_session(db, str(token))
                signed_out = True
            return "The current password is not right."
        record_success(fresh)
        if new != confirm:
            return "The two new passwords are not the same."
        if new == current:
            return "The new password must differ from the current one."
        try:
            set_password(
                db, fresh, new, keep_login=token_digest(str(token)), forget_devices=False, now=now
            )
        except AccountError as problem:
            return str(problem)
        audit.record(db, fresh, AuditAction.password_changed, now=now)
        return None

    # One check at a time per account, as on the sign-in page, so guesses sent together each count.
    lock = request.app[STAFF_SIGN_IN_LOCKS].setdefault(normalize_login(account.login), asyncio.Lock())
    async with lock:
        error = await run_db(request, change)
    if signed_out:
        session.invalidate()
        minutes = int(policy.lock_for.total_seconds() // 60)
        flash(session, "error", "You were signed out after too many wrong passwords. Sign-in to this account "
                                f"is paused for {minutes} minutes on browsers it was not used on before.")
        raise _redirect(_url(request, "staff_login"))
    if error:
        status = 429 if error.startswith("Too many") else 400
        return await render(
            request, "staff/password.html", {"error": error, "forced": account.must_change_password}, status=status
        )
    # A token read before the change (by a page left open elsewhere) no longer works.
    rotate_csrf_token(session)
    flash(session, "success", "Your password was changed.")
    raise _redirect(_url(request, "staff_leads"))


# --- the inbox -----------------------------------------------------------------------


def _page_number(raw: str | None) -> int:
    try:
        return max(1, int(raw or "1"))
    except ValueError:
        return 1


async def leads_page(request: web.Request) -> web.Response:
    current_account(request)
    parsed = inbox.parse_filters(request.query)
    result = await run_db(
        request,
        inbox.inbox_page,
        parsed.filters,
        page=_page_number(request.query.get("page")),
        clinic_tz=_clinic_tz(request),
    )
    params = parsed.filters.as_params()

    def page_url(number: int) -> str:
        return _url(request, "staff_leads", {**params, "page": str(number)} if number > 1 else params)

    return await render(
        request,
        "staff/leads.html",
        {
            "result": result,
            "filters": parsed.filters,
            "filter_params": params,
            "errors": parsed.errors,
            "statuses": list(LeadStatus),
            "kinds": list(LeadKind),
            "previous_url": page_url(result.page - 1) if result.page > 1 else None,
            "next_url": page_url(result.page + 1) if result.page < result.pages else None,
            "page_size": inbox.PAGE_SIZE,
        },
    )


async def leads_export(request: web.Request) -> web.Response:
    account = current_account(request)
    form = await request.post()
    parsed = inbox.parse_filters({key: str(form.get(key) or "") for key in ("status", "kind", "from", "to", "q")})
    clinic_tz = _clinic_tz(request)
    now = _now(request)

    def export(db) -> str:
        leads = inbox.filtered_leads(db, parsed.filters, clinic_tz=clinic_tz)
        audit.record_many(
            db, account, AuditAction.exported, [lead.id for lead in leads], detail=f"CSV of {len(leads)} leads", now=now
        )
        return inbox.leads_csv(leads, clinic_tz=clinic_tz)

    text = await run_db(request, export)
    filename = f"leads-{now.astimezone(clinic_tz):%Y-%m-%d-%H%M}.csv"
    # The byte order mark makes spreadsheet programs read the file as UTF-8.
    return web.Response(
        body=("\ufeff" + text).encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- one lead ------------------------------------------------------------------------


async def _lead_context(request: web.Request, lead_id: int, *, log_view: bool) -> dict[str, Any] | None:
    account = current_account(request)
    now = _now(request)

    def load(db):
        lead = inbox.get_lead(db, lead_id)
        if lead is None:
            return None
        if log_view:
            audit.record(db, account, AuditAction.viewed, lead_id=lead.id, now=now)
        return {
            "lead": lead,
            "notes": inbox.notes_for(db, lead.id),
            "transcript": transcripts.transcript(db, lead.conversation_id),
        }

    context = await run_db(request, load)
    if context is not None:
        context["next_statuses"] = inbox.NEXT_STATUSES[LeadStatus(context["lead"].status)]
        context["note_error"] = context["status_error"] = None
        context["note_text"] = context["status_note"] = ""
    return context


async def _missing_lead(request: web.Request, lead_id: int) -> web.Response:
    return await error_page(
        request, 404, "Lead not found", f"Lead #{lead_id} does not exist. It may have been deleted."
    )


async def lead_page(request: web.Request) -> web.Response:
    lead_id = _lead_id(request)
    context = await _lead_context(request, lead_id, log_view=True)
    if context is None:
        return await _missing_lead(request, lead_id)
    return await render(request, "staff/lead.html", context)


async def lead_status(request: web.Request) -> web.Response:
    account = current_account(request)
    lead_id = _lead_id(request)
    form = await request.post()
    new_status = str(form.get("status") or "")
    note = str(form.get("note") or "")
    expected = str(form.get("current_status") or "")
    now = _now(request)

    def change(db) -> inbox.InboxError | None:
        try:
            inbox.change_status(
                db, lead_id, new_status, expected_status=expected, actor=account, note=note, now=now
            )
        except inbox.InboxError as problem:
            db.rollback()
            return problem
        return None

    error = await run_db(request, change)
    if error is None:
        session = await get_session(request)
        flash(session, "success", f"Lead #{lead_id} is now {status_label(new_status)!r}.")
        raise _redirect(_url(request, "staff_lead", lead_id=str(lead_id)))
    context = await _lead_context(request, lead_id, log_view=False)
    if context is None:
        return await _missing_lead(request, lead_id)
    context.update(status_error=str(error), status_note=note)
    return await render(
        request, "staff/lead.html", context, status=409 if isinstance(error, inbox.StatusConflict) else 400
    )


async def lead_note(request: web.Request) -> web.Response:
    account = current_account(request)
    lead_id = _lead_id(request)
    form = await request.post()
    body = str(form.get("note") or "")
    now = _now(request)

    def add(db) -> str | None:
        try:
            inbox.add_note(db, lead_id, body, actor=account, now=now)
        except inbox.InboxError as problem:
            db.rollback()
            return str(problem)
        return None

    error = await run_db(request, add)
    if error is None:
        session = await get_session(request)
        flash(session, "success", "Your note was added.")
        raise _redirect(_url(request, "staff_lead", lead_id=str(lead_id)) + "#notes")
    context = await _lead_context(request, lead_id, log_view=False)
    if context is None:
        return await _missing_lead(request, lead_id)
    context.update(note_error=error, note_text=body)
    return await render(request, "staff/lead.html", context, status=400)


async def lead_delete_page(request: web.Request) -> web.Response:
    account = current_account(request)
    lead_id = _lead_id(request)
    now = _now(request)

    def load(db):
        lead = inbox.get_lead(db, lead_id)
        if lead is None:
            return None
        sharing = inbox.leads_sharing_conversation(db, lead)
        # The page names the person, and any other lead of the same chat: views, like a lead's page.
        audit.record(db, account, AuditAction.viewed, lead_id=lead.id, detail="delete confirmation", now=now)
        audit.record_many(
            db,
            account,
            AuditAction.viewed,
            [other.id for other in sharing],
            detail=f"listed on the delete confirmation of lead #{lead.id}",
            now=now,
        )
        return {"lead": lead, "sharing": sharing}

    context = await run_db(request, load)
    if context is None:
        return await _missing_lead(request, lead_id)
    return await render(request, "staff/delete.html", context)


async def lead_delete(request: web.Request) -> web.Response:
    account = current_account(request)
    lead_id = _lead_id(request)
    deleted = await run_db(request, inbox.delete_lead, lead_id, actor=account, now=_now(request))
    if deleted is None:
        return await _missing_lead(request, lead_id)
    session = await get_session(request)
    flash(session, "success", f"Lead #{lead_id} was deleted, with its notes and its conversation.")
    if deleted.sharing_conversation:
        others = ", ".join(f"#{other}" for other in deleted.sharing_conversation)
        flash(
            session,
            "info",
            f"Lead{'s' if len(deleted.sharing_conversation) > 1 else ''} {others} came from the same chat: "
            "kept with their details and notes, without the conversation.",
        )
    raise _redirect(_url(request, "staff_leads"))


# --- questions left unanswered, and the audit log ------------------------------------


async def unanswered_page(request: web.Request) -> web.Response:
    current_account(request)
    period = request.query.get("period", "90")
    if period not in UNANSWERED_PERIODS:
        period = "90"
    days = UNANSWERED_PERIODS[period]
    since = _now(request) - timedelta(days=days) if days else None
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
    lead_id = _parse_lead_id(raw_lead) if raw_lead else None
    result = await run_db(request, audit.entries, lead_id=lead_id, page=_page_number(request.query.get("page")))

    def page_url(number: int) -> str:
        query = {"lead": str(lead_id)} if lead_id is not None else {}
        if number > 1:
            query["page"] = str(number)
        return _url(request, "staff_audit", query)

    return await render(
        request,
        "staff/audit.html",
        {
            "result": result,
            "lead_filter": lead_id,
            "lead_input": raw_lead,
            "previous_url": page_url(result.page - 1) if result.page > 1 else None,
            "next_url": page_url(result.page + 1) if result.page < result.pages else None,
        },
    )

