"""Which sites' pages may talk to the assistant: CORS on `/api/`, for ALLOWED_ORIGINS only.

The widget on the clinic's own website calls `/api/chat` from another origin. Its JSON body
makes the browser ask first (a preflight `OPTIONS`); only the origins in ALLOWED_ORIGINS, and
our own, get a yes. Any other origin gets 403 with no CORS headers, to the preflight and to a
request sent without one, so its page neither reaches Rasa nor reads an answer.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.settings import Settings, origin_of
from bot.web.keys import SETTINGS

log = logging.getLogger(__name__)

# Browsers cache a granted preflight this long (Chromium caps it at 2 hours).
PREFLIGHT_MAX_AGE_SECONDS = 600
REFUSED_MESSAGE = "This site may not use the clinic's assistant (its address is not in ALLOWED_ORIGINS)."


def is_own_origin(origin: str, request: web.Request, settings: Settings) -> bool:
    """A page of this web app: PUBLIC_URL's origin, or the host the request was sent to.

    The host alone is compared, not the scheme, because behind a proxy that ends TLS the app
    sees http while the browser's page is https.
    """
    return origin == origin_of(settings.public_url) or urlsplit(origin).netloc == request.host.lower()


@web.middleware
async def cross_origin(request: web.Request, handler: Handler) -> web.StreamResponse:
    origin = request.headers.get("Origin")
    if not request.path.startswith("/api/") or origin is None:
        # Not the API, or not a browser's cross-site request: browsers always send Origin with one.
        return await handler(request)
    settings = request.app[SETTINGS]
    if is_own_origin(origin.lower(), request, settings):
        return await handler(request)
    allowed = origin.lower() in settings.allowed_origins
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        if not allowed or request.headers["Access-Control-Request-Method"] != "POST":
            return web.Response(status=403, headers={"Vary": "Origin"})
        return web.Response(status=204, headers={
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": "POST",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_SECONDS),
            "Vary": "Origin",
        })
    if not allowed:
        log.info("Refused %s %s from a page on %s, which is not in ALLOWED_ORIGINS", request.method, request.path, origin)
        return web.json_response({"error": REFUSED_MESSAGE}, status=403, headers={"Vary": "Origin"})
    response = await handler(request)
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Vary"] = "Origin"
    return response
