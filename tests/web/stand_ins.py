"""Stand-ins and servers for the web app's tests.

`StandInRasa` is a real aiohttp server speaking Rasa's REST webhook protocol; it records
every request, so a test can tell whether Rasa was contacted and with what.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml
from aiohttp import web

from bot.settings import PROJECT_ROOT
from tests.fixtures import free_port

# Rasa's REST channel answers with a list of messages, each carrying recipient_id.
DEXA_ANSWER = (
    "A DEXA scan (Dual Energy X-ray Absorptiometry) is the bone density test.\n"
    "It passes a low dose of x-rays through your tissues and measures how much they absorb."
)


def domain_greeting_buttons() -> list[dict[str, str]]:
    """The buttons of `utter_greet` in domain.yml, which the widget's greeting must offer too."""
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    return [
        {"title": button["title"], "payload": button["payload"]}
        for button in domain["responses"]["utter_greet"][0]["buttons"]
    ]


def closed_url() -> str:
    """The address of a Rasa server that is not running."""
    return f"http://127.0.0.1:{free_port()}"


@dataclass
class StandInRasa:
    """Answers POST /webhooks/rest/webhook like Rasa's REST channel and records each request."""

    name: str = "rasa"
    received: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    # When set, the stand-in holds each request until the event is set (a server that hangs).
    hold: asyncio.Event | None = None
    reply: Callable[[str, str], list[dict[str, Any]]] | None = None
    url: str = ""

    def default_reply(self, sender: str, message: str) -> list[dict[str, Any]]:
        if "dexa" in message.lower():
            return [
                {
                    "recipient_id": sender,
                    "text": DEXA_ANSWER,
                    "buttons": [{"title": "T-score and Z-score", "payload": "What do T-score and Z-score mean?"}],
                }
            ]
        return [{"recipient_id": sender, "text": f"{self.name} heard: {message}"}]

    def reset(self) -> None:
        self.received.clear()
        self.status = 200
        self.hold = None
        self.reply = None

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body)
        if self.hold is not None:
            await self.hold.wait()
        if self.status != 200:
            return web.Response(status=self.status, text="stand-in failure")
        reply = self.reply or self.default_reply
        return web.json_response(reply(body["sender"], body["message"]))

    async def hello(self, request: web.Request) -> web.Response:
        return web.Response(text="Hello from Rasa: 3.6.21")

    async def channel_health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self.webhook)
        app.router.add_get("/", self.hello)
        app.router.add_get("/webhooks/rest/", self.channel_health)
        return app

    @property
    def senders(self) -> list[str]:
        return [body["sender"] for body in self.received]

    @property
    def messages(self) -> list[str]:
        return [body["message"] for body in self.received]


class ServerThread:
    """An event loop in a background thread serving aiohttp applications on loopback."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="web-test-servers", daemon=True)
        self.runners: list[web.AppRunner] = []

    def __enter__(self) -> "ServerThread":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for runner in reversed(self.runners):
            asyncio.run_coroutine_threadsafe(runner.cleanup(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)
        self.loop.close()

    def serve(self, app: web.Application, host: str = "127.0.0.1") -> str:
        """Serve `app` on a free port of `host` (any loopback address); its base URL."""

        async def start() -> str:
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, host, 0)
            await site.start()
            self.runners.append(runner)
            address, port = runner.addresses[0][:2]
            return f"http://{address}:{port}"

        return asyncio.run_coroutine_threadsafe(start(), self.loop).result(timeout=30)

    def call(self, function: Callable[[], Any]) -> Any:
        """Run `function` on the servers' loop, so the stand-in's state is never shared across threads mid-request."""

        async def run() -> Any:
            return function()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=30)


BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
