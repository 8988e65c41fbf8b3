"""The app factory and the server entry point of the clinic's public web app."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import aiohttp_jinja2
import jinja2
from aiohttp import web, web_response
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler

from bot.db import ENGINE, SESSION_FACTORY, database_in_use, make_engine, make_session_factory, upgrade_database
from bot.insights.weekly import weekly_summary_email
from bot.leads.links import STAFF_PREFIX
from bot.leads.visits import visit_email_sender
from bot.notify.outbox import OutboxWorker
from bot.schedule.worker import schedule_worker
from bot.secrets import rasa_api_token
from bot.settings import SETTINGS, Settings
from bot.staff.app import make_staff_app
from bot.web.answers import RecentAnswers
from bot.web.article_links import ArticleLinks
from bot.web.content import load_articles
from bot.web.chat import ChatSigners
from bot.web.cors import cross_origin
from bot.web.keys import (
    ARTICLE_LINKS, ARTICLES, CHAT_SIGNERS, CHAT_THROTTLE, HTTP_CLIENT, OUTBOX_WORKER, RASA_API_TOKEN, RECENT_ANSWERS,
    SESSION_RENEWAL, WIDGET,
)
from bot.web.routes import setup_routes
from bot.web.sessions import SessionRenewal
from bot.web.throttle import ChatThrottle
from bot.web.views import tel_href
from bot.web.widget import Widget

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).parent / "templates"

# Scripts and styles come only from this app's own /static files: no inline code, no CDN.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ]
)
SERVER_NAME = "clinic-assistant"
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


async def set_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    # setdefault: a handler that needs a different value for one response sets it itself.
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    # Instead of aiohttp's and Python's versions, which only help whoever looks for a known flaw.
    response.headers["Server"] = SERVER_NAME


async def cache_versioned_static_files(request: web.Request, response: web.StreamResponse) -> None:
    # A versioned address (/static/chat.js?v=<digest>) changes whenever the file does.
    if request.path.startswith("/static/") and "v" in request.query and response.status == 200:
        response.headers.setdefault("Cache-Control", "public, max-age=31536000, immutable")


async def http_client(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession(raise_for_status=False) as session:
        app[HTTP_CLIENT] = session
        yield


async def database(app: web.Application) -> AsyncIterator[None]:
    with database_in_use(app[SETTINGS]):
        engine = make_engine(app[SETTINGS])
        # The schema is brought up to date at every start, before the first request.
        await asyncio.to_thread(upgrade_database, engine)
        app[ENGINE] = engine
        app[SESSION_FACTORY] = make_session_factory(engine)
        yield
        engine.dispose()


async def outbox_worker(app: web.Application) -> AsyncIterator[None]:
    """Sends queued notices of new leads and visitors' visit confirmations, also those left from before a restart."""
    worker = OutboxWorker(
        app[SESSION_FACTORY], app[SETTINGS], visit_email_sender=visit_email_sender(app[SESSION_FACTORY], app[SETTINGS])
    )
    app[OUTBOX_WORKER] = worker
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    yield
    stop.set()
    worker.wake()
    await task


@web.middleware
async def json_errors_for_api(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The widget reads JSON from /api/ even for a wrong method or address."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if not request.path.startswith("/api/") or error.status < 400:
            raise
        return web.json_response(
            {"error": error.reason}, status=error.status, headers={k: v for k, v in error.headers.items() if k == "Allow"}
        )


def create_app(settings: Settings) -> web.Application:
    # cross_origin first: it answers preflights and adds its headers to the JSON errors too.
    app = web.Application(middlewares=[cross_origin, json_errors_for_api])
    app[SETTINGS] = settings
    app[ARTICLES] = load_articles(settings.content_dir)
    app[CHAT_SIGNERS] = ChatSigners.for_settings(settings)
    app[RASA_API_TOKEN] = rasa_api_token(settings)
    app[CHAT_THROTTLE] = ChatThrottle.for_settings(settings)
    app[RECENT_ANSWERS] = RecentAnswers()
    app[SESSION_RENEWAL] = SessionRenewal(settings.rasa_session_turns, app[RASA_API_TOKEN])
    app.cleanup_ctx.extend([database, outbox_worker, http_client])
    # Lapses expired holds and refreshes the clinic calendar's feed, with the client above.
    app.cleanup_ctx.append(schedule_worker(HTTP_CLIENT))
    app.cleanup_ctx.append(weekly_summary_email)
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["tel_href"] = tel_href
    app.on_response_prepare.append(set_security_headers)
    app.on_response_prepare.append(cache_versioned_static_files)
    setup_routes(app)
    app[WIDGET] = Widget.build(settings, app[CHAT_SIGNERS], str(app.router["chat"].url_for()))
    app[ARTICLE_LINKS] = ArticleLinks.for_article(
        app[ARTICLES][0], str(app.router["index"].url_for()), settings.article_url
    )
    app.add_subapp(STAFF_PREFIX, make_staff_app(settings))
    return app


class AccessLogger(AbstractAccessLogger):
    """Method, path, status, size and time only: query strings can carry what a visitor typed.

    A path holding a secret (the staff calendar feed's `{token}`) is logged as its route's pattern.
    """

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %s %s %.1f ms", request.method, _logged_path(request), response.status, response.body_length,
            time * 1000,
        )


_SECRET_IN_PATH = re.compile(r"(/calendar/)[^/]+(\.ics)$")


def _logged_path(request: web.BaseRequest) -> str:
    # Also for requests refused before routing, which have no route to name.
    return _SECRET_IN_PATH.sub(r"\1{token}\2", request.path)


class MalformedRequestLog(logging.Filter):
    """One line at INFO for a request aiohttp could not parse, instead of an ERROR with a traceback.

    Anyone can send broken HTTP as often as they like; the exception's text quotes the bytes sent.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, HttpProcessingError):
            return True
        record.levelno, record.levelname = logging.INFO, "INFO"
        record.msg, record.args = "Refused a request that is not well-formed HTTP (%s)", (type(error).__name__,)
        record.exc_info, record.exc_text = None, None
        return logging.getLogger(record.name).isEnabledFor(logging.INFO)


def serve(settings: Settings, ready_message: str | None = None) -> None:
    """Run the app on settings.host and settings.port until interrupted."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(settings)
    # Requests aiohttp rejects before routing (a request line or header over 8 KB, broken HTTP)
    # are answered without the app's signals: its default Server header would name versions.
    web_response.SERVER_SOFTWARE = SERVER_NAME
    logging.getLogger("aiohttp.server").addFilter(MalformedRequestLog())
    log.info("Serving the clinic page on http://%s:%s/", settings.host, settings.port)
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        access_log=logging.getLogger("aiohttp.access"),
        access_log_class=AccessLogger,
        print=(lambda _default: print(ready_message, flush=True)) if ready_message else None,
    )
