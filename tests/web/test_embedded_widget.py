"""The widget on the clinic's own website: a page of another origin adds it with one script tag.

The clinic's site is played by a small server on 127.0.0.2 (another loopback address, so another
origin) whose pages have hostile CSS and a strict Content-Security-Policy that allows scripts and
connections from the assistant's host alone.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass

import pytest
from aiohttp import web
from playwright.sync_api import Page, expect

from bot.settings import Settings
from bot.web.app import create_app
from tests.fixtures.axe import serious_violations
from tests.web.chat_page import DESKTOP, LAUNCHER_NAME, bubbles, open_chat, send

pytestmark = pytest.mark.browser

# What careless or hostile site styles do; none of it may reach the widget.
HOSTILE_CSS = """
* { all: unset; }
button { display: none !important; }
div { position: absolute; }
html { font-size: 10px; }
body { display: block; transform: translateZ(0); }
"""
ARTICLE_SECTIONS = ("What Is Osteoporosis?", "Calcium and Osteoporosis", "Balance Exercises For Osteoporosis")


@dataclass
class ClinicSite:
    """The clinic's website: pages that embed the assistant from `assistant` with `tag_attributes`."""

    assistant: str = ""
    tag_attributes: str = ""
    url: str = ""

    def page_html(self, title: str, request: web.Request) -> str:
        tag = "" if request.query.get("tag") == "0" else (
            f'<script src="{self.assistant}/widget.js" defer {self.tag_attributes}></script>')
        style = "" if request.query.get("plain") else '<link rel="stylesheet" href="/hostile.css">'
        sections = "".join(
            f'<h2 id="{re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")}">{heading}</h2><p>{"Text. " * 80}</p>'
            for heading in ARTICLE_SECTIONS
        ) if title == "Article" else ""
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | Montross Physical Therapy</title>{style}</head>
<body>
<header><p class="brand">Montross Physical Therapy</p>
<nav aria-label="Site"><a href="/">Home</a> <a href="/second">Second page</a> <a href="/article">Article</a></nav></header>
<main><h1>{title}</h1>
<div class="box"><p>We help you move better. Call <a href="tel:+18044933256">(804) 493-3256</a>.</p></div>
<form><label for="email">Email</label> <input id="email" type="email"> <button type="button">Subscribe</button></form>
{sections}</main>
<footer><p>Montross, Virginia</p></footer>
{tag}
</body></html>"""

    def make_app(self) -> web.Application:
        def page(title: str):
            async def handler(request: web.Request) -> web.Response:
                response = web.Response(text=self.page_html(title, request), content_type="text/html")
                # ?connect=0: a webmaster who let the script in but forgot connect-src.
                connect = "" if request.query.get("connect") == "0" else f"connect-src {self.assistant}; "
                response.headers["Content-Security-Policy"] = (
                    f"default-src 'none'; style-src 'self'; script-src {self.assistant}; "
                    f"{connect}base-uri 'none'; form-action 'none'"
                )
                return response
            return handler

        async def hostile_css(request: web.Request) -> web.Response:
            return web.Response(text=HOSTILE_CSS, content_type="text/css")

        app = web.Application()
        app.router.add_get("/", page("Home"))
        app.router.add_get("/second", page("Second page"))
        app.router.add_get("/article", page("Article"))
        app.router.add_get("/hostile.css", hostile_css)
        return app


@pytest.fixture(scope="module")
def clinic_site(server_thread) -> ClinicSite:
    site = ClinicSite()
    site.url = server_thread.serve(site.make_app(), host="127.0.0.2")
    return site


@pytest.fixture(scope="module")
def assistant(server_thread, stand_in, clinic_site, tmp_path_factory) -> str:
    settings = Settings(
        rasa_urls=(stand_in.url,), data_dir=tmp_path_factory.mktemp("assistant"),
        allowed_origins=(clinic_site.url,), article_url=f"{clinic_site.url}/article",
    )
    return server_thread.serve(create_app(settings))


@pytest.fixture
def site(clinic_site, assistant, server_thread, stand_in) -> ClinicSite:
    server_thread.call(stand_in.reset)
    clinic_site.assistant = assistant
    clinic_site.tag_attributes = ""
    return clinic_site


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport=DESKTOP)
    yield context
    context.close()


@pytest.fixture
def page(context) -> Page:
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda message: "Content Security Policy" in message.text and page.csp_violations.append(
        message.text))
    return page


def conversation_id(page: Page) -> str:
    return json.loads(page.evaluate("sessionStorage.getItem('clinic-assistant')"))["senderId"]


def host_layout(page: Page) -> list:
    """Where every element of the host page is, and how big the document is."""
    return page.evaluate("""() => [
        document.documentElement.scrollWidth, document.documentElement.scrollHeight,
        ...Array.from(document.querySelectorAll("body *"))
            .filter((node) => !["SCRIPT", "CLINIC-ASSISTANT"].includes(node.tagName))
            .map((node) => { const r = node.getBoundingClientRect(); return [node.tagName, r.x, r.y, r.width, r.height]; }),
    ]""")


@pytest.mark.rasa
def test_the_real_assistant_answers_on_the_clinics_site_and_keeps_the_conversation_across_pages(
    browser, server_thread, clinic_site, rasa_server, tmp_path
):
    # The web app shares the database of the running Rasa, as under `python -m bot run`.
    settings = rasa_server.settings.with_overrides(
        allowed_origins=(clinic_site.url,), article_url=f"{clinic_site.url}/article"
    )
    clinic_site.assistant = server_thread.serve(create_app(settings))
    clinic_site.tag_attributes = ""
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        violations = []
        page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
        page.goto(clinic_site.url)
        open_chat(page)

        send(page, "what is a DEXA scan")

        answer = bubbles(page, "bot").nth(1)
        expect(answer).to_contain_text(re.compile(r"absorptiometry", re.I), timeout=30_000)
        source = answer.get_by_role("link", name=re.compile("What Is Osteoporosis"))
        expect(source).to_have_attribute("href", f"{clinic_site.url}/article#what-is-osteoporosis")
        first_id = conversation_id(page)

        page.get_by_role("link", name="Second page").click()
        page.wait_for_url(f"{clinic_site.url}/second")
        expect(page.get_by_role("dialog")).to_be_visible()
        expect(bubbles(page, "user")).to_have_text(["what is a DEXA scan"])
        send(page, "what does my T-score mean")
        expect(bubbles(page, "bot").last).to_contain_text("T-score", timeout=30_000)
        assert conversation_id(page) == first_id

        # The answer's link opens the clinic's article, in the same tab, with the chat where it was.
        bubbles(page, "bot").nth(1).get_by_role("link", name=re.compile("What Is Osteoporosis")).click()
        page.wait_for_url(f"{clinic_site.url}/article#what-is-osteoporosis")
        expect(bubbles(page, "user")).to_have_text(["what is a DEXA scan", "what does my T-score mean"])
        assert violations == []

        # A new tab starts a new conversation.
        other_tab = context.new_page()
        other_tab.goto(clinic_site.url)
        open_chat(other_tab)
        expect(bubbles(other_tab, "user")).to_have_count(0)
    finally:
        context.close()


def test_hostile_site_styles_neither_break_the_widget_nor_move_the_page(page, site, stand_in):
    page.goto(f"{site.url}/?tag=0")
    page.wait_for_load_state("load")
    without_tag = host_layout(page)

    page.goto(site.url)
    launcher = page.get_by_role("button", name=LAUNCHER_NAME, exact=True)
    expect(launcher).to_be_visible()
    assert host_layout(page) == without_tag

    box = launcher.bounding_box()
    assert box["height"] >= 44 and box["width"] > 150, "the launcher keeps its own size"
    # In the window's corner, though a transformed <body> would hold position: fixed to itself.
    assert DESKTOP["width"] - 40 <= box["x"] + box["width"] <= DESKTOP["width"]
    assert DESKTOP["height"] - 40 <= box["y"] + box["height"] <= DESKTOP["height"]
    dialog = open_chat(page)
    panel = dialog.bounding_box()
    assert 360 <= panel["width"] <= 400 and 400 <= panel["height"] <= 660
    expect(page.locator("#chat-send")).to_be_visible()
    send(page, "what is a dexa scan")
    expect(bubbles(page, "bot").last).to_contain_text("Dual Energy X-ray Absorptiometry")
    assert host_layout(page) == without_tag
    assert page.csp_violations == []
    # One global, the widget's own.
    assert page.evaluate("Object.keys(window).filter((name) => /clinic/i.test(name))") == ["ClinicAssistant"]


def test_a_site_not_in_allowed_origins_gets_no_answer(page, browser, server_thread, site, stand_in):
    stranger = ClinicSite(assistant=site.assistant)
    stranger.url = server_thread.serve(stranger.make_app(), host="127.0.0.2")

    with page.expect_console_message(lambda message: "ALLOWED_ORIGINS" in message.text) as warning:
        page.goto(stranger.url)

    assert warning.value.text == (f"Clinic assistant: {stranger.url} is not in the assistant's ALLOWED_ORIGINS, "
                                  "so the chat is not shown on this site.")
    expect(page.get_by_role("button", name="Ask us a question")).to_have_count(0)
    # Called all the same, the relay's preflight is refused and the browser blocks the request.
    outcome = page.evaluate("""async (api) => {
        try {
            await fetch(api, {method: "POST", headers: {"Content-Type": "application/json"},
                              body: JSON.stringify({message: "what is a dexa scan"})});
            return "answered";
        } catch (error) {
            return "blocked";
        }
    }""", f"{site.assistant}/api/chat")
    assert outcome == "blocked"
    assert server_thread.call(lambda: list(stand_in.received)) == []


def test_the_tags_data_attributes_set_side_colour_label_and_opening(page, site):
    site.tag_attributes = 'data-position="left" data-accent="#7a1f5c" data-label="Questions? Ask us" data-open="1"'
    page.goto(site.url)
    launcher = page.get_by_role("button", name="Questions? Ask us: chat with the clinic's assistant", exact=True)

    expect(launcher).to_be_visible()
    expect(launcher).to_have_text("Questions? Ask us")
    expect(launcher).to_have_css("background-color", "rgb(122, 31, 92)")
    assert launcher.bounding_box()["x"] < 100, "on the left"
    # Opened by itself a second later, without taking the visitor's focus.
    expect(page.get_by_role("dialog")).to_be_visible(timeout=5000)
    expect(page.get_by_label("Your message")).not_to_be_focused()
    assert page.get_by_role("dialog").bounding_box()["x"] < 100


def test_a_light_accent_gets_dark_text(page, site):
    site.tag_attributes = 'data-accent="#ffd24d"'
    page.goto(site.url)

    expect(page.get_by_role("button", name=LAUNCHER_NAME)).to_have_css("color", "rgb(29, 42, 50)")


def test_the_greeting_does_not_open_by_itself_unless_asked(page, site):
    page.goto(site.url)
    expect(page.get_by_role("button", name=LAUNCHER_NAME)).to_be_visible()

    page.wait_for_timeout(1500)

    expect(page.get_by_role("dialog")).to_be_hidden()


def test_an_answer_that_comes_while_the_chat_is_closed_shows_a_badge(page, site, server_thread, stand_in):
    held = asyncio.Event()
    server_thread.call(lambda: setattr(stand_in, "hold", held))
    page.goto(site.url)
    open_chat(page)
    send(page, "hello")
    expect(page.get_by_role("status")).to_be_visible()
    page.get_by_role("button", name="Close chat").click()

    server_thread.call(held.set)

    launcher = page.get_by_role("button", name=f"{LAUNCHER_NAME} (1 new answer)", exact=True)
    expect(launcher).to_be_visible()
    expect(page.locator(".chat-badge")).to_have_text("1")
    # It stays until it is read, also on the next page.
    page.get_by_role("link", name="Second page").click()
    expect(launcher).to_be_visible()
    launcher.click()
    expect(bubbles(page, "bot").last).to_have_text("rasa heard: hello")
    expect(page.get_by_role("button", name=LAUNCHER_NAME, exact=True)).to_have_attribute("aria-expanded", "true")
    expect(page.locator(".chat-badge")).to_be_hidden()


def test_an_unreachable_assistant_gives_the_phone_number_on_the_clinics_site(page, site, server_thread, stand_in):
    server_thread.call(lambda: setattr(stand_in, "status", 503))
    page.goto(site.url)
    open_chat(page)

    send(page, "what is a dexa scan")

    answer = bubbles(page, "bot").last
    expect(answer).to_contain_text("or call us at (804) 493-3256")
    expect(answer.get_by_role("link", name="(804) 493-3256")).to_have_attribute("href", "tel:+18044933256")
    expect(page.get_by_label("Your message")).to_have_value("what is a dexa scan")


def test_a_site_whose_policy_blocks_the_chats_calls_is_told_so_in_the_console(page, site):
    page.goto(f"{site.url}/?connect=0")
    open_chat(page)
    with page.expect_console_message(lambda message: "Clinic assistant:" in message.text) as warning:
        send(page, "what is a dexa scan")
    assert "Content-Security-Policy (connect-src) blocks" in warning.value.text
    assert "Add it to connect-src" in warning.value.text
    expect(bubbles(page, "bot").last).to_contain_text("call us at (804) 493-3256")


def test_the_embedded_widget_has_no_serious_accessibility_violation_closed_or_open(page, site):
    page.goto(f"{site.url}/?plain=1")
    expect(page.get_by_role("button", name=LAUNCHER_NAME)).to_be_visible()
    assert serious_violations(page) == []

    open_chat(page)
    send(page, "what is a dexa scan")
    expect(bubbles(page, "bot").last).to_contain_text("Absorptiometry")

    assert serious_violations(page) == []
