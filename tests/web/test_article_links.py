"""FAQ answers end with a link to the section of the clinic's article they come from."""

from __future__ import annotations

import yaml

from bot.settings import PROJECT_ROOT, Settings
from bot.web.article_links import FAQ_SECTIONS, ArticleLinks
from bot.web.content import load_articles
from bot.db import ENGINE
from tests.staff import rasa_events
from tests.web.stand_ins import DEXA_ANSWER

CLINIC = "https://www.clinic.example"
ARTICLE_URL = "https://www.clinic.example/blog/osteoporosis-exercises"


def faq_keys() -> set[str]:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    responses = set(domain.get("responses") or {})
    for path in (PROJECT_ROOT / "data").rglob("*.yml"):
        responses |= set((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses") or {})
    return {name.removeprefix("utter_faq/") for name in responses if name.startswith("utter_faq/")}


def test_every_faq_answer_has_a_section_of_the_article():
    article = load_articles(Settings().content_dir)[0]
    links = ArticleLinks.for_article(article, "/")

    keys = faq_keys()
    assert len(keys) >= 19
    assert set(FAQ_SECTIONS) == keys, "FAQ_SECTIONS in bot/web/article_links.py must name every utter_faq/<key>"
    assert set(links.sections) == keys, "each FAQ key's heading must be one of the article's headings"


def test_the_link_is_our_own_anchor_on_our_site_and_the_clinics_article_elsewhere():
    article = load_articles(Settings().content_dir)[0]
    links = ArticleLinks.for_article(article, "/", ARTICLE_URL)

    assert links.link("utter_faq/dexa_scan", on_own_site=True) == {"href": "/#what-is-osteoporosis",
                                                                   "title": "What Is Osteoporosis?"}
    assert links.link("utter_faq/calcium_supplements", on_own_site=False) == {
        "href": f"{ARTICLE_URL}#calcium-supplements-for-osteoporosis", "title": "Calcium supplements for osteoporosis"}
    assert links.link("utter_greet", on_own_site=True) is None
    assert links.link("utter_faq/no_such_key", on_own_site=True) is None
    # Without ARTICLE_URL a link would take the visitor off the clinic's site, and away from the chat.
    assert ArticleLinks.for_article(article, "/").link("utter_faq/dexa_scan", on_own_site=False) is None


def test_an_article_without_the_headings_gives_no_links(tmp_path):
    (tmp_path / "a.txt").write_text("Another Article\n\nSome Heading\n\nA paragraph.\n")

    links = ArticleLinks.for_article(load_articles(tmp_path)[0], "/", ARTICLE_URL)

    assert links.link("utter_faq/dexa_scan", on_own_site=True) is None


def logs_like_rasa(client, stand_in) -> None:
    """The stand-in writes each turn into the app's database as Rasa's SQL tracker store does."""
    engine = client.server.app[ENGINE]
    rasa_events.create_events_table(engine)

    def reply(sender: str, message: str) -> list[dict]:
        rasa_events.insert_events(engine, sender, [
            rasa_events.user(message, "faq", 1.0),
            rasa_events.bot(DEXA_ANSWER, 2.0, utter="utter_faq/dexa_scan"),
            rasa_events.bot("Anything else?", 3.0, utter="utter_anything_else"),
        ])
        return [{"recipient_id": sender, "text": DEXA_ANSWER}, {"recipient_id": sender, "text": "Anything else?"}]

    stand_in.reply = reply


async def test_the_relay_ends_an_faq_answer_with_its_section(client_for, rasa):
    client = await client_for(rasa_urls=(rasa.url,), allowed_origins=(CLINIC,), article_url=ARTICLE_URL)
    logs_like_rasa(client, rasa)

    ours = await (await client.post("/api/chat", json={"message": "what is a dexa scan"})).json()
    theirs = await (await client.post("/api/chat", json={"message": "what is a dexa scan"},
                                      headers={"Origin": CLINIC})).json()

    assert [m.get("link") for m in ours["messages"]] == [
        {"href": "/#what-is-osteoporosis", "title": "What Is Osteoporosis?"}, None]
    assert theirs["messages"][0]["link"] == {"href": f"{ARTICLE_URL}#what-is-osteoporosis",
                                             "title": "What Is Osteoporosis?"}


async def test_answers_go_out_without_links_when_rasa_logs_elsewhere(client, rasa):
    response = await client.post("/api/chat", json={"message": "what is a dexa scan"})

    assert response.status == 200
    assert "link" not in (await response.json())["messages"][0]

