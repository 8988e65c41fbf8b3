"""Any request to POST /api/chat, and any query string on the public pages: never a 5xx, and a
refused request never reaches Rasa (Hypothesis makes the requests; the app runs for real)."""

from __future__ import annotations

import http.client
import json
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.settings import Settings
from bot.web.app import create_app
from tests.web.stand_ins import StandInRasa

PROPERTY_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

json_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=200),
    st.text(max_size=5) .map(lambda text: "/" + text), st.just("a" * 1001),
)
json_values = st.recursive(
    json_leaves,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)),
    max_leaves=20,
)
chat_objects = st.fixed_dictionaries(
    {},
    optional={"sender_id": json_values | st.text(alphabet="abcdef0123456789.-_", max_size=130),
              "message": json_values, "payload": json_values},
).map(json.dumps)
deep_json = st.integers(min_value=100, max_value=6000).map(lambda depth: "[" * depth + "]" * depth)
bodies = st.one_of(
    st.binary(max_size=20_000),
    st.text(max_size=2000),
    chat_objects,
    json_values.map(json.dumps),
    deep_json,
).map(lambda body: body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body)
content_types = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "text/plain", "", "multipart/form-data",
     "application/x-www-form-urlencoded"]
)


@pytest.fixture(scope="module")
def chat_site(server_thread, tmp_path_factory):
    rasa = StandInRasa(name="rasa")
    rasa.url = server_thread.serve(rasa.make_app())
    app = create_app(Settings(
        data_dir=tmp_path_factory.mktemp("var"), rasa_urls=(rasa.url,),
        # Hypothesis sends hundreds of requests a second from one address.
        chat_rate_per_client="1000000/minute", chat_rate_per_conversation="1000000/minute",
    ))
    return server_thread.serve(app), rasa


def request(base_url: str, method: str, path: str, body: bytes | None = None, content_type: str = "") -> tuple[int, bytes]:
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        headers = {"Content-Type": content_type} if content_type else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@PROPERTY_SETTINGS
@given(body=bodies, content_type=content_types)
def test_any_chat_request_is_answered_without_a_server_error(chat_site, server_thread, body, content_type):
    url, rasa = chat_site
    before = server_thread.call(lambda: len(rasa.received))

    status, answer = request(url, "POST", "/api/chat", body, content_type)

    after = server_thread.call(lambda: len(rasa.received))
    assert status < 500, answer
    payload = json.loads(answer)
    if status == 200:
        assert after == before + 1 and isinstance(payload["messages"], list)
    else:
        # Refused: a clear message, and Rasa never heard of it.
        assert after == before
        assert isinstance(payload["error"], str) and payload["error"]


@PROPERTY_SETTINGS
@given(
    path=st.sampled_from(["/", "/articles/", "/healthz", "/readyz", "/api/chat", "/static/chat.js"]),
    tail=st.text(max_size=40),
    query=st.dictionaries(st.text(max_size=20), st.text(max_size=200), max_size=4),
)
def test_any_address_and_query_string_is_answered_without_a_server_error(chat_site, path, tail, query):
    url, _ = chat_site
    target = path + (quote(tail, safe="") if path.endswith("/") else "")
    if query:
        target += "?" + "&".join(f"{quote(key, safe='')}={quote(value, safe='')}" for key, value in query.items())

    status, _ = request(url, "GET", target)

    # /readyz is 503 here on purpose: this test runs no action server.
    assert status < 500 or (path == "/readyz" and status == 503)
