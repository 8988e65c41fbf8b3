"""The schedule settings page: the defaults with nothing set, each form saved and in the audit log,
bad input refused field by field with nothing changed, and only administrators changing anything."""

from __future__ import annotations

from datetime import date, time

import pytest
from aiohttp import web
from sqlalchemy import select

from bot.schedule.models import ScheduleException, ScheduleSettings, VisitType, WeeklyHours
from bot.staff import schedule_forms as forms
from tests.staff.helpers import ADMIN_EMAIL, csrf_from, form_token, signed_in
from tests.staff.schedule_helpers import audit_details, no_schedule_worker  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("no_schedule_worker")

SETTINGS = "/staff/schedule/settings"
# Everything an administrator can post, with a valid form.
ADMIN_POSTS = {
    "/visit-types": {"name": "Free consultation", "minutes": "30", "position": "1", "active": "1",
                     "offered_in_chat": "1"},
    "/hours": {f"hours-{day}": "09:00-12:00" for day in range(5)},
    "/capacity": {"capacity": "2"},
    "/exceptions": {"day": "2025-12-25", "kind": "closed", "note": "Christmas"},
    "/calendar": {"url": "https://calendar.example/secret.ics"},
    "/visits-feed": {},
}

def _schedule_rows(database) -> tuple:
    """Everything the settings forms write, to compare before and after."""
    with database.session_factory() as db:
        return (
            [(v.name, v.minutes, v.position, v.active, v.offered_in_chat) for v in db.scalars(select(VisitType))],
            [(h.weekday, h.starts, h.ends) for h in db.scalars(select(WeeklyHours).order_by(WeeklyHours.id))],
            [(e.day, e.closed, e.starts, e.ends, e.note) for e in db.scalars(select(ScheduleException))],
            [(s.capacity, s.calendar_feed_url, s.visits_feed_token) for s in db.scalars(select(ScheduleSettings))],
        )


async def _post(client, path: str, data: dict, **kwargs):
    token = await form_token(client, SETTINGS)
    return await client.post(SETTINGS + path, data={"csrf_token": token, **data}, allow_redirects=False, **kwargs)


async def test_with_nothing_set_the_page_shows_the_defaults_the_assistant_uses(client) -> None:
    await signed_in(client)
    page = await client.get(SETTINGS)
    assert page.status == 200
    html = await page.text()
    assert "the chat offers a 60-minute \"Visit\"" in html.replace("&#34;", '"')
    assert "CLINIC_OPEN_DAYS, CLINIC_OPEN_HOURS" in html
    for weekday in range(5):
        assert f'name="hours-{weekday}" type="text" value="08:00-17:00"' in html
    assert 'name="hours-5" type="text" value=""' in html
    assert 'name="capacity" type="text" value="1"' in html
    assert "No clinic calendar is connected" in html
    assert "http://clinic.test/staff/calendar/" in html and ".ics" in html


async def test_staff_who_are_not_administrators_see_the_settings_but_cannot_change_them(client, database) -> None:
    await signed_in(client)
    html = await (await client.get(SETTINGS)).text()
    assert "Only an administrator can change these settings." in html
    assert "Save weekly hours" not in html and "Add visit type" not in html and "Make a new address" not in html
    before = _schedule_rows(database)
    for path, data in [*ADMIN_POSTS.items(), ("/calendar/refresh", {}), ("/visit-types/1", ADMIN_POSTS["/visit-types"]),
                       ("/exceptions/1/delete", {})]:
        response = await _post(client, path, data)
        assert response.status == 403, path
        assert "Only an administrator can change the schedule settings" in await response.text()
    assert _schedule_rows(database) == before
    assert audit_details(database, "schedule_changed") == []


