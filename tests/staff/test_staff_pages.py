"""The staff pages through aiohttp's test client: sign-in, CSRF, lockout, the inbox, a lead, export, delete."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import stat
import time
from datetime import datetime, timezone
from http.cookies import SimpleCookie

import pytest
from sqlalchemy import func, select

from bot.audit import AuditEntry
from bot.leads.models import Lead, LeadNote, LeadStatus
from bot.notify.models import OutboxMessage
from bot.secrets import session_fernet
from bot.staff import auth
from bot.staff.accounts import ensure_initial_admin
from bot.staff.models import StaffAccount
from tests.staff import rasa_events
from tests.staff.helpers import (
    ADMIN_EMAIL,
    PASSWORD,
    STAFF_EMAIL,
    csrf_from,
    form_token,
    sign_in,
    signed_in,
)

SCRIPT = "<script>alert(1)</script>"


def _cookie_header(response, name: str) -> str:
    for header in response.headers.getall("Set-Cookie", []):
        if header.startswith(name + "="):
            return header
    raise AssertionError(f"no {name} cookie was set")


# --- signing in and out ----------------------------------------------------------------


async def test_a_visitor_without_a_session_is_sent_to_sign_in(client) -> None:
    response = await client.get("/staff/leads?status=new", allow_redirects=False)
    # No session cookie came with the request (as from a link in an email): one hop
    # from this site lets the browser send a SameSite=Strict cookie it may hold.
    assert response.status == 200
    html = await response.text()
    assert 'http-equiv="refresh"' in html
    assert "/staff/login?next=/staff/leads?status%3Dnew" in html
    page = await client.get("/staff/login?next=/staff/leads?status%3Dnew")
    assert "Staff sign-in" in await page.text()
    # With the session cookie, a plain redirect.
    response = await client.get("/staff/leads", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/staff/login?next=/staff/leads"


async def test_sign_in_opens_the_inbox_and_sets_safe_cookies(client) -> None:
    response = await sign_in(client, next_url="/staff/leads?kind=cost")
    assert response.status == 303
    assert response.headers["Location"] == "/staff/leads?kind=cost"
    session_cookie = _cookie_header(response, "clinic_staff").lower()
    assert "httponly" in session_cookie and "samesite=strict" in session_cookie and "path=/staff" in session_cookie
    assert "secure" not in session_cookie.replace("samesite", "")
    device_cookie = _cookie_header(response, "clinic_staff_device").lower()
    assert "httponly" in device_cookie and "samesite=strict" in device_cookie and "path=/staff/login" in device_cookie
    page = await client.get("/staff/leads")
    assert page.status == 200
    html = await page.text()
    assert "<h1>Leads</h1>" in html and STAFF_EMAIL in html
    # Staff accounts do not see the audit log in the menu.
    assert "Audit log" not in html
    assert page.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


async def test_cookies_are_secure_when_served_over_https(aiohttp_client, make_staff_app, staff_settings, accounts_made):
    client = await aiohttp_client(make_staff_app(staff_settings.with_overrides(cookie_secure=True)))
    page = await client.get("/staff/login")
    session_cookie = _cookie_header(page, "clinic_staff")
    assert "; secure" in session_cookie.lower()
    # The test client speaks plain http and so keeps no Secure cookie: send it by hand.
    cookie = SimpleCookie(session_cookie)["clinic_staff"].value
    response = await client.post(
        "/staff/login",
        data={"csrf_token": csrf_from(await page.text()), "login": STAFF_EMAIL, "password": PASSWORD},
        headers={"Cookie": f"clinic_staff={cookie}"},
        allow_redirects=False,
    )
    assert response.status == 303
    assert "; secure" in _cookie_header(response, "clinic_staff").lower()
    assert "; secure" in _cookie_header(response, "clinic_staff_device").lower()


async def test_wrong_password_and_unknown_account_get_the_same_answer(client) -> None:
    wrong = await sign_in(client, password="not the password")
    unknown = await sign_in(client, login="nobody@clinic.example")
    assert wrong.status == unknown.status == 401
    for response in (wrong, unknown):
        assert "The email address or password is not right." in await response.text()
    empty = await sign_in(client, password="")
    assert empty.status == 400 and "Enter your email address" in await empty.text()


async def test_a_quick_retry_gets_the_same_answer_with_or_without_an_account(client) -> None:
    answers = []
    for login in (STAFF_EMAIL, "nobody@clinic.example"):
        first = await sign_in(client, login=login, password="typo typo typo")
        retry = await sign_in(client, login=login, password="another guess")
        answers.append((first.status, retry.status, await retry.text()))
    (account_first, account_retry, account_page), (missing_first, missing_retry, missing_page) = answers
    assert (account_first, account_retry) == (missing_first, missing_retry) == (401, 429)
    assert "Too many failed sign-ins for this account. Try again in 1 second." in missing_page
    assert account_page.replace(STAFF_EMAIL, "nobody@clinic.example") == missing_page


async def test_a_crafted_next_address_cannot_leave_the_staff_pages(client) -> None:
    for target in ("https://evil.example/", "//evil.example/staff", "/elsewhere", "/staffing", "/staff\\@evil.example"):
        response = await sign_in(client, next_url=target)
        assert response.headers["Location"] == "/staff/leads", target
        await client.post("/staff/logout", data={"csrf_token": await form_token(client, "/staff/leads")})


async def test_sign_out_ends_the_session_on_the_server(client) -> None:
    await signed_in(client)
    stolen = client.session.cookie_jar.filter_cookies(client.make_url("/staff/leads"))["clinic_staff"].value
    token = await form_token(client, "/staff/leads")
    response = await client.post("/staff/logout", data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/staff/login"
    page = await client.get("/staff/login")
    assert "You are signed out." in await page.text()
    # A copy of the old cookie no longer opens anything.
    client.session.cookie_jar.update_cookies(SimpleCookie(f"clinic_staff={stolen}; Path=/staff"))
    response = await client.get("/staff/leads", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/staff/login")


async def test_idle_sessions_end_after_the_configured_minutes(client, clock) -> None:
    await signed_in(client)
    clock.advance(minutes=29)
    assert (await client.get("/staff/leads", allow_redirects=False)).status == 200
    clock.advance(minutes=29)
    assert (await client.get("/staff/leads", allow_redirects=False)).status == 200
    clock.advance(minutes=31)
    response = await client.get("/staff/leads", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/staff/login?next=/staff/leads"
    page = await client.get(response.headers["Location"])
    assert "You were signed out after 30 minutes without activity." in await page.text()


async def test_a_session_ends_after_12_hours_however_active(client, clock) -> None:
    await signed_in(client)
    for _ in range(24):  # a page every 29 minutes: 11 h 36 min
        clock.advance(minutes=29)
        assert (await client.get("/staff/leads", allow_redirects=False)).status == 200
    clock.advance(minutes=25)
    response = await client.get("/staff/leads", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/staff/login?next=/staff/leads"
    page = await client.get(response.headers["Location"])
    assert "a sign-in lasts at most 12 hours" in await page.text()
    assert (await sign_in(client)).status == 303


async def _change_password(client, current: str, new: str = "a brand new passphrase 2026", token: str | None = None):
    token = token or await form_token(client, "/staff/password")
    return await client.post(
        "/staff/password",
        data={"csrf_token": token, "current_password": current, "new_password": new, "confirm_password": new},
        allow_redirects=False,
    )


async def test_guessing_the_current_password_is_throttled_then_ends_the_session(
    client, clock, database, aiohttp_client, make_staff_app
) -> None:
    await signed_in(client)
    first = await _change_password(client, "guess 0")
    at_once = await _change_password(client, PASSWORD)
    assert first.status == 400 and "current password is not right" in await first.text()
    # Sent before the wait is over, even the right password is not checked.
    assert at_once.status == 429 and "Try again in 1 second" in await at_once.text()
    for attempt in range(1, 5):
        clock.advance(seconds=2 ** attempt)
        response = await _change_password(client, f"guess {attempt}")
    assert response.status == 303 and response.headers["Location"] == "/staff/login"
    page = await client.get("/staff/login")
    assert "signed out after too many wrong passwords" in await page.text()
    assert (await client.get("/staff/leads", allow_redirects=False)).status == 303
    with database.session_factory() as db:
        account = db.query(StaffAccount).filter_by(login=STAFF_EMAIL).one()
        assert auth.verify_password(account.password_hash, PASSWORD)
    # The account is paused like after five wrong sign-ins, for browsers it was not used on.
    elsewhere = await aiohttp_client(make_staff_app())
    assert (await sign_in(elsewhere)).status == 429


async def test_a_password_change_gives_the_session_a_new_csrf_token(client, clock) -> None:
    await signed_in(client)
    old_token = await form_token(client, "/staff/leads")
    assert (await _change_password(client, PASSWORD, token=old_token)).status == 303
    stale = await client.post("/staff/logout", data={"csrf_token": old_token}, allow_redirects=False)
    assert stale.status == 403
    new_token = await form_token(client, "/staff/leads")
    assert new_token != old_token
    assert (await client.post("/staff/logout", data={"csrf_token": new_token}, allow_redirects=False)).status == 303


async def test_a_signed_in_page_reloads_after_the_idle_time_to_show_sign_in(client, clock, leads) -> None:
    lead_id = leads.add()
    login_page = await (await client.get("/staff/login")).text()
    assert "idle-warning" not in login_page and "idle.js" not in login_page
    await signed_in(client)
    # 30 minutes and a little more: the server has ended the session by then.
    reload = 'data-idle-seconds="1805" data-warn-seconds="120"\n       data-reload-url=""'
    assert reload in await (await client.get("/staff/leads")).text()
    assert reload in await (await client.get(f"/staff/leads/{lead_id}")).text()
    # A form's answer is reloaded as the page the form was on, not sent again.
    token = await form_token(client, f"/staff/leads/{lead_id}")
    refused = await client.post(f"/staff/leads/{lead_id}/notes", data={"csrf_token": token, "note": " "})
    assert refused.status == 400
    assert f'data-reload-url="/staff/leads/{lead_id}"' in await refused.text()
    # What the reload then shows once the time is up:
    clock.advance(minutes=30, seconds=5)
    page = await client.get(f"/staff/leads/{lead_id}")
    html = await page.text()
    assert page.url.path == "/staff/login" and "Staff sign-in" in html
    assert "You were signed out after 30 minutes without activity." in html
    assert "idle-warning" not in html


async def test_the_reload_follows_the_configured_idle_minutes(
    aiohttp_client, make_staff_app, staff_settings, accounts_made
) -> None:
    client = await aiohttp_client(make_staff_app(staff_settings.with_overrides(staff_idle_minutes=5)))
    await signed_in(client)
    assert 'data-idle-seconds="305"' in await (await client.get("/staff/leads")).text()


async def test_a_disabled_account_is_signed_out(client, database) -> None:
    await signed_in(client)
    with database.session_factory() as db:
        db.scalar(select(StaffAccount).where(StaffAccount.login == STAFF_EMAIL)).is_active = False
        db.commit()
    response = await client.get("/staff/leads", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/staff/login")
    again = await sign_in(client)
    assert again.status == 403 and "This account has been disabled" in await again.text()


async def test_a_disabled_account_is_throttled_and_a_wrong_guess_learns_nothing(client, database, clock) -> None:
    with database.session_factory() as db:
        db.scalar(select(StaffAccount).where(StaffAccount.login == STAFF_EMAIL)).is_active = False
        db.commit()
    wrong = await sign_in(client, password="guess one")
    unknown = await sign_in(client, login="nobody@clinic.example", password="guess one")
    assert wrong.status == unknown.status == 401
    assert "The email address or password is not right." in await wrong.text()
    assert "disabled" not in await wrong.text()
    # The right password right after a wrong guess waits like on any account: not confirmed yet.
    early = await sign_in(client)
    assert early.status == 429 and "disabled" not in await early.text()
    for attempt in range(4):
        clock.advance(seconds=10)
        await sign_in(client, password=f"guess {attempt}")
    clock.advance(seconds=10)
    locked = await sign_in(client)
    assert locked.status == 429 and "Try again in 15 minutes." in await locked.text()
    assert "disabled" not in await locked.text()


async def test_repeated_failures_lock_the_account_until_it_expires(
    aiohttp_client, make_staff_app, accounts_made, clock
) -> None:
    somebody = await aiohttp_client(make_staff_app())
    for attempt in range(4):
        response = await sign_in(somebody, password=f"guess {attempt}")
        assert response.status == 401
        clock.advance(seconds=10)
    response = await sign_in(somebody, password="guess 5")
    assert response.status == 429
    assert "sign-in to this account is paused. Try again in 15 minutes." in await response.text()
    clock.advance(minutes=14)
    response = await sign_in(somebody)  # the right password, still refused
    assert response.status == 429 and "Try again in 1 minute." in await response.text()
    clock.advance(minutes=1)
    assert (await sign_in(somebody)).status == 303


async def test_a_quick_retry_is_asked_to_wait(client, clock) -> None:
    assert (await sign_in(client, password="typo typo typo")).status == 401
    clock.advance(seconds=1)
    assert (await sign_in(client, password="typo typo again")).status == 401
    # The second failure asks for 2 seconds before the next try.
    clock.advance(seconds=1)
    response = await sign_in(client)
    assert response.status == 429
    assert "Too many failed sign-ins for this account. Try again in 1 second." in await response.text()
    clock.advance(seconds=1)
    assert (await sign_in(client)).status == 303


async def test_sign_ins_sent_at_once_are_throttled_as_if_sent_one_by_one(client, clock, monkeypatch) -> None:
    real_verify = auth.verify_password

    def slow_verify(password_hash, password):
        # As long as a production Argon2 check: every request reads the counters meanwhile.
        time.sleep(0.2)
        return real_verify(password_hash, password)

    monkeypatch.setattr(auth, "verify_password", slow_verify)
    token = await form_token(client, "/staff/login")

    async def attempt(number: int):
        # However the address is typed, it is the same account.
        login = STAFF_EMAIL.upper() if number % 2 else STAFF_EMAIL
        data = {"csrf_token": token, "login": login, "password": f"guess {number}"}
        response = await client.post("/staff/login", data=data, allow_redirects=False)
        return response.status, await response.text()

    results = await asyncio.gather(*(attempt(number) for number in range(6)))
    assert sorted(status for status, _ in results) == [401] + [429] * 5
    for status, html in results:
        if status == 429:
            assert "Too many failed sign-ins for this account. Try again in 1 second." in html
    # The one failure that was checked counts once: the right password waits its second, then works.
    assert (await sign_in(client)).status == 429
    clock.advance(seconds=1)
    assert (await sign_in(client)).status == 303


async def test_someone_guessing_does_not_lock_out_the_person_at_their_usual_browser(
    aiohttp_client, make_staff_app, accounts_made, clock
) -> None:
    app = make_staff_app()
    colleague = await aiohttp_client(app)
    await signed_in(colleague)
    token = await form_token(colleague, "/staff/leads")
    await colleague.post("/staff/logout", data={"csrf_token": token})

    guesser = await aiohttp_client(make_staff_app())
    for attempt in range(5):
        clock.advance(seconds=30)
        response = await sign_in(guesser, password=f"guess {attempt}")
    assert response.status == 429
    assert (await sign_in(guesser)).status == 429
    # The colleague's browser signed in before: it is throttled on its own, not locked.
    assert (await sign_in(colleague)).status == 303


async def test_the_first_admin_must_replace_the_one_time_password(
    aiohttp_client, make_staff_app, database, clock
) -> None:
    one_time = ensure_initial_admin(database.session_factory)
    client = await aiohttp_client(make_staff_app())
    response = await sign_in(client, login="admin", password=one_time)
    assert response.status == 303 and response.headers["Location"] == "/staff/password"
    # Every other page waits until the password is changed.
    response = await client.get("/staff/leads", allow_redirects=False)
    assert response.headers["Location"] == "/staff/password"
    page = await client.get("/staff/password")
    assert "still has its one-time password" in await page.text()
    token = csrf_from(await page.text())

    async def change(current: str, new: str, confirm: str):
        return await client.post(
            "/staff/password",
            data={"csrf_token": token, "current_password": current, "new_password": new, "confirm_password": confirm},
            allow_redirects=False,
        )

    weak = await change(one_time, "short", "short")
    assert weak.status == 400 and "too short" in await weak.text()
    mismatch = await change(one_time, PASSWORD, PASSWORD + "!")
    assert mismatch.status == 400 and "not the same" in await mismatch.text()
    wrong = await change("not it", PASSWORD, PASSWORD)
    assert wrong.status == 400 and "current password is not right" in await wrong.text()
    clock.advance(seconds=1)  # a wrong current password waits like a wrong sign-in
    done = await change(one_time, PASSWORD, PASSWORD)
    assert done.status == 303
    page = await client.get("/staff/leads")
    assert page.status == 200 and "Your password was changed." in await page.text()
    assert "Audit log" in await page.text()

    other = await aiohttp_client(make_staff_app())
    assert (await sign_in(other, login="admin", password=one_time)).status == 401
    clock.advance(seconds=1)
    assert (await sign_in(other, login="admin", password=PASSWORD)).headers["Location"] == "/staff/leads"


# --- CSRF --------------------------------------------------------------------------------


async def test_forms_without_the_csrf_token_are_refused_and_change_nothing(client, leads, database) -> None:
    lead_id = leads.add()
    await signed_in(client)
    for data in ({"status": "contacted", "current_status": "new"}, {"status": "contacted", "csrf_token": "forged"}):
        response = await client.post(f"/staff/leads/{lead_id}/status", data=data, allow_redirects=False)
        assert response.status == 403
        html = await response.text()
        assert "This form could not be accepted" in html and "nothing was changed" in html
    for path, data in (
        (f"/staff/leads/{lead_id}/notes", {"note": "forged note"}),
        (f"/staff/leads/{lead_id}/delete", {}),
        ("/staff/leads/export", {}),
        ("/staff/logout", {}),
    ):
        assert (await client.post(path, data=data, allow_redirects=False)).status == 403, path
    with database.session_factory() as db:
        lead = db.get(Lead, lead_id)
        assert lead is not None and lead.status is LeadStatus.new
        assert db.scalar(select(func.count()).select_from(LeadNote)) == 0
        assert db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "exported")) == 0
    # Still signed in: the forged sign-out did nothing either.
    assert (await client.get("/staff/leads", allow_redirects=False)).status == 200


async def test_the_sign_in_form_needs_its_token_too(client) -> None:
    response = await client.post("/staff/login", data={"login": STAFF_EMAIL, "password": PASSWORD})
    assert response.status == 403


# --- the inbox ---------------------------------------------------------------------------


def _lead_numbers(html: str) -> list[int]:
    return [int(number) for number in re.findall(r'<td><a href="/staff/leads/(\d+)">#', html)]


async def test_inbox_lists_newest_first_with_filters_search_and_pages(client, leads, clock, database) -> None:
    old = leads.add(name="Olga Old", email="olga@example.com", created_at=datetime(2025, 2, 1, 15, tzinfo=timezone.utc))
    cost = leads.add(name="Carl Cost", kind="cost", phone="804 555 0199")
    clock.advance(minutes=5)
    newest = leads.add(name="Nina Newest", kind="callback")
    with database.session_factory() as db:
        db.get(Lead, old).status = LeadStatus.closed
        db.commit()
    await signed_in(client)

    html = await (await client.get("/staff/leads")).text()
    assert _lead_numbers(html) == [newest, cost, old]
    assert ">2 new</a>" in html
    assert "Showing 1–3 of 3 leads" in html

    async def numbers(query: str) -> list[int]:
        return _lead_numbers(await (await client.get("/staff/leads?" + query)).text())

    assert await numbers("status=closed") == [old]
    assert await numbers("kind=cost") == [cost]
    assert await numbers("from=2025-03-01&to=2025-03-31") == [newest, cost]
    assert await numbers("to=2025-02-28") == [old]
    assert await numbers("q=olga") == [old]
    assert await numbers("q=555-0199") == [cost]
    assert await numbers("q=NINA") == [newest]
    page = await client.get("/staff/leads?status=won&from=yesterday")
    text = await page.text()
    assert page.status == 200
    assert "There is no status &#39;won&#39;; showing every status." in text
    assert "The from date &#39;yesterday&#39; is not a date like 2025-03-31" in text
    assert _lead_numbers(text) == [newest, cost, old]


async def test_inbox_pages_hold_50(client, leads, clock) -> None:
    for _ in range(52):
        leads.add(conversation=False)
        clock.advance(minutes=1)
    await signed_in(client)
    first = await (await client.get("/staff/leads")).text()
    assert len(_lead_numbers(first)) == 50 and "Page 1 of 2" in first
    assert 'href="/staff/leads?page=2"' in first
    second = await (await client.get("/staff/leads?page=2")).text()
    assert len(_lead_numbers(second)) == 2 and "Showing 51–52 of 52 leads" in second


async def test_what_a_visitor_typed_is_shown_as_text(client, leads) -> None:
    lead_id = leads.add(name=SCRIPT, area_of_concern=f"hip {SCRIPT}", preferred_times='"><img src=x onerror=alert(1)>')
    await signed_in(client)
    for path in ("/staff/leads", f"/staff/leads/{lead_id}", f"/staff/leads/{lead_id}/delete"):
        html = await (await client.get(path)).text()
        assert "<script>alert(1)" not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
    lead_html = await (await client.get(f"/staff/leads/{lead_id}")).text()
    assert "<img src=x" not in lead_html
    # The transcript shows the name the visitor typed, escaped as well.
    assert '<div class="turn-text">&lt;script&gt;alert(1)&lt;/script&gt;' in lead_html


# --- a lead --------------------------------------------------------------------------------


async def test_a_lead_page_shows_every_field_the_consent_and_the_transcript(client, leads, database) -> None:
    lead_id = leads.add(
        name="Maria Lopez",
        kind="cost",
        phone="(804) 555-0188",
        email="maria.lopez@example.com",
        area_of_concern="left hip",
        preferred_times="Tuesday mornings before 10",
        insurance="Anthem PPO",
        conversation_id="chat-7f3a",
        created_at=datetime(2025, 3, 3, 15, 0, tzinfo=timezone.utc),
    )
    await signed_in(client)
    response = await client.get(f"/staff/leads/{lead_id}")
    assert response.status == 200
    html = await response.text()
    for expected in (
        f"Lead #{lead_id}",
        "Maria Lopez",
        '<a href="tel:+18045550188">(804) 555-0188</a>',
        '<a href="mailto:maria.lopez@example.com">maria.lopez@example.com</a>',
        "Cost",
        "left hip",
        "Tuesday mornings before 10",
        "Anthem PPO",
        "chat-7f3a",
        "May the clinic&#39;s staff contact you by phone or email about this inquiry?",
        "Mar 3, 2025, 10:00 AM",
        '<span class="status status-new">New</span>',
    ):
        assert expected in html, expected
    transcript = html[html.index('id="transcript-title"') :]
    order = [
        "Can I book an appointment?",
        "Happy to help you book. What is your name?",
        "Maria Lopez",
        "Which area bothers you?",
        "<li>Hip</li>",
        "Thank you. Staff will call you back within one business day.",
    ]
    positions = [transcript.index(fragment) for fragment in order]
    assert positions == sorted(positions)
    assert "Mar 3, 2025, 9:59 AM" in transcript
    with database.session_factory() as db:
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "viewed"))
        assert (entry.actor_login, entry.lead_id) == (STAFF_EMAIL, lead_id)


async def test_a_lead_without_a_stored_conversation(client, leads) -> None:
    lead_id = leads.add(conversation=False)
    await signed_in(client)
    html = await (await client.get(f"/staff/leads/{lead_id}")).text()
    assert "No messages of this conversation are stored." in html


async def test_a_missing_lead_is_a_clear_404(client) -> None:
    await signed_in(client)
    response = await client.get("/staff/leads/999")
    assert response.status == 404 and "Lead #999 does not exist" in await response.text()
    response = await client.get("/staff/nowhere")
    assert response.status == 404 and "There is no staff page at this address." in await response.text()
    response = await client.get("/staff", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/staff/leads"


@pytest.mark.parametrize("lead_id", ["99999999999999999999999", "2147483648", "0", "9" * 400, "9" * 4301, "0" * 5000 + "2147483648"])
async def test_lead_ids_out_of_range_are_404_with_the_staff_headers(client, leads, lead_id) -> None:
    leads.add()
    await signed_in(client)
    token = await form_token(client, "/staff/leads")
    responses = [
        await client.get(f"/staff/leads/{lead_id}"),
        await client.get(f"/staff/leads/{lead_id}/delete"),
        await client.post(f"/staff/leads/{lead_id}/delete", data={"csrf_token": token}),
        await client.post(f"/staff/leads/{lead_id}/status", data={"csrf_token": token, "status": "contacted"}),
        await client.post(f"/staff/leads/{lead_id}/notes", data={"csrf_token": token, "text": "hello"}),
    ]
    audit = await client.get(f"/staff/audit?lead={lead_id}")
    assert [response.status for response in responses] == [404] * 5
    for response in [*responses, audit]:
        assert response.headers["Cache-Control"] == "no-store"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert audit.status in (200, 403)


async def test_an_error_on_a_staff_page_still_carries_the_staff_headers(client, database) -> None:
    await signed_in(client)
    with database.engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE leads RENAME TO leads_gone")

    response = await client.get("/staff/leads")

    assert response.status == 500
    assert response.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "nothing was changed" in await response.text()


async def test_status_changes_and_notes_with_author_and_time(client, leads, clock, database) -> None:
    lead_id = leads.add()
    await signed_in(client)
    token = await form_token(client, f"/staff/leads/{lead_id}")
    clock.advance(minutes=10)
    response = await client.post(
        f"/staff/leads/{lead_id}/status",
        data={"csrf_token": token, "status": "contacted", "current_status": "new", "note": "Left a voicemail"},
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == f"/staff/leads/{lead_id}"
    html = await (await client.get(f"/staff/leads/{lead_id}")).text()
    assert "Lead #%d is now &#39;Contacted&#39;." % lead_id in html
    assert '<span class="status status-contacted">Contacted</span>' in html
    notes = html[html.index('id="notes-title"') :]
    assert STAFF_EMAIL in notes and "Mar 3, 2025, 10:10 AM" in notes
    assert "New → Contacted" in notes and "Left a voicemail" in notes

    response = await client.post(
        f"/staff/leads/{lead_id}/notes",
        data={"csrf_token": token, "note": "Prefers calls after 4 pm"},
        allow_redirects=False,
    )
    assert response.status == 303
    html = await (await client.get(f"/staff/leads/{lead_id}")).text()
    assert "Your note was added." in html and "Prefers calls after 4 pm" in html

    # Moves the workflow does not have, and a page that is out of date.
    backwards = await client.post(
        f"/staff/leads/{lead_id}/status",
        data={"csrf_token": token, "status": "new", "current_status": "contacted", "note": "oops"},
    )
    assert backwards.status == 400
    assert "A lead that is &#39;Contacted&#39; cannot move to &#39;New&#39;." in await backwards.text()
    stale = await client.post(
        f"/staff/leads/{lead_id}/status",
        data={"csrf_token": token, "status": "scheduled", "current_status": "new", "note": "kept text"},
    )
    assert stale.status == 409
    stale_html = await stale.text()
    assert "changed this lead to &#39;Contacted&#39; meanwhile" in stale_html and ">kept text</textarea>" in stale_html
    empty = await client.post(f"/staff/leads/{lead_id}/notes", data={"csrf_token": token, "note": "  "})
    assert empty.status == 400 and "The note is empty" in await empty.text()
    with database.session_factory() as db:
        assert db.get(Lead, lead_id).status is LeadStatus.contacted
        assert db.scalar(select(func.count()).select_from(LeadNote)) == 2


async def test_csv_export_of_the_filtered_list(client, leads, database) -> None:
    cost = leads.add(name="=cmd|' /C calc'!A0", kind="cost", email="carl@example.com")
    leads.add(name="Other Kind", kind="appointment")
    await signed_in(client)
    token = await form_token(client, "/staff/leads?kind=cost")
    response = await client.post("/staff/leads/export", data={"csrf_token": token, "kind": "cost"})
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="leads-2025-03-03-\d{4}\.csv"', response.headers["Content-Disposition"])
    text = (await response.read()).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:5] == ["Lead number", "Received", "Kind", "Status", "Name"]
    assert len(rows) == 2
    assert rows[1][0] == str(cost) and rows[1][4] == "'=cmd|' /C calc'!A0" and rows[1][6] == "carl@example.com"
    with database.session_factory() as db:
        exported = list(db.scalars(select(AuditEntry).where(AuditEntry.action == "exported")))
    assert [(entry.lead_id, entry.actor_login, entry.detail) for entry in exported] == [
        (cost, STAFF_EMAIL, "CSV of 1 leads")
    ]


async def test_delete_on_request_removes_everything_but_a_bare_audit_entry(client, leads, database, staff_settings):
    leads.store._settings = staff_settings.with_overrides(smtp_host="127.0.0.1", mail_to=("desk@clinic.example",))
    lead_id = leads.add(name="Maria Lopez", email="maria@example.com", area_of_concern="cracked vertebra")
    other = leads.add(name="Someone Else")
    await signed_in(client)
    token = await form_token(client, f"/staff/leads/{lead_id}")
    await client.post(f"/staff/leads/{lead_id}/notes", data={"csrf_token": token, "note": "Maria called back"})
    confirm = await client.get(f"/staff/leads/{lead_id}/delete")
    assert "Delete lead #%d?" % lead_id in await confirm.text()
    response = await client.post(
        f"/staff/leads/{lead_id}/delete", data={"csrf_token": csrf_from(await confirm.text())}, allow_redirects=False
    )
    assert response.status == 303 and response.headers["Location"] == "/staff/leads"
    html = await (await client.get("/staff/leads")).text()
    assert f"Lead #{lead_id} was deleted, with its notes and its conversation." in html
    assert "Maria" not in html.replace(f"Lead #{lead_id} was deleted", "")
    assert (await client.get(f"/staff/leads/{lead_id}")).status == 404

    with database.session_factory() as db:
        assert db.get(Lead, lead_id) is None and db.get(Lead, other) is not None
        assert db.scalar(select(func.count()).select_from(LeadNote)) == 0
        assert db.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.lead_id == lead_id)) == 0
        entries = list(db.scalars(select(AuditEntry).where(AuditEntry.lead_id == lead_id)))
    assert rasa_events.count_events(database.engine, "conversation-1") == 0
    assert rasa_events.count_events(database.engine, "conversation-2") > 0
    assert entries[-1].action == "deleted"
    for entry in entries:
        text = f"{entry.actor_login} {entry.action} {entry.detail}".lower()
        assert not any(fragment in text for fragment in ("maria", "lopez", "vertebra", "example.com", "555"))


async def test_deleting_one_of_two_leads_from_one_chat(client, leads, database) -> None:
    cost = leads.add(name="Maria Lopez", kind="cost", conversation_id="chat-7", submission_key="cost")
    booking = leads.add(
        name="Maria Lopez", conversation=False, conversation_id="chat-7", submission_key="appointment"
    )
    alone = leads.add(name="Someone Else")
    await signed_in(client)
    confirm = await (await client.get(f"/staff/leads/{cost}/delete")).text()
    assert "Also from this chat, and kept with their details and notes, but no longer with the conversation" in confirm
    assert f'<a href="/staff/leads/{booking}">Lead #{booking}</a>, Maria Lopez (Appointment inquiry' in confirm
    assert "Also from this chat" not in await (await client.get(f"/staff/leads/{alone}/delete")).text()

    await client.post(f"/staff/leads/{cost}/delete", data={"csrf_token": csrf_from(confirm)}, allow_redirects=False)
    html = await (await client.get("/staff/leads")).text()
    assert f"Lead #{cost} was deleted, with its notes and its conversation." in html
    kept_note = f"Lead #{booking} came from the same chat: kept with their details and notes, without the conversation."
    assert kept_note in html
    kept = await (await client.get(f"/staff/leads/{booking}")).text()
    assert "Maria Lopez" in kept and "No messages of this conversation are stored." in kept
    assert rasa_events.count_events(database.engine, "chat-7") == 0


async def test_the_delete_confirmation_is_audited_as_a_view(client, leads, database) -> None:
    first = leads.add(name="Maria Lopez", conversation_id="chat-8", submission_key="one")
    second = leads.add(name="Maria Lopez", conversation=False, conversation_id="chat-8", submission_key="two")
    await signed_in(client)
    await client.get(f"/staff/leads/{first}/delete")
    with database.session_factory() as db:
        views = [
            (entry.actor_login, entry.lead_id)
            for entry in db.scalars(select(AuditEntry).where(AuditEntry.action == "viewed").order_by(AuditEntry.id))
        ]
    # Both names were on the page.
    assert views == [(STAFF_EMAIL, first), (STAFF_EMAIL, second)]


# --- unanswered questions and the audit log ----------------------------------------------


async def test_unanswered_questions_are_grouped_and_not_tied_to_anyone(client, database, clock) -> None:
    rasa_events.create_events_table(database.engine)
    now = clock().timestamp()
    outside, rephrase = "utter_out_of_scope", "utter_ask_rephrase"
    rasa_events.insert_events(
        database.engine,
        "sender-secret-1",
        [
            *rasa_events.turn("Do you treat horses?", "out_of_scope", outside, "Sorry...", now - 3600),
            *rasa_events.turn("What is a DEXA scan?", "faq", "utter_faq", "A DEXA scan...", now - 3500),
            *rasa_events.turn(SCRIPT, "nlu_fallback", rephrase, "Sorry...", now - 3400),
        ],
    )
    rasa_events.insert_events(
        database.engine,
        "sender-secret-2",
        rasa_events.turn("do you treat HORSES?", "out_of_scope", outside, "Sorry...", now - 60),
    )
    rasa_events.insert_events(
        database.engine,
        "sender-secret-3",
        rasa_events.turn("Is yoga ok?", "nlu_fallback", rephrase, "Sorry...", now - 200 * 86400),
    )
    await signed_in(client)
    html = await (await client.get("/staff/unanswered")).text()
    table = html[html.index("<tbody>") : html.index("</tbody>")]
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>\s*<td class=\"num\">(\d+)</td>", table, re.S)
    assert rows == [("do you treat HORSES?", "2"), ("&lt;script&gt;alert(1)&lt;/script&gt;", "1")]
    assert "sender-secret" not in html and "DEXA" not in html and "yoga" not in html
    every = await (await client.get("/staff/unanswered?period=all")).text()
    assert "Is yoga ok?" in every


async def test_the_audit_log_is_for_administrators(client, leads) -> None:
    lead_id = leads.add()
    await signed_in(client)
    await client.get(f"/staff/leads/{lead_id}")
    refused = await client.get("/staff/audit")
    assert refused.status == 403 and "Only administrators can see the audit log." in await refused.text()
    await client.post("/staff/logout", data={"csrf_token": await form_token(client, "/staff/leads")})

    await signed_in(client, ADMIN_EMAIL)
    html = await (await client.get("/staff/audit")).text()
    assert "<h1>Audit log</h1>" in html
    assert re.search(rf"<td>{re.escape(STAFF_EMAIL)}</td>\s*<td>Viewed</td>\s*<td><a [^>]*>#{lead_id}</a>", html)
    assert "Signed in" in html and "Signed out" in html
    only = await (await client.get(f"/staff/audit?lead={lead_id}")).text()
    assert "Signed in" not in only and "Viewed" in only


# --- the session key ---------------------------------------------------------------------


def test_the_session_key_is_made_once_and_private(staff_settings) -> None:
    first = session_fernet(staff_settings)
    path = staff_settings.data_dir / "session.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    token = first.encrypt(b"kept across restarts")
    assert session_fernet(staff_settings).decrypt(token) == b"kept across restarts"


def test_a_configured_session_secret_is_used_and_must_be_long(staff_settings) -> None:
    settings = staff_settings.with_overrides(session_secret="x" * 40)
    token = session_fernet(settings).encrypt(b"same secret, same key")
    assert session_fernet(settings).decrypt(token) == b"same secret, same key"
    assert not (staff_settings.data_dir / "session.key").exists()
    with pytest.raises(ValueError, match="SESSION_SECRET must be at least 32 characters"):
        session_fernet(staff_settings.with_overrides(session_secret="too short"))


async def test_times_are_shown_in_the_clinic_time_zone(client, leads) -> None:
    lead_id = leads.add(created_at=datetime(2025, 7, 1, 23, 30, tzinfo=timezone.utc))
    await signed_in(client)
    html = await (await client.get(f"/staff/leads/{lead_id}")).text()
    assert "Jul 1, 2025, 7:30 PM" in html
    assert 'datetime="2025-07-01T19:30:00-04:00"' in html


async def test_the_email_link_on_a_lead_opens_a_message_to_that_address_alone(client, leads) -> None:
    lead_id = leads.add(email="o'brien+pt@example.com")
    await signed_in(client)

    page = await (await client.get(f"/staff/leads/{lead_id}")).text()

    assert 'href="mailto:o%27brien%2Bpt@example.com"' in page
