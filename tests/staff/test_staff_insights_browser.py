"""The insights page in a real browser (Debian's chromium through Playwright), on the known week:
the charts drawn under the staff pages' policy with nothing refused and nothing fetched from
elsewhere, their tables, the CSV download, no serious accessibility violation, a tablet's width.
Screenshots go to /tmp/screens."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.fixtures.axe import serious_violations
from tests.insights.known_clinic import NOW, KnownClinic
from tests.staff.helpers import ADMIN_EMAIL, PASSWORD, STAFF_EMAIL, FakeClock
from tests.web.stand_ins import ServerThread

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
TABLET = {"width": 800, "height": 1100}
SCREENS = Path("/tmp/screens")



@pytest.fixture
def site(database, accounts_made, build_staff_app) -> Iterator[tuple[str, object]]:
    week = KnownClinic(database.engine, database.session_factory, database.settings).build()
    app = build_staff_app(database.settings, FakeClock(NOW))
    with ServerThread() as servers:
        yield servers.serve(app), week


def _watch(page, base: str) -> tuple[list[str], list[str]]:
    """What the page asked of other hosts, and what the browser refused or failed at."""
    elsewhere: list[str] = []
    refused: list[str] = []
    host = urlsplit(base).netloc
    page.on("request", lambda request: elsewhere.append(request.url)
            if urlsplit(request.url).netloc not in (host, "") and not request.url.startswith("data:") else None)
    # (The browser's own request for /favicon.ico, which these pages do not have, is no response of the page's.)
    page.on("console", lambda message: refused.append(message.text)
            if "Refused" in message.text or "Content Security Policy" in message.text else None)
    page.on("response", lambda response: refused.append(f"{response.status} {response.url}")
            if response.status >= 400 else None)
    page.on("pageerror", lambda error: refused.append(str(error)))
    return elsewhere, refused


def _sign_in(page, base: str, email: str = STAFF_EMAIL) -> None:
    page.goto(base + "/staff")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/staff/leads")


def test_the_charts_and_their_tables_show_the_week(browser, site, tmp_path) -> None:
    base, week = site
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    elsewhere, refused = _watch(page, base)
    try:
        _sign_in(page, base)
        page.get_by_role("link", name="Insights").click()
        page.wait_for_url(base + "/staff/insights")
        page.get_by_role("link", name="Last 7 days").click()
        page.wait_for_url(base + "/staff/insights?period=7")
        for name in ("Conversations and leads by day", "From conversation to lead", "Questions answered by topic",
                     "Visitor messages by weekday and hour"):
            chart = page.get_by_role("img", name=name)
            assert chart.is_visible(), name
            box = chart.bounding_box()
            assert box["width"] > 300 and box["height"] > 150, name
        # Coloured by the style sheet: a drawn line, bars and shaded cells, not pygal's black defaults.
        fills = page.evaluate("""() => ({
            line: getComputedStyle(document.querySelector('#chart-daily .line.reactive')).fill,
            bar: getComputedStyle(document.querySelector('#chart-funnel .rect')).fill,
            busiest: getComputedStyle(document.querySelector('#chart-heatmap .heat-4')).fill,
            quiet: getComputedStyle(document.querySelector('#chart-heatmap .heat-0')).fill,
        })""")
        assert fills["line"] == "none"
        assert fills["bar"] == "rgb(31, 95, 139)" and fills["busiest"] == "rgb(18, 63, 99)"
        assert fills["quiet"] == "rgb(238, 241, 244)"
        assert page.locator("[data-figure=conversations]").inner_text() == "120"
        assert page.locator("[data-figure=leads]").inner_text().startswith("18")

        # The tables are there for screen readers, and open for anyone.
        page.get_by_text("The funnel as a table").click()
        funnel = page.locator("table[data-table=funnel] tbody tr")
        assert funnel.nth(2).inner_text().split("\t")[:2] == ["Started an inquiry", "30"]
        page.get_by_text("Visitor messages by weekday and hour as a table").click()
        assert page.locator("table[data-table=heatmap] tbody tr").count() == 7
        SCREENS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENS / "staff-insights-1280.png"), full_page=True)
        assert serious_violations(page) == []

        with page.expect_download() as download_info:
            page.get_by_role("button", name="Download these figures (CSV)").click()
        download = download_info.value
        assert download.suggested_filename == "insights-2025-03-06-to-2025-03-12.csv"
        target = tmp_path / download.suggested_filename
        download.save_as(target)
        rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
        assert ["Totals", "Conversations", "120"] in rows and ["Funnel", "Started an inquiry", "30"] in rows
    finally:
        context.close()
    assert elsewhere == []
    assert refused == []


def test_the_page_fits_a_tablet_and_passes_axe_for_an_administrator(browser, site) -> None:
    base, _week = site
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    elsewhere, refused = _watch(page, base)
    try:
        _sign_in(page, base, ADMIN_EMAIL)
        page.goto(base + "/staff/insights?period=7")
        assert page.get_by_role("img", name="Visitor messages by weekday and hour").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
        page.screenshot(path=str(SCREENS / "staff-insights-800.png"), full_page=True)
        assert serious_violations(page) == []
        page.goto(base + "/staff/insights?from=2025-03-10&to=2025-03-01")
        assert page.get_by_role("alert").first.inner_text() == "The from date is after the to date."
        assert serious_violations(page) == []
    finally:
        context.close()
    assert elsewhere == [] and refused == []
