"""Every setting the assistant reads, taken from the environment in this one place.

`Settings.from_env()` is called by entry points (the web app, the action server,
the launcher, the command line), never at import time. The README lists each variable.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

from aiohttp import web
from limits import parse

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A setting has a value the assistant cannot use; the message names it."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, not {raw!r}")


def _list(env: Mapping[str, str], name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
    raw = env.get(name, "")
    items = tuple(part.strip() for part in raw.split(",") if part.strip())
    return items or default


def _rate(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name, "").strip() or default
    try:
        item = parse(raw)
    except ValueError:
        item = None
    if item is None or item.amount < 1:
        raise SettingsError(f"{name} must look like 20/minute (a number per second, minute, hour or day), not {raw!r}")
    return raw


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value < 1:
        raise SettingsError(f"{name} must be at least 1, not {value}")
    return value


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of an http(s) address, lower-cased, without a default port."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    default_port = {"http": 80, "https": 443}.get(parts.scheme.lower())
    port = "" if parts.port in (None, default_port) else f":{parts.port}"
    return f"{parts.scheme.lower()}://{host}{port}"


_ORIGIN = re.compile(r"https?://[^/?#\s]+", re.IGNORECASE)


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    origins = []
    for item in _list(env, name):
        try:
            valid = bool(_ORIGIN.fullmatch(item.rstrip("/"))) and urlsplit(item).hostname is not None
            origin = origin_of(item) if valid else ""
        except ValueError:  # a port that is not a number
            origin = ""
        if not origin:
            raise SettingsError(
                f"{name} must list the clinic's sites as https://www.example.com (scheme and host, "
                f"no path), comma-separated, not {item!r}"
            )
        origins.append(origin)
    return tuple(dict.fromkeys(origins))


def _article_url(env: Mapping[str, str], name: str) -> str:
    raw = env.get(name, "").strip()
    if not raw:
        return ""
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.fragment:
        raise SettingsError(
            f"{name} must be the address of the clinic's article, like https://www.example.com/blog/osteoporosis "
            f"(http or https, no #section), not {raw!r}"
        )
    return raw


def _time(raw: str, name: str) -> time:
    try:
        hours, minutes = raw.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise SettingsError(f"{name} must look like 08:00-17:00, not {raw!r}") from None


@dataclass(frozen=True)
class OpeningHours:
    """When staff answer the phone: weekdays (0 = Monday) and a daily window."""

    days: tuple[int, ...] = (0, 1, 2, 3, 4)
    opens: time = time(8, 0)
    closes: time = time(17, 0)

    @classmethod
    def parse(cls, days_raw: str, hours_raw: str) -> "OpeningHours":
        names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        days: list[int] = []
        for part in days_raw.lower().split(","):
            part = part.strip()
            if not part:
                continue
            if "-" in part:
                first, last = (p.strip()[:3] for p in part.split("-", 1))
                if first not in names or last not in names:
                    raise SettingsError(f"CLINIC_OPEN_DAYS has an unknown day in {part!r}")
                start, end = names.index(first), names.index(last)
                days.extend(range(start, end + 1))
            elif part[:3] in names:
                days.append(names.index(part[:3]))
            else:
                raise SettingsError(f"CLINIC_OPEN_DAYS has an unknown day {part!r}")
        if "-" not in hours_raw:
            raise SettingsError(f"CLINIC_OPEN_HOURS must look like 08:00-17:00, not {hours_raw!r}")
        opens_raw, closes_raw = hours_raw.split("-", 1)
        opens = _time(opens_raw, "CLINIC_OPEN_HOURS")
        closes = _time(closes_raw, "CLINIC_OPEN_HOURS")
        if closes <= opens:
            raise SettingsError("CLINIC_OPEN_HOURS must close after it opens")
        return cls(days=tuple(sorted(set(days))), opens=opens, closes=closes)


@dataclass(frozen=True)
class Settings:
    # Web app (the one public process)
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = "http://127.0.0.1:8080"
    # Rasa servers the web app relays chat to; more than one spreads the conversations.
    rasa_urls: tuple[str, ...] = ("http://127.0.0.1:5005",)
    rasa_timeout_seconds: float = 20.0
    action_server_port: int = 5055
    # Action servers /readyz checks; by default the one on this machine.
    action_server_urls: tuple[str, ...] = ("http://127.0.0.1:5055",)
    # Rasa's HTTP API (`--enable-api`) is on only with this token.
    rasa_api_token: str = ""
    # Rasa's calls to the action server carry this; none: generated into DATA_DIR once.
    action_server_token: str = ""
    # Rasa's lock store; set when several Rasa servers share the conversations.
    redis_url: str = ""
    # Limits on /api/chat (bot.web.throttle): "N/second|minute|hour" each.
    chat_rate_per_client: str = "60/minute"
    chat_rate_per_conversation: str = "20/minute"
    chat_turns_per_conversation: str = "150/day"
    # A new Rasa session every this many turns, outside a form (bot.web.sessions); 0: never.
    rasa_session_turns: int = 20
    chat_max_in_flight: int = 8
    chat_max_queued: int = 16
    # Behind a proxy that sets X-Forwarded-For, the client's address is its last entry.
    trust_x_forwarded_for: bool = False
    # Other sites whose pages may embed the widget and call /api/chat (bot.web.cors), as origins.
    allowed_origins: tuple[str, ...] = ()
    # The clinic's own copy of the article, where the widget's answers link on those sites.
    article_url: str = ""
    # The widget starts a new conversation after this many hours of silence, and with each new
    # tab unless kept across the tabs of the site.
    widget_conversation_hours: int = 24
    widget_conversation_across_tabs: bool = False
    # Data
    data_dir: Path = PROJECT_ROOT / "var"
    database_url: str = ""
    # The clinic
    clinic_name: str = "Montross Physical Therapy"
    clinic_phone: str = "(804) 493-3256"
    clinic_timezone: str = "America/New_York"
    # The clinic's article the page shows and the answers come from.
    content_dir: Path = PROJECT_ROOT.parent / "shared" / "content"
    opening_hours: OpeningHours = field(default_factory=OpeningHours)
    # Openings (bot.schedule): hours a requested time stays held for the visitor before it opens
    # again, and minutes between refreshes of the clinic's calendar feed.
    hold_hours: int = 24
    calendar_refresh_minutes: int = 15
    # A calendar feed on this machine or a private network (a calendar server of the clinic's own).
    calendar_feed_private_addresses: bool = False
    # Notices to staff
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "assistant@localhost"
    mail_to: tuple[str, ...] = ()
    webhook_url: str = ""
    outbox_poll_seconds: float = 5.0
    # A summary of the week's figures to the active administrators, Monday mornings (bot.insights.weekly).
    insights_weekly_email: bool = False
    # Staff pages
    session_secret: str = ""
    staff_idle_minutes: int = 30
    staff_max_session_hours: int = 12
    cookie_secure: bool = False
    # Logging
    log_level: str = "INFO"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "clinic.db"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path}"

    def with_overrides(self, **changes: object) -> "Settings":
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        host = env.get("HOST", "").strip() or cls.host
        port = _int(env, "PORT", cls.port)
        data_dir = Path(env.get("DATA_DIR", "").strip() or PROJECT_ROOT / "var")
        rasa_urls = _list(env, "RASA_URLS") or _list(env, "RASA_URL", cls.rasa_urls)
        shown_host = "127.0.0.1" if host in {"0.0.0.0", "::"} else host
        staff_idle_minutes = _int(env, "STAFF_IDLE_MINUTES", cls.staff_idle_minutes)
        action_server_port = _int(env, "ACTION_SERVER_PORT", cls.action_server_port)
        if staff_idle_minutes < 1:
            raise SettingsError(
                "STAFF_IDLE_MINUTES must be at least 1 (the minutes without activity before staff "
                f"are signed out), not {staff_idle_minutes}"
            )
        staff_max_session_hours = _int(env, "STAFF_MAX_SESSION_HOURS", cls.staff_max_session_hours)
        if staff_max_session_hours < 1:
            raise SettingsError(
                "STAFF_MAX_SESSION_HOURS must be at least 1 (the hours after which staff sign in again, "
                f"however active), not {staff_max_session_hours}"
            )
        return cls(
            host=host,
            port=port,
            public_url=(env.get("PUBLIC_URL", "").strip() or f"http://{shown_host}:{port}").rstrip("/"),
            rasa_urls=tuple(url.rstrip("/") for url in rasa_urls),
            rasa_timeout_seconds=float(_int(env, "RASA_TIMEOUT_SECONDS", 20)),
            action_server_port=action_server_port,
            action_server_urls=tuple(
                url.rstrip("/") for url in _list(env, "ACTION_SERVER_URLS", (f"http://127.0.0.1:{action_server_port}",))
            ),
            rasa_api_token=env.get("RASA_API_TOKEN", "").strip(),
            action_server_token=env.get("ACTION_SERVER_TOKEN", "").strip(),
            redis_url=env.get("REDIS_URL", "").strip(),
            chat_rate_per_client=_rate(env, "CHAT_RATE_PER_CLIENT", cls.chat_rate_per_client),
            chat_rate_per_conversation=_rate(env, "CHAT_RATE_PER_CONVERSATION", cls.chat_rate_per_conversation),
            chat_turns_per_conversation=_rate(env, "CHAT_TURNS_PER_CONVERSATION", cls.chat_turns_per_conversation),
            chat_max_in_flight=_positive(env, "CHAT_MAX_IN_FLIGHT", cls.chat_max_in_flight),
            rasa_session_turns=_int(env, "RASA_SESSION_TURNS", cls.rasa_session_turns),
            chat_max_queued=_int(env, "CHAT_MAX_QUEUED", cls.chat_max_queued),
            trust_x_forwarded_for=_bool(env, "TRUST_X_FORWARDED_FOR", cls.trust_x_forwarded_for),
            allowed_origins=_origins(env, "ALLOWED_ORIGINS"),
            article_url=_article_url(env, "ARTICLE_URL"),
            widget_conversation_hours=_positive(env, "WIDGET_CONVERSATION_HOURS", cls.widget_conversation_hours),
            widget_conversation_across_tabs=_bool(env, "WIDGET_CONVERSATION_ACROSS_TABS",
                                                  cls.widget_conversation_across_tabs),
            data_dir=data_dir,
            database_url=env.get("DATABASE_URL", "").strip(),
            clinic_name=env.get("CLINIC_NAME", "").strip() or cls.clinic_name,
            clinic_phone=env.get("CLINIC_PHONE", "").strip() or cls.clinic_phone,
            clinic_timezone=env.get("CLINIC_TIMEZONE", "").strip() or cls.clinic_timezone,
            content_dir=Path(env.get("CONTENT_DIR", "").strip() or PROJECT_ROOT.parent / "shared" / "content"),
            opening_hours=OpeningHours.parse(
                env.get("CLINIC_OPEN_DAYS", "").strip() or "mon-fri",
                env.get("CLINIC_OPEN_HOURS", "").strip() or "08:00-17:00",
            ),
            hold_hours=_positive(env, "HOLD_HOURS", cls.hold_hours),
            calendar_refresh_minutes=_positive(env, "CALENDAR_REFRESH_MINUTES", cls.calendar_refresh_minutes),
            calendar_feed_private_addresses=_bool(env, "CALENDAR_FEED_PRIVATE_ADDRESSES",
                                                  cls.calendar_feed_private_addresses),
            smtp_host=env.get("SMTP_HOST", "").strip(),
            smtp_port=_int(env, "SMTP_PORT", cls.smtp_port),
            smtp_username=env.get("SMTP_USERNAME", "").strip(),
            smtp_password=env.get("SMTP_PASSWORD", ""),
            smtp_starttls=_bool(env, "SMTP_STARTTLS", cls.smtp_starttls),
            mail_from=env.get("MAIL_FROM", "").strip() or cls.mail_from,
            mail_to=_list(env, "MAIL_TO"),
            webhook_url=env.get("WEBHOOK_URL", "").strip(),
            outbox_poll_seconds=float(_int(env, "OUTBOX_POLL_SECONDS", 5)),
            insights_weekly_email=_bool(env, "INSIGHTS_WEEKLY_EMAIL", cls.insights_weekly_email),
            session_secret=env.get("SESSION_SECRET", ""),
            staff_idle_minutes=staff_idle_minutes,
            staff_max_session_hours=staff_max_session_hours,
            cookie_secure=_bool(
                env, "COOKIE_SECURE", (env.get("PUBLIC_URL", "").strip().startswith("https://"))
            ),
            log_level=(env.get("LOG_LEVEL", "").strip() or cls.log_level).upper(),
        )


# The web app's settings, for its handlers and its sub-apps (`request.config_dict[SETTINGS]`).
SETTINGS = web.AppKey("settings", Settings)
