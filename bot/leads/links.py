"""A lead's page in the staff pages: the staff app routes it, notices link to it.

The notice is queued where the lead is saved (the action server), far from any web app,
so the address is built from the route's own pattern rather than from a router.
"""

from __future__ import annotations

from aiohttp import web

# Where the web app mounts the staff pages.
STAFF_PREFIX = "/staff"
# The route of one lead's page, inside the staff pages.
LEAD_PAGE = r"/leads/{lead_id:\d+}"


def lead_page_url(public_url: str, lead_id: int) -> str:
    """The absolute address of lead `lead_id`'s page, for a notice."""
    path = web.DynamicResource(STAFF_PREFIX + LEAD_PAGE).url_for(lead_id=str(lead_id))
    return f"{public_url.rstrip('/')}{path}"
