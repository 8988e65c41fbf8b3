"""GET /healthz and GET /readyz, against the real Rasa and action server and a real SMTP outage."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text, update

from bot.db import SESSION_FACTORY, utcnow
from bot.notify.models import OutboxMessage
from bot.leads.store import LeadStore
from bot.web.keys import SETTINGS
from tests.leads.factories import a_new_lead
from tests.web.stand_ins import closed_url


async def test_healthz_answers_while_nothing_behind_the_web_app_does(client_for):
    client = await client_for(rasa_urls=(closed_url(),), action_server_urls=(closed_url(),))

    response = await client.get("/healthz")

    assert (response.status, await response.json()) == (200, {"status": "ok"})
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.rasa
async def test_readyz_is_ready_with_the_real_rasa_and_action_server(client_for, rasa_server):
    client = await client_for(
        rasa_urls=(rasa_server.url,), action_server_urls=rasa_server.settings.action_server_urls,
        rasa_api_token=rasa_server.stack.api_token,
    )

    response = await client.get("/readyz")

    assert response.status == 200
    assert await response.json() == {
        "status": "ready",
        "database": {"ok": True},
        "rasa": {"reachable": 1, "total": 1},
        "action_server": {"reachable": 1, "total": 1},
        "outbox": {"unsent": 0, "oldest_unsent_seconds": None},
    }


@pytest.mark.rasa
@pytest.mark.parametrize(
    ("part", "status", "code"),
    [("rasa", "unavailable", 503), ("action_server", "unavailable", 503), ("one_rasa", "degraded", 200)],
)
async def test_readyz_names_what_is_down(client_for, rasa_server, part, status, code):
    rasa_urls = {"rasa": (closed_url(),), "one_rasa": (rasa_server.url, closed_url())}.get(part, (rasa_server.url,))
    action_urls = (closed_url(),) if part == "action_server" else rasa_server.settings.action_server_urls
    client = await client_for(rasa_urls=rasa_urls, action_server_urls=action_urls, rasa_api_token=rasa_server.stack.api_token)

    response = await client.get("/readyz")

    body = await response.json()
    assert (response.status, body["status"]) == (code, status)
    down = {"rasa": ("rasa", 0, 1), "action_server": ("action_server", 0, 1), "one_rasa": ("rasa", 1, 2)}[part]
    assert (body[down[0]]["reachable"], body[down[0]]["total"]) == down[1:]


@pytest.mark.rasa
async def test_readyz_counts_notices_the_mail_server_has_not_taken(client_for, rasa_server):
    # A mail server that is down: the notice stays in the outbox.
    client = await client_for(
        rasa_urls=(rasa_server.url,), action_server_urls=rasa_server.settings.action_server_urls,
        rasa_api_token=rasa_server.stack.api_token,
        smtp_host="127.0.0.1", smtp_port=int(closed_url().rsplit(":", 1)[1]), mail_to=("frontdesk@clinic.test",),
    )
    factory = client.server.app[SESSION_FACTORY]
    LeadStore(factory, client.server.app[SETTINGS]).add(a_new_lead())

    fresh = await (await client.get("/readyz")).json()
    with factory.begin() as db:
        db.execute(update(OutboxMessage).values(created_at=utcnow() - timedelta(hours=2)))
    late = await client.get("/readyz")

    assert (fresh["status"], fresh["outbox"]["unsent"]) == ("ready", 1)
    assert fresh["outbox"]["oldest_unsent_seconds"] < 60
    body = await late.json()
    assert (late.status, body["status"], body["outbox"]["unsent"]) == (200, "degraded", 1)
    assert 7100 < body["outbox"]["oldest_unsent_seconds"] < 7300


async def test_readyz_is_503_when_the_database_fails(client_for):
    client = await client_for(rasa_urls=(closed_url(),), action_server_urls=(closed_url(),))
    with client.server.app[SESSION_FACTORY].begin() as db:
        db.execute(text("DROP TABLE outbox"))

    response = await client.get("/readyz")

    assert response.status == 503
    assert (await response.json())["database"] == {"ok": False}


@pytest.mark.rasa
async def test_readyz_needs_rasas_token_to_call_rasa_ready(client_for, rasa_server):
    client = await client_for(rasa_urls=(rasa_server.url,), action_server_urls=rasa_server.settings.action_server_urls,
                              rasa_api_token="not-the-token")

    response = await client.get("/readyz")

    assert response.status == 503 and (await response.json())["rasa"]["reachable"] == 0
