"""Rasa's endpoints file, written from our settings so Rasa and the app share one database."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

from bot.settings import Settings


def tracker_store(settings: Settings) -> dict:
    """Rasa's SQL tracker store on the application's own database."""
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        return {"type": "SQL", "dialect": "sqlite", "db": str(settings.sqlite_path)}
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgresql"):
        raise ValueError("DATABASE_URL must be a sqlite:/// or postgresql:// URL")
    store = {
        "type": "SQL",
        "dialect": "postgresql",
        "url": parts.hostname or "localhost",
        "port": parts.port or 5432,
        "db": parts.path.lstrip("/"),
    }
    if parts.username:
        store["username"] = unquote(parts.username)
    if parts.password:
        store["password"] = unquote(parts.password)
    return store


def endpoints(settings: Settings, action_port: int | None = None, action_token: str = "") -> dict:
    port = action_port or settings.action_server_port
    action_endpoint = {"url": f"http://127.0.0.1:{port}/webhook"}
    if action_token:
        # Rasa sends it as ?token= with every call; the action server refuses calls without it.
        action_endpoint["token"] = action_token
    config: dict = {
        "action_endpoint": action_endpoint,
        "tracker_store": tracker_store(settings),
    }
    if settings.redis_url:
        parts = urlsplit(settings.redis_url)
        lock_store = {"type": "redis", "url": parts.hostname or "localhost", "port": parts.port or 6379,
                      "db": int(parts.path.lstrip("/") or 0)}
        if parts.password:
            lock_store["password"] = unquote(parts.password)
        config["lock_store"] = lock_store
    return config


def write_endpoints(settings: Settings, path: Path, action_port: int | None = None, action_token: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # It holds the database password and the action server's token: for this user's eyes only.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(path, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(yaml.safe_dump(endpoints(settings, action_port, action_token), sort_keys=False))
    return path
