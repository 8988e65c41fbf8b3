"""The web app's shared state, one typed key each."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from bot.settings import Settings
from bot.web.content import Article

SETTINGS = web.AppKey("settings", Settings)
# One client session for every call to Rasa: it pools the connections.
HTTP_CLIENT = web.AppKey("http_client", aiohttp.ClientSession)
# The clinic's articles, the first one being the page at "/".
ARTICLES = web.AppKey("articles", list[Article])
