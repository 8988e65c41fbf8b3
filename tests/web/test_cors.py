"""Other sites' pages reach the chat relay only when their origin is in ALLOWED_ORIGINS."""

from __future__ import annotations

import pytest

from bot.settings import Settings, SettingsError

CLINIC = "https://www.clinic.example"
STRANGER = "https://elsewhere.example"


def preflight(origin: str, method: str = "POST") -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": "content-type"}


@pytest.fixture
async def client(client_for, rasa):
    return await client_for(rasa_urls=(rasa.url,), allowed_origins=(CLINIC,))


async def test_the_clinics_site_may_ask_and_read_the_answer(client, rasa):
    asked = await client.options("/api/chat", headers=preflight(CLINIC))

    assert asked.status == 204
    assert asked.headers["Access-Control-Allow-Origin"] == CLINIC
    assert asked.headers["Access-Control-Allow-Methods"] == "POST"
    assert asked.headers["Access-Control-Allow-Headers"].lower() == "content-type"
    response = await client.post("/api/chat", json={"message": "hello"}, headers={"Origin": CLINIC})
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == CLINIC
    assert "Origin" in response.headers["Vary"]
    assert rasa.messages == ["hello"]


async def test_another_site_gets_no_answer_and_rasa_hears_nothing(client, rasa):
    asked = await client.options("/api/chat", headers=preflight(STRANGER))
    sent = await client.post("/api/chat", json={"message": "hello"}, headers={"Origin": STRANGER})

    assert asked.status == 403
    assert sent.status == 403
    for response in (asked, sent):
        assert "Access-Control-Allow-Origin" not in response.headers
    assert rasa.received == []


async def test_a_preflight_for_anything_but_post_is_refused(client):
    asked = await client.options("/api/chat", headers=preflight(CLINIC, method="DELETE"))

    assert asked.status == 403
    assert "Access-Control-Allow-Origin" not in asked.headers


async def test_a_sandboxed_page_is_another_site(client, rasa):
    # Sandboxed frames and local files send the origin "null".
    sent = await client.post("/api/chat", json={"message": "hello"}, headers={"Origin": "null"})

    assert sent.status == 403
    assert rasa.received == []


async def test_our_own_pages_need_no_listing(client_for, rasa):
    client = await client_for(rasa_urls=(rasa.url,), public_url="https://assistant.clinic.example")
    own_host = f"http://{client.server.host}:{client.server.port}"

    by_host = await client.post("/api/chat", json={"message": "one"}, headers={"Origin": own_host})
    by_public_url = await client.post(
        "/api/chat", json={"message": "two"}, headers={"Origin": "https://assistant.clinic.example"}
    )

    assert (by_host.status, by_public_url.status) == (200, 200)
    assert "Access-Control-Allow-Origin" not in by_host.headers
    assert rasa.messages == ["one", "two"]


async def test_errors_reach_the_clinics_site_readable(client):
    response = await client.get("/api/chat", headers={"Origin": CLINIC})

    assert response.status == 405
    assert response.headers["Access-Control-Allow-Origin"] == CLINIC
    assert "error" in await response.json()


async def test_the_page_and_the_widget_are_served_to_any_site(client):
    # Scripts are embedded, not read: the loader itself tells a page that is not listed.
    response = await client.get("/widget.js", headers={"Origin": STRANGER})

    assert response.status == 200


def test_allowed_origins_are_read_as_origins():
    settings = Settings.from_env({"ALLOWED_ORIGINS": "https://WWW.Clinic.example/, http://127.0.0.2:8123, https://a.example:443"})

    assert settings.allowed_origins == ("https://www.clinic.example", "http://127.0.0.2:8123", "https://a.example")


@pytest.mark.parametrize("value", ["www.clinic.example", "https://clinic.example/blog", "ftp://clinic.example", "*",
                                   "https://clinic.example:port"])
def test_an_allowed_origin_that_is_not_one_is_refused_with_its_name(value):
    with pytest.raises(SettingsError, match="ALLOWED_ORIGINS must list the clinic's sites as https://"):
        Settings.from_env({"ALLOWED_ORIGINS": value})
