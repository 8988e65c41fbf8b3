"""The clinic calendar's iCalendar feed (Google's or Outlook's secret address): its busy times
block openings.

`refresh_feed` fetches it, expands its events for the next 12 weeks (recurring events with their
exceptions, RECURRENCE-ID and EXDATE; all-day events; Google's X-WR-TIMEZONE) and replaces
`busy_times` with them, merged. A feed that cannot be fetched or read keeps the last good copy:
its busy times stay, expanded again from now, and the error is recorded for the staff page
(`feed_state`). The feed's address is a secret: it is never logged nor written into an error.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import aiohttp
import icalendar
import recurring_ical_events
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from bot.schedule.hours import UTC, Interval, aware_utc, local_to_utc, merge
from bot.schedule.models import SINGLE_ROW_ID, BusyTime, CalendarFeedState, ScheduleSettings
from bot.schedule.rules import feed_state_row
from bot.settings import Settings

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 20
MAX_BYTES = 5 * 2**20
HORIZON = timedelta(weeks=12)
MAX_ERROR = 300


class FeedError(Exception):
    """The feed could not be fetched or read; the message is fit for the staff page (no address)."""


@dataclass(frozen=True)
class FeedState:
    """How the clinic calendar's feed fares, for the staff page; times aware UTC."""

    url_set: bool
    last_good_at: datetime | None
    last_tried_at: datetime | None
    # The last refresh's error; None once a refresh succeeds again.
    last_error: str | None
    last_error_at: datetime | None
    busy_count: int

    @property
    def failing(self) -> bool:
        """Whether the last refresh failed (openings then use the last good copy, if any)."""
        return self.last_error is not None


class PrivateAddressError(ValueError):
    """The address is on this machine or a private network, which is refused unless allowed."""


PRIVATE_ADDRESS_MESSAGE = ("That address is on this machine or a private network, which the assistant does not "
                           "read (CALENDAR_FEED_PRIVATE_ADDRESSES allows it for a calendar server of your own).")


def _is_private(address: str) -> bool:
    try:
        return not ipaddress.ip_address(address.strip("[]").split("%")[0]).is_global
    except ValueError:
        return address.lower() == "localhost" or address.lower().endswith(".localhost")


def normalize_feed_url(raw: str, *, private_allowed: bool = False) -> str:
    """A feed address as staff paste it (https://, http:// or webcal://), ready to fetch.

    Raises ValueError for anything else, `PrivateAddressError` for a literal address on this machine
    or a private network unless `private_allowed` (a name is checked when fetched, as it resolves then).
    """
    url = raw.strip()
    if url.lower().startswith("webcal://"):
        url = "https://" + url[len("webcal://"):]
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("The calendar's address must start with https:// (or webcal://).")
    if not private_allowed and _is_private(parts.hostname):
        raise PrivateAddressError(PRIVATE_ADDRESS_MESSAGE)
    return url


async def _check_resolves_publicly(url: str) -> None:
    """Raises FeedError when the address's host resolves to this machine or a private network."""
    host = urlsplit(url).hostname or ""
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, None)
    except OSError:
        raise FeedError("The calendar's server name could not be found.") from None
    if any(_is_private(info[4][0]) for info in found):
        raise FeedError(PRIVATE_ADDRESS_MESSAGE)


def _moment(value: date | datetime, tz: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        # A floating time (no zone) is the clinic's local time.
        return (value.replace(tzinfo=tz) if value.tzinfo is None else value).astimezone(UTC)
    return local_to_utc(value, datetime.min.time(), tz)


def busy_from_ics(ics: bytes | str, *, starts: datetime, ends: datetime, tz: ZoneInfo) -> list[Interval]:
    """The busy stretches of an iCalendar file between `starts` and `ends`, aware UTC, merged, clipped.

    Recurring events are expanded with their exceptions; an all-day event blocks its whole local
    days (in `tz`), as do floating times. Events marked TRANSP:TRANSPARENT (free) or
    STATUS:CANCELLED, and events without length, are not busy. Raises ValueError (or an
    icalendar error) for a file that is not iCalendar.
    """
    starts, ends = aware_utc(starts, "starts"), aware_utc(ends, "ends")
    calendar = icalendar.Calendar.from_ical(ics)
    if calendar.name != "VCALENDAR":
        raise ValueError("not a VCALENDAR")
    query = recurring_ical_events.of(calendar, skip_bad_series=True)
    busy = []
    # A day on each side: floating and all-day events are compared before their zone is known.
    for event in query.between(starts - timedelta(days=1), ends + timedelta(days=1)):
        if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
            continue
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        begin = event.get("DTSTART")
        finish = event.get("DTEND")
        if begin is None or finish is None:
            continue
        begin, finish = _moment(begin.dt, tz), _moment(finish.dt, tz)
        begin, finish = max(begin, starts), min(finish, ends)
        if finish > begin:
            busy.append((begin, finish))
    return merge(busy)


async def _fetch(client: aiohttp.ClientSession, url: str, *, private_allowed: bool) -> bytes:
    if not private_allowed:
        await _check_resolves_publicly(url)
    try:
        # No redirects: one could lead to an address the check above never saw.
        async with client.get(url, timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS), allow_redirects=False,
                              headers={"Accept": "text/calendar, */*;q=0.5"}) as response:
            if 300 <= response.status < 400:
                raise FeedError("The calendar's address sends elsewhere; paste the address it leads to.")
            if response.status != 200:
                raise FeedError(f"The calendar's server answered HTTP {response.status}.")
            if (response.content_length or 0) > MAX_BYTES:
                raise FeedError(f"The calendar is larger than {MAX_BYTES // 2**20} MB.")
            body = bytearray()
            async for chunk in response.content.iter_chunked(64 * 1024):
                body += chunk
                if len(body) > MAX_BYTES:
                    raise FeedError(f"The calendar is larger than {MAX_BYTES // 2**20} MB.")
            return bytes(body)
    except TimeoutError:
        raise FeedError(f"The calendar's server did not answer within {TIMEOUT_SECONDS} s.") from None
    except aiohttp.ClientConnectionError:
        # Only the kind of error, in words: aiohttp's messages can quote the secret address.
        raise FeedError("The calendar's server could not be reached.") from None
    except aiohttp.ClientError:
        raise FeedError("The calendar's server gave no usable answer.") from None


