"""The clinic calendar's feed: which events are busy, and refreshing that keeps the last good copy."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import logging
from datetime import date, datetime, timedelta

import aiohttp
import pytest
from aiohttp import web

from sqlalchemy import func, select

from bot.schedule import feed
from bot.schedule.feed import busy_from_ics, feed_state, normalize_feed_url, refresh_feed
from bot.schedule.models import BusyTime
from bot.schedule.openings import find_openings
from tests.schedule.builders import NEW_YORK, NOW, UTC, local, set_feed_url, wall

SECRET_PATH = "/calendar/ical/clinic.example/private-5ecret7oken/basic.ics"


def calendar(*events: str, extra: str = "") -> str:
    body = "".join(f"BEGIN:VEVENT\r\n{event.strip()}\r\nEND:VEVENT\r\n" for event in events)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{extra}{body}END:VCALENDAR\r\n"


def lines(*items: str) -> str:
    return "\r\n".join(items)


def busy(ics: str, starts: datetime = local(2024, 3, 1), ends: datetime = local(2024, 4, 1)) -> list[tuple[str, str]]:
    return [(wall(a), wall(b)) for a, b in busy_from_ics(ics, starts=starts, ends=ends, tz=NEW_YORK)]


def test_timed_events_in_any_zone_are_busy_in_utc():
    ics = calendar(
        lines("UID:1", "DTSTART;TZID=America/New_York:20240311T090000", "DTEND;TZID=America/New_York:20240311T100000"),
        lines("UID:2", "DTSTART:20240312T150000Z", "DURATION:PT45M"),
        lines("UID:3", "DTSTART:20240313T110000", "DTEND:20240313T113000"),   # floating: the clinic's time
    )
    assert busy(ics) == [("2024-03-11 09:00 EDT", "2024-03-11 10:00 EDT"), ("2024-03-12 11:00 EDT",
                         "2024-03-12 11:45 EDT"), ("2024-03-13 11:00 EDT", "2024-03-13 11:30 EDT")]


def test_recurring_events_honour_exdate_and_moved_or_cancelled_occurrences():
    ics = calendar(
        lines("UID:staff-meeting", "DTSTART;TZID=America/New_York:20240304T120000",
              "DTEND;TZID=America/New_York:20240304T130000", "RRULE:FREQ=WEEKLY;COUNT=4",
              "EXDATE;TZID=America/New_York:20240311T120000"),
        lines("UID:staff-meeting", "RECURRENCE-ID;TZID=America/New_York:20240318T120000",
              "DTSTART;TZID=America/New_York:20240319T150000", "DTEND;TZID=America/New_York:20240319T160000"),
        lines("UID:staff-meeting", "RECURRENCE-ID;TZID=America/New_York:20240325T120000", "STATUS:CANCELLED",
              "DTSTART;TZID=America/New_York:20240325T120000", "DTEND;TZID=America/New_York:20240325T130000"),
    )
    assert busy(ics) == [("2024-03-04 12:00 EST", "2024-03-04 13:00 EST"),
                         ("2024-03-19 15:00 EDT", "2024-03-19 16:00 EDT")]


def test_all_day_events_block_whole_local_days():
    ics = calendar(lines("UID:holiday", "DTSTART;VALUE=DATE:20240311", "DTEND;VALUE=DATE:20240313"),
                   lines("UID:one-day", "DTSTART;VALUE=DATE:20240320"))
    assert busy(ics) == [("2024-03-11 00:00 EDT", "2024-03-13 00:00 EDT"),
                         ("2024-03-20 00:00 EDT", "2024-03-21 00:00 EDT")]


def test_free_and_cancelled_events_are_not_busy():
    ics = calendar(lines("UID:1", "DTSTART:20240311T150000Z", "DTEND:20240311T160000Z", "TRANSP:TRANSPARENT"),
                   lines("UID:2", "DTSTART:20240312T150000Z", "DTEND:20240312T160000Z", "STATUS:CANCELLED"),
                   lines("UID:3", "DTSTART:20240313T150000Z"))   # no length
    assert busy(ics) == []


def test_google_s_x_wr_timezone_keeps_a_weekly_event_at_its_local_hour_across_the_change():
    ics = calendar(lines("UID:1", "DTSTART:20240301T150000Z", "DTEND:20240301T160000Z", "RRULE:FREQ=WEEKLY;COUNT=3"),
                   extra="X-WR-TIMEZONE:America/New_York\r\n")
    assert [start for start, _ in busy(ics)] == ["2024-03-01 10:00 EST", "2024-03-08 10:00 EST",
                                                 "2024-03-15 10:00 EDT"]


def test_events_are_merged_and_cut_to_the_range():
    ics = calendar(lines("UID:1", "DTSTART:20240311T130000Z", "DTEND:20240311T150000Z"),
                   lines("UID:2", "DTSTART:20240311T140000Z", "DTEND:20240311T160000Z"))
    assert busy(ics, starts=local(2024, 3, 11, 10), ends=local(2024, 3, 11, 11)) == [
        ("2024-03-11 10:00 EDT", "2024-03-11 11:00 EDT")]
    assert len(busy(ics)) == 1


def test_a_file_that_is_not_icalendar_is_refused():
    with pytest.raises(ValueError):
        busy_from_ics("<html>Sign in</html>", starts=NOW, ends=NOW + timedelta(days=1), tz=NEW_YORK)


def test_feed_addresses_are_fetched_over_https():
    assert normalize_feed_url(" webcal://calendar.example/x.ics ") == "https://calendar.example/x.ics"
    with pytest.raises(ValueError):
        normalize_feed_url("ftp://calendar.example/x.ics")


class FeedServer:
    """The calendar's server: answers with `body` and `status`, after `delay` seconds."""

    def __init__(self) -> None:
        self.body: str | bytes = ""
        self.status = 200
        self.delay = 0.0
        self.url = ""
        self.requests = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        await asyncio.sleep(self.delay)
        headers = {"Location": "http://127.0.0.1:1/elsewhere.ics"} if 300 <= self.status < 400 else None
        return web.Response(body=self.body, status=self.status, content_type="text/calendar", headers=headers)


