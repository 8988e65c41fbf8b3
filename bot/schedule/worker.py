"""The web app's background work for the schedule: lapse expired holds every minute, refresh the
clinic calendar's feed every CALENDAR_REFRESH_MINUTES (and once at start).

Failures are logged as a WARNING naming only the kind of error, and the loop goes on: the app
never stops for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import aiohttp
from aiohttp import web
from sqlalchemy.orm import sessionmaker

from bot.db import SESSION_FACTORY, utcnow
from bot.schedule.bookings import lapse_expired
from bot.schedule.feed import refresh_feed
from bot.settings import SETTINGS, Settings

log = logging.getLogger(__name__)

LAPSE_EVERY_SECONDS = 60.0


async def run_schedule_worker(
    factory: sessionmaker,
    settings: Settings,
    client: Callable[[], aiohttp.ClientSession],
    stop: asyncio.Event,
    *,
    clock: Callable[[], datetime] = utcnow,
    lapse_every: float = LAPSE_EVERY_SECONDS,
) -> None:
    """Until `stop` is set: lapse expired holds every `lapse_every` seconds, refresh the feed every
    `settings.calendar_refresh_minutes` minutes, both at once on start. `client` gives the shared
    HTTP client session."""
    loop = asyncio.get_running_loop()
    refresh_every = settings.calendar_refresh_minutes * 60
    next_refresh = loop.time()
    while not stop.is_set():
        try:
            await asyncio.to_thread(lapse_expired, factory, now=clock())
        except Exception as error:
            log.warning("Lapsing expired holds failed (%s); trying again in %d s", type(error).__name__, lapse_every)
        if loop.time() >= next_refresh:
            next_refresh = loop.time() + refresh_every
            try:
                await refresh_feed(factory, settings, client(), now=clock())
            except Exception as error:
                log.warning("Calendar feed refresh failed (%s); trying again in %d min", type(error).__name__,
                            settings.calendar_refresh_minutes)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=lapse_every)


def schedule_worker(
    client_key: web.AppKey[aiohttp.ClientSession], *, lapse_every: float = LAPSE_EVERY_SECONDS
) -> Callable[[web.Application], AsyncIterator[None]]:
    """The cleanup context running `run_schedule_worker` for the app's life.

    `client_key` is the app's key of its shared `aiohttp.ClientSession` (the web app's
    HTTP_CLIENT): the schedule does not import the web app, so the key is handed in. The
    client's own cleanup context must come before this one in `app.cleanup_ctx`.
    """

    async def schedule_worker_ctx(app: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(run_schedule_worker(
            app[SESSION_FACTORY], app[SETTINGS], lambda: app[client_key], stop, lapse_every=lapse_every,
        ))
        yield
        stop.set()
        # A refresh may be waiting on a slow calendar server: do not hold up the shutdown for it.
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return schedule_worker_ctx
