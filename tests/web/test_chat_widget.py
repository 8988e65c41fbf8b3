"""The page and its chat widget in a real browser (Debian's chromium through Playwright).

The widget lives in an open shadow root; Playwright's locators reach into it.
"""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from playwright.sync_api import Page, expect

from bot.settings import Settings
from bot.web.app import create_app
from tests.fixtures.axe import serious_violations
from tests.web.chat_page import DESKTOP, LAUNCHER_NAME, bubbles, open_chat, send
from tests.web.stand_ins import closed_url, domain_greeting_buttons

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 667}
PHONE_MESSAGE = re.compile(r"not answering right now\. Please try again in a moment, or call us at \(804\) 493-3256")
UNAVAILABLE = (
    "Sorry, the assistant is unavailable for a moment. Please send your message again shortly, "
    "or call us at (804) 493-3256."
)


@pytest.fixture(scope="module")
def site(server_thread, stand_in) -> str:
    return server_thread.serve(create_app(Settings(rasa_urls=(stand_in.url,))))


@pytest.fixture(scope="module")
def offline_site(server_thread) -> str:
    return server_thread.serve(create_app(Settings(rasa_urls=(closed_url(),))))


@pytest.fixture
def context(browser, server_thread, stand_in):
    server_thread.call(stand_in.reset)
    context = browser.new_context(viewport=DESKTOP)
    yield context
    context.close()


@pytest.fixture
def page(context) -> Page:
    return context.new_page()


def focused_id(page: Page) -> str:
    """The id of the focused element, also inside the widget's shadow root."""
    return page.evaluate("""() => {
        let active = document.activeElement;
        while (active && active.shadowRoot && active.shadowRoot.activeElement) active = active.shadowRoot.activeElement;
        return active ? active.id : "";
    }""")