async def test_every_change_by_an_administrator_is_saved_and_in_the_audit_log(client, database) -> None:
    await signed_in(client, ADMIN_EMAIL)
    token_before = None
    for path, data in ADMIN_POSTS.items():
        if path == "/visits-feed":
            token_before = _schedule_rows(database)[3][0][2]
        response = await _post(client, path, data)
        assert response.status == 303, (path, await response.text())
        assert response.headers["Location"].startswith(SETTINGS + "#")
    visit_types, weekly, exceptions, [(capacity, feed_url, token)] = _schedule_rows(database)
    assert visit_types == [("Free consultation", 30, 1, True, True)]
    assert weekly == [(day, time(9), time(12)) for day in range(5)]
    assert exceptions == [(date(2025, 12, 25), True, None, None, "Christmas")]
    assert (capacity, feed_url) == (2, "https://calendar.example/secret.ics")
    assert token != token_before
    details = audit_details(database, "schedule_changed")
    assert len(details) == len(ADMIN_POSTS)
    assert details[0].startswith("Added visit type #1 'Free consultation' (30 min)")
    assert details[1].startswith("Weekly hours: Mon 09:00-12:00;") and "Sat closed" in details[1]
    assert "Capacity 1 → 2" in details[2]
    assert "2025-12-25: closed (Christmas)" in details[3]
    # The calendar's address is a secret: never in the audit log.
    assert not any("calendar.example" in detail for detail in details)
    page = await (await client.get(SETTINGS)).text()
    assert "Free consultation" in page and "Thursday, December 25, 2025" in page and "Christmas" in page
    assert "Not read yet" in page


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        ("/visit-types", {"name": "Assessment", "minutes": "50", "position": "1", "active": "1", "offered_in_chat": "1"},
         "The length must be a multiple of 15 minutes"),
        ("/visit-types", {"name": "", "minutes": "30", "position": "1", "active": "1"}, "Give the visit type a name"),
        ("/visit-types", {"name": "Assessment", "minutes": "30", "position": "1", "active": "1"},
         "The chat must offer one active visit type"),
        ("/hours", {"hours-0": "08:00-12:00, 11:00-13:00"}, "Monday: 08:00-12:00 and 11:00-13:00 overlap."),
        ("/hours", {"hours-2": "17:00-09:00"}, "Wednesday: 17:00-09:00 ends before it starts."),
        ("/hours", {"hours-4": "nine to five"}, "is not a time"),
        ("/hours", {}, "Give bookable hours on at least one day"),
        ("/capacity", {"capacity": "0"}, "Capacity is how many visitors can be seen at the same time"),
        ("/capacity", {"capacity": "two"}, "Capacity is how many visitors can be seen at the same time"),
        ("/exceptions", {"day": "2025-03-20", "kind": "extra", "starts": "14:00", "ends": "13:00"},
         "The extra hours end (13:00) before they start (14:00)."),
        ("/exceptions", {"day": "2025-03-01", "kind": "closed"}, "That date has passed"),
        ("/calendar", {"url": "ftp://calendar.example/secret.ics"}, "That is not a calendar address"),
        ("/calendar", {"url": "javascript:alert(1)"}, "That is not a calendar address"),
    ],
)
async def test_bad_input_gets_a_message_at_its_field_and_changes_nothing(client, database, path, data, message) -> None:
    await signed_in(client, ADMIN_EMAIL)
    # The first view makes the settings row, with the visits feed's secret.
    await client.get(SETTINGS)
    before = _schedule_rows(database)
    response = await _post(client, path, data)
    assert response.status == 400
    html = (await response.text()).replace("&#39;", "'")
    assert message in html
    assert 'aria-invalid="true"' in html and 'class="field-error"' in html
    assert _schedule_rows(database) == before
    assert audit_details(database, "schedule_changed") == []


async def test_a_refused_form_shows_again_what_was_typed(client) -> None:
    await signed_in(client, ADMIN_EMAIL)
    response = await _post(client, "/hours", {"hours-0": "08:00-12:00, 11:00-13:00", "hours-1": "10:00-14:00"})
    html = await response.text()
    assert 'value="08:00-12:00, 11:00-13:00"' in html and 'value="10:00-14:00"' in html


async def test_one_visit_type_is_offered_in_the_chat_and_types_are_edited_in_place(client, database) -> None:
    await signed_in(client, ADMIN_EMAIL)
    first = {"name": "Consultation", "minutes": "30", "position": "1", "active": "1", "offered_in_chat": "1"}
    second = {"name": "Full assessment", "minutes": "60", "position": "2", "active": "1", "offered_in_chat": "1"}
    assert (await _post(client, "/visit-types", first)).status == 303
    assert (await _post(client, "/visit-types", second)).status == 303
    # Offering the second in the chat takes it from the first.
    assert [row[4] for row in _schedule_rows(database)[0]] == [False, True]
    # The chat's one cannot be switched off without another offered.
    response = await _post(client, "/visit-types/2", {**second, "active": "", "offered_in_chat": ""})
    assert response.status == 400
    assert "The chat must offer one active visit type" in await response.text()
    response = await _post(client, "/visit-types/1", {**first, "minutes": "45", "offered_in_chat": "1"})
    assert response.status == 303
    assert _schedule_rows(database)[0] == [("Consultation", 45, 1, True, True), ("Full assessment", 60, 2, True, False)]
    assert (await _post(client, "/visit-types/99", first)).status == 400


