"""`python -m bench.soak --minutes N` (or `python -m bench --soak N`): the whole assistant, unattended.

Starts `python -m bot run` as a clinic would, on a database of its own, with a local SMTP
server (aiosmtpd) for the staff notices, and sends mixed visitors at a steady rate for N
minutes: FAQ conversations, full appointment inquiries, and now and then a person in
crisis. Meanwhile its parts fail on a schedule (FAULTS): Rasa is killed twice, the action
server once, and the SMTP server is down for five minutes (a quarter of the run when
shorter). A visitor who is told the assistant is unavailable or busy sends the same message
again a few seconds later, as the widget asks.

After the load, it waits for the outbox to send every notice, then reports: messages sent
and answered, errors by kind, leads submitted (the visitor was thanked) vs stored vs
notified (sent by the outbox, and received by the SMTP server), and Rasa's resident memory
at the start, before each kill and at the end. It prints JSON; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from bench.load import GOODBYES, GREETINGS, QUESTIONS, percentile
from bench.procs import BenchError, free_port, log_tail, tree_rss_bytes
from bot.db import make_engine
from bot.leads.models import Lead
from bot.notify.models import OutboxMessage
from bot.settings import PROJECT_ROOT, Settings

# (fraction of the run, fault): what fails when.
FAULTS = [(0.20, "kill Rasa"), (0.30, "stop SMTP"), (0.40, "kill the action server"), (0.55, "kill Rasa")]
SMTP_OUTAGE_SECONDS = 300.0
VISITORS = 6
THINK_SECONDS = (1.5, 3.0)
# A visitor told "unavailable" or "busy" tries again this often, for this long, then gives up.
RETRY_SECONDS = 3.0
GIVE_UP_SECONDS = 180.0
# After the load: how long the outbox may take to send what the SMTP outage held back.
DRAIN_SECONDS = 900.0
MEMORY_SAMPLE_SECONDS = 30.0

NAMES = ["Maria Lopez", "James Carter", "Aiko Tanaka", "Grace Okafor", "Ruth Feldman", "Tom Becker"]
AREAS = ["Hip", "Back", "Knee", "Shoulder", "Neck"]
CRISIS = [("I want to end my life", "988")]


def inquiry_script(number: int) -> tuple[str, list[tuple[str, str]]]:
    """The visitor's name and the turns of a whole appointment inquiry: (message, phrase the answer holds)."""
    name = NAMES[number % len(NAMES)]
    return name, [
        ("I'd like to book an appointment", "What name should our staff use"),
        (name, "phone number or email"),
        (f"804-555-{number % 10000:04d}", "What area would you like help with"),
        (AREAS[number % len(AREAS)], "days and times"),
        ("weekday mornings", "May our clinic staff contact you"),
        ("yes", "Here's what I'll send"),
        ("yes", f"Thank you, {name.split()[0]}!"),
    ]


def faq_script(number: int) -> list[tuple[str, str]]:
    return [GREETINGS[number % len(GREETINGS)], QUESTIONS[number % len(QUESTIONS)],
            QUESTIONS[(number * 3 + 1) % len(QUESTIONS)], GOODBYES[number % len(GOODBYES)]]


@dataclass
class Tally:
    sent: int = 0
    answered: int = 0
    # Replies of the right kind but not the expected words, by what the visitor typed.
    off_script: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    conversations: int = 0
    inquiries_started: int = 0
    submitted: list[str] = field(default_factory=list)
    abandoned: int = 0
    crisis_answered: int = 0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


class _CountingHandler:
    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope.content)
        return "250 Message accepted for delivery"


