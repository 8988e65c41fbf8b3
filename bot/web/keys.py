"""The web app's shared state, one typed key each."""

from __future__ import annotations

import aiohttp
from aiohttp import web
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from bot.notify.outbox import OutboxWorker
from bot.settings import Settings
from bot.web.content import Article

SETTINGS = web.AppKey("settings", Settings)
# One client session for every call to Rasa: it pools the connections.
HTTP_CLIENT = web.AppKey("http_client", aiohttp.ClientSession)
# The clinic's articles, the first one being the page at "/".
ARTICLES = web.AppKey("articles", list[Article])
# The application database: one engine per process, a session per unit of work.
ENGINE = web.AppKey("engine", Engine)
SESSION_FACTORY = web.AppKey("session_factory", sessionmaker)
# Sends the notices of new leads to staff, with retries.
OUTBOX_WORKER = web.AppKey("outbox_worker", OutboxWorker)
