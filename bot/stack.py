"""Starting and stopping Rasa and the action server as child processes, on loopback.

Used by `python -m bot run`, by the tests that talk to the real assistant, and by the
benchmarks. Rasa runs from .venv-rasa/, the action server from our own environment.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping
from urllib.parse import urlencode

import backoff

from bot.rasa_config import write_endpoints
from bot.secrets import action_server_token, rasa_api_token
from bot.settings import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)

RASA_BIN = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
DEFAULT_MODEL = PROJECT_ROOT / "models" / "clinic.tar.gz"
CREDENTIALS = PROJECT_ROOT / "credentials.yml"
# How Rasa runs here unless the environment says otherwise (bench/report.md has the effect of each):
# - one TensorFlow thread: a Rasa process answers one message at a time, and more threads only
#   compete for the cores with the other processes;
# - glibc returns large freed blocks to the system: loading a model builds TensorFlow graphs
#   whose scratch memory it would otherwise keep.
RASA_RUNTIME_ENV = {
    "TF_INTRA_OP_PARALLELISM_THREADS": "1",
    "TF_INTER_OP_PARALLELISM_THREADS": "1",
    "MALLOC_MMAP_THRESHOLD_": "131072",
    "MALLOC_TRIM_THRESHOLD_": "131072",
}


# Children in sessions of their own miss the launcher's death: were it killed (kill -9, an OOM),
# they would hold their ports and answer the next launcher's checks, out of its reach. The
# kernel kills them with it (util-linux's setpriv sets PR_SET_PDEATHSIG, then runs the command).
def die_with_parent() -> list[str]:
    """The words before a child's command that make it die with this process (none without setpriv)."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []


class StackError(RuntimeError):
    """A process did not start or stopped on its own; the message says which and why."""


@dataclass
class Child:
    name: str
    argv: list[str]
    health_url: str
    log_path: Path
    env: dict[str, str]
    process: subprocess.Popen | None = None
    # A key of the health answer's JSON that must be set (Rasa's model_id: a model is loaded).
    required_key: str | None = None
    # Rasa answers its health check between messages, and a message takes well under a second.
    health_timeout: float = 5.0

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        # A session of its own: Ctrl-C in the terminal reaches the launcher, which stops
        # the children in order, instead of reaching every process at once.
        self.process = subprocess.Popen(
            [*die_with_parent(), *self.argv], cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        log.close()

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.health_url, timeout=self.health_timeout) as response:
                if response.status != 200:
                    return False
                if self.required_key:
                    return bool(json.loads(response.read() or b"{}").get(self.required_key))
                return True
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL to the child's whole process group: a hung process ignores a polite SIGTERM."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self, grace_seconds: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