class SmtpServer:
    """A local SMTP server that can be stopped and started again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.handler = _CountingHandler()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


class Assistant:
    """`python -m bot run` in a directory of its own."""

    def __init__(self, work: Path, smtp_port: int) -> None:
        self.web_port, self.rasa_port, self.action_port = free_port(), free_port(), free_port()
        self.env = {
            "DATA_DIR": str(work / "var"), "PORT": str(self.web_port),
            "RASA_URL": f"http://127.0.0.1:{self.rasa_port}", "ACTION_SERVER_PORT": str(self.action_port),
            "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port), "MAIL_FROM": "assistant@clinic.test",
            "MAIL_TO": "frontdesk@clinic.test", "PUBLIC_URL": "http://clinic.test", "OUTBOX_POLL_SECONDS": "2",
            # Every simulated visitor comes from this one address.
            "CHAT_RATE_PER_CLIENT": "100000/minute",
        }
        self.settings = Settings.from_env(self.env)
        self.log_path = work / "bot-run.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start(self, timeout: float = 300.0) -> None:
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=PROJECT_ROOT,
                                        env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + timeout
        while "The assistant is ready" not in self.log_path.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise BenchError(f"`python -m bot run` did not become ready:\n{log_tail(self.log_path)}")
            time.sleep(0.5)

    def pid_of(self, *argv_part: str) -> int | None:
        """The process whose command line holds `argv_part` in a row (Rasa's or the action server's)."""
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                argv = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace").split("\0")
            except OSError:
                continue
            if any(argv[i:i + len(argv_part)] == list(argv_part) for i in range(len(argv))):
                return int(entry)
        return None

    def rasa_pid(self) -> int | None:
        return self.pid_of("--port", str(self.rasa_port), "--model")

    def action_server_pid(self) -> int | None:
        return self.pid_of("actions", "--port", str(self.action_port))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)

    def warnings(self) -> list[str]:
        return [line for line in self.log_path.read_text(errors="replace").splitlines() if " WARNING " in line]


async def _send(http: aiohttp.ClientSession, url: str, sender: str | None, text: str,
                tally: Tally) -> tuple[str | None, str | None]:
    """One message, sent again while the assistant says it is unavailable or busy: (sender id, reply text)."""
    body: dict = {"message": text}
    if sender:
        body["sender_id"] = sender
    given_up_at = time.monotonic() + GIVE_UP_SECONDS
    while True:
        tally.sent += 1
        started = time.perf_counter()
        kind = None
        try:
            async with http.post(f"{url}/api/chat", json=body, timeout=aiohttp.ClientTimeout(total=60)) as response:
                answer = await response.json(content_type=None)
                status = response.status
        except asyncio.TimeoutError:
            kind = "no answer within 60 s"
        except aiohttp.ClientError as error:
            kind = f"connection: {type(error).__name__}"
        else:
            tally.latencies_ms.append((time.perf_counter() - started) * 1000)
            if status == 200:
                messages = answer.get("messages") or []
                if not messages:
                    tally.error("200 with no messages (silence)")
                    return answer.get("sender_id"), None
                tally.answered += 1
                return answer.get("sender_id"), "\n".join(m.get("text") or "" for m in messages)
            kind = {503: "503 unavailable or busy (phone number shown)", 429: "429 too many messages"}.get(
                status, f"HTTP {status}")
            if "phone" not in answer and status in (429, 503):
                kind += " without the phone number"
        tally.error(kind)
        if time.monotonic() > given_up_at:
            return sender, None
        await asyncio.sleep(RETRY_SECONDS)


async def _conversation(http: aiohttp.ClientSession, url: str, number: int, tally: Tally, rng: random.Random) -> None:
    tally.conversations += 1
    kind = number % 10
    name = ""
    if kind < 3:
        name, script = inquiry_script(number)
        tally.inquiries_started += 1
    elif kind == 9:
        script = [GREETINGS[0], *CRISIS]
    else:
        script = faq_script(number)
    sender = None
    for turn, (text, expected) in enumerate(script):
        if turn:
            await asyncio.sleep(rng.uniform(*THINK_SECONDS))
        sender, reply = await _send(http, url, sender, text, tally)
        if reply is None or expected not in reply:
            if reply is not None:
                tally.off_script[text] = tally.off_script.get(text, 0) + 1
            if name:
                tally.abandoned += 1
            return
        if expected == "988":
            tally.crisis_answered += 1
    if name and sender:
        tally.submitted.append(sender.rsplit(".", 1)[0])


async def _visitor(http, url: str, numbers, tally: Tally, until: float, seed: int) -> None:
    rng = random.Random(seed)
    await asyncio.sleep(rng.uniform(0, THINK_SECONDS[1]))
    while time.monotonic() < until:
        await _conversation(http, url, next(numbers), tally, rng)


def _counts(assistant: Assistant) -> dict:
    engine = make_engine(assistant.settings)
    try:
        with engine.connect() as connection:
            return {
                "stored": connection.scalar(select(func.count()).select_from(Lead)),
                "conversations": set(connection.scalars(select(Lead.conversation_id))),
                "queued": connection.scalar(select(func.count()).select_from(OutboxMessage)),
                "sent": connection.scalar(select(func.count()).select_from(OutboxMessage)
                                          .where(OutboxMessage.sent_at.is_not(None))),
            }
    finally:
        engine.dispose()


def _mb(pid: int | None) -> float | None:
    return round(tree_rss_bytes(pid) / 2**20) if pid else None


async def _faults(assistant: Assistant, smtp: SmtpServer, seconds: float, started: float, memory: list,
                  events: list) -> None:
    outage = min(SMTP_OUTAGE_SECONDS, seconds / 4)
    schedule = sorted([(seconds * fraction, fault) for fraction, fault in FAULTS]
                      + [(seconds * 0.30 + outage, "start SMTP")])
    for at, fault in schedule:
        await asyncio.sleep(max(0.0, started + at - time.monotonic()))
        pid = assistant.rasa_pid() if fault == "kill Rasa" else (
            assistant.action_server_pid() if fault == "kill the action server" else None)
        if fault == "kill Rasa":
            memory.append({"when": f"before kill at {at / 60:.1f} min", "rasa_mb": _mb(pid)})
        done = True
        if fault == "stop SMTP":
            smtp.stop()
        elif fault == "start SMTP":
            smtp.start()
        elif pid:
            os.kill(pid, signal.SIGKILL)
        else:
            done = False  # still restarting from the fault before
        events.append({"at_minutes": round((time.monotonic() - started) / 60, 1), "fault": fault, "done": done})


async def _sample_memory(assistant: Assistant, until: float, samples: list[float]) -> None:
    while time.monotonic() < until:
        if (mb := _mb(assistant.rasa_pid())) is not None:
            samples.append(mb)
        await asyncio.sleep(MEMORY_SAMPLE_SECONDS)


async def _drive(assistant: Assistant, smtp: SmtpServer, seconds: float, tally: Tally, memory: list,
                 events: list, samples: list[float]) -> None:
    started = time.monotonic()
    until = started + seconds
    numbers = iter(range(10**9))
    connector = aiohttp.TCPConnector(limit=VISITORS * 2)
    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.gather(
            _faults(assistant, smtp, seconds, started, memory, events),
            _sample_memory(assistant, until, samples),
            *(_visitor(http, assistant.url, numbers, tally, until, seed) for seed in range(VISITORS)),
        )


def soak(minutes: float, say=print) -> dict:
    """Runs the soak for `minutes` and returns its figures (see the module's docstring)."""
    work = Path(tempfile.mkdtemp(prefix="clinic-bench-soak-"))
    smtp = SmtpServer()
    smtp.start()
    assistant = Assistant(work, smtp.port)
    tally, memory, events, samples = Tally(), [], [], []
    try:
        say("soak: starting `python -m bot run`")
        assistant.start()
        memory.append({"when": "start", "rasa_mb": _mb(assistant.rasa_pid())})
        say(f"soak: {VISITORS} visitors for {minutes:g} minutes, with {', '.join(f for _, f in FAULTS)}")
        asyncio.run(_drive(assistant, smtp, minutes * 60, tally, memory, events, samples))
        memory.append({"when": "end of the load", "rasa_mb": _mb(assistant.rasa_pid())})
        say("soak: load over; waiting for the outbox to send every notice")
        drain_started = time.monotonic()
        while (counts := _counts(assistant))["sent"] < counts["queued"]:
            if time.monotonic() - drain_started > DRAIN_SECONDS:
                break
            time.sleep(5)
        submitted = set(tally.submitted)
        received = [mail for mail in smtp.handler.received if b"New appointment inquiry" in mail]
        return {
            "minutes": minutes, "visitors": VISITORS, "think_seconds": list(THINK_SECONDS),
            "faults": events,
            "conversations": tally.conversations, "messages_sent": tally.sent, "messages_answered": tally.answered,
            "errors": dict(sorted(tally.errors.items())), "off_script": tally.off_script,
            "crisis_answered_with_988": tally.crisis_answered,
            "latency_ms": ({"p50": round(statistics.median(tally.latencies_ms), 1),
                            "p99": round(percentile(tally.latencies_ms, 0.99), 1),
                            "max": round(max(tally.latencies_ms), 1)} if tally.latencies_ms else {}),
            "leads": {
                "inquiries_started": tally.inquiries_started, "abandoned": tally.abandoned,
                "submitted": len(submitted), "stored": counts["stored"],
                "notices_queued": counts["queued"], "notices_sent": counts["sent"], "emails_received": len(received),
                "submitted_not_stored": len(submitted - counts["conversations"]),
                "stored_not_submitted": len(counts["conversations"] - submitted),
                "drain_seconds": round(time.monotonic() - drain_started, 1),
            },
            "rasa_memory_mb": memory + [{"when": "highest sample", "rasa_mb": max(samples, default=None)}],
            "restarts_logged": [line.split(": ", 1)[-1] for line in assistant.warnings() if "bot.stack" in line],
        }
    finally:
        assistant.stop()
        smtp.stop()
        shutil.rmtree(work, ignore_errors=True)


# Answers a visitor may get while a part is down: each tells them to send again or call.
EXPECTED_ERRORS = ("503 unavailable or busy (phone number shown)", "429 too many messages")


def targets(result: dict | None) -> list[tuple[str, str, str, bool | None]]:
    """(name, wanted, measured, met) of the soak's targets; "not measured" without a soak."""
    wanted_leads = "submitted = stored = notified"
    wanted_answers = "every message answered, or told to send again with the phone number"
    if not result:
        return [("Soak: leads", wanted_leads, "not measured (run with --soak MINUTES)", None),
                ("Soak: no silence", wanted_answers, "not measured (run with --soak MINUTES)", None)]
    leads = result["leads"]
    figures = (leads["submitted"], leads["stored"], leads["notices_sent"], leads["emails_received"])
    unexpected = {kind: count for kind, count in result["errors"].items() if kind not in EXPECTED_ERRORS}
    return [
        (f"Soak of {result['minutes']:g} minutes: leads", wanted_leads,
         "{} submitted, {} stored, {} notices sent, {} emails received".format(*figures), len(set(figures)) == 1),
        (f"Soak of {result['minutes']:g} minutes: no silence", wanted_answers,
         f"{result['messages_answered']:,} of {result['messages_sent']:,} answered; "
         + (", ".join(f"{count} {kind}" for kind, count in unexpected.items()) or "no other errors"),
         not unexpected),
    ]


def markdown_section(result: dict | None) -> list[str]:
    if not result:
        return []
    leads = result["leads"]
    memory = ", ".join(f"{point['when']}: {point['rasa_mb']} MB" for point in result["rasa_memory_mb"])
    lines = [f"## Soak: {result['minutes']:g} minutes unattended (`bench/soak.py`)", "",
             f"`python -m bot run` with {result['visitors']} visitors at a time "
             f"({result['think_seconds'][0]:g}-{result['think_seconds'][1]:g} s between messages; FAQ conversations, "
             "appointment inquiries, a person in crisis now and then). Faults: "
             + ", ".join(f"{fault['fault']} at {fault['at_minutes']} min" + ("" if fault["done"] else " (not running)")
                         for fault in result["faults"]) + ".", "",
             f"- Messages: {result['messages_sent']:,} sent, {result['messages_answered']:,} answered; "
             f"{result['conversations']:,} conversations; p50 {result['latency_ms'].get('p50', '-')} ms, "
             f"p99 {result['latency_ms'].get('p99', '-')} ms.",
             "- Errors by kind: " + (", ".join(f"{kind}: {count}" for kind, count in result["errors"].items()) or "none")
             + ".",
             "- Answers off the script: " + (", ".join(f"{text!r}: {count}" for text, count in result["off_script"].items())
                                             or "none") + ".",
             f"- Leads: {leads['inquiries_started']} inquiries started, {leads['abandoned']} abandoned, "
             f"{leads['submitted']} submitted, {leads['stored']} stored, {leads['notices_sent']} of "
             f"{leads['notices_queued']} notices sent, {leads['emails_received']} emails received "
             f"(the outbox took {leads['drain_seconds']:.0f} s after the load to send what was held back); "
             f"{leads['submitted_not_stored']} submitted but not stored, {leads['stored_not_submitted']} stored "
             "but not seen as submitted.",
             f"- Crisis messages answered with 988: {result['crisis_answered_with_988']}.",
             f"- Rasa's resident memory: {memory}.",
             "- Restarts logged: " + ("; ".join(result["restarts_logged"]) or "none") + ".", ""]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    args = parser.parse_args()
    print(json.dumps(soak(args.minutes, say=lambda line: print(line, file=sys.stderr, flush=True)), indent=2))


if __name__ == "__main__":
    main()
