"""The section of the clinic's article each FAQ answer comes from, and the link that ends the answer.

Every answer of the retrieval intent `faq` (`utter_faq/<key>` in domain.yml) is written from
one part of the article. The part is named here by its heading as the article has it; its
anchor is the one the page at `/` gives that heading (bot.web.content), so the table follows
the article rather than repeating its anchors. Which key Rasa answered with is read from its
conversation log (bot.conversation_log.latest_responses): the REST channel does not say.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.conversation_log import latest_responses
from bot.db import SESSION_FACTORY
from bot.web.content import Article, Section
from bot.web.cors import is_own_origin
from bot.web.keys import ARTICLE_LINKS, SETTINGS

log = logging.getLogger(__name__)

# FAQ key -> the heading of the article's section the answer is written from.
FAQ_SECTIONS = {
    "what_is_osteoporosis": "What Is Osteoporosis?",
    "osteopenia_vs_osteoporosis": "Osteopenia vs. Osteoporosis - What's The Difference?",
    "dexa_scan": "What Is Osteoporosis?",
    "t_score_z_score": "What Is Osteoporosis?",
    "menopause_estrogen": "Estrogen, Menopause, and Osteoporosis",
    # Hip fractures and compression fractures are told under osteopenia vs osteoporosis.
    "fracture_risk": "Osteopenia vs. Osteoporosis - What's The Difference?",
    "medication_treatment": "Treatment For Osteoporosis",
    "calcium_role": "Calcium and Osteoporosis",
    "calcium_food_sources": "What are dietary sources of calcium?",
    "calcium_supplements": "Calcium supplements for osteoporosis",
    "vitamin_d": "Vitamin D and Osteoporosis",
    "best_exercises": "Best Exercises For Osteoporosis",
    # Squats and lunges, and the heavy barbell to avoid, are in the best exercises section.
    "lower_body_exercises": "Best Exercises For Osteoporosis",
    "upper_body_exercises": "What About Upper Body Exercises For Osteoporosis?",
    "posture_kyphosis": "Exercises To Prevent Osteoporosis Compression Fractures",
    "balance_exercises": "Balance Exercises For Osteoporosis",
    "fall_statistics": "Balance Exercises For Osteoporosis",
    "exercise_safety": "Best Exercises For Osteoporosis",
    "exercise_benefits": "Want To Learn The Best Exercises For Osteoporosis?",
}
FAQ_RESPONSE_PREFIX = "utter_faq/"


@dataclass(frozen=True)
class ArticleLinks:
    """Links from FAQ answers into the article: on our page its own anchors, elsewhere ARTICLE_URL's."""

    sections: dict[str, Section]
    # Our page's address, "/" in practice, and the clinic's copy of the article ("" when there is none).
    own_page: str
    article_url: str = ""

    @classmethod
    def for_article(cls, article: Article, own_page: str, article_url: str = "") -> "ArticleLinks":
        """Keys whose heading this article lacks (another CONTENT_DIR) get no link."""
        by_heading = {section.heading: section for section in article.sections}
        sections = {key: by_heading[heading] for key, heading in FAQ_SECTIONS.items() if heading in by_heading}
        return cls(sections, own_page, article_url)

    def link(self, response: str, on_own_site: bool) -> dict[str, str] | None:
        """`{"href", "title"}` for the answer Rasa named `response` (e.g. "utter_faq/dexa_scan"), or None.

        None for a response that is not an FAQ answer, or, on another site, when ARTICLE_URL is
        unset: a link off the clinic's site would leave the visitor's conversation behind.
        """
        if not response.startswith(FAQ_RESPONSE_PREFIX):
            return None
        section = self.sections.get(response.removeprefix(FAQ_RESPONSE_PREFIX))
        page = self.own_page if on_own_site else self.article_url
        if section is None or not page:
            return None
        return {"href": f"{page}#{section.anchor}", "title": section.heading}


async def with_article_links(request: web.Request, sender_id: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`messages` (the relay's answer), each FAQ answer with a `"link"` to its section.

    An answer is matched to what Rasa logged by its text; one without a match, or a log that
    cannot be read, goes out as it was: the link is an extra, never a reason to fail a turn.
    """
    origin = request.headers.get("Origin")
    on_own_site = origin is None or is_own_origin(origin.lower(), request, request.app[SETTINGS])

    def read() -> list[tuple[str, str]]:
        with request.app[SESSION_FACTORY]() as db:
            return latest_responses(db, sender_id)

    try:
        responses = await asyncio.to_thread(read)
    except SQLAlchemyError as error:
        log.warning("Could not read which answers Rasa gave (%s)", error.__class__.__name__)
        return messages
    links = {}
    for name, text in responses:
        link = request.app[ARTICLE_LINKS].link(name, on_own_site)
        if link is not None:
            links[text] = link
    return [{**message, "link": links[message["text"]]} if message["text"] in links else message for message in messages]
