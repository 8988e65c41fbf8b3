"""`python -m bench.openings [--runs 50] [--database-url URL]`: what offering openings costs with a
busy clinic calendar.

Builds a database of its own (a temporary SQLite file, or an empty PostgreSQL database given by
`--database-url`), a feed of 5,000 events (4,950 single events of 5 to 10 minutes at any minute of
the 8 weeks ahead, so that few of them merge and thousands of busy stretches are stored, and 25
weekly series of 8 occurrences with an EXDATE and a moved occurrence each), reads it as a refresh
does, and stores its busy times. The schedule is the default one
(Monday to Friday, 8:00 to 17:00, one-hour visits), with 60 held times (capacity 2) among them.
Then `find_openings` is timed as the chat calls it (6 openings, at most 2 a day, over 8 weeks),
and with a visitor's windows (every weekday afternoon). It prints JSON; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import bot.leads.models  # noqa: F401 - the bookings' foreign key names the leads table
from bot.db import make_engine, make_session_factory, upgrade_database
from bot.schedule.bookings import hold
from bot.schedule.feed import HORIZON, _replace_busy, busy_from_ics
from bot.schedule.openings import find_openings
from bot.schedule.rules import schedule_settings
from bot.settings import Settings

EVENTS = 5000
SERIES = 25
WEEKS = 8
# The target for one `find_openings` call.
TARGET_MS = 50.0
UTC = timezone.utc


def feed_of(events: int, starts: datetime, tz: ZoneInfo, seed: int = 7) -> str:
    """An iCalendar feed of `events` VEVENTs over WEEKS weeks from `starts` (see the module docstring)."""
    rng = random.Random(seed)
    stamp = "20240101T000000Z"
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//openings//EN"]
    fmt = "%Y%m%dT%H%M%S"
    local_start = starts.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    for number in range(SERIES):
        first = local_start + timedelta(days=rng.randrange(7), hours=rng.randrange(8, 17))
        moved = first + timedelta(weeks=3)
        lines += ["BEGIN:VEVENT", f"UID:series-{number}", f"DTSTAMP:{stamp}",
                  f"DTSTART;TZID={tz.key}:{first:{fmt}}", f"DTEND;TZID={tz.key}:{first + timedelta(minutes=45):{fmt}}",
                  f"RRULE:FREQ=WEEKLY;COUNT={WEEKS}", f"EXDATE;TZID={tz.key}:{first + timedelta(weeks=2):{fmt}}",
                  "SUMMARY:Staff meeting", "END:VEVENT",
                  "BEGIN:VEVENT", f"UID:series-{number}", f"DTSTAMP:{stamp}",
                  f"RECURRENCE-ID;TZID={tz.key}:{moved:{fmt}}",
                  f"DTSTART;TZID={tz.key}:{moved + timedelta(hours=1):{fmt}}",
                  f"DTEND;TZID={tz.key}:{moved + timedelta(hours=1, minutes=45):{fmt}}", "SUMMARY:Staff meeting",
                  "END:VEVENT"]
    for number in range(events - 2 * SERIES):
        begin = starts + timedelta(minutes=rng.randrange(WEEKS * 7 * 24 * 60))
        end = begin + timedelta(minutes=rng.randint(5, 10))
        lines += ["BEGIN:VEVENT", f"UID:single-{number}", f"DTSTAMP:{stamp}",
                  f"DTSTART:{begin.astimezone(UTC):{fmt}}Z", f"DTEND:{end.astimezone(UTC):{fmt}}Z",
                  "SUMMARY:Busy", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def _timed(call, runs: int) -> tuple[list[float], object]:
    millis, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        millis.append((time.perf_counter() - started) * 1000)
    return millis, result


def _summary(millis: list[float]) -> dict:
    ordered = sorted(millis)
    return {"median_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2)}


def measure(runs: int = 50, database_url: str = "") -> dict:
    """The figures described in the module's docstring."""
    work = Path(tempfile.mkdtemp(prefix="clinic-bench-openings-"))
    settings = Settings(data_dir=work, database_url=database_url)
    tz = ZoneInfo(settings.clinic_timezone)
    # A Monday, 06:00 in the clinic.
    now = datetime(2025, 3, 3, 6, tzinfo=tz).astimezone(UTC)
    engine = make_engine(settings)
    try:
        upgrade_database(engine)
        factory = make_session_factory(engine)
        ics = feed_of(EVENTS, now, tz)
        parse_ms, busy = _timed(lambda: busy_from_ics(ics, starts=now, ends=now + HORIZON, tz=tz), 3)
        with factory() as session:
            schedule_settings(session).capacity = 2
            started = time.perf_counter()
            _replace_busy(session, busy)
            session.commit()
            store_ms = (time.perf_counter() - started) * 1000
        everything = find_openings(factory, settings, now=now, per_day=None, limit=10_000)
        for index, opening in enumerate(random.Random(3).sample(everything, min(60, len(everything)))):
            hold(factory, settings, starts=opening.starts, conversation_id=f"bench-{index}", now=now)
        chat_ms, chat = _timed(lambda: find_openings(factory, settings, now=now), runs)
        afternoons = [(now + timedelta(days=day, hours=7), now + timedelta(days=day, hours=11))
                      for day in range(WEEKS * 7)]
        windows_ms, windowed = _timed(lambda: find_openings(factory, settings, now=now, windows=afternoons), runs)
        return {
            "database": "postgresql" if database_url else "sqlite",
            "events": EVENTS, "weeks": WEEKS, "runs": runs,
            "feed_kb": round(len(ics.encode()) / 1024),
            "feed_parse_ms": round(statistics.median(parse_ms), 1),
            "busy_stretches": len(busy),
            "busy_store_ms": round(store_ms, 1),
            "openings_in_8_weeks": len(everything),
            "find_openings": {**_summary(chat_ms), "found": len(chat)},
            "find_openings_windows": {**_summary(windows_ms), "found": len(windowed)},
            "target_ms": TARGET_MS,
        }
    finally:
        engine.dispose()
        shutil.rmtree(work, ignore_errors=True)