@pytest.fixture
async def feed_server(aiohttp_server) -> FeedServer:
    server = FeedServer()
    app = web.Application()
    app.router.add_get(SECRET_PATH, server.handle)
    running = await aiohttp_server(app)
    server.url = str(running.make_url(SECRET_PATH))
    return server


# An hour-long event every weekday at 10:00 for the whole horizon, from the week of NOW.
WEEKDAY_MEETINGS = calendar(lines("UID:1", "DTSTART;TZID=America/New_York:20240304T100000",
                                  "DTEND;TZID=America/New_York:20240304T110000", "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"))


async def _refresh(session_factory, settings, now=NOW):
    async with aiohttp.ClientSession() as client:
        return await refresh_feed(session_factory, settings, client, now=now)


def _ten_oclock_is_blocked(session_factory, settings) -> bool:
    openings = find_openings(session_factory, settings, now=NOW, per_day=None, limit=30)
    return not any(wall(o.starts).endswith("10:00 EST") or wall(o.starts).endswith("10:00 EDT") for o in openings)


async def test_a_good_refresh_replaces_the_busy_times(session_factory, settings, feed_server):
    set_feed_url(session_factory, feed_server.url)
    feed_server.body = WEEKDAY_MEETINGS
    state = await _refresh(session_factory, settings)
    assert state.url_set and not state.failing and state.last_good_at == NOW == state.last_tried_at
    assert state.busy_count == 5 * 12
    assert _ten_oclock_is_blocked(session_factory, settings)
    feed_server.body = calendar()
    state = await _refresh(session_factory, settings, now=NOW + timedelta(minutes=15))
    assert state.busy_count == 0 and not _ten_oclock_is_blocked(session_factory, settings)


@pytest.mark.parametrize("trouble, error", [
    ({"status": 404}, "HTTP 404"),
    ({"body": "<html>Sign in to continue</html>"}, "not a calendar (iCalendar) file"),
    ({"status": 302}, "sends elsewhere"),
    ({"body": b"BEGIN:VCALENDAR\r\n" + b"X" * (feed.MAX_BYTES + 10)}, "larger than 5 MB"),
])
async def test_a_failing_feed_keeps_the_last_good_copy_and_says_so(session_factory, settings, feed_server, caplog,
                                                                   trouble, error):
    set_feed_url(session_factory, feed_server.url)
    feed_server.body = WEEKDAY_MEETINGS
    await _refresh(session_factory, settings)
    for name, value in trouble.items():
        setattr(feed_server, name, value)
    later = NOW + timedelta(weeks=3)
    with caplog.at_level(logging.INFO):
        state = await _refresh(session_factory, settings, now=later)
    assert state.failing and error in state.last_error and state.last_error_at == later
    assert state.last_good_at == NOW and state.busy_count == 5 * 12
    # The last good copy's events, expanded again for the 12 weeks from `later`.
    first, last = busy_span(session_factory)
    assert first >= later and last > NOW + timedelta(weeks=12)
    ours = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("bot."))   # not the test server's
    assert "private-5ecret7oken" not in ours and "private-5ecret7oken" not in state.last_error
    assert [r.levelname for r in caplog.records if "failed" in r.getMessage()] == ["WARNING"]
    feed_server.status, feed_server.body = 200, WEEKDAY_MEETINGS
    assert not (await _refresh(session_factory, settings, now=later)).failing


