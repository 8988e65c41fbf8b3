"""The week view: days as columns, bookable hours, visits at their times with their status in words,
closed days and busy times, other weeks, and the same week as a list."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.schedule.bookings import confirm, hold, propose
from bot.schedule.models import ScheduleException
from bot.staff.schedule_display import time_range
from bot.staff.week import Week, WeekDay, _grid
from tests.staff.helpers import signed_in
from tests.staff.schedule_helpers import NEW_YORK, add_busy, local, no_schedule_worker, request_time  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("no_schedule_worker")


def _words(html: str) -> str:
    """The page's text without tags, spaces squeezed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _listing(html: str) -> str:
    """The week as a list, as words."""
    return _words(html.split('id="week-list-title"')[1])


def _cell_texts(html: str) -> list[str]:
    """The text of each visit link in the grid, spaces squeezed."""
    links = re.findall(r'<a class="visit visit-\w+" href="[^"]+">(.*?)</a>', html, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", link).split()) for link in links]


async def test_the_week_shows_each_visit_at_its_time_with_its_status_in_words(client, database, leads, clock) -> None:
    maria = leads.add(name="Maria Lopez", conversation_id="chat-maria")
    request_time(database, maria, "chat-maria", now=clock(), starts=local(2025, 3, 3, 11))
    john = leads.add(name="John Smith", conversation_id="chat-john")
    booking = request_time(database, john, "chat-john", now=clock(), starts=local(2025, 3, 4, 9))
    with database.session_factory() as db:
        confirm(db, booking_id=booking, now=clock())
        db.commit()
    # A time still held in a chat has no lead yet: not on the week.
    hold(database.session_factory, database.settings, starts=local(2025, 3, 4, 14), conversation_id="chat-x",
         now=clock())

    await signed_in(client)
    page = await client.get("/staff/schedule")
    assert page.status == 200
    html = await page.text()
    assert "<h1>Week of Monday, March 3, 2025</h1>" in html
    # Row by row: Tuesday's 9:00 comes before Monday's 11:00.
    assert _cell_texts(html) == [
        "9:00 AM–10:00 AM John S. Confirmed",
        "11:00 AM–12:00 PM Maria L. Requested",
    ]
    assert f'href="/staff/leads/{maria}"' in html and f'href="/staff/leads/{john}"' in html
    # No surname, phone or email on the week.
    assert "Lopez" not in html and "Smith" not in html and "555" not in html
    # The list for screen readers and narrow screens says the same.
    listing = _listing(html)
    assert "Monday, March 3, 2025 (today) Bookable 8:00 AM–5:00 PM 11:00 AM–12:00 PM, Maria L. : Visit, Requested" in listing
    assert "Tuesday, March 4, 2025 Bookable 8:00 AM–5:00 PM 9:00 AM–10:00 AM, John S. : Visit, Confirmed" in listing
    assert "Saturday, March 8, 2025" in listing and "No bookable hours" in listing
    # Days as columns, Monday first; the staff navigation marks the page.
    assert re.findall(r'<th scope="col"[^>]*>\s*(\w{3} \w{3} \d+)', html)[:2] == ["Mon Mar 3", "Tue Mar 4"]
    assert 'href="/staff/schedule" aria-current="page">Schedule</a>' in html


async def test_closed_days_and_the_clinic_calendars_busy_times_are_shown(client, database) -> None:
    with database.session_factory() as db:
        db.add(ScheduleException(day=date(2025, 3, 5), closed=True, note="Staff training"))
        db.commit()
    add_busy(database, local(2025, 3, 6, 9), local(2025, 3, 6, 10, 30))
    await signed_in(client)
    html = await (await client.get("/staff/schedule?week=2025-03-05")).text()
    assert "<h1>Week of Monday, March 3, 2025</h1>" in html
    assert '<span class="day-tag day-closed">Closed</span>' in html and "Staff training" in html
    listing = _listing(html)
    assert "Wednesday, March 5, 2025 Closed (Staff training) Thursday" in listing
    assert "Thursday, March 6, 2025 Bookable 8:00 AM–5:00 PM Busy in the clinic calendar 9:00 AM–10:30 AM" in listing
    # Three half hours of Thursday are busy in the grid, in words as well as colour.
    assert html.count('<td class="slot slot-busy">') == 3
    assert html.count('<span class="slot-label">Busy</span>') == 3
    assert html.count('<td class="slot slot-closed">') == len(re.findall(r'<th scope="row"', html))


async def test_other_weeks_are_a_link_away_and_a_bad_date_shows_this_week(client) -> None:
    await signed_in(client)
    html = await (await client.get("/staff/schedule?week=2025-03-12")).text()
    assert "Week of Monday, March 10, 2025" in html
    assert 'href="/staff/schedule?week=2025-03-03" rel="prev"' in html
    assert 'href="/staff/schedule?week=2025-03-17" rel="next"' in html
    assert ">This week</a>" in html
    for week in ("March", "9999-12-31", "0001-01-01"):
        response = await client.get(f"/staff/schedule?week={week}")
        assert response.status == 200, week
        html = await response.text()
        assert "That is not a date within five years (YYYY-MM-DD); this week is shown instead." in html
    assert "Week of Monday, March 3, 2025" in html and ">This week</a>" not in html


async def test_the_grid_reaches_a_visit_outside_the_hours(client, database, leads, clock) -> None:
    lead = leads.add(name="Early Bird", conversation_id="chat-early")
    booking = request_time(database, lead, "chat-early", now=clock(), starts=local(2025, 3, 4, 8))
    with database.session_factory() as db:
        propose(db, database.settings, booking_id=booking, starts=local(2025, 3, 4, 7), now=clock())
        db.commit()
    await signed_in(client)
    html = await (await client.get("/staff/schedule")).text()
    rows = re.findall(r'<th scope="row" class="week-time">([^<]+)</th>', html)
    assert rows[0] == "7:00 AM" and rows[-1] == "4:30 PM"
    assert _cell_texts(html) == ["7:00 AM–8:00 AM Early B. Proposed by staff", "8:00 AM–9:00 AM Early B. Declined"]


async def test_the_week_needs_sign_in(client) -> None:
    response = await client.get("/staff/schedule", allow_redirects=False)
    assert "Week of" not in await response.text()


def test_week_rows_follow_the_clinic_clock_across_the_change_to_summer_time() -> None:
    # March 9, 2025: clocks go from 2:00 to 3:00 in New York.
    day = WeekDay(date(2025, 3, 9), False, False, [], [(local(2025, 3, 9, 8), local(2025, 3, 9, 10))], [])
    rows = _grid([day], NEW_YORK)
    assert [row.starts for row in rows] == [time(8), time(8, 30), time(9), time(9, 30)]
    assert [row.cells[0].kind for row in rows] == ["open"] * 4
    assert Week(date(2025, 3, 3), [day], rows).next == date(2025, 3, 10)


def test_a_whole_day_busy_in_the_calendar_reads_all_day() -> None:
    zone = ZoneInfo("America/New_York")
    assert time_range(datetime(2025, 3, 4, tzinfo=zone), datetime(2025, 3, 5, tzinfo=zone), zone) == "all day"
    assert time_range(datetime(2025, 3, 4, 9, tzinfo=zone), datetime(2025, 3, 4, 10, tzinfo=zone), zone) == (
        "9:00 AM–10:00 AM")
