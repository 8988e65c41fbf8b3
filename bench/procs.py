"""Child processes for the bench: timed commands, resident memory of a process tree, Redis."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from bot.settings import PROJECT_ROOT

RASA_BIN = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
REDIS_SERVER = Path("/usr/bin/redis-server")

# Quiet, offline Rasa: no telemetry, no TensorFlow start-up chatter.
QUIET_RASA_ENV = {"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}


class BenchError(RuntimeError):
    """A step of the bench failed; the message says which and shows the end of its log."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def run_logged(argv: list[str], log_path: Path, env: Mapping[str, str] | None = None, timeout: float = 1800) -> float:
    """Runs a command to completion with its output in `log_path`; returns its wall-clock seconds."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with open(log_path, "wb") as log:
        result = subprocess.run(
            argv, cwd=PROJECT_ROOT, env={**os.environ, **QUIET_RASA_ENV, **(env or {})},
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=timeout,
        )
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        raise BenchError(f"`{' '.join(argv[:3])} ...` failed (exit code {result.returncode}):\n{log_tail(log_path)}")
    return elapsed


def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                # The command name may hold spaces; the parent id follows its closing parenthesis.
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    return children


def _kilobytes_field(path: str, field: str) -> int:
    """A "Field:  1234 kB" line of a /proc file, in bytes; 0 when the process is gone."""
    try:
        with open(path, encoding="ascii", errors="replace") as lines:
            for line in lines:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _rss_bytes(pid: int) -> int:
    return _kilobytes_field(f"/proc/{pid}/status", "VmRSS:")


def _pss_bytes(pid: int) -> int:
    return _kilobytes_field(f"/proc/{pid}/smaps_rollup", "Pss:")


def _tree(pid: int, children: dict[int, list[int]] | None = None) -> list[int]:
    """A process and all its descendants (Sanic workers, for one)."""
    children = _children_by_parent() if children is None else children
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        if current in found:
            continue
        found.append(current)
        pending.extend(children.get(current, []))
    return found


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants."""
    return sum(_rss_bytes(member) for member in _tree(pid))


def tree_memory_bytes(pids: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Resident and proportional memory of each process with its descendants, from one look at /proc.

    Proportional memory counts the pages they share (TensorFlow's libraries in every Sanic worker)
    once between them.
    """
    children = _children_by_parent()
    return {name: _tree_memory(_tree(pid, children)) for name, pid in pids.items()}


def _tree_memory(members: list[int]) -> tuple[int, int]:
    return sum(_rss_bytes(member) for member in members), sum(_pss_bytes(member) for member in members)


@dataclass
class RedisServer:
    """A throwaway redis-server on a loopback port, nothing persisted."""

    work_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 20.0) -> None:
        if not REDIS_SERVER.exists():
            raise BenchError(f"{REDIS_SERVER} is missing: install it with scripts/install-system-packages")
        self.work_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.work_dir / "redis.log", "ab")
        self.process = subprocess.Popen(
            [str(REDIS_SERVER), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.work_dir)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"redis-server stopped while starting:\n{log_tail(self.work_dir / 'redis.log')}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise BenchError(f"redis-server did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
