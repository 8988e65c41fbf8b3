"""The supervisor of `python -m bot run`'s children, with small real processes standing in for Rasa's place."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.stack import Child, Supervisor
from tests.fixtures import free_port


def web_server(tmp_path: Path, name: str = "Rasa") -> Child:
    port = free_port()
    return Child(
        name=name,
        argv=[sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
        health_url=f"http://127.0.0.1:{port}/",
        log_path=tmp_path / f"{name}.log",
        env=dict(os.environ),
    )


def wait_for(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def supervised(tmp_path):
    started: list[tuple[Supervisor, list[Child]]] = []

    def supervise(children: list[Child], **policy: float) -> Supervisor:
        for child in children:
            child.start()
        supervisor = Supervisor(children, poll_seconds=0.05, **policy)
        supervisor.start()
        started.append((supervisor, children))
        return supervisor

    yield supervise
    for supervisor, children in started:
        supervisor.stop()
        for child in children:
            child.stop(grace_seconds=5)


def test_a_killed_child_is_restarted_with_a_warning(supervised, tmp_path, caplog):
    child = web_server(tmp_path)
    supervisor = supervised([child], first_delay=0.2)
    assert wait_for(child.healthy)
    first_pid = child.process.pid

    with caplog.at_level(logging.INFO, logger="bot.stack"):
        os.kill(first_pid, signal.SIGKILL)
        assert wait_for(lambda: child.process.pid != first_pid and child.healthy())

    [warning] = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert "Rasa stopped unexpectedly (exit code -9); restarting it in 0.2 s" in warning.getMessage()
    assert supervisor.restarts == {"Rasa": 1}


def test_a_child_that_keeps_dying_waits_longer_each_time(supervised, tmp_path, caplog):
    log_path = tmp_path / "crash.log"
    child = Child(
        name="Action server",
        argv=[sys.executable, "-c", "import time; print(time.monotonic(), flush=True); raise SystemExit(3)"],
        health_url="http://127.0.0.1:9/",
        log_path=log_path,
        env=dict(os.environ),
    )
    caplog.set_level(logging.WARNING, logger="bot.stack")
    supervised([child], first_delay=0.2, max_delay=0.8)

    def starts() -> list[float]:
        return [float(line) for line in log_path.read_text().split()] if log_path.exists() else []

    assert wait_for(lambda: len(starts()) >= 6, timeout=20)
    delays = [re.search(r"restarting it in ([\d.]+) s", record.getMessage()).group(1) for record in caplog.records]
    assert delays[:5] == ["0.2", "0.4", "0.8", "0.8", "0.8"]
    assert all("exit code 3" in record.getMessage() for record in caplog.records)
    # And it did wait: five restarts took at least the delays' sum.
    assert starts()[5] - starts()[0] >= 0.2 + 0.4 + 0.8 * 3


def test_a_child_that_ran_long_enough_restarts_after_the_first_delay_again(supervised, tmp_path):
    child = web_server(tmp_path)
    supervisor = supervised([child], first_delay=0.2, max_delay=30, stable_seconds=1.0)
    for _ in range(2):
        assert wait_for(child.healthy)
        time.sleep(1.2)
        pid = child.process.pid
        killed = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        assert wait_for(lambda: child.process.pid != pid, timeout=5)
        assert time.monotonic() - killed < 1.5
    assert supervisor.restarts == {"Rasa": 2}


def test_a_hung_child_is_killed_and_restarted(supervised, tmp_path, caplog):
    child = web_server(tmp_path)
    child.health_timeout = 0.3
    supervisor = supervised([child], first_delay=0.2, health_seconds=0.2, unhealthy_limit=3)
    assert wait_for(child.healthy)
    hung_pid = child.process.pid

    with caplog.at_level(logging.WARNING, logger="bot.stack"):
        # Stopped, not dead: it holds its port and accepts connections but never answers.
        os.kill(hung_pid, signal.SIGSTOP)
        assert wait_for(lambda: child.process.pid != hung_pid and child.healthy(), timeout=15)

    messages = [record.getMessage() for record in caplog.records]
    assert "Rasa is running but failed its health check 3 times in a row; stopping it to restart it" in messages
    assert any("Rasa stopped unexpectedly (exit code -9); restarting it in 0.2 s" in m for m in messages)
    assert supervisor.restarts == {"Rasa": 1}


def test_a_slow_start_is_not_taken_for_a_hang(supervised, tmp_path):
    port = free_port()
    # Listens only after 1.5 s, as Rasa does while it loads its model.
    listen_late = (f"import time, runpy, sys; time.sleep(1.5); sys.argv = ['http.server', '--bind', '127.0.0.1', "
                   f"'{port}']; runpy.run_module('http.server', run_name='__main__')")
    child = Child(
        name="Rasa",
        argv=[sys.executable, "-c", listen_late],
        health_url=f"http://127.0.0.1:{port}/",
        log_path=tmp_path / "slow.log",
        env=dict(os.environ),
        health_timeout=0.2,
    )
    supervisor = supervised([child], first_delay=0.1, health_seconds=0.1, unhealthy_limit=2, start_grace_seconds=5)
    pid = child.process.pid
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: child.process.pid != pid, timeout=5)
    restarted = child.process.pid
    assert wait_for(child.healthy, timeout=10)
    assert child.process.pid == restarted and supervisor.restarts == {"Rasa": 1}


def test_a_child_that_hangs_just_after_its_restart_is_caught_as_soon_as_one_that_ran_long(supervised, tmp_path):
    child = web_server(tmp_path)
    child.health_timeout = 0.3
    supervised([child], first_delay=0.1, health_seconds=0.5, unhealthy_limit=2, start_grace_seconds=60)
    pid = child.process.pid
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: child.process.pid != pid and child.healthy(), timeout=10)
    restarted = child.process.pid
    time.sleep(0.3)  # ready, and answered the supervisor's quick checks of a fresh start
    os.kill(restarted, signal.SIGSTOP)
    # Two failed checks half a second apart, not the minute a start may take.
    assert wait_for(lambda: child.process.pid != restarted, timeout=8)


def test_children_die_with_a_launcher_that_was_killed(tmp_path):
    port = free_port()
    launcher = subprocess.Popen([sys.executable, "-c", f"""
import os, sys, time
from pathlib import Path
from bot.stack import Child
child = Child(name="Rasa", argv=[sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "{port}"],
              health_url="http://127.0.0.1:{port}/", log_path=Path({str(tmp_path / 'child.log')!r}), env=dict(os.environ))
child.start()
print(child.process.pid, flush=True)
time.sleep(60)
"""], stdout=subprocess.PIPE, text=True)
    child_pid = int(launcher.stdout.readline())
    assert wait_for(lambda: Path(f"/proc/{child_pid}").exists())
    os.kill(launcher.pid, signal.SIGKILL)
    launcher.wait(timeout=5)
    # Its session is its own, yet it goes with the launcher and frees its port.
    assert wait_for(lambda: not Path(f"/proc/{child_pid}").exists() or "Z" in Path(f"/proc/{child_pid}/stat").read_text().split()[2])


def test_after_stop_nothing_is_restarted(supervised, tmp_path):
    child = web_server(tmp_path)
    supervisor = supervised([child], first_delay=0.1)
    assert wait_for(child.healthy)
    supervisor.stop()
    pid = child.process.pid
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    assert child.process.pid == pid and child.exited() is not None
    assert supervisor.restarts == {"Rasa": 0}
