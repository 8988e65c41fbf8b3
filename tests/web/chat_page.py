"""What a visitor does with the chat widget in a Playwright page, on our page or on another site."""

from __future__ import annotations

from playwright.sync_api import Page, expect

DESKTOP = {"width": 1280, "height": 800}
LAUNCHER_NAME = "Ask us a question: chat with the clinic's assistant"


def open_chat(page: Page):
    page.get_by_role("button", name="Ask us a question").click()
    dialog = page.get_by_role("dialog", name="Montross Physical Therapy")
    expect(dialog).to_be_visible()
    return dialog


def bubbles(page: Page, speaker: str):
    return page.locator(f"#chat-log .from-{speaker} .chat-bubble")


def send(page: Page, text: str) -> None:
    page.get_by_label("Your message").fill(text)
    page.get_by_label("Your message").press("Enter")
