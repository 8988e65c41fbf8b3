"""Fixtures shared by every test package: settings built from an environment, and the real assistant.

`rasa_server` starts Rasa (from .venv-rasa, with the trained model) and the action server on free
loopback ports, once per test session, sharing a temporary SQLite database and a real local SMTP
server with the tests.
"""

from __future__ import annotations

import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from bot.db import make_engine, upgrade_database
from bot.settings import Settings
from bot.stack import DEFAULT_MODEL, RasaStack
from tests.fixtures import free_port
from tests.fixtures.smtp import SmtpServer, smtp_server  # noqa: F401 - shared fixture
from tests.web.stand_ins import BROWSER_ARGS

pytest_plugins = ["tests.fixtures.postgres", "tests.fixtures.lead_store"]


@dataclass
class RunningAssistant:
    """Rasa and the action server, up and answering on loopback."""

    url: str
    settings: Settings
    env: dict[str, str]
    smtp: SmtpServer
    stack: RasaStack


@pytest.fixture(scope="session")
def session_smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def rasa_server(session_smtp_server: SmtpServer) -> Iterator[RunningAssistant]:
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"No trained model at {DEFAULT_MODEL}: `make test` trains it before running the tests")
    data_dir = Path(tempfile.mkdtemp(prefix="clinic-assistant-"))
    rasa_port, action_port = free_port(), free_port()
    env = {
        "DATA_DIR": str(data_dir),
        "RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "ACTION_SERVER_PORT": str(action_port),
        "SMTP_HOST": session_smtp_server.host,
        "SMTP_PORT": str(session_smtp_server.port),
        "MAIL_FROM": "assistant@clinic.test",
        "MAIL_TO": "frontdesk@clinic.test",
        "PUBLIC_URL": "http://clinic.test",
        "OUTBOX_POLL_SECONDS": "1",
        # A generated token may begin with "-"; Rasa must still take it as the token.
        "RASA_API_TOKEN": "-" + secrets.token_urlsafe(24),
    }
    settings = Settings.from_env(env)
    engine = make_engine(settings)
    upgrade_database(engine)
    engine.dispose()
    stack = RasaStack(settings, env=env, rasa_port=rasa_port, action_port=action_port, run_dir=data_dir / "run")
    stack.start()
    try:
        stack.wait_ready()
        yield RunningAssistant(url=stack.rasa_url, settings=settings, env=env, smtp=session_smtp_server, stack=stack)
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium, driven by Playwright, shared by a module's browser tests."""
    # Module scope: Playwright's sync API leaves its loop marked as running in this
    # thread while it lives, which async tests in other modules must not see.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
        yield chromium
        chromium.close()
