"""The widget's two files: a briefly cached loader with this server's settings, and a versioned bundle."""

from __future__ import annotations

import gzip
import json
import re

from bot.web.keys import CHAT_SIGNERS
from bot.web.widget import build_bundle
from tests.web.stand_ins import domain_greeting_buttons

SIZE_BUDGET_GZIPPED = 25 * 1024


def loader_config(loader: str) -> dict:
    """The settings the loader hands the widget."""
    return json.loads(re.search(r"var config = (\{.*?\});\n", loader).group(1))


async def test_the_loader_is_cached_briefly_and_names_an_immutable_bundle(client):
    loader = await client.get("/widget.js")

    assert loader.status == 200
    assert loader.content_type == "text/javascript"
    assert loader.headers["Cache-Control"] == "public, max-age=300"
    config = loader_config(await loader.text())
    bundle = await client.get(config["bundle"])
    assert bundle.status == 200
    assert bundle.content_type == "text/javascript"
    assert bundle.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "attachShadow" in await bundle.text()
    # Any site's page may load both, also one that isolates itself.
    for response in (loader, bundle):
        assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"


async def test_the_bundles_address_changes_with_its_content(client):
    config = loader_config(await (await client.get("/widget.js")).text())

    digest = re.fullmatch(r"/widget/([0-9a-f]{16})\.js", config["bundle"]).group(1)
    assert (await client.get(f"/widget/{'0' * 16}.js")).status == 404
    assert digest != "0" * 16
    assert b'"__CSS__"' not in build_bundle(), "the style sheet is inside the bundle"


async def test_an_unchanged_loader_is_not_sent_again(client):
    first = await client.get("/widget.js")

    again = await client.get("/widget.js", headers={"If-None-Match": first.headers["ETag"]})

    assert again.status == 304
    assert await again.read() == b""


async def test_the_loader_carries_the_clinics_phone_and_the_relays_address(client_for, rasa):
    client = await client_for(rasa_urls=(rasa.url,), clinic_phone="(555) 010-2000",
                              allowed_origins=("https://www.clinic.example",))

    config = loader_config(await (await client.get("/widget.js")).text())

    assert config["phone"] == "(555) 010-2000"
    assert config["tel"] == "tel:+15550102000"
    assert config["api"] == "/api/chat"
    assert config["maxChars"] == 1000
    assert config["allowedOrigins"] == ["https://www.clinic.example"]


async def test_the_greeting_offers_the_same_replies_as_the_assistants_own_greeting(client):
    config = loader_config(await (await client.get("/widget.js")).text())

    # What the model was trained to understand after a greeting is what the widget sends (signed,
    # so that only the buttons offered reach Rasa as they are).
    signers = client.server.app[CHAT_SIGNERS]
    topics = [{"title": topic["title"], "payload": signers.button_payload(topic["payload"])} for topic in config["topics"]]
    assert topics == domain_greeting_buttons(), (
        "GREETING_TOPICS in bot/web/widget.py must match utter_greet's buttons in domain.yml"
    )


async def test_a_clinic_name_cannot_end_the_loaders_script_when_a_site_inlines_it(client_for, rasa):
    client = await client_for(rasa_urls=(rasa.url,), clinic_name="</script><script>alert(1)</script>")

    loader = await (await client.get("/widget.js")).text()

    assert "</script><script>alert(1)" not in loader
    assert loader_config(loader)["clinicName"] == "</script><script>alert(1)</script>"


async def test_loader_and_bundle_stay_within_the_size_budget(client):
    loader = await (await client.get("/widget.js")).read()
    config = loader_config(loader.decode())
    bundle = await (await client.get(config["bundle"])).read()

    assert len(gzip.compress(loader)) + len(gzip.compress(bundle)) < SIZE_BUDGET_GZIPPED


async def test_the_loader_and_the_bundle_travel_gzipped(client):
    loader = await client.get("/widget.js", headers={"Accept-Encoding": "gzip"}, auto_decompress=False)
    bundle_path = loader_config(gzip.decompress(await loader.read()).decode())["bundle"]
    bundle = await client.get(bundle_path, headers={"Accept-Encoding": "gzip"}, auto_decompress=False)
    for response in (loader, bundle):
        assert response.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response.headers["Vary"]
    assert len(await bundle.read()) < len(build_bundle()) / 2
