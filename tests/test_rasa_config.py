"""Rasa's endpoints are written from our settings: same database, loopback action server, Redis locks."""

from __future__ import annotations

import yaml

from bot.rasa_config import endpoints, write_endpoints
from bot.settings import Settings


def test_sqlite_by_default_in_the_apps_own_file(tmp_path):
    settings = Settings.from_env({"DATA_DIR": str(tmp_path)})
    config = endpoints(settings)
    assert config["tracker_store"] == {"type": "SQL", "dialect": "sqlite", "db": str(tmp_path / "clinic.db")}
    assert config["action_endpoint"]["url"] == "http://127.0.0.1:5055/webhook"
    assert "lock_store" not in config


def test_postgresql_and_redis_for_several_servers():
    settings = Settings.from_env({
        "DATABASE_URL": "postgresql://clinic:p%40ss@db.internal:5433/leads",
        "REDIS_URL": "redis://:redispw@cache:6380/2",
    })
    config = endpoints(settings, action_port=6055)
    assert config["tracker_store"] == {
        "type": "SQL", "dialect": "postgresql", "url": "db.internal", "port": 5433, "db": "leads",
        "username": "clinic", "password": "p@ss",
    }
    assert config["lock_store"] == {"type": "redis", "url": "cache", "port": 6380, "db": 2, "password": "redispw"}
    assert config["action_endpoint"]["url"] == "http://127.0.0.1:6055/webhook"


def test_the_file_rasa_reads(tmp_path):
    path = write_endpoints(Settings.from_env({"DATA_DIR": str(tmp_path)}), tmp_path / "run" / "endpoints.yml")
    assert yaml.safe_load(path.read_text())["tracker_store"]["dialect"] == "sqlite"