@dataclass
class RasaStack:
    """Rasa and the action server for one set of settings."""

    settings: Settings
    env: Mapping[str, str] = field(default_factory=dict)
    rasa_port: int = 5005
    action_port: int | None = None
    model: Path = DEFAULT_MODEL
    run_dir: Path | None = None
    rasa_workers: int = 1
    # Rasa's own defaults instead of RASA_RUNTIME_ENV when empty.
    rasa_runtime_env: Mapping[str, str] = field(default_factory=lambda: dict(RASA_RUNTIME_ENV))
    # RASA_API_TOKEN (else one made once in DATA_DIR) by default; "" leaves Rasa's HTTP API off.
    api_token: str | None = None
    children: list[Child] = field(default_factory=list)
    supervisor: Supervisor | None = None

    def __post_init__(self) -> None:
        if self.api_token is None:
            self.api_token = rasa_api_token(self.settings)

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def _child_env(self) -> dict[str, str]:
        env = {**os.environ, **self.env}
        env.update({
            "SANIC_HOST": "127.0.0.1",
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONUNBUFFERED": "1",
        })
        return env

    def start(self) -> None:
        if not self.model.exists():
            raise StackError(f"No trained model at {self.model}: run `make train` (or `make run`) first")
        if not RASA_BIN.exists():
            raise StackError(f"Rasa is not installed at {RASA_BIN}: run `make setup` first")
        action_port = self.action_port or self.settings.action_server_port
        run_dir = self.run_dir or self.settings.data_dir / "run"
        action_token = action_server_token(self.settings)
        endpoints = write_endpoints(
            self.settings, run_dir / f"endpoints-{self.rasa_port}.yml", action_port, action_token=action_token
        )
        env = self._child_env()
        actions = Child(
            name="Action server",
            argv=[sys.executable, "-m", "bot", "actions", "--port", str(action_port)],
            health_url=f"http://127.0.0.1:{action_port}/health",
            log_path=run_dir / "logs" / f"actions-{action_port}.log",
            env={**env, "ACTION_SERVER_TOKEN": action_token},
        )
        # Rasa's HTTP API reads and rewrites any conversation: only with a token, which the
        # launcher and /readyz use to ask whether a model is loaded.
        # One argument with "=": a token may begin with "-", which would read as an option.
        api = ["--enable-api", f"--auth-token={self.api_token}"] if self.api_token else []
        health = (f"{self.rasa_url}/status?{urlencode({'token': self.api_token})}" if self.api_token
                  # Without the API: Rasa listens once it has tried to load its model.
                  else f"{self.rasa_url}/webhooks/rest/")
        rasa = Child(
            name="Rasa",
            argv=[str(RASA_BIN), "run", *api, "--interface", "127.0.0.1", "--port", str(self.rasa_port),
                  "--model", str(self.model), "--endpoints", str(endpoints), "--credentials", str(CREDENTIALS)],
            health_url=health,
            required_key="model_id" if self.api_token else None,
            log_path=run_dir / "logs" / f"rasa-{self.rasa_port}.log",
            env={**self.rasa_runtime_env, **env, "SANIC_WORKERS": str(self.rasa_workers)},
        )
        self.children = [actions, rasa]
        for child in self.children:
            child.start()

    def wait_ready(self, timeout_seconds: float = 240.0) -> None:
        deadline = time.monotonic() + timeout_seconds
        pending = list(self.children)
        while pending:
            for child in list(pending):
                code = child.exited()
                if code is not None:
                    raise StackError(f"{child.name} stopped while starting (exit code {code}):\n{child.log_tail()}")
                if child.healthy():
                    pending.remove(child)
            if pending and time.monotonic() > deadline:
                names = ", ".join(c.name for c in pending)
                raise StackError(f"{names} did not become ready within {timeout_seconds:.0f} s")
            if pending:
                time.sleep(0.5)

    def crashed(self) -> Child | None:
        return next((child for child in self.children if child.exited() is not None), None)

    def supervise(self, **policy: float) -> "Supervisor":
        """Restart whichever child dies from now on, until `stop()`."""
        self.supervisor = Supervisor(self.children, **policy)
        self.supervisor.start()
        return self.supervisor

    def stop(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stop()
        # Rasa first: it stops sending work to the action server.
        for child in reversed(self.children):
            child.stop()


def _restart_delays(first: float, cap: float) -> Iterator[float]:
    delays = backoff.expo(base=2, factor=first, max_value=cap)
    next(delays)  # backoff's generators yield once before the first delay
    return delays


class Supervisor:
    """Restarts a child that died or hung, waiting longer after each crash in a row.

    A child that stayed up for `stable_seconds` before dying starts again from the
    first delay: one crash a week is not a crash loop. A child that is running but fails
    its health check `unhealthy_limit` times in a row, `health_seconds` apart (after it
    answered once, or `start_grace_seconds` after it started), is killed and restarted
    the same way: a process stuck in a loop or a deadlock is as gone as a dead one.
    """

    def __init__(self, children: list[Child], *, first_delay: float = 1.0, max_delay: float = 60.0,
                 stable_seconds: float = 300.0, poll_seconds: float = 0.5, health_seconds: float = 10.0,
                 unhealthy_limit: int = 3, start_grace_seconds: float = 180.0) -> None:
        self.children = children
        self.first_delay, self.max_delay = first_delay, max_delay
        self.stable_seconds, self.poll_seconds = stable_seconds, poll_seconds
        self.health_seconds, self.unhealthy_limit = health_seconds, unhealthy_limit
        self.start_grace_seconds = start_grace_seconds
        self.restarts: dict[str, int] = {child.name: 0 for child in children}
        self._stopping = threading.Event()
        # Held while a child is being started, so stop() never misses a process started meanwhile.
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="supervisor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        now = time.monotonic()
        started = {child.name: now for child in self.children}
        delays = {child.name: _restart_delays(self.first_delay, self.max_delay) for child in self.children}
        due: dict[str, float] = {}
        probed = {child.name: now for child in self.children}
        # The children were ready when supervision began.
        answered = {child.name: True for child in self.children}
        failures = {child.name: 0 for child in self.children}
        while not self._stopping.wait(self.poll_seconds):
            for child in self.children:
                now = time.monotonic()
                if child.name not in due:
                    code = child.exited()
                    if code is None:
                        # Until it has answered once (loading its model), every poll: a hang right
                        # after loading must not hide behind the start's grace.
                        interval = self.health_seconds if answered[child.name] else self.poll_seconds
                        if now - probed[child.name] >= interval:
                            probed[child.name] = now
                            self._probe(child, started[child.name], answered, failures)
                        continue
                    if now - started[child.name] >= self.stable_seconds:
                        delays[child.name] = _restart_delays(self.first_delay, self.max_delay)
                    delay = next(delays[child.name])
                    due[child.name] = now + delay
                    log.warning("%s stopped unexpectedly (exit code %s); restarting it in %.3g s (its log: %s)",
                                child.name, code, delay, child.log_path)
                elif now >= due[child.name]:
                    with self._lock:
                        if self._stopping.is_set():
                            return
                        child.start()
                    del due[child.name]
                    started[child.name] = probed[child.name] = now
                    answered[child.name], failures[child.name] = False, 0
                    self.restarts[child.name] += 1
                    log.info("%s restarted (restart number %d)", child.name, self.restarts[child.name])

    def _probe(self, child: Child, started: float, answered: dict[str, bool], failures: dict[str, int]) -> None:
        if child.healthy():
            answered[child.name], failures[child.name] = True, 0
            return
        if not answered[child.name] and time.monotonic() - started < self.start_grace_seconds:
            return  # still loading its model
        failures[child.name] += 1
        if failures[child.name] < self.unhealthy_limit:
            return
        with self._lock:
            if self._stopping.is_set():
                return
            log.warning("%s is running but failed its health check %d times in a row; stopping it to restart it",
                        child.name, failures[child.name])
            child.kill()
