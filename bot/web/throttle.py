"""How much chat one client, one conversation and all visitors together may ask of Rasa.

- Rate limits (the `limits` library, moving windows kept in this process): per client address
  and per conversation. Over them, 429 with a plain-words message and `Retry-After`.
- A cap on the turns of one conversation (also a `limits` window, a day long): past it, the
  widget is told to start a new conversation.
- A bounded queue in front of Rasa: at most `chat_max_in_flight` messages at Rasa at once and
  `chat_max_queued` waiting, each waiting at most `QUEUE_WAIT_SECONDS`. Past that, a fast 503
  "busy" instead of a wait of many seconds while Rasa works through a pile.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from bot.settings import Settings

# Longer than a turn takes when Rasa is keeping up; a visitor would rather hear "busy" than wait.
QUEUE_WAIT_SECONDS = 2.0


class Busy(Exception):
    """More messages are waiting for Rasa than it can answer soon."""


@dataclass
class ChatThrottle:
    per_client: RateLimitItem
    per_conversation: RateLimitItem
    # Every turn makes Rasa's next one dearer (it reads and replays the whole session): a bound.
    turns_per_conversation: RateLimitItem
    max_in_flight: int
    max_queued: int
    trust_forwarded_for: bool = False
    limiter: MovingWindowRateLimiter = field(default_factory=lambda: MovingWindowRateLimiter(MemoryStorage()))
    waiting: int = 0
    slots: asyncio.Semaphore | None = None

    @classmethod
    def for_settings(cls, settings: Settings) -> "ChatThrottle":
        return cls(
            per_client=parse(settings.chat_rate_per_client),
            per_conversation=parse(settings.chat_rate_per_conversation),
            turns_per_conversation=parse(settings.chat_turns_per_conversation),
            max_in_flight=settings.chat_max_in_flight,
            max_queued=settings.chat_max_queued,
            trust_forwarded_for=settings.trust_x_forwarded_for,
        )

    def client_address(self, request: web.Request) -> str:
        if self.trust_forwarded_for:
            # The last address is the one our own proxy added; earlier ones the client may have made up.
            forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")]
            if forwarded and forwarded[-1]:
                return forwarded[-1]
        return request.remote or "unknown"

    def retry_after(self, item: RateLimitItem, *key: str) -> int:
        """Whole seconds until the window lets one more through (Retry-After)."""
        reset = self.limiter.get_window_stats(item, *key).reset_time
        return max(1, math.ceil(reset - time.time()))

    def hit_client(self, request: web.Request) -> int | None:
        """None when this client may send now, else the seconds to wait."""
        key = ("client", self.client_address(request))
        if self.limiter.hit(self.per_client, *key):
            return None
        return self.retry_after(self.per_client, *key)

    def hit_conversation(self, sender_id: str) -> int | None:
        key = ("conversation", sender_id)
        if self.limiter.hit(self.per_conversation, *key):
            return None
        return self.retry_after(self.per_conversation, *key)

    def hit_turns(self, sender_id: str) -> bool:
        """Whether this conversation may have one more turn."""
        return self.limiter.hit(self.turns_per_conversation, "turns", sender_id)

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold a place at Rasa for one message, or raise Busy at once."""
        if self.slots is None:
            # Made on first use, inside the running event loop.
            self.slots = asyncio.Semaphore(self.max_in_flight)
        if self.slots.locked() and self.waiting >= self.max_queued:
            raise Busy()
        self.waiting += 1
        try:
            await asyncio.wait_for(self.slots.acquire(), QUEUE_WAIT_SECONDS)
        except asyncio.TimeoutError:
            raise Busy() from None
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self.slots.release()
