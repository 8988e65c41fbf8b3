"""Every address the public app answers, each with a name for `url_for`."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.web import chat, health, views, widget

STATIC_DIR = Path(__file__).parent / "static"


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/", views.index, name="index")
    app.router.add_get("/articles/{slug}", views.article, name="article")
    app.router.add_post("/api/chat", chat.chat, name="chat")
    # The one tag a site adds, and the versioned widget it loads (bot.web.widget).
    app.router.add_get("/widget.js", widget.loader, name="widget_loader")
    app.router.add_get(r"/widget/{digest:[0-9a-f]+}.js", widget.bundle, name="widget_bundle")
    app.router.add_get("/healthz", health.healthz, name="healthz")
    app.router.add_get("/readyz", health.readyz, name="readyz")
    # Versioned addresses let browsers keep the files until they change.
    app.router.add_static("/static/", STATIC_DIR, name="static", append_version=True)
