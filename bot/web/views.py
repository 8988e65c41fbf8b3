"""The clinic's pages."""

from __future__ import annotations

import re

import aiohttp_jinja2
from aiohttp import web

from bot.web.content import Article
from bot.web.keys import ARTICLES, SETTINGS


def tel_href(phone: str) -> str:
    """A `tel:` address for a phone number as people write it; ten digits are taken as US."""
    digits = re.sub(r"\D", "", phone)
    if phone.strip().startswith("+"):
        return f"tel:+{digits}"
    if len(digits) == 10:
        return f"tel:+1{digits}"
    return f"tel:{digits}"


def _page_context(request: web.Request, article: Article) -> dict:
    settings = request.app[SETTINGS]
    return {
        "clinic_name": settings.clinic_name,
        "clinic_phone": settings.clinic_phone,
        "clinic_tel": tel_href(settings.clinic_phone),
        "article": article,
        "other_articles": [a for a in request.app[ARTICLES] if a.slug != article.slug],
    }


@aiohttp_jinja2.template("article.html")
async def index(request: web.Request) -> dict:
    return _page_context(request, request.app[ARTICLES][0])


@aiohttp_jinja2.template("article.html")
async def article(request: web.Request) -> dict:
    slug = request.match_info["slug"]
    for candidate in request.app[ARTICLES]:
        if candidate.slug == slug:
            if candidate is request.app[ARTICLES][0]:
                raise web.HTTPFound(request.app.router["index"].url_for())
            return _page_context(request, candidate)
    raise web.HTTPNotFound(text="There is no article at this address.")
