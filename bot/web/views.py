"""The clinic's pages."""

from __future__ import annotations

import re

import aiohttp_jinja2
from aiohttp import web

from bot.web.chat import MAX_MESSAGE_CHARS
from bot.web.content import Article
from bot.web.keys import ARTICLES, CHAT_SIGNERS, SETTINGS

# The widget waits a little longer than the relay, so the relay's own answer (the
# phone-number message) arrives before the widget gives up.
WIDGET_GRACE_SECONDS = 5.0
# The buttons of `utter_greet` in domain.yml, word for word: the NLU model is trained on what
# they send, so other wording could land on another intent. Copied rather than read from
# domain.yml, which the web app's image does not contain; tests/web/test_pages.py compares them.
GREETING_TOPICS = (
    ("What is a DEXA scan?", "What is a DEXA scan?"),
    ("Calcium supplements", "Which calcium supplement is better, carbonate or citrate?"),
    ("Safe exercises", "What are the best exercises for osteoporosis?"),
    ("Cost & availability", "/inquire_cost"),
)


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
        "chat": {
            "timeout_ms": int((settings.rasa_timeout_seconds + WIDGET_GRACE_SECONDS) * 1000),
            "max_chars": MAX_MESSAGE_CHARS,
            # Signed like the buttons of Rasa's answers: only payloads we offered reach Rasa as they are.
            "topics": [
                {"title": title, "payload": request.app[CHAT_SIGNERS].sign_button(payload)}
                for title, payload in GREETING_TOPICS
            ],
        },
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
