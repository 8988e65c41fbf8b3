"""The staff notice as a JSON POST to a webhook (a chat room, a CRM, an automation service)."""

from __future__ import annotations

import asyncio
from typing import Mapping

import aiohttp

from bot.notify import DeliveryError
from bot.settings import Settings

# Statuses that say "later", not "never".
_RETRYABLE_CLIENT_ERRORS = {408, 425, 429}
WEBHOOK_FIELDS = ("event", "lead_id", "kind", "url", "created_at")


class WebhookSender:
    """POSTs `{"event": "lead.created", "lead_id", "kind", "url", "created_at"}`; any 2xx is success."""

    def __init__(self, settings: Settings, *, timeout_seconds: float = 10.0) -> None:
        self._settings = settings
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def send(self, payload: Mapping) -> None:
        url = self._settings.webhook_url
        if not url:
            raise DeliveryError("webhook notices are not configured (WEBHOOK_URL)", permanent=True)
        body = {field: payload[field] for field in WEBHOOK_FIELDS}
        headers = {
            # Lets the receiver drop a repeat should a notice ever be delivered twice.
            "Idempotency-Key": f"{payload['event']}-{payload['lead_id']}",
            "User-Agent": "clinic-assistant-notices",
        }
        try:
            async with aiohttp.ClientSession(timeout=self._timeout) as session:
                async with session.post(url, json=body, headers=headers, allow_redirects=False) as response:
                    status = response.status
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise DeliveryError(f"webhook unreachable ({type(exc).__name__})") from None
        if 200 <= status < 300:
            return
        permanent = 300 <= status < 500 and status not in _RETRYABLE_CLIENT_ERRORS
        raise DeliveryError(f"webhook answered HTTP {status}", permanent=permanent)
