"""The scale-out configuration, started for real on loopback.

PostgreSQL (a database of its own on the session's test server) holds Rasa's tracker store and
the leads; a throwaway redis-server is Rasa's lock store; two Rasa servers, each with its own
action server, share both; the web app (`python -m bot serve`) spreads chat across the two.
The model is models/clinic.tar.gz, or the one CLINIC_TEST_MODEL names.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest

from bot.db import make_engine, upgrade_database
from bot.settings import PROJECT_ROOT, Settings
from bot.stack import DEFAULT_MODEL, RasaStack
from bot.web.chat import ChatSigners
from tests.fixtures import free_port
from tests.fixtures.postgres import PostgresServer

REDIS_SERVER = Path(os.environ.get("REDIS_SERVER", "/usr/bin/redis-server"))


@dataclass
class RedisServer:
    """redis-server on a free loopback port, keeping nothing on disk."""

    work_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self, *words: str) -> bytes:
        """One command over RESP; the raw reply."""
        request = f"*{len(words)}\r\n" + "".join(f"${len(w.encode())}\r\n{w}\r\n" for w in words)
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(request.encode())
            reply = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    return reply
                reply += chunk
                header, _, body = reply.partition(b"\r\n")
                if not _:
                    continue
                # A bulk string ($<length>) is complete once its body and final CRLF arrived.
                if not header.startswith(b"$") or header == b"$-1" or len(body) >= int(header[1:]) + 2:
                    return reply

    def start(self, timeout: float = 20.0) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.work_dir / "redis.log"
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(REDIS_SERVER), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(self.work_dir)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server stopped while starting:\n{log_path.read_text(errors='replace')}")
            try:
                if self.command("PING").startswith(b"+PONG"):
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"redis-server did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class ScaleOut:
    database_url: str
    redis: RedisServer
    stacks: list[RasaStack]
    web_url: str
    # The web app's: a conversation id goes to it signed, as the web app issued it.
    signers: ChatSigners

    @property
    def rasa_urls(self) -> tuple[str, ...]:
        return tuple(stack.rasa_url for stack in self.stacks)


def _web_app_ready(url: str, process: subprocess.Popen, log_path: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The web app stopped while starting:\n{log_path.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"The web app did not answer within {timeout:.0f} s")


@pytest.fixture(scope="module")
def scale_out(postgres_server: PostgresServer) -> Iterator[ScaleOut]:
    model = Path(os.environ.get("CLINIC_TEST_MODEL") or DEFAULT_MODEL)
    if not model.exists():
        pytest.fail(f"No trained model at {model}: run `make train` first", pytrace=False)
    if not REDIS_SERVER.exists():
        pytest.fail(
            f"{REDIS_SERVER} is missing; install it with scripts/install-system-packages (Debian package "
            "`redis-server`)", pytrace=False,
        )
    work = Path(tempfile.mkdtemp(prefix="clinic-scaleout-"))
    # A database of its own: the conversations and leads here must not mix with other tests'.
    database = postgres_server.create_database("scaleout")
    database_url = postgres_server.url(database)
    redis = RedisServer(work / "redis")
    stacks: list[RasaStack] = []
    web: subprocess.Popen | None = None
    try:
        redis.start()
        rasa_ports = [free_port(), free_port()]
        rasa_urls = ",".join(f"http://127.0.0.1:{port}" for port in rasa_ports)
        web_port = free_port()
        shared = {"DATABASE_URL": database_url, "REDIS_URL": redis.url, "RASA_URLS": rasa_urls,
                  "DATA_DIR": str(work / "var"), "LOG_LEVEL": "WARNING",
                  # 24 visitors from one address, at once.
                  "CHAT_RATE_PER_CLIENT": "10000/minute", "CHAT_MAX_IN_FLIGHT": "100"}
        engine = make_engine(Settings.from_env(shared))
        upgrade_database(engine)
        engine.dispose()
        for number, rasa_port in enumerate(rasa_ports, start=1):
            env = {**shared, "ACTION_SERVER_PORT": str(free_port())}
            settings = Settings.from_env(env)
            stacks.append(RasaStack(settings, env=env, rasa_port=rasa_port, action_port=settings.action_server_port,
                                    model=model, run_dir=work / f"server-{number}"))
        # Both servers load their models at the same time; each takes half a minute or more here.
        for stack in stacks:
            stack.start()
        web_log = work / "web.log"
        with open(web_log, "ab") as log:
            web = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve"], cwd=PROJECT_ROOT,
                env={**os.environ, **shared, "HOST": "127.0.0.1", "PORT": str(web_port)},
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        for stack in stacks:
            stack.wait_ready(timeout_seconds=300)
        web_url = f"http://127.0.0.1:{web_port}"
        _web_app_ready(web_url, web, web_log)
        yield ScaleOut(database_url=database_url, redis=redis, stacks=stacks, web_url=web_url,
                       signers=ChatSigners.for_settings(Settings.from_env(shared)))
    finally:
        if web is not None and web.poll() is None:
            web.terminate()
            web.wait(timeout=15)
        for stack in stacks:
            stack.stop()
        redis.stop()
        postgres_server.drop_database(database)
        shutil.rmtree(work, ignore_errors=True)
