"""Keeps each Rasa session short, so a turn costs the same late in a conversation as early on.

At every turn Rasa reads every event of the conversation's current session from its tracker
store and replays them, and its rule and memoization policies turn all of them into states
(`bench/README.md` has the figures). A session ends only after `session_expiration_time` of
silence, so a long conversation keeps growing. Every `rasa_session_turns` turns the relay
starts a new session the way Rasa itself does: `/session_start` runs `action_session_start`.
Never while a form (the inquiry) is in progress, which the new session would forget: Rasa's
HTTP API (guarded by RASA_API_TOKEN) says whether one is; without it nothing is renewed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass, field

import aiohttp

from bot.conversation_log import SESSION_START_MESSAGE

log = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 5.0
# Conversations counted at once; the oldest are forgotten first (and renewed a little later).
MAX_TRACKED = 20_000


@dataclass
class SessionRenewal:
    turns: int
    api_token: str
    counts: OrderedDict[str, int] = field(default_factory=OrderedDict)

    def count(self, sender_id: str) -> None:
        """One more turn of this conversation went through Rasa."""
        self.counts[sender_id] = self.counts.pop(sender_id, 0) + 1
        while len(self.counts) > MAX_TRACKED:
            self.counts.popitem(last=False)

    def due(self, sender_id: str) -> bool:
        return self.turns > 0 and self.counts.get(sender_id, 0) >= self.turns

    async def renew_if_idle(self, session: aiohttp.ClientSession, base_url: str, sender_id: str) -> bool:
        """Start a new Rasa session unless a form is in progress; whether it was started."""
        timeout = aiohttp.ClientTimeout(total=CHECK_TIMEOUT_SECONDS)
        try:
            async with session.get(f"{base_url}/conversations/{sender_id}/tracker",
                                   params={"include_events": "NONE", "token": self.api_token},
                                   timeout=timeout) as response:
                if response.status != 200:
                    return False
                tracker = await response.json()
            if (tracker.get("active_loop") or {}).get("name"):
                return False
            async with session.post(f"{base_url}/webhooks/rest/webhook",
                                    json={"sender": sender_id, "message": SESSION_START_MESSAGE},
                                    timeout=timeout) as response:
                if response.status != 200:
                    return False
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            # The visitor's turn goes on regardless; the session is renewed another time.
            log.warning("Could not start a new Rasa session (%s)", error.__class__.__name__)
            return False
        self.counts.pop(sender_id, None)
        return True
