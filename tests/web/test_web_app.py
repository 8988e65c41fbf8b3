"""The app factory's shared parts: security headers, the access log, the Rasa client session."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from bot.settings import PROJECT_ROOT
from bot.web.app import AccessLogger, create_app
from bot.web.keys import ARTICLES, HTTP_CLIENT, SETTINGS
from tests.fixtures import free_port
from tests.web.stand_ins import closed_url


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/", None),
        ("GET", "/healthz", None),
        ("POST", "/api/chat", b"not json"),
        ("GET", "/no-such-page", None),
    ],
)
async def test_every_response_carries_the_security_headers(client, method, path, body):
    response = await client.request(method, path, data=body)

    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", ["/", "/healthz", "/widget.js", "/no-such-page", "/staff/login"])
async def test_the_server_header_names_no_versions(client, path):
    response = await client.get(path)

    assert response.headers["Server"] == "clinic-assistant"


async def test_static_files_carry_the_security_headers(client):
    response = await client.get("/static/site.css")

    assert response.status == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in response.headers


async def test_the_app_holds_settings_articles_and_one_client_session(client, make_settings):
    app = client.server.app

    assert app[SETTINGS].clinic_phone == "(804) 493-3256"
    assert app[ARTICLES][0].title == "What Are The Best Exercises For Osteoporosis?"
    assert not app[HTTP_CLIENT].closed


async def test_the_client_session_is_closed_on_shutdown(aiohttp_client, make_settings):
    app = create_app(make_settings())
    client = await aiohttp_client(app)
    session = app[HTTP_CLIENT]

    await client.close()

    assert session.closed


async def test_the_access_log_leaves_out_query_strings(aiohttp_server, aiohttp_client, make_settings, caplog):
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    server = await aiohttp_server(
        create_app(make_settings()), access_log_class=AccessLogger, access_log=logging.getLogger("aiohttp.access")
    )
    client = await aiohttp_client(server)

    response = await client.get("/healthz?email=jane.roe@example.org")

    assert response.status == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert any(line.startswith("GET /healthz 200") for line in lines)
    assert "jane.roe" not in caplog.text


async def test_the_access_log_leaves_out_the_staff_calendar_feeds_secret(aiohttp_server, aiohttp_client, make_settings,
                                                                          caplog):
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    server = await aiohttp_server(
        create_app(make_settings()), access_log_class=AccessLogger, access_log=logging.getLogger("aiohttp.access")
    )
    client = await aiohttp_client(server)

    response = await client.get("/staff/calendar/SecretCalendarToken123.ics")

    assert response.status == 404
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert any(line.startswith("GET /staff/calendar/{token}.ics 404") for line in lines), lines
    assert "SecretCalendarToken123" not in caplog.text


def test_serve_runs_the_app_until_interrupted(tmp_path):
    port = free_port()
    code = (
        "from bot.settings import Settings; from bot.web.app import serve; "
        f"serve(Settings(host='127.0.0.1', port={port}, rasa_urls=('{closed_url()}',)))"
    )
    server = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=PROJECT_ROOT
    )
    try:
        status = wait_for_health(f"http://127.0.0.1:{port}/healthz?visitor=jane.roe", server)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as response:
            page = response.read().decode()
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=30)

    assert status == 200
    assert "What Are The Best Exercises For Osteoporosis?" in page
    assert server.returncode == 0
    assert "GET /healthz 200" in output
    assert "jane.roe" not in output


def wait_for_health(url: str, server: subprocess.Popen) -> int:
    for _ in range(300):
        if server.poll() is not None:
            raise AssertionError(f"the server stopped: {server.stdout.read()}")
        try:
            with urllib.request.urlopen(url) as response:
                return response.status
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the server never answered")
