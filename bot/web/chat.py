"""`POST /api/chat`: checks a visitor's message and relays it to Rasa's REST channel.

The widget talks only to this endpoint. A request that is not a well-formed chat
message is answered with 400 before any Rasa server sees it. With several Rasa
servers, a conversation sticks to one of them (chosen from its sender id) and moves
to the next one only when that server cannot take it.

What a browser sends is never taken on trust:
- The conversation id is issued here (a random id, signed) with the first answer; a
  browser cannot pick one, so it cannot write into someone else's conversation.
- Rasa reads a message starting with "/" as an intent with entities (`/restart`,
  `/inform{"lead_name": ...}`). Typed text loses its leading slashes; only the payload
  of a button we offered, signed when it went out, reaches Rasa as it is.
- Only `application/json` is accepted, which a page on another site cannot send
  without the browser asking first.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any, Callable

import aiohttp
from aiohttp import web
from itsdangerous import BadSignature, Signer

from bot.secrets import signing_key
from bot.settings import Settings
from bot.web.article_links import with_article_links
from bot.web.keys import CHAT_SIGNERS, CHAT_THROTTLE, HTTP_CLIENT, RECENT_ANSWERS, SESSION_RENEWAL, SETTINGS
from bot.web.throttle import Busy

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 1000
# A message of 1,000 characters each escaped as \uXXXX\uXXXX (12 bytes: what json.dumps writes for
# an emoji), plus the sender id and the JSON around them.
MAX_BODY_BYTES = 16 * 1024
# A signed id: 32 hex digits, ".", itsdangerous' signature (27 characters of base64).
SENDER_ID_PATTERN = re.compile(r"[A-Za-z0-9_.-]{8,128}")
MESSAGE_ID_PATTERN = re.compile(r"[A-Za-z0-9-]{16,64}")
MAX_PAYLOAD_CHARS = 2000
# A server that does not accept the connection quickly is treated as down, so the next one is tried.
CONNECT_TIMEOUT_SECONDS = 3.0
# Shown by the widget as it is, with the phone number made a link.
UNAVAILABLE_MESSAGE = (
    "Sorry, the assistant is unavailable for a moment. Please send your message again shortly, "
    "or call us at {phone}."
)
TOO_MANY_MESSAGES = (
    "You're sending messages faster than I can answer them. Please wait {wait} and send it again, "
    "or call us at {phone}."
)
TOO_LONG_CONVERSATION = (
    "This conversation has become very long, so your next message starts a new one (what you told "
    "me before is not carried over). Please send it again, or call us at {phone}."
)
BUSY_MESSAGE = (
    "Sorry, the assistant is busy with many visitors right now. Please send your message again in a "
    "few seconds, or call us at {phone}."
)
TOO_LARGE_MESSAGE = (
    f"The request is too large (over {MAX_BODY_BYTES:,} bytes). A message can have at most "
    f"{MAX_MESSAGE_CHARS:,} characters."
)


class ChatRequestError(ValueError):
    """The request is not a chat message the relay accepts; the message says why."""


class RasaUnavailable(RuntimeError):
    """No Rasa server gave an answer the widget can show."""


class RasaServerError(RuntimeError):
    """A Rasa server answered 5xx: it did not take the message."""


@dataclass(frozen=True)
class ChatMessage:
    sender_id: str
    text: str


@dataclass(frozen=True)
class ChatSigners:
    """Signs conversation ids and button payloads, each with a salt of its own."""

    conversations: Signer
    buttons: Signer

    @classmethod
    def for_settings(cls, settings: Settings) -> "ChatSigners":
        key = signing_key(settings)
        return cls(Signer(key, salt="chat.conversation"), Signer(key, salt="chat.button"))

    def new_conversation(self) -> str:
        return self.conversations.sign(uuid.uuid4().hex).decode()

    def conversation_id(self, signed: str) -> str:
        """The id Rasa knows the conversation by, or ChatRequestError when it was not issued here."""
        try:
            return self.conversations.unsign(signed).decode()
        except BadSignature:
            raise ChatRequestError(
                "This conversation was not started here. Reload the page to start a new one."
            ) from None

    def sign_button(self, payload: str) -> str:
        return self.buttons.sign(payload).decode()

    def button_payload(self, signed: str) -> str:
        try:
            return self.buttons.unsign(signed).decode()
        except BadSignature:
            raise ChatRequestError("That button was not offered here. Please type your message instead.") from None


def json_error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status, headers={"Cache-Control": "no-store"})


async def read_body(request: web.Request) -> bytes:
    """The request body, refused past MAX_BODY_BYTES without reading the rest."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise ChatRequestError(TOO_LARGE_MESSAGE)
    body = bytearray()
    while chunk := await request.content.read(MAX_BODY_BYTES + 1 - len(body)):
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise ChatRequestError(TOO_LARGE_MESSAGE)
    return bytes(body)


