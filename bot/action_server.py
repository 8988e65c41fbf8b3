"""`python -m bot actions`: rasa_sdk's action server for our actions, answering only Rasa.

Rasa sends the token from its endpoints (`action_endpoint.token`) as `?token=` with every call;
a call without it is refused before any action runs, so no other process can run
`action_submit_inquiry` with a made-up conversation. `/health` stays open: it tells nothing.
"""

from __future__ import annotations

import hmac
import logging
import os
from functools import partial

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sanic.worker.loader import AppLoader

from bot.secrets import action_server_token
from bot.settings import Settings

log = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/health"})


def create_action_server(token: str) -> Sanic:
    """rasa_sdk's server for the `actions` package, refusing calls without `token` (403)."""
    executor = ActionExecutor()
    executor.register_package("actions")
    # No CORS: browsers have no business here.
    app = create_app(executor, cors_origins=None)

    @app.middleware("request")
    async def only_rasa(request: Request):
        if request.path in OPEN_PATHS:
            return None
        given = request.args.get("token", "")
        if not hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8")):
            return response.json({"error": "This server answers only the assistant's Rasa server."}, status=403)
        return None

    return app


def main(port: int) -> int:
    settings = Settings.from_env()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    loader = AppLoader(factory=partial(create_action_server, action_server_token(settings)))
    app = loader.load()
    host = os.environ.get("SANIC_HOST", "0.0.0.0")
    workers = utils.number_of_sanic_workers()
    log.info("Action server listening on %s:%s", host, port)
    if workers == 1:
        # This process serves: killed, it leaves no worker behind on the port for its restart.
        app.prepare(host=host, port=port, single_process=True, access_log=False)
        Sanic.serve_single(primary=app)
    else:
        # Sanic starts its workers as new processes, each building the app again from the loader.
        app.prepare(host=host, port=port, workers=workers, access_log=False)
        Sanic.serve(primary=app, app_loader=loader)
    return 0
