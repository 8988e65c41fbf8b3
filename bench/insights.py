"""`python -m bench.insights [--events 1000000] [--leads 20000]`: how long the staff insights page
takes with a clinic's worth of history in PostgreSQL.

Starts a throwaway PostgreSQL server (Debian's `postgresql` binaries, as the tests do) unless
`--database-url` names one, migrates it, and fills it with COPY: `--events` rows of Rasa's
`events` table over the last 90 days, written as Rasa 3.6 writes them (visitor messages with
their whole parse data, FAQ answers with their text, inquiries with their slots; about 1.5 KB a
row), from conversations of which `--leads` ended in a lead, and those leads with their status
changes. Then it runs the real web app (`bot.web.app.create_app`) on loopback, signs in, and
asks for /staff/insights for each period `--runs` times after a warm-up, timing each whole
response. It prints JSON (median and p95 per period, the seeding's figures); nothing is
asserted. `markdown_section()` turns the result into report lines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web

from bench.procs import BenchError, free_port
from bot.db import make_engine, make_session_factory, upgrade_database
from bot.settings import Settings

DAYS = 90
PERIODS = ("7", "30", "90")
PASSWORD = "quiet lantern orbit 42"
LOGIN = "bench@clinic.example"
TOPICS = ("what_is_osteoporosis", "dexa_scan", "t_and_z_scores", "calcium_supplements", "vitamin_d",
          "best_exercises", "balance_exercises", "posture_kyphosis", "exercise_safety", "fall_statistics")
# An FAQ answer as long as the clinic's are, with its three buttons.
ANSWER = ("Osteoporosis means your bone density has fallen far below normal levels, so your bones are weaker "
          "and break more easily. " * 5).strip()
BUTTONS = [{"title": "What is a DEXA scan?", "payload": "What is a DEXA scan?"},
           {"title": "Best exercises", "payload": "What are the best exercises for osteoporosis?"},
           {"title": "Free consultation", "payload": "/request_appointment"}]
INTENTS = ("faq", "greet", "inquire_cost", "request_appointment", "inform", "out_of_scope", "nlu_fallback", "deny",
           "affirm", "stop")
LEAD_KINDS = ("appointment", "cost", "availability", "callback")


# -- a throwaway PostgreSQL server ---------------------------------------------------------------

def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise BenchError("No PostgreSQL server binaries: install Debian's `postgresql` "
                         "(scripts/install-system-packages)")
    return found[-1].parent


def _as_postgres(args: list[str]) -> list[str]:
    # initdb refuses to run as root.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


class Postgres:
    def __init__(self, work: Path) -> None:
        self.data, self.socket, self.log = work / "pg-data", work / "pg-socket", work / "pg.log"
        self.port = free_port()
        self.bin = _pg_bin()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self.socket.mkdir(parents=True)
        if os.geteuid() == 0:
            for path in (self.socket.parent, self.socket):
                shutil.chown(path, "postgres")
        subprocess.run(_as_postgres([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                                     "-E", "UTF8", "--no-sync"]), check=True, capture_output=True)
        # PostgreSQL's own defaults otherwise (shared_buffers 128 MB); only durability is relaxed, for the seeding.
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.socket} -c fsync=off"
        subprocess.run(_as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
                                     "-w", "start"]), check=True, capture_output=True)

    def stop(self) -> None:
        subprocess.run(_as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]),
                       capture_output=True)


# -- a clinic's history ------------------------------------------------------------------------

def _user(text: str, intent: str, topic: str) -> dict:
    ranking = [{"name": intent, "confidence": 0.91}] + [{"name": name, "confidence": 0.01} for name in INTENTS
                                                         if name != intent]
    selector = {"response": {"responses": [{"text": ANSWER, "buttons": BUTTONS}], "confidence": 0.88,
                             "intent_response_key": f"faq/{topic}", "utter_action": f"utter_faq/{topic}",
                             "template_name": f"utter_faq/{topic}"},
                "ranking": [{"id": 1000 + n, "confidence": 0.05, "intent_response_key": f"faq/{name}"}
                            for n, name in enumerate(TOPICS)]}
    parse = {"intent": {"name": intent, "confidence": 0.91}, "entities": [], "text": text,
             "message_id": uuid.uuid4().hex,
             "metadata": {}, "intent_ranking": ranking,
             "response_selector": {"all_retrieval_intents": ["faq"], "faq": selector,
                                   "default": {"response": {"responses": None, "confidence": 0.0,
                                                            "intent_response_key": None, "utter_action": "utter_None"},
                                               "ranking": []}}}
    return {"event": "user", "timestamp": 0, "text": text, "parse_data": parse, "input_channel": "rest",
            "message_id": parse["message_id"], "metadata": {}}


def _row(event: dict) -> tuple[str, str | None, str | None, dict]:
    intent = event.get("parse_data", {}).get("intent", {}).get("name")
    return event["event"], intent, event.get("name"), event


def _action(name: str) -> dict:
    return {"event": "action", "timestamp": 0, "name": name, "policy": "RulePolicy", "confidence": 1.0,
            "action_text": None, "hide_rule_turn": False}


def _bot(text: str, utter: str, buttons: list | None = None) -> dict:
    return {"event": "bot", "timestamp": 0, "metadata": {"utter_action": utter}, "text": text,
            "data": {"elements": None, "quick_replies": None, "buttons": buttons, "attachment": None, "image": None,
                     "custom": None}}


def _turn(text: str, intent: str, reply: str, answer: str, topic: str, buttons: list | None = None) -> list[dict]:
    return [_user(text, intent, topic), {"event": "user_featurization", "timestamp": 0,
                                         "use_text_for_featurization": False},
            _action(reply), _bot(answer, reply if reply != "utter_faq" else f"utter_faq/{topic}", buttons),
            _action("action_listen")]


def _slot(name: str, value) -> dict:
    return {"event": "slot", "timestamp": 0, "name": name, "value": value}


def _session() -> list[dict]:
    return [_action("action_session_start"), {"event": "session_started", "timestamp": 0}, _action("action_listen")]


def _inquiry(kind: str, number: int) -> list[dict]:
    steps = [("lead_name", f"Bench Visitor {number}", "utter_ask_contact"),
             ("contact", f"(804) 555-{number % 10000:04d}", "utter_ask_area_of_concern"),
             ("area_of_concern", "hip", "utter_ask_preferred_times"),
             ("preferred_times", "Tuesday mornings", "utter_ask_consent")]
    events = [_user("Can I book an appointment?", "request_appointment", "dexa_scan"), _action("action_start_inquiry"),
              _slot("inquiry_kind", kind), _action("inquiry_form"), {"event": "active_loop", "timestamp": 0,
                                                                     "name": "inquiry_form"},
              _bot("Happy to help. What is your name?", "utter_ask_lead_name"), _slot("requested_slot", "lead_name"),
              _action("action_listen")]
    for slot, value, ask in steps:
        events += [_user(value, "inform", "dexa_scan"), _action("inquiry_form"), _slot(slot, value),
                   _bot("Thank you. And next?", ask), _action("action_listen")]
    return events + [_user("yes", "affirm", "dexa_scan"), _action("inquiry_form"), _slot("consent", True),
                     {"event": "active_loop", "timestamp": 0, "name": None}, _action("action_submit_inquiry"),
                     _bot("Thank you. Staff will call you back within one business day.", "utter_saved"),
                     _action("action_listen")]


def _conversation(rng: random.Random, lead_kind: str | None, number: int) -> list[dict]:
    events = _session()
    turns = rng.choice((0, 1)) if lead_kind else rng.choice((1, 2, 2, 3, 3, 4, 5))
    for _ in range(turns):
        pick = rng.random()
        topic = rng.choice(TOPICS)
        if pick < 0.7:
            events += _turn("What is a DEXA scan?", "faq", "utter_faq", ANSWER, topic, BUTTONS)
        elif pick < 0.85:
            events += _turn("hello", "greet", "utter_greet", "Hi! I can answer questions about osteoporosis.", topic)
        elif pick < 0.995:
            events += _turn("blorf quantum", "nlu_fallback", "utter_ask_rephrase", "Sorry, could you rephrase?", topic)
        else:
            events += _turn("chest pain now", "emergency", "utter_emergency", "Call 911 now.", topic)
    if lead_kind:
        events += _inquiry(lead_kind, number)
    return events


def _start_time(rng: random.Random, now: datetime, zone: ZoneInfo) -> float:
    day = (now.astimezone(zone) - timedelta(days=rng.randrange(DAYS))).date()
    # More in the day than at night, as the clinic's visitors write.
    hour = min(23, max(0, int(rng.gauss(14, 4.5))))
    local = datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60), tzinfo=zone)
    return min(local.timestamp(), now.timestamp() - 3600)


def seed(url: str, events: int, leads: int, zone: ZoneInfo, now: datetime, rng: random.Random) -> dict:
    """Fills the migrated database at `url`; returns what was written and how long it took."""
    import psycopg

    started = time.perf_counter()
    written = conversations = lead_rows = notes = 0
    with psycopg.connect(url) as connection:
        lead_data: list[tuple] = []
        with connection.cursor() as cursor, cursor.copy(
                "COPY events (sender_id, type_name, timestamp, intent_name, action_name, data) FROM STDIN") as copy:
            while written < events:
                number = conversations
                kind = LEAD_KINDS[number % len(LEAD_KINDS)] if number < leads else None
                sender = uuid.uuid4().hex
                at = _start_time(rng, now, zone)
                for event in _conversation(rng, kind, number)[: events - written]:
                    at += rng.uniform(0.05, 20)
                    type_name, intent, action, data = _row(event)
                    data["timestamp"] = at
                    copy.write_row((sender, type_name, at, intent, action, json.dumps(data)))
                    written += 1
                if kind:
                    lead_data.append((kind, number, sender, at))
                conversations += 1
        with connection.cursor() as cursor, cursor.copy(
                "COPY leads (kind, name, phone, email, area_of_concern, preferred_times, insurance, consent_text, "
                "consented_at, conversation_id, submission_key, status, created_at, updated_at) FROM STDIN") as copy:
            for kind, number, sender, at in lead_data:
                created = datetime.fromtimestamp(at, timezone.utc)
                copy.write_row((kind, f"Bench Visitor {number}", f"+1804555{number % 10000:04d}", None, "hip",
                                "Tuesday mornings", None, "May the clinic contact you?", created, sender,
                                uuid.uuid4().hex, "new", created, created))
                lead_rows += 1
        rows = connection.execute("SELECT id, created_at FROM leads ORDER BY id").fetchall()
        with connection.cursor() as cursor, cursor.copy(
                "COPY lead_notes (lead_id, author_login, body, status_from, status_to, created_at) FROM STDIN") as copy:
            moved = []
            for lead_id, created in rows:
                if rng.random() < 0.65:
                    wait = timedelta(hours=math.exp(rng.gauss(1.0, 1.0)))
                    if created + wait < now:
                        copy.write_row((lead_id, LOGIN, "", "new", "contacted", created + wait))
                        moved.append(lead_id)
                        notes += 1
        connection.execute("UPDATE leads SET status = 'contacted' WHERE id = ANY(%s)", (moved,))
        connection.commit()
        connection.autocommit = True
        # As autovacuum leaves a table that stopped growing: statistics and the visibility map.
        connection.execute("VACUUM ANALYZE")
        size = connection.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    return {"events": written, "conversations": conversations, "leads": lead_rows, "status_changes": notes,
            "database_mb": round(size / 2**20), "seconds": round(time.perf_counter() - started, 1)}


# -- timing the page ---------------------------------------------------------------------------

async def _sign_in(http: aiohttp.ClientSession, base: str) -> None:
    page = await (await http.get(f"{base}/staff/login")).text()
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    async with http.post(f"{base}/staff/login", data={"csrf_token": token, "login": LOGIN, "password": PASSWORD},
                         allow_redirects=False) as response:
        if response.status != 303:
            raise BenchError(f"signing in answered {response.status}")


async def _time_pages(settings: Settings, runs: int, warm_up: int) -> dict:
    from bot.web.app import create_app

    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = f"http://127.0.0.1:{port}"
    timings: dict[str, dict] = {}
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            await _sign_in(http, base)
            for period in PERIODS:
                millis = []
                for number in range(warm_up + runs):
                    started = time.perf_counter()
                    async with http.get(f"{base}/staff/insights?period={period}") as response:
                        body = await response.read()
                        if response.status != 200:
                            raise BenchError(f"/staff/insights?period={period} answered {response.status}")
                    if number >= warm_up:
                        millis.append((time.perf_counter() - started) * 1000)
                millis.sort()
                timings[period] = {"median_ms": round(statistics.median(millis), 1),
                                   "p95_ms": round(millis[max(0, math.ceil(0.95 * len(millis)) - 1)], 1),
                                   "max_ms": round(millis[-1], 1), "runs": len(millis),
                                   "page_kb": round(len(body) / 1024)}
    finally:
        await runner.cleanup()
    return timings


def _create_account(settings: Settings) -> None:
    from bot.staff.accounts import create_account

    engine = make_engine(settings)
    try:
        with make_session_factory(engine)() as db:
            create_account(db, LOGIN, PASSWORD)
            db.commit()
    finally:
        engine.dispose()


def measure(events: int = 1_000_000, leads: int = 20_000, runs: int = 30, database_url: str = "",
            keep: bool = False, say=print) -> dict:
    """Seed, then time the page; see the module's docstring."""
    work = Path(tempfile.mkdtemp(prefix="clinic-bench-insights-"))
    server = None
    try:
        if not database_url:
            server = Postgres(work)
            server.start()
            database_url = server.url
        settings = Settings(data_dir=work / "var", database_url=database_url,
                            outbox_poll_seconds=60)
        engine = make_engine(settings)
        upgrade_database(engine)
        engine.dispose()
        zone = ZoneInfo(settings.clinic_timezone)
        say(f"seeding {events:,} events and {leads:,} leads")
        seeded = seed(database_url.replace("postgresql+psycopg://", "postgresql://"), events, leads, zone,
                      datetime.now(timezone.utc), random.Random(7))
        say(f"seeded in {seeded['seconds']} s ({seeded['database_mb']:,} MB); timing the page")
        _create_account(settings)
        # Other work on the machine moves these figures: its load is part of the result.
        load_before = [round(value, 2) for value in os.getloadavg()]
        timings = asyncio.run(_time_pages(settings, runs, warm_up=3))
        machine = {"cores": os.cpu_count(), "load_average_before": load_before,
                   "load_average_after": [round(value, 2) for value in os.getloadavg()]}
        return {"seeded": seeded, "pages": timings, "machine": machine,
                "postgres": str(_pg_bin().parent.name) if server else "given"}
    finally:
        if server is not None:
            server.stop()
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


