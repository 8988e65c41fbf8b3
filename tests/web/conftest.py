"""Fixtures for the public web app: settings, stand-ins for Rasa, the app under test, a browser."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.settings import Settings
from bot.web.app import create_app
from tests.web.stand_ins import ServerThread, StandInRasa


@pytest.fixture
def make_settings(tmp_path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        return Settings(data_dir=tmp_path / "var").with_overrides(**overrides)

    return make


# Route tests: everything in the test's own event loop.


@pytest.fixture
def start_stand_in(aiohttp_server) -> Callable[..., Any]:
    async def start(name: str = "rasa") -> StandInRasa:
        stand_in = StandInRasa(name=name)
        server = await aiohttp_server(stand_in.make_app())
        stand_in.url = str(server.make_url("")).rstrip("/")
        return stand_in

    return start


@pytest.fixture
async def rasa(start_stand_in) -> StandInRasa:
    return await start_stand_in()


@pytest.fixture
def client_for(aiohttp_client, make_settings) -> Callable[..., Any]:
    """A test client for the app built from settings with the given overrides."""

    async def build(**overrides: Any):
        return await aiohttp_client(create_app(make_settings(**overrides)))

    return build


@pytest.fixture
async def client(client_for, rasa):
    return await client_for(rasa_urls=(rasa.url,))


# Browser tests: servers run in a thread of their own, so Playwright's sync API can
# drive the browser from the test's thread.


@pytest.fixture(scope="module")
def server_thread() -> Iterator[ServerThread]:
    with ServerThread() as servers:
        yield servers


@pytest.fixture(scope="module")
def stand_in(server_thread) -> StandInRasa:
    """A stand-in Rasa for the browser tests of one module; `reset` it between tests."""
    rasa = StandInRasa(name="rasa")
    rasa.url = server_thread.serve(rasa.make_app())
    return rasa

