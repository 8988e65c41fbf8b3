"""`python -m bot run`: the whole assistant on one machine, stopped cleanly with Ctrl-C."""

from __future__ import annotations

import logging
import sys
from urllib.parse import urlsplit

from bot.db import make_engine, make_session_factory, upgrade_database
from bot.settings import Settings
from bot.stack import RasaStack, StackError
from bot.staff.accounts import ensure_initial_admin
from bot.web.app import serve


def _step(message: str) -> None:
    print(f"==> {message}", flush=True)


def _prepare_database(settings: Settings) -> None:
    engine = make_engine(settings)
    try:
        upgrade_database(engine)
        password = ensure_initial_admin(make_session_factory(engine))
    finally:
        engine.dispose()
    if password:
        print(
            "\n    A staff account was created: login `admin`, one-time password "
            f"{password}\n    (shown once; you will be asked to change it at first login)\n",
            flush=True,
        )


def main() -> int:
    settings = Settings.from_env()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Each migration step is news to developers, not to whoever starts the assistant.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    _step(f"Preparing the database ({'PostgreSQL' if settings.database_url else settings.sqlite_path})")
    _prepare_database(settings)
    stack = RasaStack(settings, rasa_port=urlsplit(settings.rasa_urls[0]).port or 5005)
    try:
        _step("Starting the action server and Rasa (loading the model takes about 20 seconds)")
        stack.start()
        stack.wait_ready()
        # From here on a child that dies is restarted; the web app, the staff pages and the
        # outbox carry on meanwhile, and the chat tells visitors to call.
        stack.supervise()
        _step("Starting the web app")
        serve(
            settings,
            ready_message=(
                f"\nThe assistant is ready: {settings.public_url}/   (staff pages: {settings.public_url}/staff)\n"
                "Press Ctrl-C to stop.\n"
            ),
        )
    except StackError as error:
        print(f"Could not start the assistant: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        _step("Stopping Rasa and the action server")
        stack.stop()
    return 0
