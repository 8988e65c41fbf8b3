"""Staff accounts: email logins, Argon2id password hashes, the password rules, the first admin."""

from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.db import utcnow
from bot.staff.models import StaffAccount, StaffDevice, StaffLogin

log = logging.getLogger(__name__)

INITIAL_ADMIN_LOGIN = "admin"
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256

# argon2-cffi's defaults are Argon2id with the RFC 9106 "low memory" parameters.
PASSWORD_HASHER = PasswordHasher()

# Words that make up most guessed passwords, and words anyone could guess for this clinic.
_COMMON_WORDS = frozenset(
    """
    password passwort passw0rd letmein welcome qwerty qwertyuiop asdfgh asdfghjkl zxcvbnm
    abc abcd abcdef abcdefg iloveyou admin administrator root user login changeme secret
    monkey dragon football baseball sunshine princess master shadow trustno starwars
    clinic montross therapy physicaltherapy physical therapist osteoporosis staff frontdesk
    """.split()
)


class AccountError(ValueError):
    """An account operation that cannot be done as asked; the message is fit to show."""


def normalize_login(raw: str) -> str:
    return (raw or "").strip().lower()


def validate_staff_email(raw: str) -> str:
    """The address as a login (lower case), or AccountError saying what is wrong with it."""
    text = (raw or "").strip()
    if not text:
        raise AccountError("An email address is needed.")
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as error:
        raise AccountError(f"{text!r} is not a valid email address: {error}") from None
    return result.normalized.lower()


def password_problem(password: str, login: str = "") -> str | None:
    """Why `password` is not good enough, or None when it is."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"The password is too short: use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"The password is too long: use at most {MAX_PASSWORD_LENGTH} characters."
    if password.strip() != password:
        return "The password must not start or end with a space."
    if len(set(password)) < 5:
        return "The password repeats too few different characters; it would be easy to guess."
    lowered = password.lower()
    name = normalize_login(login).split("@", 1)[0]
    if len(name) >= 3 and name in lowered:
        return "The password must not contain the account's name."
    letters = re.sub(r"[^a-z]", "", lowered)
    if not letters or letters in _COMMON_WORDS:
        return "The password is too easy to guess: use a few unrelated words or a password manager."
    return None


def hash_password(password: str) -> str:
    return PASSWORD_HASHER.hash(password)


@lru_cache(maxsize=1)
def _unused_hash() -> str:
    return PASSWORD_HASHER.hash(secrets.token_urlsafe(16))


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; with no hash it still spends the same time, then says no."""
    try:
        return PASSWORD_HASHER.verify(password_hash or _unused_hash(), password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def get_account(db: Session, login: str) -> StaffAccount | None:
    return db.scalar(select(StaffAccount).where(StaffAccount.login == normalize_login(login)))


def require_account(db: Session, login: str) -> StaffAccount:
    account = get_account(db, login)
    if account is None:
        raise AccountError(f"There is no staff account {normalize_login(login)!r}.")
    return account


def list_accounts(db: Session) -> list[StaffAccount]:
    return list(db.scalars(select(StaffAccount).order_by(StaffAccount.login)))


def create_account(
    db: Session,
    login: str,
    password: str,
    *,
    is_admin: bool = False,
    must_change_password: bool = False,
    now: datetime | None = None,
) -> StaffAccount:
    """Add an account whose login is an email address (checked here)."""
    email = validate_staff_email(login)
    problem = password_problem(password, email)
    if problem:
        raise AccountError(problem)
    if get_account(db, email) is not None:
        raise AccountError(f"There is already a staff account {email!r}.")
    return _add(db, email, password, is_admin=is_admin, must_change_password=must_change_password, now=now)


def _add(
    db: Session, login: str, password: str, *, is_admin: bool, must_change_password: bool, now: datetime | None
) -> StaffAccount:
    now = now or utcnow()
    account = StaffAccount(
        login=login,
        password_hash=hash_password(password),
        is_admin=is_admin,
        is_active=True,
        must_change_password=must_change_password,
        failed_logins=0,
        created_at=now,
        password_changed_at=now,
    )
    db.add(account)
    db.flush()
    return account


def set_password(
    db: Session,
    account: StaffAccount,
    password: str,
    *,
    must_change_password: bool = False,
    keep_login: str | None = None,
    forget_devices: bool = True,
    now: datetime | None = None,
) -> None:
    """Replace the password, clear any sign-in lock and end the account's other sessions.

    `forget_devices` also drops the browsers trusted for sign-in throttling: right after a
    reset for a suspected leak, but not when people change their own password.
    """
    problem = password_problem(password, account.login)
    if problem:
        raise AccountError(problem)
    account.password_hash = hash_password(password)
    account.must_change_password = must_change_password
    account.password_changed_at = now or utcnow()
    account.failed_logins = 0
    account.last_failed_at = None
    account.locked_until = None
    if forget_devices:
        db.execute(delete(StaffDevice).where(StaffDevice.account_id == account.id))
    end_sessions(db, account.id, keep_digest=keep_login)


def end_sessions(db: Session, account_id: int, *, keep_digest: str | None = None) -> None:
    query = delete(StaffLogin).where(StaffLogin.account_id == account_id)
    if keep_digest is not None:
        query = query.where(StaffLogin.token_digest != keep_digest)
    db.execute(query)


def active_admin_count(db: Session) -> int:
    return db.scalar(
        select(func.count()).select_from(StaffAccount).where(StaffAccount.is_admin, StaffAccount.is_active)
    ) or 0


def disable_account(db: Session, login: str) -> StaffAccount:
    """Stop the account from signing in and end its sessions; the last administrator stays."""
    account = require_account(db, login)
    if not account.is_active:
        raise AccountError(f"The staff account {account.login!r} is already disabled.")
    if account.is_admin and active_admin_count(db) <= 1:
        raise AccountError(
            f"{account.login!r} is the only active administrator; add another administrator first."
        )
    account.is_active = False
    end_sessions(db, account.id)
    return account


def enable_account(db: Session, login: str) -> StaffAccount:
    account = require_account(db, login)
    if account.is_active:
        raise AccountError(f"The staff account {account.login!r} is already enabled.")
    account.is_active = True
    account.failed_logins = 0
    account.last_failed_at = None
    account.locked_until = None
    return account


def generate_one_time_password() -> str:
    # 15 random bytes: 20 URL-safe characters, easy to copy from a terminal.
    return secrets.token_urlsafe(15)


def ensure_initial_admin(session_factory: sessionmaker) -> str | None:
    """When no account exists, create `admin` with a one-time password and return it once.

    The password must be changed at the first sign-in. Returns None when any account
    already exists (or another process created the first one at the same moment).
    """
    with session_factory() as db:
        if db.scalar(select(func.count()).select_from(StaffAccount)):
            return None
        password = generate_one_time_password()
        _add(db, INITIAL_ADMIN_LOGIN, password, is_admin=True, must_change_password=True, now=None)
        try:
            db.commit()
        except IntegrityError:
            db.rollback()
            return None
    log.info("Created the staff account %r with a one-time password", INITIAL_ADMIN_LOGIN)
    return password
