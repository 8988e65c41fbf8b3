"""The staff pages in a real browser (Debian's chromium through Playwright).

Sign in, find a lead, open it, read the transcript, move its status, add a note,
export CSV, delete it, sign out; and open a lead from a link on another site.
Screenshots of the inbox and a lead at desktop and tablet widths go to /tmp/screens.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from bot.audit import AuditEntry
from bot.leads.models import Lead
from tests.staff import rasa_events
from tests.fixtures.axe import serious_violations
from tests.staff.helpers import ADMIN_EMAIL, PASSWORD, STAFF_EMAIL, Leads

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
TABLET = {"width": 800, "height": 1100}
SCREENS = Path("/tmp/screens")



def _sign_in(page, base: str, email: str = STAFF_EMAIL) -> None:
    page.goto(base + "/staff")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/staff/leads")


def test_work_a_lead_from_sign_in_to_sign_out(browser, site, database, tmp_path) -> None:
    base, leads = site
    for number in range(6):
        leads.add(name=f"Earlier Visitor {number}", kind=["cost", "availability", "callback"][number % 3])
        leads.clock.advance(hours=-3)
    leads.clock.advance(hours=20)
    lead_id = leads.add(
        name="Maria Lopez",
        kind="cost",
        phone="(804) 555-0188",
        email="maria.lopez@example.com",
        area_of_concern="left hip, after a fall last spring",
        preferred_times="Tuesday or Thursday mornings",
        insurance="Anthem Blue Cross PPO",
    )
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    try:
        _sign_in(page, base)
        assert page.locator(".badge-new").inner_text() == "7 new"
        SCREENS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENS / "staff-inbox-1280.png"), full_page=True)

        # Find her.
        page.get_by_label("Search").fill("lopez")
        page.get_by_role("button", name="Filter").click()
        rows = page.locator("table.leads tbody tr")
        assert rows.count() == 1
        rows.get_by_role("link", name="Maria Lopez").click()
        page.wait_for_url(f"{base}/staff/leads/{lead_id}")

        # Read the conversation.
        transcript = page.locator("ol.transcript")
        assert transcript.locator(".turn-visitor .turn-text").all_inner_texts() == [
            "Can I book an appointment?",
            "Maria Lopez",
            "Hip (button)",
        ]
        assert "Which area bothers you?" in transcript.inner_text()
        assert page.locator(".consent").inner_text().startswith("May the clinic's staff contact you")
        page.screenshot(path=str(SCREENS / "staff-lead-1280.png"), full_page=True)

        # Move it on, with a note.
        page.get_by_label("Move to").select_option("contacted")
        page.get_by_label("Note (optional)").fill("Left a voicemail at 10:05")
        page.get_by_role("button", name="Update status").click()
        assert page.locator(".page-head .status").inner_text() == "Contacted"
        assert "New → Contacted" in page.locator("ol.notes").inner_text()
        page.get_by_label("New note").fill("She called back; prefers Thursday")
        page.get_by_role("button", name="Add note").click()
        notes = page.locator("ol.notes li")
        assert notes.count() == 2
        assert "She called back; prefers Thursday" in notes.first.inner_text()
        assert STAFF_EMAIL in notes.first.inner_text()

        # Export the filtered list.
        page.get_by_role("link", name="← All leads").click()
        page.get_by_label("Kind").select_option("cost")
        page.get_by_role("button", name="Filter").click()
        with page.expect_download() as download_info:
            page.get_by_role("button", name="Export CSV").click()
        download = download_info.value
        assert download.suggested_filename.startswith("leads-") and download.suggested_filename.endswith(".csv")
        target = tmp_path / download.suggested_filename
        download.save_as(target)
        rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
        assert [row["Name"] for row in rows][0] == "Maria Lopez"
        assert {row["Kind"] for row in rows} == {"Cost"}
        assert rows[0]["Status"] == "Contacted" and rows[0]["Insurance"] == "Anthem Blue Cross PPO"

        # Delete it, as she asked.
        page.get_by_role("link", name="Maria Lopez").click()
        page.get_by_role("link", name="Delete this lead…").click()
        page.get_by_role("button", name=f"Delete lead #{lead_id} permanently").click()
        page.wait_for_url(base + "/staff/leads")
        assert f"Lead #{lead_id} was deleted" in page.locator(".flash").inner_text()
        assert page.get_by_role("link", name="Maria Lopez").count() == 0

        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(base + "/staff/login")
        assert "You are signed out." in page.locator(".flash").inner_text()
        page.goto(base + "/staff/leads")
        assert page.get_by_role("heading", name="Staff sign-in").is_visible()
    finally:
        context.close()
    with database.session_factory() as db:
        assert db.get(Lead, lead_id) is None
        actions = set(db.scalars(select(AuditEntry.action).where(AuditEntry.lead_id == lead_id)))
        assert actions == {"viewed", "status_changed", "note_added", "exported", "deleted"}
        assert db.scalar(select(func.count()).select_from(Lead)) == 6
    assert rasa_events.count_events(database.engine, "conversation-7") == 0


def test_a_link_from_elsewhere_opens_the_lead_for_a_signed_in_browser(browser, site) -> None:
    base, leads = site
    lead_id = leads.add(name="Link Follower")
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        _sign_in(page, base)
        # An email in webmail: another site, so the SameSite=Strict cookie stays home at first.
        other_site = base.replace("127.0.0.1", "localhost")
        page.goto(other_site + "/staff/login")
        page.set_content(f'<a id="link" href="{base}/staff/leads/{lead_id}">New lead</a>')
        page.click("#link")
        # Through a one-hop page that lets the browser send its cookie, then to the lead.
        page.get_by_role("heading", name=f"Lead #{lead_id}").wait_for()
        assert page.url == f"{base}/staff/leads/{lead_id}"
        # Still signed in afterwards: the detour did not replace the session.
        page.goto(base + "/staff/leads")
        assert page.get_by_role("heading", name="Leads").is_visible()
    finally:
        context.close()


def test_tablet_width(browser, site) -> None:
    base, leads = site
    for number in range(4):
        leads.add(name=f"Tablet Visitor {number}", email=f"a.rather.long.address.{number}@example-clinic-mail.com")
        leads.clock.advance(minutes=-45)
    lead_id = leads.add(name="Maria Lopez", insurance="Medicare", area_of_concern="spine")
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    try:
        _sign_in(page, base)
        SCREENS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENS / "staff-inbox-800.png"), full_page=True)
        # Nothing is wider than the screen: no sideways scrolling on a tablet.
        assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
        page.get_by_role("link", name="Maria Lopez").click()
        assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
        assert page.get_by_role("button", name="Update status").is_visible()
        page.screenshot(path=str(SCREENS / "staff-lead-800.png"), full_page=True)
    finally:
        context.close()


def test_the_staff_pages_have_no_serious_accessibility_violation(browser, site) -> None:
    base, leads = site
    lead_id = leads.add(name="Maria Lopez", kind="cost", phone="(804) 555-0188")
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        page.goto(base + "/staff/login")
        found = {"/staff/login": serious_violations(page)}
        _sign_in(page, base, ADMIN_EMAIL)
        for path in ("/staff/leads", f"/staff/leads/{lead_id}", f"/staff/leads/{lead_id}/delete",
                     "/staff/unanswered", "/staff/audit", "/staff/password"):
            page.goto(base + path)
            assert page.url == base + path, f"{path} did not open"
            found[path] = serious_violations(page)
        assert found == {path: [] for path in found}
    finally:
        context.close()


def test_staff_are_warned_before_the_idle_sign_out_and_may_stay(browser, site) -> None:
    base, _ = site
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        page.clock.install()
        _sign_in(page, base)
        page.goto(base + "/staff/unanswered")
        idle_ms = int(page.locator("#idle-warning").get_attribute("data-idle-seconds")) * 1000
        warning = page.get_by_role("alertdialog")
        stay = page.get_by_role("button", name="Stay signed in")
        expect(warning).to_be_hidden()

        page.clock.run_for(idle_ms - 121_000)
        expect(warning).to_be_hidden()
        page.clock.run_for(2_000)
        expect(warning).to_be_visible()
        expect(warning).to_contain_text("you will be signed out in 2 minutes without activity")
        expect(stay).to_be_focused()
        assert serious_violations(page) == []

        stay.click()
        expect(warning).to_be_hidden()
        # Past the time it would have reloaded: the page stays, and the next warning is a whole period away.
        page.clock.run_for(130_000)
        assert page.url == base + "/staff/unanswered"
        expect(warning).to_be_hidden()

        page.evaluate("window.notReloaded = true")
        page.clock.run_for(idle_ms)
        # Reloaded: the server, which keeps the real time, decides whether that shows sign-in.
        page.wait_for_function("() => window.notReloaded === undefined")
    finally:
        context.close()
