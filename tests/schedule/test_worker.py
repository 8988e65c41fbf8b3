"""The web app's schedule worker: refreshes the feed and lapses expired holds; failures never stop it."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot.db import SESSION_FACTORY, make_engine, make_session_factory, upgrade_database
from bot.schedule.models import Booking, BookingStatus, BusyTime
from bot.schedule.worker import schedule_worker
from bot.settings import SETTINGS, Settings
from bot.web.app import create_app
from tests.schedule.builders import read_booking, set_feed_url

CLIENT = web.AppKey("test_client", aiohttp.ClientSession)
ICS = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:1\r\n"
       "DTSTART;TZID=America/New_York:20240304T100000\r\nDTEND;TZID=America/New_York:20240304T110000\r\n"
       "RRULE:FREQ=DAILY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def expired_hold(factory) -> int:
    from bot.db import utcnow
    now = utcnow()
    with factory() as session:
        booking = Booking(starts=now + timedelta(days=2), ends=now + timedelta(days=2, hours=1), visit_name="Visit",
                          status=BookingStatus.held, conversation_id="a", expires_at=now - timedelta(minutes=1),
                          created_at=now, updated_at=now)
        session.add(booking)
        session.commit()
        return booking.id


def busy_count(factory) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(BusyTime))


async def eventually(check, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    assert check()


def worker_app(factory, settings: Settings) -> web.Application:
    async def client(app: web.Application):
        async with aiohttp.ClientSession() as session:
            app[CLIENT] = session
            yield

    app = web.Application()
    app[SETTINGS], app[SESSION_FACTORY] = settings, factory
    app.cleanup_ctx.extend([client, schedule_worker(CLIENT, lapse_every=0.1)])
    return app


@pytest.fixture
async def feed_url(aiohttp_server) -> dict:
    answer = {"status": 200}

    async def handle(_request):
        return web.Response(text=ICS, status=answer["status"], content_type="text/calendar")

    app = web.Application()
    app.router.add_get("/secret/basic.ics", handle)
    server = await aiohttp_server(app)
    answer["url"] = str(server.make_url("/secret/basic.ics"))
    return answer


async def test_the_worker_refreshes_the_feed_and_lapses_expired_holds(aiohttp_client, session_factory, settings,
                                                                      feed_url):
    set_feed_url(session_factory, feed_url["url"])
    booking_id = expired_hold(session_factory)
    await aiohttp_client(worker_app(session_factory, settings))
    await eventually(lambda: busy_count(session_factory) >= 12 * 7)   # one a day for 12 weeks
    await eventually(lambda: read_booking(session_factory, booking_id).status == BookingStatus.lapsed)
    # Held again and expired again: the next minute's pass lapses it too.
    second = expired_hold(session_factory)
    await eventually(lambda: read_booking(session_factory, second).status == BookingStatus.lapsed)


async def test_failures_are_warnings_and_the_worker_goes_on(aiohttp_client, tmp_path, caplog):
    # A database without the schedule's tables: every pass fails.
    broken = Settings(data_dir=tmp_path / "broken")
    engine = make_engine(broken)
    try:
        with caplog.at_level(logging.INFO, logger="bot.schedule"):
            client = await aiohttp_client(worker_app(make_session_factory(engine), broken))
            await eventually(lambda: sum("Lapsing expired holds failed" in r.getMessage() for r in caplog.records) >= 3)
            await client.close()
    finally:
        engine.dispose()
    failures = [r for r in caplog.records if "failed" in r.getMessage()]
    assert failures and {r.levelname for r in failures} == {"WARNING"}
    assert all(r.exc_info is None for r in failures)


async def test_the_web_app_runs_the_worker(aiohttp_client, tmp_path):
    settings = Settings(data_dir=tmp_path / "var")
    engine = make_engine(settings)
    upgrade_database(engine)
    factory = make_session_factory(engine)
    booking_id = expired_hold(factory)
    try:
        await aiohttp_client(create_app(settings))
        await eventually(lambda: read_booking(factory, booking_id).status == BookingStatus.lapsed)
    finally:
        engine.dispose()
