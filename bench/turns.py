"""`python -m bench.turns [--turns 300]`: what one turn costs as a conversation grows.

Starts Rasa and the action server (`bot.stack.RasaStack`) on a database of its own, sends one
conversation of FAQ questions straight to Rasa's REST webhook (with `--session-turns N`, starting
a new Rasa session every N turns as the web app does), and reports, for turns 1-10, 91-100 and
291-300: the median time of a turn, how many events Rasa's SQL tracker store holds for the
conversation, and how long reading them takes (the query Rasa runs at every turn). With
`--prefill-events N`, the tracker store first gets N events of other conversations (copies of a
real one's), as a store that has served a clinic for months holds. It prints JSON; nothing is
asserted. `python -m bench` runs it too (`long_conversations()`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sqlite3
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

import aiohttp

from bench.load import QUESTIONS
from bench.procs import free_port
from bot.db import make_engine, upgrade_database
from bot.settings import Settings
from bot.stack import DEFAULT_MODEL, RasaStack
from bot.web.sessions import SessionRenewal

WINDOW = 10
# The warm-up conversation, which prefilling copies: a visitor's few questions.
TEMPLATE_TURNS = 10


def _post(url: str, body: dict) -> list:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def _events_read_ms(database: Path, sender_id: str) -> tuple[int, float]:
    """The events of one conversation, read as Rasa's SQL tracker store reads them at each turn."""
    with sqlite3.connect(database) as connection:
        started = time.perf_counter()
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender_id,)
        ).fetchall()
        for (data,) in rows:
            json.loads(data)
        return len(rows), (time.perf_counter() - started) * 1000


async def _renew(renewal: SessionRenewal, rasa_url: str, sender: str) -> bool:
    async with aiohttp.ClientSession() as session:
        return await renewal.renew_if_idle(session, rasa_url, sender)