def _replace_busy(session, busy: list[Interval]) -> None:
    session.execute(delete(BusyTime))
    if busy:
        session.execute(insert(BusyTime), [{"starts": begin, "ends": finish} for begin, finish in busy])


def _feed_url(factory: sessionmaker) -> str | None:
    with factory() as session:
        return session.scalar(select(ScheduleSettings.calendar_feed_url).where(ScheduleSettings.id == SINGLE_ROW_ID))


def _store_good(factory: sessionmaker, ics: str, busy: list[Interval], now: datetime) -> None:
    with factory() as session:
        state = feed_state_row(session)
        _replace_busy(session, busy)
        if state.last_good_ics != ics:
            state.last_good_ics = ics
        state.last_good_at = state.last_tried_at = now
        state.last_error = state.last_error_at = None
        session.commit()


def _store_failure(factory: sessionmaker, error: str, now: datetime, tz: ZoneInfo) -> None:
    with factory() as session:
        last_good = session.scalar(select(CalendarFeedState.last_good_ics).where(CalendarFeedState.id == SINGLE_ROW_ID))
    busy = None
    if last_good:
        try:
            busy = busy_from_ics(last_good, starts=now, ends=now + HORIZON, tz=tz)
        except Exception:  # it was read before; if it no longer can be, keep the busy times as they are
            busy = None
    with factory() as session:
        state = feed_state_row(session)
        if busy is not None:
            _replace_busy(session, busy)
        state.last_tried_at = state.last_error_at = now
        state.last_error = error[:MAX_ERROR]
        session.commit()


def _clear(factory: sessionmaker) -> None:
    with factory() as session:
        if session.scalar(select(BusyTime.id).limit(1)) is not None:
            _replace_busy(session, [])
            session.commit()


async def refresh_feed(factory: sessionmaker, settings: Settings, client: aiohttp.ClientSession, *,
                       now: datetime) -> FeedState:
    """Fetch the clinic calendar's feed (20 s at most, 5 MB at most) and replace the busy times.

    With no feed address set, the busy times are cleared (a removed feed blocks nothing). Any
    failure (network, HTTP status, size, unreadable file) keeps the last good copy and records
    the error; nothing is raised for those. Returns the feed's state afterwards.
    """
    now = aware_utc(now, "now")
    tz = ZoneInfo(settings.clinic_timezone)
    url = await asyncio.to_thread(_feed_url, factory)
    if not url:
        await asyncio.to_thread(_clear, factory)
        return await asyncio.to_thread(feed_state, factory)
    try:
        body = await _fetch(client, normalize_feed_url(url, private_allowed=settings.calendar_feed_private_addresses),
                            private_allowed=settings.calendar_feed_private_addresses)
        text = body.decode("utf-8", errors="replace")
        try:
            busy = await asyncio.to_thread(busy_from_ics, text, starts=now, ends=now + HORIZON, tz=tz)
        except Exception as error:
            raise FeedError("The address gave something that is not a calendar (iCalendar) file.") from None
    except (FeedError, ValueError) as error:
        await asyncio.to_thread(_store_failure, factory, str(error), now, tz)
        log.warning("Calendar feed refresh failed, keeping the last good copy: %s", error)
    else:
        await asyncio.to_thread(_store_good, factory, text, busy, now)
        log.info("Calendar feed refreshed: %d busy stretch(es) in the next %d weeks", len(busy), HORIZON.days // 7)
    return await asyncio.to_thread(feed_state, factory)


def forget_feed_state(session: Session) -> None:
    """Forget the last error (the address changed); the last good copy blocks openings until the new
    address is read. Not committed."""
    row = feed_state_row(session)
    row.last_tried_at = row.last_error = row.last_error_at = None


def feed_state(factory: sessionmaker) -> FeedState:
    """The feed's state as recorded (all None before the first refresh)."""
    with factory() as session:
        url = session.scalar(select(ScheduleSettings.calendar_feed_url).where(ScheduleSettings.id == SINGLE_ROW_ID))
        row = session.execute(
            select(CalendarFeedState.last_good_at, CalendarFeedState.last_tried_at, CalendarFeedState.last_error,
                   CalendarFeedState.last_error_at).where(CalendarFeedState.id == SINGLE_ROW_ID)
        ).first()
        busy_count = session.scalar(select(func.count()).select_from(BusyTime)) or 0
    good_at, tried_at, error, error_at = row if row else (None, None, None, None)
    return FeedState(bool(url), good_at, tried_at, error, error_at, busy_count)