def wait_until(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def test_the_page_reads_like_the_clinics_article(page, site):
    page.goto(site)

    expect(page.get_by_role("heading", level=1)).to_have_text("What Are The Best Exercises For Osteoporosis?")
    expect(page.get_by_role("heading", name="What Is Osteoporosis?")).to_be_visible()
    expect(page.get_by_role("banner").get_by_role("link", name=re.compile(r"\(804\) 493-3256"))).to_have_attribute(
        "href", "tel:+18044933256"
    )
    expect(page.get_by_role("contentinfo")).to_contain_text("call 911")
    expect(page.get_by_role("button", name="Inquire about cost and availability")).to_be_visible()


def test_the_launcher_opens_the_greeting_without_asking_rasa(page, site, stand_in):
    page.goto(site)
    expect(page.get_by_role("dialog")).to_be_hidden()

    dialog = open_chat(page)

    expect(dialog.get_by_role("log")).to_contain_text("I can answer questions about osteoporosis")
    topics = dialog.get_by_role("group", name="Suggested replies").get_by_role("button")
    expect(topics).to_have_text([button["title"] for button in domain_greeting_buttons()])
    expect(page.get_by_label("Your message")).to_be_focused()
    assert stand_in.received == []


def test_a_quick_reply_sends_its_payload_and_shows_its_title(page, site, stand_in):
    first, chosen = domain_greeting_buttons()[:2]
    page.goto(site)
    dialog = open_chat(page)

    dialog.get_by_role("button", name=chosen["title"], exact=True).click()

    expect(bubbles(page, "user")).to_have_text([chosen["title"]])
    expect(bubbles(page, "bot").last).to_have_text(f"rasa heard: {chosen['payload']}")
    assert stand_in.messages == [chosen["payload"]]
    # Used quick replies cannot be sent again.
    expect(dialog.get_by_role("button", name=first["title"], exact=True)).to_be_disabled()
    expect(dialog.get_by_role("button", name=chosen["title"], exact=True)).to_be_disabled()


def test_buttons_under_an_answer_send_their_payload(page, site, stand_in):
    page.goto(site)
    dialog = open_chat(page)
    send(page, "what is a dexa scan")
    expect(bubbles(page, "bot").last).to_contain_text("Dual Energy X-ray Absorptiometry")

    dialog.get_by_role("button", name="T-score and Z-score").click()

    expect(bubbles(page, "user")).to_have_text(["what is a dexa scan", "T-score and Z-score"])
    expect(bubbles(page, "bot").last).to_have_text("rasa heard: What do T-score and Z-score mean?")
    expect(dialog.get_by_role("button", name="T-score and Z-score")).to_be_disabled()


def test_the_whole_conversation_works_from_the_keyboard(page, site, stand_in):
    page.goto(site)
    expect(page.locator("#chat-launcher")).to_be_visible()

    for _ in range(80):
        page.keyboard.press("Tab")
        if focused_id(page) == "chat-launcher":
            break
    expect(page.locator("#chat-launcher")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(page.get_by_label("Your message")).to_be_focused()

    page.keyboard.type("what is a dexa scan")
    page.keyboard.press("Enter")
    expect(bubbles(page, "bot").last).to_contain_text("Dual Energy X-ray Absorptiometry")
    expect(page.get_by_label("Your message")).to_have_value("")

    # The answer's suggestion is one Shift+Tab away from the message box.
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("button", name="T-score and Z-score")).to_be_focused()
    page.keyboard.press("Enter")
    expect(bubbles(page, "user").last).to_have_text("T-score and Z-score")
    # The chosen button is disabled, so focus moves on to where the visitor types next.
    expect(page.get_by_label("Your message")).to_be_focused()

    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(page.locator("#chat-launcher")).to_be_focused()
    # Closing the chat does not take back the message on its way.
    wait_until(lambda: len(stand_in.messages) == 2)
    assert stand_in.messages == ["what is a dexa scan", "What do T-score and Z-score mean?"]


def test_the_launcher_keeps_its_name_while_the_chat_is_open(page, site):
    page.goto(site)
    launcher = page.get_by_role("button", name=LAUNCHER_NAME, exact=True)
    expect(launcher).to_have_attribute("aria-expanded", "false")

    launcher.click()

    expect(page.get_by_role("dialog")).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    launcher.click()
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(launcher).to_be_focused()


def test_shift_enter_starts_a_new_line_instead_of_sending(page, site, stand_in):
    page.goto(site)
    open_chat(page)
    box = page.get_by_label("Your message")

    box.type("first line")
    box.press("Shift+Enter")
    box.type("second line")
    box.press("Enter")

    expect(bubbles(page, "bot").last).to_have_text("rasa heard: first line\nsecond line")
    assert stand_in.messages == ["first line\nsecond line"]


def test_the_calls_to_action_open_the_chat_and_ask(page, site, stand_in):
    page.goto(site)

    page.get_by_role("button", name="Request an appointment").click()

    expect(page.get_by_role("dialog")).to_be_visible()
    expect(bubbles(page, "user")).to_have_text(["I'd like to book an appointment"])
    expect(bubbles(page, "bot").last).to_have_text("rasa heard: I'd like to book an appointment")

    page.get_by_role("button", name="Close chat").click()
    page.get_by_role("button", name="Inquire about cost and availability").click()
    expect(bubbles(page, "bot").last).to_have_text("rasa heard: How much does a visit cost?")
    assert stand_in.messages == ["I'd like to book an appointment", "How much does a visit cost?"]


def test_a_typing_indicator_shows_while_waiting(page, site, server_thread, stand_in):
    server_thread.call(lambda: setattr(stand_in, "hold", asyncio.Event()))
    page.goto(site)
    open_chat(page)
    typing = page.get_by_role("status")

    send(page, "hello")

    expect(typing).to_be_visible()
    expect(typing).to_contain_text("typing")
    expect(bubbles(page, "user")).to_have_text(["hello"])
    server_thread.call(lambda: stand_in.hold.set())
    expect(bubbles(page, "bot").last).to_have_text("rasa heard: hello")
    expect(typing).to_be_hidden()


def test_an_answer_on_its_way_when_the_visitor_moves_on_is_shown_on_the_next_page(page, site, server_thread, stand_in):
    server_thread.call(lambda: setattr(stand_in, "hold", asyncio.Event()))
    page.goto(site)
    open_chat(page)
    send(page, "Jane Roe")
    wait_until(lambda: server_thread.call(lambda: len(stand_in.received)) == 1)

    page.goto(site + "?another-page")  # the browser drops the request; the relay finishes it
    server_thread.call(lambda: stand_in.hold.set())

    expect(bubbles(page, "user")).to_have_text(["Jane Roe"])
    expect(bubbles(page, "bot").last).to_have_text("rasa heard: Jane Roe")
    expect(page.get_by_role("status")).to_be_hidden()
    assert server_thread.call(lambda: [m["message"] for m in stand_in.received]) == ["Jane Roe"], "one turn at Rasa"
    send(page, "next")
    expect(bubbles(page, "bot").last).to_have_text("rasa heard: next")
    assert len(set(stand_in.senders)) == 1


def test_bot_text_is_shown_as_text_with_its_line_breaks(page, site, stand_in):
    stand_in.reply = lambda sender, message: [
        {"recipient_id": sender, "text": '<img src=x id="injected"> <b>not bold</b>\nsecond line'}
    ]
    page.goto(site)
    open_chat(page)

    send(page, "hello")

    answer = bubbles(page, "bot").last
    expect(answer).to_have_text('<img src=x id="injected"> <b>not bold</b>\nsecond line')
    assert answer.evaluate("node => node.getBoundingClientRect().height") > 2 * 16  # two lines
    assert page.locator("#chat-log b, #injected").count() == 0


def test_the_conversation_survives_a_reload_in_the_same_tab(page, context, site, stand_in):
    page.goto(site)
    open_chat(page)
    send(page, "first question")
    expect(bubbles(page, "bot").last).to_have_text("rasa heard: first question")

    page.reload()

    expect(page.get_by_role("dialog")).to_be_visible()
    expect(bubbles(page, "user")).to_have_text(["first question"])
    expect(bubbles(page, "bot")).to_have_count(2)  # the greeting and the answer
    expect(page.get_by_role("button", name="What is a DEXA scan?")).to_be_disabled()
    send(page, "second question")
    expect(bubbles(page, "bot").last).to_have_text("rasa heard: second question")
    assert len(set(stand_in.senders)) == 1, "the conversation keeps its sender id"

    other_tab = context.new_page()
    other_tab.goto(site)
    open_chat(other_tab)
    expect(bubbles(other_tab, "user")).to_have_count(0)


def test_a_site_may_keep_the_conversation_across_its_tabs(browser, server_thread, stand_in):
    server_thread.call(stand_in.reset)
    site = server_thread.serve(create_app(Settings(rasa_urls=(stand_in.url,), widget_conversation_across_tabs=True)))
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        page.goto(site)
        open_chat(page)
        send(page, "first question")
        expect(bubbles(page, "bot").last).to_have_text("rasa heard: first question")

        other_tab = context.new_page()
        other_tab.goto(site)
        # As the visitor left it: open, with what was said.
        expect(other_tab.get_by_role("dialog")).to_be_visible()
        expect(bubbles(other_tab, "user")).to_have_text(["first question"])
        send(other_tab, "second question")
        expect(bubbles(other_tab, "bot").last).to_have_text("rasa heard: second question")
        assert len(set(stand_in.senders)) == 1, "both tabs speak in one conversation"
    finally:
        context.close()


def test_a_page_holding_an_earlier_versions_loader_still_gets_the_widget(page, site, stand_in):
    fetched: list[str] = []

    def earlier_loader(route):
        fetched.append(route.request.url)
        response = route.fetch()
        # What a browser cached before an update: the bundle of a version this server no longer has.
        body = re.sub(r"/widget/[0-9a-f]{16}\.js", "/widget/" + "0" * 16 + ".js", response.text())
        route.fulfill(response=response, body=body)

    page.route(re.compile(r".*/widget\.js$"), earlier_loader)
    page.goto(site)

    dialog = open_chat(page)
    send(page, "still there?")
    expect(bubbles(page, "bot").last).to_have_text("rasa heard: still there?")
    expect(dialog).to_be_visible()
    assert len(fetched) == 1
    assert page.evaluate("() => document.querySelectorAll('clinic-assistant').length") == 1


def test_an_unreachable_assistant_gives_the_phone_number(page, offline_site):
    page.goto(offline_site)
    open_chat(page)

    send(page, "what is a dexa scan")

    answer = bubbles(page, "bot").last
    expect(answer).to_have_text(UNAVAILABLE)
    expect(answer.get_by_role("link", name="(804) 493-3256")).to_have_attribute("href", "tel:+18044933256")
    expect(page.get_by_role("status")).to_be_hidden()
    expect(page.get_by_label("Your message")).to_be_enabled()


def test_an_answer_with_nothing_in_it_gives_the_phone_number_and_the_message_back(
    page, site, server_thread, stand_in
):
    # Rasa answers so while the action server is down.
    server_thread.call(lambda: setattr(stand_in, "reply", lambda sender, message: []))
    page.goto(site)
    open_chat(page)

    send(page, "Maria Lopez")

    answer = bubbles(page, "bot").last
    expect(answer).to_have_text(UNAVAILABLE)
    expect(answer.get_by_role("link", name="(804) 493-3256")).to_have_attribute("href", "tel:+18044933256")
    expect(page.get_by_role("status")).to_be_hidden()
    expect(page.get_by_label("Your message")).to_have_value("Maria Lopez")

    # The part behind the relay is back: the same message goes through and the chat goes on.
    server_thread.call(stand_in.reset)
    page.get_by_label("Your message").press("Enter")
    expect(bubbles(page, "bot").last).to_have_text("rasa heard: Maria Lopez")
    assert stand_in.messages == ["Maria Lopez"]


def test_a_button_whose_answer_failed_can_be_pressed_again(page, site, server_thread, stand_in):
    server_thread.call(lambda: setattr(stand_in, "status", 503))
    page.goto(site)
    open_chat(page)

    page.get_by_role("button", name="Safe exercises").click()
    expect(bubbles(page, "bot").last).to_have_text(UNAVAILABLE)
    expect(page.get_by_label("Your message")).to_have_value("")

    server_thread.call(stand_in.reset)
    page.get_by_role("button", name="Safe exercises").click()
    expect(bubbles(page, "bot").last).to_have_text("rasa heard: What are the best exercises for osteoporosis?")
    expect(page.get_by_role("button", name="Safe exercises")).to_be_disabled()


def test_a_web_app_that_never_answers_gives_the_phone_number_at_the_widgets_timeout(
    page, site, server_thread, stand_in
):
    held = asyncio.Event()
    server_thread.call(lambda: setattr(stand_in, "hold", held))
    # A fake clock runs the widget's own timer to its end in no time, while the held
    # request keeps both the stand-in and the relay (whose timeout is real time) waiting.
    page.clock.install()
    page.goto(site)
    timeout_ms = page.evaluate("window.ClinicAssistant.config.timeoutMs")
    open_chat(page)
    typing = page.get_by_role("status")
    try:
        send(page, "first try")
        expect(typing).to_be_visible()
        wait_until(lambda: server_thread.call(lambda: list(stand_in.messages)) == ["first try"])
        page.clock.run_for(timeout_ms - 1000)
        expect(typing).to_be_visible()
        expect(bubbles(page, "bot")).to_have_count(1)  # the greeting alone

        page.clock.run_for(2000)

        expect(bubbles(page, "bot").last).to_have_text(PHONE_MESSAGE)
        expect(typing).to_be_hidden()
    finally:
        server_thread.call(held.set)
    server_thread.call(stand_in.reset)
    send(page, "second try")
    expect(bubbles(page, "bot").last).to_have_text("rasa heard: second try")
    # The late answer to the abandoned request never shows up.
    expect(bubbles(page, "bot")).to_have_count(3)
    assert stand_in.messages == ["second try"]


def test_a_failing_assistant_gives_the_phone_number(page, site, stand_in):
    stand_in.status = 500
    page.goto(site)
    open_chat(page)

    send(page, "hello")

    expect(bubbles(page, "bot").last).to_have_text(UNAVAILABLE)
    expect(page.get_by_label("Your message")).to_have_value("hello")


def test_too_many_messages_are_explained_in_plain_words(page, server_thread, stand_in):
    limited = server_thread.serve(create_app(Settings(rasa_urls=(stand_in.url,), chat_rate_per_conversation="1/minute")))
    page.goto(limited)
    open_chat(page)

    send(page, "first")
    expect(bubbles(page, "bot").last).to_have_text("rasa heard: first")
    send(page, "second")

    answer = bubbles(page, "bot").last
    expect(answer).to_have_text(
        "You're sending messages faster than I can answer them. Please wait a minute and send it again, "
        "or call us at (804) 493-3256."
    )
    expect(answer.get_by_role("link", name="(804) 493-3256")).to_have_attribute("href", "tel:+18044933256")
    expect(page.get_by_label("Your message")).to_have_value("second")
    assert stand_in.messages == ["first"]


def test_a_very_long_conversation_goes_on_as_a_new_one(page, server_thread, stand_in):
    capped = server_thread.serve(create_app(Settings(rasa_urls=(stand_in.url,), chat_turns_per_conversation="1/day")))
    page.goto(capped)
    open_chat(page)

    send(page, "first")
    expect(bubbles(page, "bot").last).to_have_text("rasa heard: first")
    send(page, "second")
    expect(bubbles(page, "bot").last).to_contain_text("This conversation has become very long")
    page.get_by_label("Your message").press("Enter")

    expect(bubbles(page, "bot").last).to_have_text("rasa heard: second")
    senders = server_thread.call(lambda: list(stand_in.senders))
    assert len(senders) == 2 and senders[0] != senders[1]


def test_the_message_box_stops_at_1000_characters_with_a_counter(page, site):
    page.goto(site)
    open_chat(page)
    box = page.get_by_label("Your message")
    counter = page.locator("#chat-counter")

    box.fill("a" * 800)
    expect(counter).to_be_hidden()
    box.fill("a" * 950)
    expect(counter).to_be_visible()
    expect(counter).to_have_text("950 / 1000 characters")
    box.press("End")
    page.keyboard.insert_text("b" * 100)

    expect(box).to_have_value("a" * 950 + "b" * 50)
    expect(counter).to_have_text("1000 / 1000 characters")


def test_at_phone_width_the_chat_fills_the_screen(browser, site):
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(site)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "no sideways scrolling"

        dialog = open_chat(page)

        assert dialog.bounding_box() == {"x": 0, "y": 0, **PHONE}
        expect(page.get_by_label("Your message")).to_be_in_viewport()
        send(page, "hello")
        expect(bubbles(page, "bot").last).to_have_text("rasa heard: hello")
        # The panel covers the page, so Tab cycles inside it.
        page.get_by_label("Your message").focus()
        page.keyboard.press("Tab")
        expect(page.locator("#chat-send")).to_be_focused()
        page.keyboard.press("Tab")
        expect(page.get_by_role("button", name="Close chat")).to_be_focused()
        page.keyboard.press("Shift+Tab")
        expect(page.locator("#chat-send")).to_be_focused()
        page.get_by_role("button", name="Close chat").click()
        expect(dialog).to_be_hidden()
        expect(page.get_by_role("button", name="Ask us a question")).to_be_focused()
    finally:
        context.close()


def test_the_page_has_no_serious_accessibility_violation_with_the_chat_closed_or_open(page, site):
    page.goto(site)
    expect(page.get_by_role("button", name=LAUNCHER_NAME)).to_be_visible()
    assert serious_violations(page) == []

    open_chat(page)
    send(page, "what is a dexa scan")
    expect(bubbles(page, "bot").last).to_contain_text("Dual Energy X-ray Absorptiometry")

    assert serious_violations(page) == []


@pytest.mark.rasa
def test_the_real_assistant_explains_a_dexa_scan(browser, server_thread, rasa_server):
    site_url = server_thread.serve(create_app(Settings(rasa_urls=(rasa_server.url,))))
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        page.goto(site_url)
        open_chat(page)

        send(page, "what is a DEXA scan")

        expect(bubbles(page, "bot").nth(1)).to_contain_text(re.compile(r"absorptiometry", re.I), timeout=30_000)
    finally:
        context.close()
