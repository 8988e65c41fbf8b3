"""Any form a signed-in staff member (or anyone) can post, and any query string on the staff pages:
never a 5xx, always the staff headers, and a refused form changes no lead (Hypothesis makes the
requests; the app and its database run for real)."""

from __future__ import annotations

import http.cookiejar
import urllib.error
import urllib.parse
import urllib.request

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.db import make_engine, make_session_factory
from bot.leads.models import Lead, LeadNote
from bot.leads.store import LeadStore
from bot.notify.models import OutboxMessage
from bot.settings import Settings
from bot.staff.accounts import create_account
from bot.web.app import create_app
from tests.leads.factories import a_new_lead
from tests.staff.helpers import PASSWORD, STAFF_EMAIL, csrf_from
from tests.web.stand_ins import ServerThread

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
# Anything a browser could put in a field, and what attackers try.
field_values = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["new", "contacted", "booked", "closed", "not_a_fit", "99999999999999999999999", "-1", "0",
                     "1", "%00", "\x00", "' OR 1=1 --", "<script>", "a" * 5000]),
)
field_names = st.sampled_from(["status", "current_status", "note", "text", "confirm", "next", "login", "password",
                               "q", "page", "kind", "csrf_token"]) | st.text(max_size=20)
FORM_PATHS = ["/staff/leads/{id}/status", "/staff/leads/{id}/notes", "/staff/leads/{id}/delete",
              "/staff/leads/export", "/staff/logout", "/staff/login"]
PAGE_PATHS = ["/staff/leads", "/staff/leads/{id}", "/staff/leads/{id}/delete", "/staff/unanswered", "/staff/audit",
              "/staff/login", "/staff/password", "/staff/nowhere"]
NOT_HERE = "/staff/leads/{id}".replace("{id}", "99999999999999999999999")


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class StaffBrowser:
    """A signed-in browser: cookies kept, redirects not followed."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirects()
        )

    def open(self, path: str, form: list[tuple[str, str]] | None = None) -> tuple[int, dict[str, str], str]:
        data = None if form is None else urllib.parse.urlencode(form).encode()
        try:
            with self.opener.open(self.base_url + path, data=data, timeout=30) as response:
                return response.status, dict(response.headers), response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode("utf-8", "replace")


@pytest.fixture(scope="module")
def server_thread():
    with ServerThread() as servers:
        yield servers


@pytest.fixture(scope="module")
def staff_site(server_thread, tmp_path_factory):
    app_settings = Settings(data_dir=tmp_path_factory.mktemp("var"), public_url="http://clinic.test")
    url = server_thread.serve(create_app(app_settings))  # migrates the database
    engine = make_engine(app_settings)
    factory = make_session_factory(engine)
    with factory() as db:
        create_account(db, STAFF_EMAIL, PASSWORD)
        db.commit()
    lead_id = LeadStore(factory, app_settings).add(a_new_lead())
    browser = StaffBrowser(url)
    login = browser.open("/staff/login")[2]
    status, _, _ = browser.open("/staff/login", [("csrf_token", csrf_from(login)), ("login", STAFF_EMAIL),
                                                ("password", PASSWORD)])
    assert status == 303
    yield browser, factory, lead_id
    engine.dispose()


def lead_state(factory) -> tuple:
    with factory() as db:
        leads = tuple(db.execute(select(Lead.id, Lead.status, Lead.name)).all())
        notes = db.scalar(select(func.count()).select_from(LeadNote))
        outbox = db.scalar(select(func.count()).select_from(OutboxMessage))
    return leads, notes, outbox


def assert_staff_headers(headers: dict[str, str]) -> None:
    assert headers.get("Cache-Control") == "no-store"
    assert "default-src 'none'" in headers.get("Content-Security-Policy", "")


@PROPERTY_SETTINGS
@given(
    path=st.sampled_from(FORM_PATHS),
    fields=st.lists(st.tuples(field_names, field_values), max_size=6),
    with_csrf=st.booleans(),
    lead=st.sampled_from(["own", "missing", "huge"]),
)
def test_any_staff_form_is_answered_without_a_server_error(staff_site, path, fields, with_csrf, lead):
    browser, factory, lead_id = staff_site
    target = path.replace("{id}", {"own": str(lead_id), "missing": "424242", "huge": "9" * 30}[lead])
    form = list(fields)
    if with_csrf:
        form.append(("csrf_token", csrf_from(browser.open("/staff/leads")[2])))
    # Deleting the lead or signing out would leave nothing to try the next examples on.
    form = [(name, value) for name, value in form if name != "confirm"]
    if target.endswith("/delete") or target == "/staff/logout" or target == "/staff/login":
        form = [(name, value) for name, value in form if name != "csrf_token"]
    before = lead_state(factory)

    status, headers, _ = browser.open(target, form)

    assert status < 500
    assert_staff_headers(headers)
    if status >= 400:
        assert lead_state(factory) == before


@PROPERTY_SETTINGS
@given(
    path=st.sampled_from(PAGE_PATHS + [NOT_HERE]),
    query=st.lists(st.tuples(field_names, field_values), max_size=5),
)
def test_any_query_string_on_a_staff_page_is_answered_without_a_server_error(staff_site, path, query):
    browser, factory, lead_id = staff_site
    target = path.replace("{id}", str(lead_id))
    if query:
        target += "?" + urllib.parse.urlencode(query)
    # A request line past 8 KiB is refused (400) by the HTTP parser before any page sees it.
    assume(len(target) < 8000)
    before = lead_state(factory)

    status, headers, _ = browser.open(target)

    assert status < 500
    assert_staff_headers(headers)
    assert lead_state(factory) == before
