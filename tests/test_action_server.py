"""The action server answers only Rasa, and Rasa's HTTP API only its token: probed as another local process would."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

pytestmark = pytest.mark.rasa

MADE_UP_CALL = {
    "next_action": "action_submit_inquiry",
    "sender_id": "someone-else",
    "tracker": {"sender_id": "someone-else", "slots": {"lead_name": "Mallory"}, "events": [], "latest_message": {}},
    "domain": {},
    "version": "3.6.2",
}


def request(url: str, body: dict | None = None) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"}), timeout=10
        ) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def action_server(rasa_server) -> tuple[str, str]:
    child = next(child for child in rasa_server.stack.children if child.name == "Action server")
    return child.health_url.rsplit("/", 1)[0], child.env["ACTION_SERVER_TOKEN"]


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_a_call_without_rasas_token_runs_no_action(rasa_server, token):
    url, _ = action_server(rasa_server)
    query = "" if token is None else f"?token={token}"

    status, body = request(f"{url}/webhook{query}", MADE_UP_CALL)
    listed, _ = request(f"{url}/actions{query}")

    assert (status, listed) == (403, 403)
    assert b"Mallory" not in body


def test_the_token_rasa_holds_is_accepted_and_health_is_open(rasa_server):
    url, token = action_server(rasa_server)

    listed, body = request(f"{url}/actions?token={token}")
    health, _ = request(f"{url}/health")

    assert (listed, health) == (200, 200)
    assert {"name": "action_submit_inquiry"} in json.loads(body)


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_rasas_http_api_answers_only_with_its_token(rasa_server, token):
    query = "" if token is None else f"?token={token}"
    for path in ("/status", "/conversations/visitor-0123456789/tracker", "/model/parse"):
        body = {"text": "hi"} if path == "/model/parse" else None
        status, answer = request(f"{rasa_server.url}{path}{query}", body)
        assert status == 401, path
    status, answer = request(f"{rasa_server.url}/status?token={rasa_server.stack.api_token}")
    assert status == 200 and json.loads(answer)["model_id"]
    # The REST channel the web app relays to needs no token.
    assert request(f"{rasa_server.url}/webhooks/rest/")[0] == 200
