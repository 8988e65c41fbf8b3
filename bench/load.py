"""Scripted visitors driving `POST /api/chat`: a greeting, two FAQ questions and a goodbye each.

Every conversation has a sender id of its own. A level runs `visitors` conversations at once,
each visitor starting a new conversation when its last one ends, until the level's number of
conversations is done or its time is up. Without think time a visitor sends its next message
the moment the answer arrives (the server's capacity); with think time it first waits a few
seconds, as a person reading the answer and typing would.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import statistics
import time
import uuid
from dataclasses import asdict, dataclass, field

import aiohttp

# (what the visitor types, a phrase the right answer holds)
GREETINGS = [("hi", "clinic's assistant"), ("hello there", "clinic's assistant"), ("good morning", "clinic's assistant")]
QUESTIONS = [
    ("what is a dexa scan", "Dual Energy X-ray"),
    ("what is the difference between calcium carbonate and citrate", "carbonate and calcium citrate"),
    ("why is vitamin d important for bones", "Vitamin D helps your body absorb"),
    ("what exercises are best for osteoporosis", "Weight-bearing exercise"),
    ("what does my t score mean", "T-score compares"),
    ("which foods have a lot of calcium", "Dairy is the obvious source"),
    ("how can i improve my balance so i dont fall", "Balance work"),
    ("what is osteopenia", "two degrees of the same problem"),
]
GOODBYES = [("ok bye", "Take care"), ("goodbye", "Take care"), ("bye for now", "Take care")]


def conversation_script(number: int) -> list[tuple[str, str]]:
    """The four turns of conversation `number`; consecutive conversations ask different questions."""
    first = QUESTIONS[number % len(QUESTIONS)]
    second = QUESTIONS[(number * 3 + 1) % len(QUESTIONS)]
    if second == first:
        second = QUESTIONS[(number + 1) % len(QUESTIONS)]
    return [GREETINGS[number % len(GREETINGS)], first, second, GOODBYES[number % len(GOODBYES)]]


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile: the smallest value at least `share` of the values are at or below."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


@dataclass
class LevelResult:
    visitors: int
    think_seconds: tuple[float, float] | None
    conversations: int
    messages: int
    errors: int
    off_script_answers: int
    seconds: float
    messages_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    error_kinds: dict[str, int] = field(default_factory=dict)
    # What the visitor typed -> how often it got another answer than the expected one.
    off_script_messages: dict[str, int] = field(default_factory=dict)
    # The slowest messages: [ms, seconds into the level when sent, turn number 0-3].
    slowest: list[list[float]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def is_rasa_webhook(url: str) -> bool:
    return url.endswith("/webhooks/rest/webhook")


# The conversation id the web app issued for each of our visitors' conversations.
Issued = dict[str, str]


async def _send(
    session: aiohttp.ClientSession, chat_url: str, sender_id: str, text: str, issued: Issued
) -> tuple[str | None, str]:
    """(None, the answer's text) or (what went wrong, "").

    `chat_url` is the web app's /api/chat, or Rasa's REST webhook to leave the web app out.
    The web app issues a conversation's id with its first answer, as it does to the widget.
    """
    direct = is_rasa_webhook(chat_url)
    if direct:
        body = {"sender": sender_id, "message": text}
    else:
        body = {"message": text, **({"sender_id": issued[sender_id]} if sender_id in issued else {})}
    try:
        async with session.post(chat_url, json=body) as response:
            payload = await response.json(content_type=None)
            if not direct and isinstance(payload, dict) and isinstance(payload.get("sender_id"), str):
                issued[sender_id] = payload["sender_id"]
            if response.status != 200:
                return f"HTTP {response.status}", ""
    except asyncio.TimeoutError:
        return "timeout", ""
    except (aiohttp.ClientError, ValueError) as error:
        return type(error).__name__, ""
    messages = payload if direct else payload.get("messages") or []
    if not messages:
        return "no answer", ""
    return None, "\n".join(message.get("text") or "" for message in messages)


async def run_level(
    chat_url: str, visitors: int, conversations: int, time_limit: float, request_timeout: float = 30.0,
    think_seconds: tuple[float, float] | None = None,
) -> LevelResult:
    latencies: list[float] = []
    timeline: list[tuple[float, float, int]] = []
    errors: dict[str, int] = {}
    off_script: dict[str, int] = {}
    numbers = itertools.count()
    done = 0
    started = time.perf_counter()
    deadline = started + time_limit
    last_finish = started
    connector = aiohttp.TCPConnector(limit=visitors + 5)
    issued: Issued = {}
    timeout = aiohttp.ClientTimeout(total=request_timeout)

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        # One unmeasured greeting per visitor first, all at once, so that every HTTP connection
        # pool on the way holds a connection per visitor before the clock starts: requests on
        # connections opened while Rasa is saturated otherwise wait far longer than the rest.
        await asyncio.gather(*(_send(session, chat_url, f"bench-{uuid.uuid4().hex}", GREETINGS[0][0], issued)
                               for _ in range(visitors)))
        started = time.perf_counter()
        deadline = started + time_limit
        last_finish = started

        async def visitor() -> None:
            nonlocal done, last_finish
            if think_seconds:
                # People arrive one by one, not all in the same millisecond.
                await asyncio.sleep(random.uniform(0, think_seconds[1]))
            while time.perf_counter() < deadline:
                number = next(numbers)
                if number >= conversations:
                    return
                sender_id = f"bench-{uuid.uuid4().hex}"
                for turn, (text, expected) in enumerate(conversation_script(number)):
                    if think_seconds and turn:
                        await asyncio.sleep(random.uniform(*think_seconds))
                    sent = time.perf_counter()
                    problem, answer = await _send(session, chat_url, sender_id, text, issued)
                    finished = time.perf_counter()
                    latencies.append(finished - sent)
                    timeline.append((finished - sent, sent - started, turn))
                    last_finish = max(last_finish, finished)
                    if problem is not None:
                        errors[problem] = errors.get(problem, 0) + 1
                    elif expected not in answer:
                        off_script[text] = off_script.get(text, 0) + 1
                done += 1

        await asyncio.gather(*(visitor() for _ in range(visitors)))

    seconds = max(last_finish - started, 1e-9)
    millis = [value * 1000 for value in latencies]
    return LevelResult(
        visitors=visitors,
        think_seconds=think_seconds,
        conversations=done,
        messages=len(latencies),
        errors=sum(errors.values()),
        off_script_answers=sum(off_script.values()),
        seconds=round(seconds, 2),
        messages_per_second=round(len(latencies) / seconds, 2),
        p50_ms=round(percentile(millis, 0.50), 1),
        p95_ms=round(percentile(millis, 0.95), 1),
        p99_ms=round(percentile(millis, 0.99), 1),
        max_ms=round(max(millis), 1) if millis else float("nan"),
        mean_ms=round(statistics.fmean(millis), 1) if millis else float("nan"),
        error_kinds=errors,
        off_script_messages=off_script,
        slowest=[[round(ms * 1000, 1), round(at, 2), turn] for ms, at, turn in sorted(timeline, reverse=True)[:5]],
    )


async def warm_up(chat_url: str, conversations: int = 2) -> None:
    """A couple of conversations first: TensorFlow builds its graphs on the first messages."""
    await run_level(chat_url, visitors=1, conversations=conversations, time_limit=120, request_timeout=60)


async def time_parse(rasa_url: str, count: int, api_token: str) -> dict:
    """Latency of Rasa's NLU alone (`POST /model/parse`, its HTTP API), one message at a time."""
    texts = [text for text, _ in itertools.islice(itertools.cycle(QUESTIONS + GREETINGS), count)]
    millis: list[float] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        for text in texts:
            sent = time.perf_counter()
            async with session.post(f"{rasa_url}/model/parse", params={"token": api_token}, json={"text": text}) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"/model/parse answered {response.status}")
            millis.append((time.perf_counter() - sent) * 1000)
    return {"messages": len(millis), "p50_ms": round(percentile(millis, 0.5), 1),
            "p95_ms": round(percentile(millis, 0.95), 1), "mean_ms": round(statistics.fmean(millis), 1)}