@dataclass(frozen=True)
class ChatRequest:
    """What the browser sent: its conversation (None for a new one), and typed text or a button."""

    signed_sender_id: str | None
    text: str
    is_button: bool
    # The widget's id for this message, the same when it sends the message again (bot.web.answers).
    message_id: str | None = None


# JSON nested deeper than this is refused as not JSON, as Python 3.10's parser did; newer
# parsers go deeper. No widget sends more than one level.
MAX_JSON_DEPTH = 1000


def _nested_deeper_than(value: object, limit: int) -> bool:
    level = [value]
    for _ in range(limit):
        level = [
            child
            for item in level
            for child in (item.values() if isinstance(item, dict) else item if isinstance(item, list) else ())
        ]
        if not level:
            return False
    return True


def parse_chat_request(body: bytes) -> ChatRequest:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        # RecursionError: JSON nested thousands deep, which no widget sends.
        raise ChatRequestError("The request body must be JSON.") from None
    if _nested_deeper_than(data, MAX_JSON_DEPTH):
        raise ChatRequestError("The request body must be JSON.")
    if not isinstance(data, dict):
        raise ChatRequestError('The request body must be a JSON object with "message" (or "payload").')
    sender_id = data.get("sender_id")
    if sender_id is not None:
        if not isinstance(sender_id, str):
            raise ChatRequestError('"sender_id" must be a string.')
        if not SENDER_ID_PATTERN.fullmatch(sender_id):
            raise ChatRequestError('"sender_id" must be the conversation id this server issued.')
    message_id = data.get("message_id")
    if message_id is not None and (not isinstance(message_id, str) or not MESSAGE_ID_PATTERN.fullmatch(message_id)):
        raise ChatRequestError('"message_id" must be 16 to 64 letters, digits or dashes.')
    if ("message" in data) == ("payload" in data):
        raise ChatRequestError('Send either "message" (typed text) or "payload" (a button), not both.'
                               if "message" in data else '"message" is missing.')
    name = "message" if "message" in data else "payload"
    text = data[name]
    if not isinstance(text, str):
        raise ChatRequestError(f'"{name}" must be a string.')
    if name == "payload":
        if not text or len(text) > MAX_PAYLOAD_CHARS:
            raise ChatRequestError("That button was not offered here. Please type your message instead.")
        return ChatRequest(sender_id, text, is_button=True, message_id=message_id)
    # Typed text is never a command to Rasa, whatever it starts with.
    text = text.strip().lstrip("/").strip()
    if not text:
        raise ChatRequestError("The message is empty.")
    if len(text) > MAX_MESSAGE_CHARS:
        raise ChatRequestError(f"The message is longer than {MAX_MESSAGE_CHARS:,} characters.")
    try:
        # JSON may escape half of a character (a lone surrogate, "\ud800"), which is no text.
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ChatRequestError("The message holds characters that are not text. Please type it again.") from None
    return ChatRequest(sender_id, text, is_button=False, message_id=message_id)


def server_order(sender_id: str, rasa_urls: tuple[str, ...]) -> list[str]:
    """The server this conversation belongs to, then the one to try if it is down.

    A digest rather than `hash()`, which changes from process to process: every
    web app process must send a conversation to the same Rasa server.
    """
    if not rasa_urls:
        return []
    first = int.from_bytes(hashlib.sha256(sender_id.encode()).digest()[:8], "big") % len(rasa_urls)
    order = [rasa_urls[first]]
    if len(rasa_urls) > 1:
        order.append(rasa_urls[(first + 1) % len(rasa_urls)])
    return order


def normalise_rasa_messages(payload: Any, sign_button: Callable[[str], str] = lambda payload: payload) -> list[dict[str, Any]]:
    """Rasa's REST channel answer in the widget's shape: text and buttons only.

    An answer with nothing to show is a failure: Rasa answers so when the action server is
    down (it records the visitor's turn, runs no action and says nothing).
    """
    if not isinstance(payload, list):
        raise RasaUnavailable("the answer was not a list of messages")
    messages = []
    for item in payload:
        if not isinstance(item, dict):
            continue
        text = item.get("text")
        buttons = []
        for button in item.get("buttons") or []:
            if not isinstance(button, dict):
                continue
            title, payload_text = button.get("title"), button.get("payload")
            if isinstance(title, str) and title.strip() and isinstance(payload_text, str) and payload_text.strip():
                buttons.append({"title": title, "payload": sign_button(payload_text)})
        # Images and custom payloads have no place in the widget.
        if not isinstance(text, str) or not text.strip():
            if not buttons:
                continue
            text = ""
        messages.append({"text": text, "buttons": buttons})
    if not messages:
        raise RasaUnavailable("answered with nothing to show")
    return messages


async def ask_rasa(session: aiohttp.ClientSession, base_url: str, message: ChatMessage, timeout: float) -> Any:
    url = f"{base_url}/webhooks/rest/webhook"
    client_timeout = aiohttp.ClientTimeout(total=timeout, connect=min(CONNECT_TIMEOUT_SECONDS, timeout))
    async with session.post(
        url, json={"sender": message.sender_id, "message": message.text}, timeout=client_timeout
    ) as response:
        if response.status >= 500:
            raise RasaServerError(f"answered {response.status}")
        if response.status != 200:
            raise RasaUnavailable(f"answered {response.status}")
        try:
            return await response.json(content_type=None)
        except ValueError:
            raise RasaUnavailable("answered with something that is not JSON") from None


