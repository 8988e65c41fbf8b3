"""The staff pages as an aiohttp sub-application: `make_staff_app(settings)`, mounted at /staff.

Its own session cookie, templates, middlewares and keys; the web app's database and settings
are reached through `request.config_dict` (`bot.db.SESSION_FACTORY`, `bot.settings.SETTINGS`).
Database work runs in a worker thread, one session per unit of work (`bot.staff.pages.run_db`).
"""

from __future__ import annotations

import weakref
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp_session import session_middleware
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from bot.leads.links import STAFF_PREFIX
from bot.secrets import session_fernet
from bot.settings import Settings
from bot.staff.auth import ThrottlePolicy
from bot.staff.display import add_display_filters
from bot.staff.guard import SESSION_COOKIE, check_csrf, require_sign_in, resume_sign_in, staff_headers
from bot.staff.keys import STAFF_SIGN_IN_LOCKS, STAFF_THROTTLE
from bot.staff.routes import setup_routes
from bot.staff.schedule_display import add_schedule_filters

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def make_staff_app(settings: Settings) -> web.Application:
    """The staff pages, to mount with `app.add_subapp(STAFF_PREFIX, ...)`.

    Raises ValueError when the session key is unusable (`bot.secrets.session_fernet`).
    """
    storage = EncryptedCookieStorage(
        session_fernet(settings),
        cookie_name=SESSION_COOKIE,
        path=STAFF_PREFIX,
        httponly=True,
        samesite="Strict",
        secure=settings.cookie_secure,
        # A browser-session cookie: the idle limit is enforced on the server.
        max_age=None,
    )
    app = web.Application(
        middlewares=[session_middleware(storage), staff_headers, resume_sign_in, check_csrf, require_sign_in]
    )
    app[STAFF_THROTTLE] = ThrottlePolicy()
    # Weak: a lock lives only while attempts on that login wait or run, so logins
    # someone makes up do not pile up in memory.
    app[STAFF_SIGN_IN_LOCKS] = weakref.WeakValueDictionary()
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    add_display_filters(env, ZoneInfo(settings.clinic_timezone))
    add_schedule_filters(env, ZoneInfo(settings.clinic_timezone))
    setup_routes(app)
    return app
