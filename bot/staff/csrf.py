"""CSRF tokens of the staff pages: one per session, sent with every form.

Every POST is checked once, by `bot.staff.guard.check_csrf`, so no form can forget it.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import MutableMapping
from typing import Any

CSRF_FIELD = "csrf_token"
_CSRF_SESSION_KEY = "csrf"


def csrf_token(session: MutableMapping[str, Any]) -> str:
    """The session's CSRF token, made on first use."""
    token = session.get(_CSRF_SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[_CSRF_SESSION_KEY] = token
    return token


def rotate_csrf_token(session: MutableMapping[str, Any]) -> str:
    """A new CSRF token, after the password changed: a token read before no longer works."""
    session[_CSRF_SESSION_KEY] = secrets.token_urlsafe(32)
    return session[_CSRF_SESSION_KEY]


def csrf_matches(session: MutableMapping[str, Any], submitted: object) -> bool:
    expected = session.get(_CSRF_SESSION_KEY)
    if not isinstance(expected, str) or not expected or not isinstance(submitted, str):
        return False
    return hmac.compare_digest(expected.encode("utf-8"), submitted.encode("utf-8"))
