"""The confirmed visits' feed for staff calendars: open without sign-in at its secret address only,
never cached, an iCalendar file of confirmed visits naming the visitor by first name and last initial."""

from __future__ import annotations

import pytest
from datetime import timezone

import icalendar
from sqlalchemy import select

from bot.schedule.bookings import confirm
from bot.schedule.models import ScheduleSettings
from tests.staff.helpers import signed_in
from tests.staff.schedule_helpers import local, no_schedule_worker, request_time  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("no_schedule_worker")


def _token(database) -> str:
    with database.session_factory() as db:
        return db.scalar(select(ScheduleSettings.visits_feed_token))


async def test_the_feed_lists_confirmed_visits_without_contact_or_health_details(client, database, leads, clock) -> None:
    maria = leads.add(name="Maria Lopez", phone="(804) 555-0188", email="maria.lopez@example.com",
                      area_of_concern="left hip", insurance="Anthem", conversation_id="chat-maria")
    confirmed = request_time(database, maria, "chat-maria", now=clock(), starts=local(2025, 3, 4, 9))
    john = leads.add(name="John Smith", conversation_id="chat-john")
    request_time(database, john, "chat-john", now=clock(), starts=local(2025, 3, 4, 10))
    with database.session_factory() as db:
        confirm(db, booking_id=confirmed, now=clock())
        db.commit()
    await signed_in(client)
    await client.get("/staff/schedule/settings")
    token = _token(database)

    # A calendar app: no cookie, no sign-in.
    client.session.cookie_jar.clear()
    response = await client.get(f"/staff/calendar/{token}.ics", allow_redirects=False)
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    body = await response.read()
    calendar = icalendar.Calendar.from_ical(body)
    events = list(calendar.walk("VEVENT"))
    assert [str(event["SUMMARY"]) for event in events] == ["Visit: Maria L."]
    assert events[0].decoded("DTSTART").astimezone(timezone.utc) == local(2025, 3, 4, 9).astimezone(timezone.utc)
    text = body.decode()
    for detail in ("Lopez", "555", "maria.lopez", "hip", "Anthem", "John"):
        assert detail not in text


async def test_a_wrong_address_is_404_and_the_other_pages_still_need_sign_in(client, database) -> None:
    await signed_in(client)
    await client.get("/staff/schedule/settings")
    token = _token(database)
    client.session.cookie_jar.clear()
    for wrong in ("x" * len(token), token[:-1], token + "A", "A"):
        response = await client.get(f"/staff/calendar/{wrong}.ics", allow_redirects=False)
        assert response.status == 404, wrong
    assert "BEGIN:VCALENDAR" not in await (await client.get(f"/staff/calendar/{token}", allow_redirects=False)).text()
    assert (await client.get(f"/staff/calendar/{token}.ics", allow_redirects=False)).status == 200
    for path in ("/staff/schedule", "/staff/schedule/settings"):
        response = await client.get(path, allow_redirects=False)
        assert "Staff sign-in" in await response.text() or response.status == 303
        assert "Week of" not in await response.text()


async def test_before_the_settings_exist_every_address_is_404(client) -> None:
    response = await client.get("/staff/calendar/anything.ics", allow_redirects=False)
    assert response.status == 404