async def relay(
    session: aiohttp.ClientSession, rasa_urls: tuple[str, ...], message: ChatMessage, timeout: float,
    sign_button: Callable[[str], str] = lambda payload: payload,
) -> list[dict[str, Any]]:
    """Rasa's messages for `message`, from its own server or, if that one is down, the next."""
    for attempt, base_url in enumerate(server_order(message.sender_id, rasa_urls)):
        try:
            return normalise_rasa_messages(await ask_rasa(session, base_url, message, timeout), sign_button)
        except (aiohttp.ClientConnectionError, RasaServerError) as error:
            # Refused, not connected in time, 5xx, or a kept-alive connection the server
            # had closed: the server did not take the message, so the next one may.
            log.warning("Rasa server %s failed (%s), attempt %d", base_url, error.__class__.__name__, attempt + 1)
        except asyncio.TimeoutError:
            # The server may still be working on the message; sending it again elsewhere
            # would record the visitor's turn twice.
            log.warning("Rasa server %s did not answer within %.0f s", base_url, timeout)
            break
        except RasaUnavailable as error:
            log.warning("Rasa server %s %s", base_url, error)
            break
    raise RasaUnavailable("no Rasa server answered")


def _too_many(wait_seconds: int, phone: str, **extra: Any) -> web.Response:
    wait = "a minute" if wait_seconds > 45 else f"{wait_seconds} second{'s' if wait_seconds != 1 else ''}"
    response = json_error(429, TOO_MANY_MESSAGES.format(wait=wait, phone=phone), phone=phone, **extra)
    response.headers["Retry-After"] = str(wait_seconds)
    return response


async def chat(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    signers = request.app[CHAT_SIGNERS]
    throttle = request.app[CHAT_THROTTLE]
    phone = settings.clinic_phone
    if request.content_type != "application/json":
        return json_error(415, 'Send the message as JSON ("Content-Type: application/json").')
    wait = throttle.hit_client(request)
    if wait is not None:
        return _too_many(wait, phone)
    # The product contract: every request that is not a chat message gets 400, oversized ones too.
    try:
        sent = parse_chat_request(await read_body(request))
        signed_sender_id = sent.signed_sender_id or signers.new_conversation()
        sender_id = signers.conversation_id(signed_sender_id)
        text = signers.button_payload(sent.text) if sent.is_button else sent.text
    except ChatRequestError as error:
        return json_error(400, str(error))
    wait = throttle.hit_conversation(sender_id)
    if wait is not None:
        return _too_many(wait, phone, sender_id=signed_sender_id)
    if not throttle.hit_turns(sender_id):
        # No sender_id in the answer: the widget's next message gets a new conversation.
        return json_error(429, TOO_LONG_CONVERSATION.format(phone=phone), phone=phone, new_conversation=True)
    message = ChatMessage(sender_id=sender_id, text=text)
    key = (sent.signed_sender_id or "", sent.message_id) if sent.message_id else None
    return await request.app[RECENT_ANSWERS].once(
        key, lambda: _answer(request, message, signed_sender_id)
    )


async def _answer(request: web.Request, message: ChatMessage, signed_sender_id: str) -> web.Response:
    """Rasa's answer to one message, or the reason there is none, as the widget reads them."""
    settings = request.app[SETTINGS]
    signers = request.app[CHAT_SIGNERS]
    throttle = request.app[CHAT_THROTTLE]
    phone = settings.clinic_phone
    sender_id = message.sender_id
    renewal = request.app[SESSION_RENEWAL]
    try:
        async with throttle.turn():
            if renewal.due(sender_id) and settings.rasa_urls:
                await renewal.renew_if_idle(
                    request.app[HTTP_CLIENT], server_order(sender_id, settings.rasa_urls)[0], sender_id
                )
            messages = await relay(
                request.app[HTTP_CLIENT], settings.rasa_urls, message, settings.rasa_timeout_seconds,
                signers.sign_button,
            )
    except Busy:
        # Nothing reached Rasa: the visitor's turn is not recorded, and may be sent again.
        response = json_error(503, BUSY_MESSAGE.format(phone=phone), phone=phone, sender_id=signed_sender_id)
        response.headers["Retry-After"] = "5"
        return response
    except RasaUnavailable:
        renewal.count(sender_id)  # Rasa may have recorded the turn
        return json_error(
            503, UNAVAILABLE_MESSAGE.format(phone=settings.clinic_phone), phone=settings.clinic_phone,
            sender_id=signed_sender_id,
        )
    renewal.count(sender_id)
    messages = await with_article_links(request, sender_id, messages)
    return web.json_response(
        {"sender_id": signed_sender_id, "messages": messages}, headers={"Cache-Control": "no-store"}
    )
