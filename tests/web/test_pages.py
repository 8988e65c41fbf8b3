"""The article page and other articles."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from bot.web.views import tel_href


class PageOutline(HTMLParser):
    """Headings, landmarks, links, calls to action and scripts of a rendered page."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[tuple[str, str]] = []
        self.links: list[tuple[str, str]] = []
        self.tags: list[str] = []
        self.chat_messages: dict[str, str] = {}
        self.scripts: list[str] = []
        self._heading: str | None = None
        self._link: str | None = None
        self._text: list[str] = []
        self._cta: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if re.fullmatch(r"h[1-6]", tag):
            self._heading, self._text = tag, []
        if tag == "a":
            self._link, self._text = attrs.get("href", ""), []
            self._cta = attrs.get("data-chat-message")
        if tag == "script":
            self.scripts.append(attrs.get("src", ""))

    def handle_endtag(self, tag):
        text = " ".join("".join(self._text).split())
        if tag == self._heading:
            self.headings.append((tag, text))
            self._heading = None
        if tag == "a" and self._link is not None:
            self.links.append((self._link, text))
            if self._cta:
                self.chat_messages[text] = self._cta
            self._link = self._cta = None

    def handle_data(self, data):
        self._text.append(data)


def outline(html: str) -> PageOutline:
    parser = PageOutline()
    parser.feed(html)
    return parser


async def test_the_page_shows_the_article(client):
    response = await client.get("/")

    assert response.status == 200
    assert response.content_type == "text/html"
    page = outline(await response.text())
    assert page.headings[0] == ("h1", "What Are The Best Exercises For Osteoporosis?")
    assert ("h2", "What Is Osteoporosis?") in page.headings
    assert ("h2", "Balance Exercises For Osteoporosis") in page.headings
    assert ("h3", "Calcium supplements for osteoporosis") in page.headings
    for landmark in ("header", "main", "footer", "article", "nav"):
        assert landmark in page.tags


async def test_the_page_keeps_the_byline_and_drops_the_blog_navigation(client):
    html = await (await client.get("/")).text()

    assert "Dr. Arnan Sisson, PT" in html
    assert '<time datetime="2022-12-14">December 14, 2022</time>' in html
    for cruft in ("» Blog", "Click Here", "Reqeust", "Where Does It Hurt?"):
        assert cruft not in html


async def test_the_page_gives_the_phone_number_as_a_link(client):
    page = outline(await (await client.get("/")).text())

    phone_links = [text for href, text in page.links if href == "tel:+18044933256"]
    assert any("(804) 493-3256" in text for text in phone_links)


async def test_the_calls_to_action_carry_their_chat_message(client):
    page = outline(await (await client.get("/")).text())

    assert page.chat_messages == {
        "Inquire about cost and availability": "How much does a visit cost?",
        "Request an appointment": "I'd like to book an appointment",
    }


async def test_the_clinics_own_name_and_phone_come_from_settings(client_for, rasa):
    client = await client_for(rasa_urls=(rasa.url,), clinic_name="Riverside Therapy", clinic_phone="(555) 010-2000")

    html = await (await client.get("/")).text()

    assert "Riverside Therapy" in html
    assert 'href="tel:+15550102000"' in html
    assert "(804) 493-3256" not in html.split("<main", 1)[0]  # the header shows the configured number


async def test_article_text_is_escaped(client_for, rasa, tmp_path):
    content = tmp_path / "content"
    content.mkdir()
    (content / "a.txt").write_text("Safe Title\n\nA <script>alert(1)</script> paragraph & more.\n")

    client = await client_for(rasa_urls=(rasa.url,), content_dir=content)
    html = await (await client.get("/")).text()

    assert "<script>alert(1)</script>" not in html
    assert "A &lt;script&gt;alert(1)&lt;/script&gt; paragraph &amp; more." in html


async def test_other_articles_have_their_own_address(client_for, rasa, tmp_path):
    content = tmp_path / "content"
    content.mkdir()
    (content / "a-first.txt").write_text("First Article\n\nIntro text.\n")
    (content / "b-second.txt").write_text("Second Article\n\nMore text.\n")
    client = await client_for(rasa_urls=(rasa.url,), content_dir=content)

    first = outline(await (await client.get("/")).text())
    second = await client.get("/articles/b-second")
    again = await client.get("/articles/a-first", allow_redirects=False)
    missing = await client.get("/articles/nothing-here")

    assert ("/articles/b-second", "Second Article") in first.links
    assert second.status == 200
    assert outline(await second.text()).headings[0] == ("h1", "Second Article")
    assert again.status == 302 and again.headers["Location"] == "/"
    assert missing.status == 404


async def test_the_page_adds_the_chat_with_the_same_tag_as_any_other_site(client):
    page = outline(await (await client.get("/")).text())

    assert page.scripts == ["/widget.js"]


@pytest.mark.parametrize(
    ("phone", "href"),
    [("(804) 493-3256", "tel:+18044933256"), ("+44 20 7946 0958", "tel:+442079460958"), ("911", "tel:911")],
)
def test_phone_numbers_become_tel_links(phone, href):
    assert tel_href(phone) == href
