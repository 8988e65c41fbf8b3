"""`python -m bench.turns [--turns 300]`: what one turn costs as a conversation grows.

Starts Rasa and the action server (`bot.stack.RasaStack`) on a database of its own, sends one
conversation of FAQ questions straight to Rasa's REST webhook (with `--session-turns N`, starting
a new Rasa session every N turns as the web app does), and reports, around turns 10, 100 and 300: the median time of a turn, how many events Rasa's SQL tracker store holds for the
conversation, and how long reading them takes (the query Rasa runs at every turn) as against
Rasa's whole turn. It prints JSON; nothing is asserted.
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


def measure(turns: int, model: Path, keep: bool = False, session_turns: int = 0) -> dict:
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
            if turn in (WINDOW, turns // 3, turns):
                events, read_ms = _events_read_ms(settings.sqlite_path, sender)
                window = millis[-WINDOW:]
                checkpoints[turn] = {"turn_p50_ms": round(statistics.median(window), 1),
                                     "events": events, "events_read_ms": round(read_ms, 1)}
        result = {"turns": turns, "session_turns": session_turns, "at": checkpoints}
        if renewals:
            result["renewals"] = {"count": len(renewals), "p50_ms": round(statistics.median(renewals), 1)}
        if keep:
            result["database"] = str(settings.sqlite_path)
        return result
    finally:
        stack.stop()
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.turns")
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--keep", action="store_true", help="keep the database, to look into its events")
    parser.add_argument("--session-turns", type=int, default=0,
                        help="start a new Rasa session every N turns, as the web app does (RASA_SESSION_TURNS)")
    args = parser.parse_args()
    print(json.dumps(measure(args.turns, args.model, args.keep, args.session_turns), indent=2))


if __name__ == "__main__":
    main()