def busy_span(session_factory) -> tuple[datetime, datetime]:
    with session_factory() as session:
        return session.execute(select(func.min(BusyTime.starts), func.max(BusyTime.ends))).one()


async def test_a_feed_that_does_not_answer_in_time_is_given_up(session_factory, settings, feed_server, monkeypatch):
    monkeypatch.setattr(feed, "TIMEOUT_SECONDS", 0.2)
    set_feed_url(session_factory, feed_server.url)
    feed_server.body, feed_server.delay = WEEKDAY_MEETINGS, 2
    state = await _refresh(session_factory, settings)
    assert state.failing and "did not answer" in state.last_error and state.last_good_at is None


async def test_an_unreachable_feed_is_recorded_without_its_address(session_factory, settings):
    set_feed_url(session_factory, "https://127.0.0.1:1/private-5ecret7oken/basic.ics")
    state = await _refresh(session_factory, settings)
    assert state.failing and state.last_error == "The calendar's server could not be reached."


@pytest.mark.parametrize("address", ["https://127.0.0.1:8443/cal.ics", "http://localhost/cal.ics",
                                     "http://10.0.0.5/cal.ics", "http://[::1]/cal.ics", "http://169.254.169.254/"])
async def test_an_address_on_this_machine_or_a_private_network_is_never_read(session_factory, settings, address):
    with pytest.raises(feed.PrivateAddressError):
        normalize_feed_url(address)
    assert normalize_feed_url(address, private_allowed=True)
    set_feed_url(session_factory, address)
    public_only = dataclasses.replace(settings, calendar_feed_private_addresses=False)
    state = await _refresh(session_factory, public_only)
    assert state.failing and "private network" in state.last_error


async def test_a_name_that_resolves_to_this_machine_is_never_read(session_factory, settings, feed_server):
    # This machine's own name resolves to one of its addresses, none of them public here.
    name = socket.gethostname()
    try:
        socket.getaddrinfo(name, None)
    except OSError:
        pytest.skip("this machine's name does not resolve")
    set_feed_url(session_factory, feed_server.url.replace("127.0.0.1", name, 1))
    public_only = dataclasses.replace(settings, calendar_feed_private_addresses=False)
    state = await _refresh(session_factory, public_only)
    assert state.failing and "private network" in state.last_error and feed_server.requests == 0


async def test_without_a_feed_address_nothing_is_busy(session_factory, settings, feed_server):
    set_feed_url(session_factory, feed_server.url)
    feed_server.body = WEEKDAY_MEETINGS
    await _refresh(session_factory, settings)
    set_feed_url(session_factory, None)
    state = await _refresh(session_factory, settings)
    assert not state.url_set and state.busy_count == 0
    assert feed_state(session_factory).busy_count == 0


def test_a_feed_never_refreshed_has_no_state(session_factory):
    state = feed_state(session_factory)
    assert (state.url_set, state.last_good_at, state.last_error, state.busy_count) == (False, None, None, 0)


def test_an_all_day_event_on_a_daylight_saving_day_blocks_that_whole_day():
    ics = calendar(lines("UID:1", "DTSTART;VALUE=DATE:20240310", "DTEND;VALUE=DATE:20240311"))
    [(starts, ends)] = busy_from_ics(ics, starts=datetime(2024, 3, 1, tzinfo=UTC),
                                     ends=datetime(2024, 4, 1, tzinfo=UTC), tz=NEW_YORK)
    assert ends - starts == timedelta(hours=23) and starts.astimezone(NEW_YORK).date() == date(2024, 3, 10)
