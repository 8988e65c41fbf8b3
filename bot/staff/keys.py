"""The staff app's shared state and each request's account, one typed key each."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from bot.staff.auth import ResumedSession, ThrottlePolicy

# What time it is for the staff pages (idle limits, audit entries): read through
# `request.config_dict`, so a test sets it on the web app; unset, the real time.
STAFF_CLOCK = web.AppKey("staff_clock", Callable[[], datetime])
# Waits and locks after wrong passwords.
STAFF_THROTTLE = web.AppKey("staff_throttle", ThrottlePolicy)
# One sign-in or password check per account at a time (bot.staff.views.sign_in).
STAFF_SIGN_IN_LOCKS = web.AppKey("staff_sign_in_locks", weakref.WeakValueDictionary)

# The signed-in account of this request (a StaffAccount), or None.
CURRENT_ACCOUNT = web.RequestKey("staff_account", object)
# How the request's sign-in was found: still valid, idle too long, or too old.
RESUMED_SESSION = web.RequestKey("staff_resumed_session", ResumedSession)
