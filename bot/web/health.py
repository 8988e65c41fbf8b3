"""`GET /healthz` (the web app answers) and `GET /readyz` (every part a visitor needs answers).

For uptime monitors and container health checks. Neither says anything about visitors or leads
beyond counts.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import aiohttp
from aiohttp import web
from sqlalchemy import func, select, text
from sqlalchemy.orm import sessionmaker

from bot.db import SESSION_FACTORY, utcnow
from bot.notify.models import OutboxMessage
from bot.web.keys import HTTP_CLIENT, RASA_API_TOKEN, SETTINGS

CHECK_TIMEOUT_SECONDS = 3.0
# A notice this old has missed several retries: staff are not hearing of new leads.
LATE_NOTICE_SECONDS = 30 * 60
NO_STORE = {"Cache-Control": "no-store"}


async def healthz(request: web.Request) -> web.Response:
    """Liveness: 200 while the web app serves requests, whatever else is down."""
    return web.json_response({"status": "ok"}, headers=NO_STORE)


async def _answers(session: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=CHECK_TIMEOUT_SECONDS)) as response:
            return response.status == 200
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return False


async def _rasa_ready(session: aiohttp.ClientSession, base_url: str, token: str) -> bool:
    """A model is loaded: Rasa's /status says which, when its HTTP API is on (`python -m bot run`)."""
    try:
        async with session.get(f"{base_url}/status", params={"token": token},
                               timeout=aiohttp.ClientTimeout(total=CHECK_TIMEOUT_SECONDS)) as response:
            if response.status == 404:
                # The API is off (as in deploy/): Rasa listens once it has loaded its model.
                return await _answers(session, f"{base_url}/webhooks/rest/")
            return response.status == 200 and bool((await response.json()).get("model_id"))
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
        return False


def _count(answers: list[bool]) -> dict[str, int]:
    return {"reachable": sum(answers), "total": len(answers)}


def _database_and_outbox(factory: sessionmaker, now: datetime) -> dict:
    with factory() as db:
        db.execute(text("SELECT 1"))
        unsent, oldest = db.execute(
            select(func.count(OutboxMessage.id), func.min(OutboxMessage.created_at)).where(
                OutboxMessage.sent_at.is_(None)
            )
        ).one()
    oldest_seconds = None if oldest is None else max(0, int((now - oldest).total_seconds()))
    return {"unsent": unsent, "oldest_unsent_seconds": oldest_seconds}


async def _database_check(factory: sessionmaker) -> dict | None:
    try:
        return await asyncio.wait_for(
            asyncio.to_thread(_database_and_outbox, factory, utcnow()), CHECK_TIMEOUT_SECONDS
        )
    except Exception:  # noqa: BLE001 - any failure of the database means not ready, and is reported so
        return None


async def readyz(request: web.Request) -> web.Response:
    """Readiness: 503 when the database, every Rasa server or every action server is down.

    A late staff notice (SMTP or webhook failing) makes the status "degraded" but not 503: the
    chat still works and the notice is kept until it goes out.
    """
    settings = request.app[SETTINGS]
    session = request.app[HTTP_CLIENT]
    token = request.app[RASA_API_TOKEN]
    outbox, rasa, actions = await asyncio.gather(
        _database_check(request.app[SESSION_FACTORY]),
        asyncio.gather(*(_rasa_ready(session, url, token) for url in settings.rasa_urls)),
        asyncio.gather(*(_answers(session, f"{url}/health") for url in settings.action_server_urls)),
    )
    rasa, actions = _count(rasa), _count(actions)
    checks = {"database": {"ok": outbox is not None}, "rasa": rasa, "action_server": actions,
              "outbox": outbox or {"unsent": None, "oldest_unsent_seconds": None}}
    if outbox is None or not rasa["reachable"] or not actions["reachable"]:
        status, code = "unavailable", 503
    elif (
        rasa["reachable"] < rasa["total"]
        or actions["reachable"] < actions["total"]
        or (outbox["oldest_unsent_seconds"] or 0) > LATE_NOTICE_SECONDS
    ):
        status, code = "degraded", 200
    else:
        status, code = "ready", 200
    return web.json_response({"status": status, **checks}, status=code, headers=NO_STORE)
