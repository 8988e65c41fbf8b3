"""Signing in and out, and changing one's password."""

from __future__ import annotations

import asyncio
from datetime import datetime

from aiohttp import web
from aiohttp_session import get_session, new_session

from bot import audit
from bot.audit import AuditAction
from bot.staff.accounts import AccountError, normalize_login, set_password, verify_password
from bot.staff.auth import (
    SignInOutcome,
    blocked_until,
    device_cookie_value,
    end_session,
    parse_device_cookie,
    record_failure,
    record_success,
    sign_in,
    start_session,
    token_digest,
)
from bot.staff.csrf import csrf_token, rotate_csrf_token
from bot.staff.guard import LOGIN_TOKEN
from bot.staff.keys import CURRENT_ACCOUNT, STAFF_SIGN_IN_LOCKS, STAFF_THROTTLE
from bot.staff.models import StaffAccount
from bot.staff.pages import (
    current_account,
    flash,
    idle_limit,
    now,
    redirect,
    render,
    run_db,
    safe_next,
    settings,
    url,
)

DEVICE_COOKIE = "clinic_staff_device"
DEVICE_COOKIE_MAX_AGE = 180 * 24 * 3600


async def index(request: web.Request) -> web.Response:
    raise redirect(url(request, "staff_leads"))


async def login_page(request: web.Request) -> web.Response:
    next_url = safe_next(request, request.query.get("next"), url(request, "staff_leads"))
    if request.get(CURRENT_ACCOUNT) is not None:
        raise redirect(next_url)
    return await render(request, "staff/login.html", {"next": next_url, "login": "", "error": None})


async def login_submit(request: web.Request) -> web.Response:
    form = await request.post()
    login = str(form.get("login") or "").strip()
    password = str(form.get("password") or "")
    next_url = safe_next(request, str(form.get("next") or ""), url(request, "staff_leads"))
    if not login or not password:
        return await render(
            request,
            "staff/login.html",
            {"next": next_url, "login": login, "error": "Enter your email address (or admin) and your password."},
            status=400,
        )
    device_tokens = parse_device_cookie(request.cookies.get(DEVICE_COOKIE))
    policy = request.app[STAFF_THROTTLE]
    idle = idle_limit(request)

    def attempt(db, moment: datetime):
        result = sign_in(db, login, password, device_tokens=device_tokens, now=moment, policy=policy)
        token = None
        if result.outcome is SignInOutcome.signed_in and result.account is not None:
            token = start_session(db, result.account, now=moment, idle=idle)
        return result, token

    # One attempt per account at a time in this process: each sees the counters the one
    # before it left, so attempts sent together are throttled as if sent one by one.
    locks = request.app[STAFF_SIGN_IN_LOCKS]
    lock = locks.setdefault(normalize_login(login), asyncio.Lock())
    async with lock:
        moment = now(request)
        result, token = await run_db(request, attempt, moment)
    if result.outcome is SignInOutcome.signed_in and token and result.account is not None:
        session = await new_session(request)
        session[LOGIN_TOKEN] = token
        csrf_token(session)
        destination = url(request, "staff_password") if result.account.must_change_password else next_url
        response = web.HTTPSeeOther(destination)
        if result.new_device_token:
            response.set_cookie(
                DEVICE_COOKIE,
                device_cookie_value(result.new_device_token, device_tokens),
                max_age=DEVICE_COOKIE_MAX_AGE,
                path=url(request, "staff_login"),
                httponly=True,
                samesite="Strict",
                secure=settings(request).cookie_secure,
            )
        raise response

    if result.outcome is SignInOutcome.throttled and result.retry_at is not None:
        when = wait_words(result.retry_at, moment)
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


def wait_words(until: datetime, moment: datetime) -> str:
    """How long until `until`, rounded up: '3 seconds', '15 minutes'."""
    wait = max(1, int((until - moment).total_seconds() + 0.999))
    if wait >= 60:
        minutes = (wait + 59) // 60
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{wait} second{'s' if wait != 1 else ''}"


async def logout(request: web.Request) -> web.Response:
    session = await get_session(request)
    token = session.get(LOGIN_TOKEN)
    account = request.get(CURRENT_ACCOUNT)
    moment = now(request)

    def sign_out(db):
        if isinstance(token, str):
            end_session(db, token)
        if isinstance(account, StaffAccount):
            audit.record(db, account, AuditAction.signed_out, now=moment)

    await run_db(request, sign_out)
    session.invalidate()
    flash(session, "info", "You are signed out.")
    raise redirect(url(request, "staff_login"))


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
    token = session.get(LOGIN_TOKEN)
    moment = now(request)
    policy = request.app[STAFF_THROTTLE]
    signed_out = False

    def change(db) -> str | None:
        nonlocal signed_out
        fresh = db.get(StaffAccount, account.id)
        if fresh is None:
            return "The current password is not right."
        # The current password is guessed here as on the sign-in page: the same counter, waits and lock.
        retry_at = blocked_until(fresh, moment, policy)
        if retry_at is not None:
            return f"Too many wrong passwords for this account. Try again in {wait_words(retry_at, moment)}."
        if not verify_password(fresh.password_hash, current):
            just_locked, locked_until = record_failure(db, fresh, moment, policy)
            audit.record(db, fresh, AuditAction.account_locked if just_locked else AuditAction.sign_in_failed,
                         detail="password change", now=moment)
            if locked_until is not None and locked_until > moment:
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
                db, fresh, new, keep_login=token_digest(str(token)), forget_devices=False, now=moment
            )
        except AccountError as problem:
            return str(problem)
        audit.record(db, fresh, AuditAction.password_changed, now=moment)
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
        raise redirect(url(request, "staff_login"))
    if error:
        status = 429 if error.startswith("Too many") else 400
        return await render(
            request, "staff/password.html", {"error": error, "forced": account.must_change_password}, status=status
        )
    # A token read before the change (by a page left open elsewhere) no longer works.
    rotate_csrf_token(session)
    flash(session, "success", "Your password was changed.")
    raise redirect(url(request, "staff_leads"))
