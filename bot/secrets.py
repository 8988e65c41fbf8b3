"""Secrets the processes of one installation share: from the settings, else made once in DATA_DIR."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

from bot.settings import Settings

log = logging.getLogger(__name__)

ACTION_SERVER_KEY_FILE = "action-server.key"
RASA_API_KEY_FILE = "rasa-api.key"
# Shared with the staff session cookies (`session_fernet`), which made it first.
SESSION_KEY_FILE = "session.key"
MIN_SESSION_SECRET = 32


def key_file(path: Path, make: "callable[[], bytes]") -> bytes:
    """The key in `path`, written there (readable by this user only) by `make()` the first time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)
        return path.read_bytes().strip()
    key = make()
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key + b"\n")
    log.info("Created a new key in %s", path)
    return key


def action_server_token(settings: Settings) -> str:
    """The token Rasa sends with every call to the action server, which refuses calls without it."""
    if settings.action_server_token:
        return settings.action_server_token
    return key_file(settings.data_dir / ACTION_SERVER_KEY_FILE, lambda: secrets.token_urlsafe(32).encode()).decode()


def rasa_api_token(settings: Settings) -> str:
    """The token that guards Rasa's HTTP API under `python -m bot run` (and lets /readyz ask it)."""
    if settings.rasa_api_token:
        return settings.rasa_api_token
    return key_file(settings.data_dir / RASA_API_KEY_FILE, lambda: secrets.token_urlsafe(32).encode()).decode()


def session_fernet(settings: Settings) -> Fernet:
    """The key of the staff session cookies: from SESSION_SECRET, else a key file made once.

    Raises ValueError for a SESSION_SECRET under MIN_SESSION_SECRET characters, or a key file
    that holds no key.
    """
    if settings.session_secret:
        if len(settings.session_secret) < MIN_SESSION_SECRET:
            raise ValueError(f"SESSION_SECRET must be at least {MIN_SESSION_SECRET} characters long")
        digest = hashlib.sha256(settings.session_secret.encode("utf-8")).digest()
        return Fernet(base64.urlsafe_b64encode(digest))
    path = settings.data_dir / SESSION_KEY_FILE
    key = key_file(path, Fernet.generate_key)
    try:
        return Fernet(key)
    except ValueError:
        raise ValueError(f"{path} does not hold a valid session key; delete it to make a new one") from None


def signing_key(settings: Settings) -> bytes:
    """The key the web app signs what it hands browsers with (conversation ids, button payloads).

    Each use adds its own salt (itsdangerous), so no signature is good for another purpose.
    """
    if settings.session_secret:
        return hashlib.sha256(b"clinic-assistant signing\0" + settings.session_secret.encode("utf-8")).digest()
    return key_file(settings.data_dir / SESSION_KEY_FILE, Fernet.generate_key)