async def test_extra_hours_and_closed_days_are_added_and_removed(client, database) -> None:
    await signed_in(client, ADMIN_EMAIL)
    extra = {"day": "2025-03-08", "kind": "extra", "starts": "09:00", "ends": "12:30", "note": "Saturday clinic"}
    assert (await _post(client, "/exceptions", extra)).status == 303
    assert _schedule_rows(database)[2] == [(date(2025, 3, 8), False, time(9), time(12, 30), "Saturday clinic")]
    html = await (await client.get(SETTINGS)).text()
    assert "Extra hours 9:00 AM–12:30 PM" in html
    assert (await _post(client, "/exceptions/1/delete", {})).status == 303
    assert _schedule_rows(database)[2] == []
    response = await _post(client, "/exceptions/1/delete", {})
    assert response.status == 303
    assert "That day had already been removed." in await (await client.get(SETTINGS)).text()


async def test_a_new_visits_feed_address_stops_the_old_one(client, database) -> None:
    await signed_in(client, ADMIN_EMAIL)
    await client.get(SETTINGS)
    [(_, _, old_token)] = _schedule_rows(database)[3]
    assert (await client.get(f"/staff/calendar/{old_token}.ics")).status == 200
    assert (await _post(client, "/visits-feed", {})).status == 303
    [(_, _, new_token)] = _schedule_rows(database)[3]
    assert (await client.get(f"/staff/calendar/{old_token}.ics")).status == 404
    assert (await client.get(f"/staff/calendar/{new_token}.ics")).status == 200
    assert f"/staff/calendar/{new_token}.ics" in await (await client.get(SETTINGS)).text()


ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
    "BEGIN:VEVENT\r\nUID:staff-meeting@test\r\nDTSTAMP:20250301T000000Z\r\n"
    "DTSTART:20250304T140000Z\r\nDTEND:20250304T150000Z\r\nSUMMARY:Staff meeting\r\nEND:VEVENT\r\n"
    "END:VCALENDAR\r\n"
)


@pytest.fixture
async def calendar_server(aiohttp_server):
    """A clinic calendar on loopback: /good.ics answers the file, /gone.ics 404."""
    async def good(request: web.Request) -> web.Response:
        return web.Response(text=ICS, content_type="text/calendar")

    async def gone(request: web.Request) -> web.Response:
        return web.Response(status=404)

    app = web.Application()
    app.router.add_get("/good.ics", good)
    app.router.add_get("/gone.ics", gone)
    return await aiohttp_server(app)


async def test_refresh_now_reads_the_calendar_and_a_failure_is_said_in_plain_words(
    client, database, clock, calendar_server
) -> None:
    await signed_in(client, ADMIN_EMAIL)
    assert (await _post(client, "/calendar", {"url": str(calendar_server.make_url("/good.ics"))})).status == 303
    # 15:00 UTC is 10:00 AM at the clinic.
    assert (await _post(client, "/calendar/refresh", {})).status == 303
    html = await (await client.get(SETTINGS)).text()
    assert "Read at 10:00 AM: 1 busy stretch in the next 12 weeks is left out of the openings." in html
    week = await (await client.get("/staff/schedule?week=2025-03-03")).text()
    assert "Busy in the clinic calendar 9:00 AM–10:00 AM" in week

    assert (await _post(client, "/calendar", {"url": str(calendar_server.make_url("/gone.ics"))})).status == 303
    clock.advance(minutes=14)
    assert (await _post(client, "/calendar/refresh", {})).status == 303
    html = (await (await client.get(SETTINGS)).text()).replace("&#39;", "'")
    assert ("The calendar feed could not be read at 10:14 AM: the calendar's server answered HTTP 404. "
            "Openings use the copy from 10:00 AM.") in html
    assert audit_details(database, "schedule_changed")[-1] == "Clinic calendar read now, by hand"


def test_a_calendar_address_on_a_private_network_is_refused_at_its_field() -> None:
    checked = forms.read_feed({"url": "http://192.168.1.20/calendar.ics"})
    assert checked.url is None and "private network" in checked.errors["url"]
    assert forms.read_feed({"url": "http://192.168.1.20/calendar.ics"}, private_allowed=True).url


async def test_the_settings_page_needs_sign_in(client) -> None:
    response = await client.get(SETTINGS, allow_redirects=False)
    assert response.status in (200, 303)
    assert "Schedule settings" not in await response.text()
    page = await client.get("/staff/login")
    response = await client.post(SETTINGS + "/capacity", data={"csrf_token": csrf_from(await page.text()),
                                                                 "capacity": "3"}, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/staff/login")


async def test_the_settings_page_has_one_form_per_change_each_with_csrf(client) -> None:
    await signed_in(client, ADMIN_EMAIL)
    html = await (await client.get(SETTINGS)).text()
    forms = html.count('<form method="post"')
    assert forms >= 7
    assert html.count('name="csrf_token"') >= forms
