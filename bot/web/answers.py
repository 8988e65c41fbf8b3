"""The chat's recent answers by message id, so a message sent twice reaches Rasa once.

The widget gives each message an id of its own and keeps it until the answer has arrived. A
visitor who moves to another page of the site while an answer is on its way leaves the request
behind (the browser drops it; the relay still finishes it); the widget on the next page sends
the same message with the same id, and gets the answer the first request was given, or waits
for it. A message whose first try failed is tried again.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from aiohttp import web

# Long enough for a page to load and send again; short enough to hold little.
KEEP_SECONDS = 300.0
MOST_KEPT = 10_000

Key = tuple[str, str]


class RecentAnswers:
    """Answers (the JSON bodies of 200 responses) by (signed conversation id or "", message id)."""

    def __init__(self, keep_seconds: float = KEEP_SECONDS, most: int = MOST_KEPT) -> None:
        self.keep_seconds, self.most = keep_seconds, most
        self._answers: OrderedDict[Key, tuple[float, asyncio.Future[dict | None]]] = OrderedDict()

    def _forget_old(self) -> None:
        oldest_kept = time.monotonic() - self.keep_seconds
        while self._answers and (len(self._answers) > self.most or next(iter(self._answers.values()))[0] < oldest_kept):
            self._answers.popitem(last=False)

    async def once(self, key: Key | None, answer: Callable[[], Awaitable[web.Response]]) -> web.Response:
        """`answer()`'s response, or, for a key seen before, the answer given then (waiting for it)."""
        if key is None:
            return await answer()
        self._forget_old()
        if key in self._answers:
            body = await asyncio.shield(self._answers[key][1])
            if body is not None:
                return web.json_response(body, headers={"Cache-Control": "no-store"})
        future: asyncio.Future[dict | None] = asyncio.get_running_loop().create_future()
        self._answers[key] = (time.monotonic(), future)
        try:
            response = await answer()
        except BaseException:
            self._answers.pop(key, None)
            future.set_result(None)
            raise
        if response.status == 200 and isinstance(response, web.Response) and response.body is not None:
            future.set_result(json.loads(response.body))
        else:
            # Not answered: the same message sent again is a new try.
            self._answers.pop(key, None)
            future.set_result(None)
        return response