def _prefill(database: Path, template_sender: str, events: int) -> float:
    """Copies of `template_sender`'s events under other sender ids until the store holds `events` more; seconds."""
    started = time.perf_counter()
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT type_name, timestamp, intent_name, action_name, data FROM events WHERE sender_id = ? ORDER BY id",
            (template_sender,),
        ).fetchall()
        copies = -(-events // len(rows))
        for copy in range(copies):
            batch = rows[: events - copy * len(rows)]
            connection.executemany(
                "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                ((f"bench-earlier-{copy}", *row) for row in batch),
            )
    return time.perf_counter() - started


def _conversation(webhook: str, sender: str, turns: int) -> None:
    for turn in range(turns):
        _post(webhook, {"sender": sender, "message": QUESTIONS[turn % len(QUESTIONS)][0]})


def measure(turns: int, model: Path, keep: bool = False, session_turns: int = 0, prefill_events: int = 0) -> dict:
    """One conversation of `turns` turns; see the module's docstring for what is reported."""
    work = Path(tempfile.mkdtemp(prefix="clinic-bench-turns-"))
    rasa_port, action_port = free_port(), free_port()
    env = {"DATA_DIR": str(work / "var"), "RASA_URL": f"http://127.0.0.1:{rasa_port}",
           "ACTION_SERVER_PORT": str(action_port)}
    settings = Settings.from_env(env)
    engine = make_engine(settings)
    upgrade_database(engine)
    engine.dispose()
    stack = RasaStack(settings, env=env, rasa_port=rasa_port, action_port=action_port, model=model,
                      run_dir=work / "run")
    sender = "bench-turns"
    try:
        stack.start()
        stack.wait_ready()
        webhook = f"{stack.rasa_url}/webhooks/rest/webhook"
        # A server that has answered before: TensorFlow's first calls build its graphs.
        _conversation(webhook, "bench-warm-up", TEMPLATE_TURNS)
        prefilled = {}
        if prefill_events:
            seconds = _prefill(settings.sqlite_path, "bench-warm-up", prefill_events)
            with sqlite3.connect(settings.sqlite_path) as connection:
                total = connection.execute("SELECT count(*) FROM events").fetchone()[0]
            prefilled = {"events_in_store": total, "seconds": round(seconds, 1),
                         "database_mb": round(settings.sqlite_path.stat().st_size / 2**20)}
        millis: list[float] = []
        renewals: list[float] = []
        checkpoints: dict[int, dict] = {}
        # As the web app does (bot.web.sessions), when asked to.
        renewal = SessionRenewal(session_turns, stack.api_token or "")
        for turn in range(1, turns + 1):
            text = QUESTIONS[turn % len(QUESTIONS)][0]
            if renewal.due(sender):
                started = time.perf_counter()
                asyncio.run(_renew(renewal, stack.rasa_url, sender))
                renewals.append((time.perf_counter() - started) * 1000)
            renewal.count(sender)
            started = time.perf_counter()
            _post(webhook, {"sender": sender, "message": text})
            millis.append((time.perf_counter() - started) * 1000)
            if turn in (WINDOW, 100, 300, turns):
                events, read_ms = _events_read_ms(settings.sqlite_path, sender)
                window = millis[-WINDOW:]
                checkpoints[f"{turn - len(window) + 1}-{turn}"] = {
                    "turn_p50_ms": round(statistics.median(window), 1), "events": events,
                    "events_read_ms": round(read_ms, 1)}
        result = {"turns": turns, "session_turns": session_turns, "at": checkpoints}
        if prefilled:
            result["prefilled"] = prefilled
        if renewals:
            result["renewals"] = {"count": len(renewals), "p50_ms": round(statistics.median(renewals), 1)}
        if keep:
            result["database"] = str(settings.sqlite_path)
        return result
    finally:
        stack.stop()
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


# A turn at turn 300, or with a store of a million events, costs at most this much more than at the start.
TARGET_GROWTH = 0.20
MILLION = 1_000_000


def long_conversations(ours: Path, stock: Path, session_turns: int, quick: bool, say) -> dict:
    """One long conversation on our model as the web app serves it, on the stock model as `rasa run`
    keeps sessions (one for as long as the visitor talks), and on ours with a store already holding
    a million events of other conversations (100,000 with `quick`)."""
    turns, prefill = (100, MILLION // 10) if quick else (300, MILLION)
    runs = {}
    for name, model, renew, events, count in (
        ("ours", ours, session_turns, 0, turns),
        ("stock", stock, 0, 0, turns),
        (f"ours, {prefill:,} events in the store", ours, session_turns, prefill, 100),
    ):
        say(f"long conversation: {name} ({count} turns)")
        runs[name] = measure(count, model, session_turns=renew, prefill_events=events)
    return {"session_turns": session_turns, "runs": runs}


def _p50(run: dict, window: str) -> float | None:
    return (run.get("at", {}).get(window) or {}).get("turn_p50_ms")


def targets(result: dict | None) -> list[tuple[str, str, str, bool | None]]:
    """(name, wanted, measured, met) of the long-conversation targets of `long_conversations()`'s result."""
    wanted = f"within {TARGET_GROWTH:.0%} of turns 1-10"
    runs = (result or {}).get("runs") or {}
    ours = runs.get("ours") or {}
    first = _p50(ours, "1-10")
    late_window = next((w for w in ("291-300", "91-100") if _p50(ours, w) is not None), None)
    found = []
    if first is None or late_window is None:
        found.append(("Turn cost late in a long conversation", wanted, "not measured", None))
    else:
        late = _p50(ours, late_window)
        found.append((f"Turn cost at turns {late_window}", wanted, f"{late:.0f} ms against {first:.0f} ms",
                      late <= first * (1 + TARGET_GROWTH)))
    prefilled = next((run for name, run in runs.items() if run.get("prefilled")), None)
    # The same turns of both conversations: the first turns after filling the store meet a cold
    # page cache, which a store that grew over months does not have.
    window = next((w for w in reversed(list((prefilled or {}).get("at", {}))) if _p50(ours, w) is not None), None)
    if prefilled is None or window is None:
        found.append(("Turn cost with a full tracker store", "within 20% of an empty store's", "not measured", None))
    else:
        full, empty = _p50(prefilled, window), _p50(ours, window)
        events = prefilled["prefilled"]["events_in_store"]
        found.append((f"Turn cost with {events:,} events in the store", "within 20% of an empty store's",
                      f"{full:.0f} ms against {empty:.0f} ms at turns {window}", full <= empty * (1 + TARGET_GROWTH)))
    return found


def markdown_section(result: dict | None) -> list[str]:
    if not result:
        return []
    runs = result["runs"]
    windows = list(dict.fromkeys(window for run in runs.values() for window in run.get("at", {})))
    lines = ["## One long conversation (`bench/turns.py`)", "",
             f"Rasa's REST channel, one FAQ question a turn. Ours starts a new Rasa session every "
             f"{result['session_turns']} turns, as the web app does (`RASA_SESSION_TURNS`); stock keeps one "
             "session for as long as the visitor talks, as `rasa run` does. Median of each window of turns, "
             "and the events Rasa reads back at each turn.", "",
             "| | " + " | ".join(f"turns {w}" for w in windows) + " |", "|---|" + "---|" * len(windows)]
    for name, run in runs.items():
        cells = []
        for window in windows:
            point = run.get("at", {}).get(window)
            cells.append(f"{point['turn_p50_ms']:.0f} ms, {point['events']:,} events" if point else "-")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    for name, run in runs.items():
        if run.get("prefilled"):
            filled = run["prefilled"]
            lines += [f"{name}: the store was filled with {filled['events_in_store']:,} events "
                      f"({filled['database_mb']:,} MB of SQLite) in {filled['seconds']:.0f} s before the conversation.", ""]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.turns")
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--keep", action="store_true", help="keep the database, to look into its events")
    parser.add_argument("--session-turns", type=int, default=0,
                        help="start a new Rasa session every N turns, as the web app does (RASA_SESSION_TURNS)")
    parser.add_argument("--prefill-events", type=int, default=0,
                        help="first fill the tracker store with this many events of other conversations")
    args = parser.parse_args()
    print(json.dumps(measure(args.turns, args.model, args.keep, args.session_turns, args.prefill_events), indent=2))


if __name__ == "__main__":
    main()
