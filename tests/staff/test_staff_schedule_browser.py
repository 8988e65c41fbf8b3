"""The schedule pages in a real browser (Debian's chromium through Playwright): staff find a
requested visit on the week, open the lead, confirm it; and axe finds nothing serious on the week,
the settings page or a lead with a visit. Screenshots go to /tmp/screens."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from bot.db import utcnow
from bot.schedule.openings import find_openings
from bot.schedule.models import BookingStatus
from tests.fixtures.axe import serious_violations
from tests.staff.helpers import ADMIN_EMAIL, PASSWORD, STAFF_EMAIL
from tests.staff.schedule_helpers import add_busy, no_schedule_worker, read_booking, request_time  # noqa: F401 - a fixture

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_schedule_worker")]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SCREENS = Path("/tmp/screens")



@pytest.fixture
def requested(site, database):
    """Maria's lead with the first opening requested: (base address, lead id, booking id, week of the visit)."""
    base, leads = site
    lead_id = leads.add(name="Maria Lopez", email="maria.lopez@example.com", conversation_id="chat-maria")
    now = utcnow()
    starts = find_openings(database.session_factory, database.settings, now=now)[0].starts
    booking_id = request_time(database, lead_id, "chat-maria", now=now, starts=starts)
    day = starts.astimezone(ZoneInfo(database.settings.clinic_timezone)).date()
    add_busy(database, starts + timedelta(hours=2), starts + timedelta(hours=3))
    return base, lead_id, booking_id, day


def _sign_in(page, base: str, email: str = STAFF_EMAIL) -> None:
    page.goto(base + "/staff")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/staff/leads")


def test_staff_find_a_requested_visit_on_the_week_and_confirm_it(browser, requested, database) -> None:
    base, lead_id, booking_id, day = requested
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        _sign_in(page, base)
        page.get_by_role("navigation", name="Staff pages").get_by_role("link", name="Schedule").click()
        page.wait_for_url(base + "/staff/schedule")
        if page.locator("table.week-grid a.visit").count() == 0:
            # The first opening is in a later week (a Friday evening, a weekend).
            page.get_by_label("Week of").fill(day.isoformat())
            page.get_by_role("button", name="Show").click()
        visit = page.locator("table.week-grid a.visit")
        expect(visit).to_have_count(1)
        expect(visit).to_contain_text("Maria L.")
        expect(visit).to_contain_text("Requested")
        expect(page.locator("table.week-grid .slot-label").first).to_have_text("Busy")
        SCREENS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENS / "staff-week-1280.png"), full_page=True)

        visit.click()
        page.wait_for_url(f"{base}/staff/leads/{lead_id}")
        panel = page.locator("#visit")
        expect(panel.locator(".visit-status")).to_have_text("Requested")
        expect(panel).to_contain_text("Held until")
        page.screenshot(path=str(SCREENS / "staff-lead-visit-1280.png"), full_page=True)

        panel.get_by_role("button", name="Confirm").click()
        page.wait_for_url(f"{base}/staff/leads/{lead_id}#visit")
        expect(panel.locator(".visit-status")).to_have_text("Confirmed")
        expect(page.locator(".page-head .status")).to_have_text("Scheduled")
        expect(page.locator(".flash-success")).to_contain_text("Visit confirmed for")
        expect(page.locator(".flash-success")).to_contain_text("tell the visitor yourself")
        expect(panel.get_by_role("button", name="Confirm")).to_have_count(0)
        expect(page.locator("ol.notes")).to_contain_text("Visit confirmed for")
    finally:
        context.close()
    assert read_booking(database, booking_id).status == BookingStatus.confirmed


def test_the_schedule_pages_have_no_serious_accessibility_violation(browser, requested) -> None:
    base, lead_id, _, day = requested
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        _sign_in(page, base, ADMIN_EMAIL)
        found = {}
        for path in (f"/staff/schedule?week={day.isoformat()}", "/staff/schedule/settings", f"/staff/leads/{lead_id}",
                     f"/staff/leads/{lead_id}/visit/propose"):
            page.goto(base + path)
            assert page.url == base + path, f"{path} did not open"
            found[path] = serious_violations(page)
        page.screenshot(path=str(SCREENS / "staff-propose-1280.png"), full_page=True)
        # A refused form, with its messages at the fields.
        page.goto(base + "/staff/schedule/settings")
        page.get_by_label("Monday").fill("08:00-12:00, 11:00-13:00")
        page.get_by_role("button", name="Save weekly hours").click()
        expect(page.locator("#hours-0-error")).to_contain_text("overlap")
        found["refused hours"] = serious_violations(page)
        SCREENS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENS / "staff-schedule-settings-1280.png"), full_page=True)
        assert found == {path: [] for path in found}
    finally:
        context.close()


def test_on_a_phone_the_week_is_a_list(browser, requested) -> None:
    base, _, _, day = requested
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        _sign_in(page, base)
        page.goto(f"{base}/staff/schedule?week={day.isoformat()}")
        expect(page.locator("table.week-grid")).to_be_hidden()
        expect(page.get_by_role("heading", name="The week as a list")).to_be_visible()
        expect(page.locator(".week-list").get_by_role("link", name="Maria L.")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert serious_violations(page) == []
        page.screenshot(path=str(SCREENS / "staff-week-390.png"), full_page=True)
    finally:
        context.close()
