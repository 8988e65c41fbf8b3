"""Passwords, sign-in throttling and sessions, against a real database."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from argon2 import Type
from sqlalchemy import func, select

from bot.staff import accounts, auth
from bot.staff.accounts import AccountError, create_account, ensure_initial_admin, password_problem
from bot.staff.auth import (
    SignInOutcome,
    ThrottlePolicy,
    parse_device_cookie,
    resume_session,
    sign_in,
    start_session,
)
from bot.audit import AuditEntry
from bot.staff.models import StaffAccount, UnknownSignIn
from tests.staff.helpers import PASSWORD, PRODUCTION_HASHER, STAFF_EMAIL, add_account

POLICY = ThrottlePolicy()


def test_the_production_hasher_is_argon2id_and_hashes_are_salted() -> None:
    assert PRODUCTION_HASHER.type is Type.ID
    first, second = PRODUCTION_HASHER.hash(PASSWORD), PRODUCTION_HASHER.hash(PASSWORD)
    assert first.startswith("$argon2id$") and second.startswith("$argon2id$")
    assert first != second
    assert PRODUCTION_HASHER.verify(first, PASSWORD)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1!", "too short"),
        ("aaaaaaaaaaaaaaaa", "too few different characters"),
        ("Password123456!", "too easy to guess"),
        ("123456789012345", "too easy to guess"),
        ("frontdesk-rocks-2025", "must not contain the account's name"),
        (" leading space pass", "must not start or end with a space"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, reason: str) -> None:
    problem = password_problem(password, STAFF_EMAIL)
    assert problem is not None and reason in problem


def test_a_good_password_passes() -> None:
    assert password_problem(PASSWORD, STAFF_EMAIL) is None


def test_accounts_are_stored_hashed_and_logins_are_emails(database) -> None:
    add_account(database, "Front.Desk@Clinic.Example")
    with database.session_factory() as db:
        account = db.scalar(select(StaffAccount))
        assert account.login == "front.desk@clinic.example"
        assert PASSWORD not in account.password_hash
        assert account.password_hash.startswith("$argon2id$")
        with pytest.raises(AccountError, match="not a valid email"):
            create_account(db, "front desk", PASSWORD)
        with pytest.raises(AccountError, match="already a staff account"):
            create_account(db, "front.desk@clinic.example", PASSWORD)


def test_the_first_admin_is_made_once_with_a_one_time_password(database) -> None:
    password = ensure_initial_admin(database.session_factory)
    assert password and len(password) >= 16
    assert ensure_initial_admin(database.session_factory) is None
    with database.session_factory() as db:
        admin = db.scalar(select(StaffAccount))
        assert admin.login == "admin" and admin.is_admin and admin.must_change_password
        assert accounts.verify_password(admin.password_hash, password)


def _attempt(database, password: str, now, *, devices: list[str] | None = None):
    with database.session_factory(expire_on_commit=False) as db:
        result = sign_in(db, STAFF_EMAIL, password, device_tokens=devices or [], now=now, policy=POLICY)
        db.commit()
        return result


def test_failures_slow_down_then_lock_for_15_minutes_then_start_over(database, clock) -> None:
    add_account(database, STAFF_EMAIL)
    start = clock()
    # 1st to 4th failures: each asks for a longer wait before the next try (1, 2, 4, 8 s).
    now = start
    for failures, wait in enumerate([1, 2, 4, 8], start=1):
        result = _attempt(database, "wrong password", now)
        assert result.outcome is SignInOutcome.wrong
        early = _attempt(database, PASSWORD, now + timedelta(seconds=wait) - timedelta(milliseconds=1))
        assert early.outcome is SignInOutcome.throttled
        assert early.retry_at == now + timedelta(seconds=wait)
        now = now + timedelta(seconds=wait)
    # 5th failure: locked; the right password is not even checked while it lasts.
    locked = _attempt(database, "wrong password", now)
    assert locked.outcome is SignInOutcome.throttled and locked.just_locked
    assert locked.retry_at == now + timedelta(minutes=15)
    during = _attempt(database, PASSWORD, now + timedelta(minutes=14, seconds=59))
    assert during.outcome is SignInOutcome.throttled
    # Tries during the lock do not extend it.
    assert during.retry_at == now + timedelta(minutes=15)
    after = _attempt(database, PASSWORD, now + timedelta(minutes=15))
    assert after.outcome is SignInOutcome.signed_in
    with database.session_factory() as db:
        account = db.scalar(select(StaffAccount))
        assert (account.failed_logins, account.locked_until) == (0, None)
        actions = [entry.action for entry in db.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["sign_in_failed"] * 4 + ["account_locked", "signed_in"]


def test_guesses_checked_at_the_same_moment_each_count(any_database, clock, monkeypatch) -> None:
    """Web app processes share the database: attempts that all read the counters before any
    of them failed must still add up, so five guesses at once lock the account."""
    add_account(any_database, STAFF_EMAIL)
    guesses = 5
    all_read = threading.Barrier(guesses, timeout=30)
    real_verify = auth.verify_password

    def verify_once_all_have_read(password_hash, password):
        all_read.wait()
        return real_verify(password_hash, password)

    monkeypatch.setattr(auth, "verify_password", verify_once_all_have_read)
    with ThreadPoolExecutor(guesses) as pool:
        results = list(pool.map(lambda number: _attempt(any_database, f"guess {number}", clock()), range(guesses)))
    assert sorted(result.outcome.value for result in results) == ["throttled"] + ["wrong"] * 4
    assert [result.retry_at for result in results if result.just_locked] == [clock() + timedelta(minutes=15)]
    monkeypatch.setattr(auth, "verify_password", real_verify)
    later = _attempt(any_database, PASSWORD, clock() + timedelta(minutes=14))
    assert later.outcome is SignInOutcome.throttled and later.retry_at == clock() + timedelta(minutes=15)


def test_old_failures_are_forgotten(database, clock) -> None:
    add_account(database, STAFF_EMAIL)
    now = clock()
    for _ in range(4):
        _attempt(database, "wrong password", now)
        now += timedelta(minutes=20)
    # Four typos spread over an hour never add up to a lock.
    assert _attempt(database, "wrong password", now).outcome is SignInOutcome.wrong


def test_a_trusted_browser_is_not_locked_out_by_someone_else(database, clock) -> None:
    add_account(database, STAFF_EMAIL)
    now = clock()
    first = _attempt(database, PASSWORD, now)
    assert first.outcome is SignInOutcome.signed_in and first.new_device_token
    desk = parse_device_cookie(first.new_device_token)
    # Someone elsewhere guesses until the account locks for browsers it does not know...
    for step in range(5):
        result = _attempt(database, "guess", now + timedelta(minutes=1, seconds=20 * step))
    assert result.just_locked
    later = now + timedelta(minutes=3)
    assert _attempt(database, PASSWORD, later).outcome is SignInOutcome.throttled
    # ...while the person at their usual desk signs in as usual, and the desk stays trusted.
    at_desk = _attempt(database, PASSWORD, later, devices=desk)
    assert at_desk.outcome is SignInOutcome.signed_in
    assert at_desk.new_device_token is None


def test_a_trusted_browser_has_its_own_lock(database, clock) -> None:
    add_account(database, STAFF_EMAIL)
    now = clock()
    desk = parse_device_cookie(_attempt(database, PASSWORD, now).new_device_token)
    for step in range(5):
        result = _attempt(database, "guess", now + timedelta(seconds=20 * (step + 1)), devices=desk)
    assert result.just_locked
    assert _attempt(database, PASSWORD, now + timedelta(minutes=3), devices=desk).outcome is SignInOutcome.throttled


def test_unknown_and_disabled_accounts(database, clock) -> None:
    add_account(database, STAFF_EMAIL)
    assert _attempt(database, PASSWORD, clock()).outcome is SignInOutcome.signed_in
    with database.session_factory() as db:
        assert sign_in(db, "nobody@clinic.example", PASSWORD, device_tokens=[], now=clock(), policy=POLICY).outcome is (
            SignInOutcome.wrong
        )
        account = db.scalar(select(StaffAccount))
        account.is_active = False
        db.commit()
    assert _attempt(database, PASSWORD, clock()).outcome is SignInOutcome.disabled
    assert _attempt(database, "wrong password", clock()).outcome is SignInOutcome.wrong
    # Guessing a disabled account's password is throttled like any other: the right one is
    # not even checked right after a failure.
    assert _attempt(database, PASSWORD, clock()).outcome is SignInOutcome.throttled


def test_an_address_without_an_account_gets_the_answers_an_account_would(any_database, clock) -> None:
    """Two quick tries, or five, must not tell an existing account from a missing one."""
    add_account(any_database, STAFF_EMAIL)
    start = clock()
    steps = [(0, "wrong"), (0.5, PASSWORD), (1, "wrong"), (3, "wrong"), (7, "wrong"), (15, "wrong"),
             (16, PASSWORD), (15 + 15 * 60, "wrong")]

    def answers(login: str) -> list[tuple]:
        seen = []
        for seconds, password in steps:
            with any_database.session_factory(expire_on_commit=False) as db:
                result = sign_in(db, login, password, device_tokens=[], now=start + timedelta(seconds=seconds),
                                 policy=POLICY)
                db.commit()
            seen.append((result.outcome, result.retry_at, result.just_locked))
        return seen

    existing, missing = answers(STAFF_EMAIL), answers("Nobody@Clinic.Example")
    assert missing == existing
    assert [outcome.value for outcome, _, _ in missing] == [
        "wrong", "throttled", "wrong", "wrong", "wrong", "throttled", "throttled", "wrong"]
    assert missing[5] == (SignInOutcome.throttled, start + timedelta(seconds=15, minutes=15), True)
    with any_database.session_factory() as db:
        [row] = db.scalars(select(UnknownSignIn)).all()
        assert "nobody" not in row.login_digest and len(row.login_digest) == 64
        # Once a counter says nothing any more, the next unknown address's try drops it.
        sign_in(db, "someone.else@clinic.example", "guess", device_tokens=[], now=start + timedelta(hours=1),
                policy=POLICY)
        db.commit()
        assert db.scalar(select(func.count()).select_from(UnknownSignIn)) == 1


def test_sessions_end_when_idle_and_are_kept_alive_by_use(database, clock) -> None:
    add_account(database, STAFF_EMAIL)
    idle = timedelta(minutes=30)
    with database.session_factory(expire_on_commit=False) as db:
        account = db.scalar(select(StaffAccount))
        token = start_session(db, account, now=clock(), idle=idle)
        db.commit()
        assert resume_session(db, token, now=clock.now + timedelta(minutes=29), idle=idle).account is not None
        db.commit()
        # 29 minutes after the last use, still signed in; 31 minutes after it, not.
        assert resume_session(db, token, now=clock.now + timedelta(minutes=58), idle=idle).account is not None
        db.commit()
        ended = resume_session(db, token, now=clock.now + timedelta(minutes=89), idle=idle)
        db.commit()
        assert ended.account is None and ended.timed_out
        assert resume_session(db, token, now=clock.now + timedelta(minutes=89), idle=idle).account is None
