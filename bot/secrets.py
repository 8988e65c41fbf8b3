"""Secrets the processes of one installation share: from the settings, else made once in DATA_DIR."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from bot.settings import Settings

log = logging.getLogger(__name__)

ACTION_SERVER_KEY_FILE = "action-server.key"


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
