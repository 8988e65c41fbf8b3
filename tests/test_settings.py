"""Settings read from the environment, with clear messages for values that cannot work."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import time
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT, Settings, SettingsError


def test_defaults_run_everything_on_loopback_with_sqlite():
    settings = Settings.from_env({})
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.rasa_urls == ("http://127.0.0.1:5005",)
    assert settings.effective_database_url.startswith("sqlite:///")
    assert settings.effective_database_url.endswith("var/clinic.db")
    assert settings.opening_hours.days == (0, 1, 2, 3, 4)


def test_environment_overrides():
    settings = Settings.from_env({
        "HOST": "0.0.0.0", "PORT": "9000", "DATA_DIR": "/srv/clinic",
        "RASA_URLS": "http://10.0.0.5:5005/, http://10.0.0.6:5005",
        "DATABASE_URL": "postgresql://clinic:secret@db/clinic", "MAIL_TO": "a@clinic.test, b@clinic.test",
        "SMTP_STARTTLS": "yes", "CLINIC_OPEN_DAYS": "mon-thu,sat", "CLINIC_OPEN_HOURS": "07:30-19:00",
    })
    assert settings.public_url == "http://127.0.0.1:9000"
    assert settings.sqlite_path == Path("/srv/clinic/clinic.db")
    assert settings.rasa_urls == ("http://10.0.0.5:5005", "http://10.0.0.6:5005")
    assert settings.effective_database_url == "postgresql://clinic:secret@db/clinic"
    assert settings.mail_to == ("a@clinic.test", "b@clinic.test")
    assert settings.smtp_starttls is True
    assert settings.opening_hours.days == (0, 1, 2, 3, 5)
    assert (settings.opening_hours.opens, settings.opening_hours.closes) == (time(7, 30), time(19, 0))


def test_staff_idle_minutes_of_one_or_more_are_accepted():
    assert Settings.from_env({"STAFF_IDLE_MINUTES": "1"}).staff_idle_minutes == 1
    assert Settings.from_env({}).staff_idle_minutes == 30


def test_https_public_url_makes_cookies_secure():
    assert Settings.from_env({"PUBLIC_URL": "https://clinic.example"}).cookie_secure is True
    assert Settings.from_env({}).cookie_secure is False


@pytest.mark.parametrize(
    "env, message",
    [
        ({"PORT": "eighty"}, "PORT must be a whole number"),
        ({"SMTP_STARTTLS": "maybe"}, "SMTP_STARTTLS must be true or false"),
        ({"CLINIC_OPEN_DAYS": "mon-funday"}, "CLINIC_OPEN_DAYS has an unknown day"),
        ({"CLINIC_OPEN_HOURS": "9 to 5"}, "CLINIC_OPEN_HOURS must look like 08:00-17:00"),
        ({"CLINIC_OPEN_HOURS": "17:00-08:00"}, "must close after it opens"),
        ({"STAFF_IDLE_MINUTES": "0"}, "STAFF_IDLE_MINUTES must be at least 1"),
        ({"STAFF_IDLE_MINUTES": "-5"}, "STAFF_IDLE_MINUTES must be at least 1"),
        ({"STAFF_MAX_SESSION_HOURS": "0"}, "STAFF_MAX_SESSION_HOURS must be at least 1"),
        ({"CHAT_RATE_PER_CLIENT": "lots"}, "CHAT_RATE_PER_CLIENT must look like 20/minute"),
        ({"CHAT_RATE_PER_CONVERSATION": "0/minute"}, "CHAT_RATE_PER_CONVERSATION must look like 20/minute"),
        ({"CHAT_MAX_IN_FLIGHT": "0"}, "CHAT_MAX_IN_FLIGHT must be at least 1"),
        ({"TRUST_X_FORWARDED_FOR": "sometimes"}, "TRUST_X_FORWARDED_FOR must be true or false"),
    ],
)
def test_bad_values_are_named_in_the_error(env, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_limits_and_secrets_from_the_environment():
    settings = Settings.from_env({
        "CHAT_RATE_PER_CLIENT": "100/hour", "CHAT_RATE_PER_CONVERSATION": "5/second", "CHAT_MAX_IN_FLIGHT": "3",
        "CHAT_MAX_QUEUED": "0", "STAFF_MAX_SESSION_HOURS": "8", "RASA_API_TOKEN": "t1", "ACTION_SERVER_TOKEN": "t2",
        "ACTION_SERVER_PORT": "6055",
    })
    assert (settings.chat_rate_per_client, settings.chat_rate_per_conversation) == ("100/hour", "5/second")
    assert (settings.chat_max_in_flight, settings.chat_max_queued, settings.staff_max_session_hours) == (3, 0, 8)
    assert (settings.rasa_api_token, settings.action_server_token) == ("t1", "t2")
    assert settings.action_server_urls == ("http://127.0.0.1:6055",)
    defaults = Settings.from_env({})
    assert (defaults.chat_rate_per_client, defaults.chat_rate_per_conversation) == ("60/minute", "20/minute")
    assert defaults.staff_max_session_hours == 12


def test_rasa_sessions_are_renewed_every_20_turns_unless_told_otherwise():
    assert Settings.from_env({}).rasa_session_turns == 20
    assert Settings.from_env({"RASA_SESSION_TURNS": "0"}).rasa_session_turns == 0


def test_the_clinics_article_address_is_an_http_address_without_a_section():
    url = "https://www.clinic.example/blog/osteoporosis-exercises"
    assert Settings.from_env({"ARTICLE_URL": url}).article_url == url
    assert Settings.from_env({}).article_url == ""
    for wrong in ("www.clinic.example/blog", "https://www.clinic.example/blog#top", "javascript:alert(1)"):
        with pytest.raises(SettingsError, match="ARTICLE_URL must be the address of the clinic's article"):
            Settings.from_env({"ARTICLE_URL": wrong})


@pytest.mark.parametrize("command", ["run", "serve", "migrate"])
def test_a_wrong_setting_stops_the_start_with_one_clear_line(command, tmp_path):
    env = {**os.environ, "DATA_DIR": str(tmp_path), "ALLOWED_ORIGINS": "www.clinic.example"}
    done = subprocess.run([sys.executable, "-m", "bot", command], env=env, capture_output=True, text=True,
                          timeout=60, cwd=PROJECT_ROOT)
    assert done.returncode == 2
    assert done.stderr.startswith("The settings need a change: ALLOWED_ORIGINS")
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
