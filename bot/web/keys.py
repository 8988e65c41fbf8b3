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
# Signs the conversation ids and button payloads the relay hands the widget (bot.web.chat).
CHAT_SIGNERS = web.AppKey("chat_signers", object)
# Rate limits and the bounded queue in front of Rasa (bot.web.throttle).
CHAT_THROTTLE = web.AppKey("chat_throttle", object)
# Where FAQ answers link into the clinic's article (bot.web.article_links).
ARTICLE_LINKS = web.AppKey("article_links", object)
# The embeddable widget's loader and bundle, built at start (bot.web.widget).
WIDGET = web.AppKey("widget", object)
# Starts a new Rasa session every few turns (bot.web.sessions).
SESSION_RENEWAL = web.AppKey("session_renewal", object)
# For /readyz to ask Rasa's guarded HTTP API whether a model is loaded.
RASA_API_TOKEN = web.AppKey("rasa_api_token", str)
# One client session for every call to Rasa: it pools the connections.
HTTP_CLIENT = web.AppKey("http_client", aiohttp.ClientSession)
# The clinic's articles, the first one being the page at "/".
ARTICLES = web.AppKey("articles", list[Article])
# The application database: one engine per process, a session per unit of work.
ENGINE = web.AppKey("engine", Engine)
SESSION_FACTORY = web.AppKey("session_factory", sessionmaker)
# Sends the notices of new leads to staff, with retries.
OUTBOX_WORKER = web.AppKey("outbox_worker", OutboxWorker)