TARGET_MS = 500.0


def targets(result: dict | None) -> list[tuple[str, str, str, bool | None]]:
    """(name, wanted, measured, met): the slowest period's p95 against TARGET_MS."""
    pages = (result or {}).get("pages")
    if not pages:
        return [("Insights page, 1,000,000 events", f"under {TARGET_MS:.0f} ms", "not measured", None)]
    worst = max(pages.values(), key=lambda timing: timing["p95_ms"])
    return [("Insights page, 1,000,000 events", f"under {TARGET_MS:.0f} ms",
             f"{worst['p95_ms']:.0f} ms p95 (slowest period)", worst["p95_ms"] < TARGET_MS)]


def markdown_section(result: dict | None) -> list[str]:
    if not result:
        return []
    seeded = result["seeded"]
    lines = ["## The staff insights page (`bench/insights.py`)", "",
             f"PostgreSQL {result.get('postgres', '')} with {seeded['events']:,} Rasa events "
             f"({seeded['conversations']:,} conversations over the last {DAYS} days) and {seeded['leads']:,} leads "
             f"({seeded['database_mb']:,} MB); the real web app on loopback, one signed-in browser asking for the "
             f"page again and again. Target: under {TARGET_MS:.0f} ms.", "",
             "| Period | median | p95 | max | page |", "|---|---|---|---|---|"]
    for period, timing in result["pages"].items():
        lines.append(f"| last {period} days | {timing['median_ms']:.0f} ms | {timing['p95_ms']:.0f} ms | "
                     f"{timing['max_ms']:.0f} ms | {timing['page_kb']} KB |")
    machine = result.get("machine", {})
    load = machine.get("load_average_before")
    lines += ["", f"Seeding (COPY, then VACUUM ANALYZE) took {seeded['seconds']:.0f} s."]
    if load:
        lines.append(f"{machine.get('cores')} cores; load average {load[0]:.1f} when the timing began "
                     f"and {machine['load_average_after'][0]:.1f} when it ended.")
    return lines + [""]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.insights")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=30, help="timed requests per period, after 3 to warm up")
    parser.add_argument("--database-url", default="",
                        help="an empty PostgreSQL database to use instead of starting one")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (the server's data)")
    args = parser.parse_args()
    result = measure(args.events, args.leads, args.runs, args.database_url, args.keep)
    print(json.dumps(result, indent=2))
    print("\n".join(markdown_section(result)))


if __name__ == "__main__":
    main()
