"""One serving measurement: Rasa, the action server and the web app started for real, then loaded.

Rasa and the action server run as `bot.stack.RasaStack` children; the web app runs as
`python -m bot serve` in a process of its own, so its memory and CPU are its own. Everything
listens on loopback and keeps its data in a temporary directory.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench import realistic
from bench.load import LevelResult, run_level, time_parse, warm_up
from bench.procs import BenchError, RedisServer, free_port, log_tail, tree_memory_bytes, tree_rss_bytes
from bot.db import make_engine, upgrade_database
from bot.settings import PROJECT_ROOT, Settings
from bot.stack import RASA_RUNTIME_ENV, RasaStack

MB = 1024 * 1024


@dataclass(frozen=True)
class Level:
    visitors: int
    conversations: int
    time_limit: float
    # Seconds a visitor waits before each next message (reading, typing); None: none at all.
    think_seconds: tuple[float, float] | None = None

    @property
    def paced(self) -> bool:
        return self.think_seconds is not None


@dataclass
class ServeVariant:
    """A model served one way: TensorFlow threads, Sanic workers, and the lock store they need."""

    label: str
    model: Path
    env: dict[str, str] = field(default_factory=dict)
    rasa_workers: int = 1
    note: str = ""
    # Rasa as `rasa run` starts it (TensorFlow's own thread pools, glibc's defaults) instead of
    # with bot.stack.RASA_RUNTIME_ENV.
    rasa_defaults: bool = False

    @property
    def runtime_env(self) -> dict[str, str]:
        return {} if self.rasa_defaults else dict(RASA_RUNTIME_ENV)

    @property
    def needs_redis(self) -> bool:
        # Rasa runs more than one Sanic worker only with a lock store they can share.
        return self.rasa_workers > 1


@dataclass
class ServingResult:
    label: str
    model: str
    env: dict[str, str]
    rasa_workers: int
    note: str
    rasa_ready_seconds: float
    action_server_ready_seconds: float
    web_app_ready_seconds: float
    levels: list[LevelResult]
    parse: dict
    peak_rss_mb: dict[str, float]
    # One visitor talking to Rasa's REST webhook directly: the web app's share of the latency.
    direct: LevelResult | None = None
    peak_pss_mb: dict[str, float] = field(default_factory=dict)
    # Scores on tests/nlu/realistic/ (bench.realistic), when measured.
    realistic: dict | None = None

    def level(self, visitors: int) -> LevelResult | None:
        return next((level for level in self.levels if level.visitors == visitors), None)

    def as_dict(self) -> dict:
        return {
            "label": self.label, "model": self.model, "env": self.env, "rasa_workers": self.rasa_workers,
            "note": self.note, "rasa_ready_seconds": self.rasa_ready_seconds,
            "action_server_ready_seconds": self.action_server_ready_seconds,
            "web_app_ready_seconds": self.web_app_ready_seconds,
            "levels": [level.as_dict() for level in self.levels], "parse": self.parse,
            "peak_rss_mb": self.peak_rss_mb, "peak_pss_mb": self.peak_pss_mb,
            "direct": self.direct.as_dict() if self.direct else None, "realistic": self.realistic,
        }


class MemorySampler(threading.Thread):
    """Peak resident memory of each process tree, sampled twice a second."""

    def __init__(self, pids: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.pids = pids
        self.peak = {name: 0 for name in pids}
        # Proportional set size: shared pages (TensorFlow's libraries in every Sanic worker) counted once.
        self.peak_pss = {name: 0 for name in pids}
        self.stopping = threading.Event()

    def sample(self) -> None:
        for name, (rss, pss) in tree_memory_bytes(self.pids).items():
            self.peak[name] = max(self.peak[name], rss)
            self.peak_pss[name] = max(self.peak_pss[name], pss)

    def run(self) -> None:
        while not self.stopping.wait(0.5):
            self.sample()

    def stop(self) -> tuple[dict[str, float], dict[str, float]]:
        self.stopping.set()
        self.join(timeout=5)
        self.sample()
        return ({name: round(value / MB, 1) for name, value in self.peak.items()},
                {name: round(value / MB, 1) for name, value in self.peak_pss.items()})


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _start_web_app(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"], cwd=PROJECT_ROOT, env={**os.environ, **env},
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )


def _stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_ready(stack: RasaStack, web: subprocess.Popen, web_url: str, web_log: Path, started: float,
                timeout: float = 300) -> dict[str, float]:
    """Seconds from start until each process answers: Rasa with its model loaded, the others healthy."""
    ready: dict[str, float] = {}
    deadline = started + timeout
    while len(ready) < 3:
        for child in stack.children:
            if child.name in ready:
                continue
            if child.exited() is not None:
                raise BenchError(f"{child.name} stopped while starting:\n{child.log_tail()}")
            if child.healthy():
                ready[child.name] = round(time.monotonic() - started, 1)
        if "web app" not in ready:
            if web.poll() is not None:
                raise BenchError(f"The web app stopped while starting:\n{log_tail(web_log)}")
            if _answers(f"{web_url}/healthz"):
                ready["web app"] = round(time.monotonic() - started, 1)
        if time.monotonic() > deadline:
            raise BenchError(f"Not ready within {timeout:.0f} s: only {', '.join(ready) or 'nothing'} answered")
        time.sleep(0.2)
    return ready


def measure(variant: ServeVariant, levels: list[Level], parse_count: int, progress,
            score_realistic: bool = False) -> ServingResult:
    work = Path(tempfile.mkdtemp(prefix=f"clinic-bench-{variant.label}-"))
    rasa_port, action_port, web_port = free_port(), free_port(), free_port()
    redis = RedisServer(work / "redis") if variant.needs_redis else None
    stack: RasaStack | None = None
    web: subprocess.Popen | None = None
    try:
        if redis is not None:
            redis.start()
        env = {
            "DATA_DIR": str(work / "var"),
            "RASA_URLS": f"http://127.0.0.1:{rasa_port}",
            "ACTION_SERVER_PORT": str(action_port),
            "HOST": "127.0.0.1",
            "PORT": str(web_port),
            # Every simulated visitor comes from this one address; the queue limits stay as shipped.
            "CHAT_RATE_PER_CLIENT": "100000/minute",
            "CHAT_RATE_PER_CONVERSATION": "100000/minute",
            **({"REDIS_URL": redis.url} if redis else {}),
        }
        settings = Settings.from_env(env)
        engine = make_engine(settings)
        upgrade_database(engine)
        engine.dispose()

        stack = RasaStack(settings, env={**env, **variant.env}, rasa_port=rasa_port, action_port=action_port,
                          model=variant.model, run_dir=work / "run", rasa_workers=variant.rasa_workers,
                          rasa_runtime_env=variant.runtime_env, api_token=secrets.token_urlsafe(24))
        web_url, web_log = f"http://127.0.0.1:{web_port}", work / "run" / "logs" / "web.log"
        started = time.monotonic()
        stack.start()
        web = _start_web_app(env, web_log)
        ready = _wait_ready(stack, web, web_url, web_log, started)
        progress(f"ready: Rasa {ready['Rasa']} s, action server {ready['Action server']} s, "
                 f"web app {ready['web app']} s")

        children = {child.name: child.process.pid for child in stack.children}
        pids = {"rasa": children["Rasa"], "action_server": children["Action server"], "web_app": web.pid}
        sampler = MemorySampler(pids)
        sampler.start()
        chat_url = f"{web_url}/api/chat"
        asyncio.run(warm_up(chat_url))
        parse = asyncio.run(time_parse(stack.rasa_url, parse_count, stack.api_token))
        direct = asyncio.run(run_level(f"{stack.rasa_url}/webhooks/rest/webhook", 1, max(3, parse_count // 4), 60))
        progress(f"NLU alone p50 {parse['p50_ms']} ms; a message straight to Rasa p50 {direct.p50_ms} ms")
        scored = None
        if score_realistic:
            messages = realistic.score_messages(stack.rasa_url, token=stack.api_token)
            conversations = realistic.play_conversations(stack.rasa_url, token=stack.api_token)
            scored = {"messages": messages.as_dict(), "conversations": conversations.as_dict()}
            progress(realistic.summary(messages, conversations).splitlines()[0])
        results: list[LevelResult] = []
        for level in levels:
            result = asyncio.run(run_level(chat_url, level.visitors, level.conversations, level.time_limit,
                                           think_seconds=level.think_seconds))
            pacing = f" (think {level.think_seconds[0]}-{level.think_seconds[1]} s)" if level.paced else ""
            progress(f"{level.visitors:>2} visitors{pacing}: {result.messages_per_second:6.1f} msg/s, "
                     f"p50 {result.p50_ms:.0f} ms, p95 {result.p95_ms:.0f} ms, p99 {result.p99_ms:.0f} ms, "
                     f"{result.errors} errors, {result.off_script_answers} off-script")
            results.append(result)
            crashed = stack.crashed()
            if crashed is not None:
                raise BenchError(f"{crashed.name} stopped under load:\n{crashed.log_tail()}")
        peak, peak_pss = sampler.stop()
        return ServingResult(
            label=variant.label, model=str(variant.model), env={**variant.runtime_env, **variant.env},
            rasa_workers=variant.rasa_workers,
            note=variant.note, rasa_ready_seconds=ready["Rasa"], action_server_ready_seconds=ready["Action server"],
            web_app_ready_seconds=ready["web app"], levels=results, parse=parse, peak_rss_mb=peak,
            peak_pss_mb=peak_pss, direct=direct, realistic=scored,
        )
    finally:
        _stop(web)
        if stack is not None:
            stack.stop()
        if redis is not None:
            redis.stop()
        shutil.rmtree(work, ignore_errors=True)


def footprint(label: str, model: Path, parse_count: int, progress) -> dict:
    """Rasa alone with `model` loaded: seconds to ready, resident memory, NLU latency.

    Serves NLU-only models too, which `rasa run` loads without a dialogue part.
    """
    work = Path(tempfile.mkdtemp(prefix=f"clinic-bench-{label}-"))
    rasa_port, action_port = free_port(), free_port()
    env = {"DATA_DIR": str(work / "var"), "RASA_URLS": f"http://127.0.0.1:{rasa_port}",
           "ACTION_SERVER_PORT": str(action_port)}
    stack = RasaStack(Settings.from_env(env), env=env, rasa_port=rasa_port, action_port=action_port, model=model,
                      run_dir=work / "run", api_token=secrets.token_urlsafe(24))
    try:
        started = time.monotonic()
        stack.start()
        rasa = next(child for child in stack.children if child.name == "Rasa")
        while not rasa.healthy():
            if rasa.exited() is not None:
                raise BenchError(f"Rasa stopped while starting:\n{rasa.log_tail()}")
            if time.monotonic() - started > 300:
                raise BenchError("Rasa did not load the model within 300 s")
            time.sleep(0.2)
        ready = round(time.monotonic() - started, 1)
        parse = asyncio.run(time_parse(stack.rasa_url, parse_count, stack.api_token))
        rss = round(tree_rss_bytes(rasa.process.pid) / MB, 1)
        progress(f"ready {ready} s, Rasa RSS {rss} MB, NLU alone p50 {parse['p50_ms']} ms")
        return {"rasa_ready_seconds": ready, "rasa_rss_mb": rss, "parse": parse}
    finally:
        stack.stop()
        shutil.rmtree(work, ignore_errors=True)


FLOOR_SCRIPT = """
import json, time
started = time.perf_counter()
def rss():
    with open('/proc/self/status') as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith('VmRSS'))
steps = {'python': rss()}
seconds = {}
import tensorflow
steps['+ tensorflow'] = rss()
seconds['+ tensorflow'] = round(time.perf_counter() - started, 1)
import rasa.core.agent, rasa.server
steps['+ rasa server'] = rss()
seconds['+ rasa server'] = round(time.perf_counter() - started, 1)
import spacy
spacy.load('build/spacy-en')
steps['+ spaCy pipeline'] = rss()
seconds['+ spaCy pipeline'] = round(time.perf_counter() - started, 1)
print(json.dumps({'mb': steps, 'seconds': seconds}))
"""


def runtime_floor() -> dict[str, dict[str, float]]:
    """A Rasa process before any model: resident MB and seconds since start after each import, what no configuration can save."""
    result = subprocess.run([str(PROJECT_ROOT / ".venv-rasa" / "bin" / "python"), "-W", "ignore", "-c", FLOOR_SCRIPT],
                            cwd=PROJECT_ROOT, capture_output=True, text=True,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}, timeout=300)
    if result.returncode != 0:
        raise BenchError(f"Measuring Rasa's memory before a model failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])
