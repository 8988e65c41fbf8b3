"""Signing in: password checks with throttling, and server-side sessions.

Throttling policy (per account, see `ThrottlePolicy`):

* Each failed sign-in makes the next attempt wait longer: 1, 2, 4, 8 seconds. Attempts
  that come sooner are refused without checking the password.
* The 5th failure in a row locks sign-in for 15 minutes. The lock is never extended by
  further attempts, and when it ends the count starts over. Failures older than 15
  minutes are forgotten, so occasional typos never add up to a lock.
* A browser the person has signed in on before carries a device cookie; sign-ins from
  it are counted on that device's own counter instead of the account's. Someone
  guessing a colleague's password from elsewhere locks out only browsers that never
  signed in to that account, not the colleague at their usual desk or tablet.
* A successful sign-in clears the counters; resetting the password from the command
  line clears any lock at once.
* A disabled account is throttled the same way; only its right password is told that
  it is disabled. An address with no account is throttled and locked the same way too
  (`UnknownSignIn`), so no answer tells whether an account exists.
* Attempts sent at once must not all be checked against the same count: the web app
  takes them one at a time per account, and each failure is added in the database
  itself (`record_failure`), for web app processes sharing it.

Sessions: the encrypted cookie (aiohttp-session) carries a random token; the server
keeps its SHA-256 digest with the last time it was used. A session idle for longer
than the configured minutes is over, and so is one older than the maximum age; signing out, disabling the account or changing
its password deletes the server row, so a copied cookie stops working too.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Protocol

from sqlalchemy import and_, case, delete, func, inspect, literal, null, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot import audit
from bot.audit import AuditAction
from bot.staff import accounts
from bot.staff.accounts import get_account, normalize_login, verify_password
from bot.staff.models import StaffAccount, StaffDevice, StaffLogin, UnknownSignIn

# A shared front-desk browser remembers this many colleagues as trusted for sign-in.
MAX_DEVICE_TOKENS = 8
_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


@dataclass(frozen=True)
class ThrottlePolicy:
    lock_after: int = 5
    lock_for: timedelta = timedelta(minutes=15)
    first_delay: timedelta = timedelta(seconds=1)
    forget_after: timedelta = timedelta(minutes=15)

    def delay_after(self, failures: int) -> timedelta:
        if failures <= 0:
            return timedelta(0)
        return self.first_delay * (2 ** (failures - 1))


class ThrottleState(Protocol):
    failed_logins: int
    last_failed_at: datetime | None
    locked_until: datetime | None


def current_failures(state: ThrottleState, now: datetime, policy: ThrottlePolicy) -> int:
    if state.locked_until is not None and now >= state.locked_until:
        return 0
    if state.last_failed_at is not None and now - state.last_failed_at >= policy.forget_after:
        return 0
    return state.failed_logins or 0


def blocked_until(state: ThrottleState, now: datetime, policy: ThrottlePolicy) -> datetime | None:
    """Until when sign-in attempts are refused, or None when one may be made now."""
    if state.locked_until is not None and now < state.locked_until:
        return state.locked_until
    failures = current_failures(state, now, policy)
    if failures and state.last_failed_at is not None:
        allowed_at = state.last_failed_at + policy.delay_after(failures)
        if now < allowed_at:
            return allowed_at
    return None


def record_failure(
    db: Session, state: StaffAccount | StaffDevice | UnknownSignIn, now: datetime, policy: ThrottlePolicy
) -> tuple[bool, datetime | None]:
    """Count a failed attempt on the account, device or unknown address: whether this one
    locked sign-in, and until when sign-in is locked.

    One UPDATE computes the count from the stored one: attempts checked at the same
    moment (by other processes) each add theirs instead of all writing the same number.
    The row is not touched while a lock set meanwhile lasts, so a lock is never extended.
    """
    model = type(state)
    key = and_(*(column == value for column, value in zip(model.__mapper__.primary_key, inspect(state).identity)))
    lock_over = and_(model.locked_until.is_not(None), model.locked_until <= now)
    forgotten = and_(model.last_failed_at.is_not(None), model.last_failed_at <= now - policy.forget_after)
    failures = case((or_(lock_over, forgotten), 0), else_=func.coalesce(model.failed_logins, 0)) + 1
    lock_end = literal(now + policy.lock_for, model.locked_until.type)
    row = db.execute(
        update(model)
        .where(key, or_(model.locked_until.is_(None), model.locked_until <= now))
        .values(
            failed_logins=failures,
            last_failed_at=now,
            locked_until=case((failures >= policy.lock_after, lock_end), else_=null()),
        )
        .returning(model.locked_until)
        .execution_options(synchronize_session="fetch")
    ).one_or_none()
    if row is None:
        db.refresh(state)
        return False, state.locked_until
    return row.locked_until is not None, row.locked_until


def record_success(state: ThrottleState) -> None:
    state.failed_logins = 0
    state.last_failed_at = None
    state.locked_until = None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def parse_device_cookie(value: str | None) -> list[str]:
    tokens = [part for part in (value or "").split(".") if _TOKEN_PATTERN.match(part)]
    return tokens[:MAX_DEVICE_TOKENS]


def device_cookie_value(new: str, existing: list[str]) -> str:
    kept = [token for token in existing if token != new]
    return ".".join([new, *kept][:MAX_DEVICE_TOKENS])


class SignInOutcome(Enum):
    signed_in = "signed_in"
    wrong = "wrong"
    throttled = "throttled"
    disabled = "disabled"


@dataclass
class SignInResult:
    outcome: SignInOutcome
    account: StaffAccount | None = None
    retry_at: datetime | None = None
    just_locked: bool = False
    # Set when this browser should be remembered as trusted for the account.
    new_device_token: str | None = None


def _trusted_device(db: Session, account: StaffAccount, device_tokens: list[str]) -> StaffDevice | None:
    if not device_tokens:
        return None
    digests = [token_digest(token) for token in device_tokens]
    return db.scalar(
        select(StaffDevice).where(StaffDevice.account_id == account.id, StaffDevice.token_digest.in_(digests))
    )


def sign_in(
    db: Session,
    login: str,
    password: str,
    *,
    device_tokens: list[str],
    now: datetime,
    policy: ThrottlePolicy,
) -> SignInResult:
    """Check a sign-in attempt and update the counters; the caller commits."""
    account = get_account(db, login)
    # Throttled like any account: a disabled one must not let its password be guessed freely,
    # and an address with no account must not tell that it has none.
    device = None if account is None else _trusted_device(db, account, device_tokens)
    state: StaffAccount | StaffDevice | UnknownSignIn
    if account is None:
        state = _unknown_sign_in(db, login, now, policy)
    else:
        state = device if device is not None else account
    retry_at = blocked_until(state, now, policy)
    if retry_at is not None:
        return SignInResult(SignInOutcome.throttled, account=account, retry_at=retry_at)

    # With no account there is no hash: the check takes the same time and says no.
    if not verify_password(account.password_hash if account is not None else None, password):
        just_locked, locked_until = record_failure(db, state, now, policy)
        if account is not None:
            audit.record(
                db,
                account,
                AuditAction.account_locked if just_locked else AuditAction.sign_in_failed,
                detail=("trusted browser" if device is not None else "other browser"),
                now=now,
            )
        if locked_until is not None and locked_until > now:
            return SignInResult(
                SignInOutcome.throttled, account=account, retry_at=locked_until, just_locked=just_locked
            )
        # Said the same way as for any other account: a wrong guess does not tell that it is disabled.
        return SignInResult(SignInOutcome.wrong, account=account)
    if not account.is_active:
        # Only the right password learns why: what a right guess on an enabled account learns too.
        return SignInResult(SignInOutcome.disabled)

    record_success(state)
    record_success(account)
    account.last_login_at = now
    if accounts.PASSWORD_HASHER.check_needs_rehash(account.password_hash):
        account.password_hash = accounts.hash_password(password)
    new_device_token = None
    if device is None:
        new_device_token = new_token()
        device = StaffDevice(
            token_digest=token_digest(new_device_token),
            account_id=account.id,
            failed_logins=0,
            created_at=now,
        )
        db.add(device)
    device.last_login_at = now
    audit.record(db, account, AuditAction.signed_in, now=now)
    return SignInResult(SignInOutcome.signed_in, account=account, new_device_token=new_device_token)


def _unknown_sign_in(db: Session, login: str, now: datetime, policy: ThrottlePolicy) -> UnknownSignIn:
    # Counters that say nothing any more are dropped, so guessing many addresses adds no rows for long.
    db.execute(
        delete(UnknownSignIn).where(
            or_(
                UnknownSignIn.locked_until <= now,
                and_(UnknownSignIn.locked_until.is_(None), UnknownSignIn.last_failed_at <= now - policy.forget_after),
            )
        )
    )
    digest = token_digest(normalize_login(login))
    # Another process may count the same address at the same moment: both count on one row.
    insert = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}[db.get_bind().dialect.name]
    db.execute(insert(UnknownSignIn).values(login_digest=digest, failed_logins=0).on_conflict_do_nothing())
    return db.get_one(UnknownSignIn, digest, populate_existing=True)


def start_session(db: Session, account: StaffAccount, *, now: datetime, idle: timedelta) -> str:
    """A new signed-in session for `account`; returns the token for the cookie."""
    # Sessions nobody came back to are over anyway; clear them out while here.
    db.execute(delete(StaffLogin).where(StaffLogin.last_seen_at < now - idle))
    token = new_token()
    db.add(StaffLogin(token_digest=token_digest(token), account_id=account.id, created_at=now, last_seen_at=now))
    return token


@dataclass(frozen=True)
class ResumedSession:
    account: StaffAccount | None
    timed_out: bool = False
    # Over its maximum age, however active: a stolen cookie does not live forever.
    too_old: bool = False


def resume_session(
    db: Session, token: str, *, now: datetime, idle: timedelta, max_age: timedelta | None = None
) -> ResumedSession:
    """The account of a session that is still valid (and mark it used now)."""
    row = db.get(StaffLogin, token_digest(token))
    if row is None:
        return ResumedSession(None)
    account = db.get(StaffAccount, row.account_id)
    if account is None or not account.is_active:
        db.delete(row)
        return ResumedSession(None)
    if now - row.last_seen_at > idle:
        db.delete(row)
        return ResumedSession(None, timed_out=True)
    if max_age is not None and now - row.created_at > max_age:
        db.delete(row)
        return ResumedSession(None, too_old=True)
    row.last_seen_at = now
    return ResumedSession(account)


def end_session(db: Session, token: str) -> None:
    db.execute(delete(StaffLogin).where(StaffLogin.token_digest == token_digest(token)))
