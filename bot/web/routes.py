"""Every address the public app answers, each with a name for `url_for`."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.web import chat, health, views

STATIC_DIR = Path(__file__).parent / "static"


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/", views.index, name="index")
    app.router.add_get("/articles/{slug}", views.article, name="article")
    app.router.add_post("/api/chat", chat.chat, name="chat")
    app.router.add_get("/healthz", health.healthz, name="healthz")
    app.router.add_get("/readyz", health.readyz, name="readyz")
    # Versioned addresses let browsers keep the files until they change.
    app.router.add_static("/static/", STATIC_DIR, name="static", append_version=True)