def targets(result: dict | None) -> list[tuple[str, str, str, bool | None]]:
    """(name, wanted, measured, met): find_openings's p95 against TARGET_MS."""
    point = (result or {}).get("find_openings")
    if not point:
        return [("Openings with a 5,000-event feed", f"under {TARGET_MS:.0f} ms", "not measured", None)]
    return [("Openings with a 5,000-event feed", f"under {TARGET_MS:.0f} ms",
             f"{point['median_ms']:.1f} ms median, {point['p95_ms']:.1f} ms p95", point["p95_ms"] < TARGET_MS)]


def markdown_section(result: dict | None) -> list[str]:
    if not result:
        return []
    chat, windowed = result["find_openings"], result["find_openings_windows"]
    return [
        "## Openings with a busy calendar (`bench/openings.py`)", "",
        f"A feed of {result['events']:,} events ({result['feed_kb']:,} KB) over {result['weeks']} weeks, "
        f"on {result['database']}: read in {result['feed_parse_ms']:.0f} ms (median of 3) into "
        f"{result['busy_stretches']:,} busy stretches, stored in {result['busy_store_ms']:.0f} ms. The default "
        f"schedule has {result['openings_in_8_weeks']} openings left in those weeks. "
        f"`find_openings`, {result['runs']} calls each (target: under {result['target_ms']:.0f} ms):", "",
        "| call | median | p95 | openings found |", "|---|---|---|---|",
        f"| as the chat calls it (6, at most 2 a day) | {chat['median_ms']:.1f} ms | {chat['p95_ms']:.1f} ms | "
        f"{chat['found']} |",
        f"| within the visitor's windows (56 afternoons) | {windowed['median_ms']:.1f} ms | "
        f"{windowed['p95_ms']:.1f} ms | {windowed['found']} |",
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.openings")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--database-url", default="", help="an empty PostgreSQL database (default: a SQLite file)")
    args = parser.parse_args()
    result = measure(args.runs, args.database_url)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
