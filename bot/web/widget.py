"""The chat widget any page adds with one tag: `<script src="https://ASSISTANT_HOST/widget.js" defer></script>`.

Two files reach the browser:
- `/widget.js`, the loader: a few hundred bytes with this server's settings (phone number,
  greeting, signed quick replies, ALLOWED_ORIGINS) and the bundle's address. Cached for
  LOADER_MAX_AGE_SECONDS, so a new version reaches every site within minutes.
- `/widget/<digest>.js`, the bundle: the widget itself (`widget/widget.js`, `render.js` and `relay.js`,
  with `widget/widget.css` and `conversation.css` inside), named by a digest of its content and
  cached for good (`immutable`).
Both are built once when the app starts. No framework; the bundle's size is in `make bench`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from bot.settings import Settings
from bot.web.chat import MAX_MESSAGE_CHARS, ChatSigners
from bot.web.keys import WIDGET
from bot.web.views import tel_href

SOURCE_DIR = Path(__file__).parent / "widget"
LOADER_MAX_AGE_SECONDS = 300
# The widget waits a little longer than the relay, so the relay's own answer (the
# phone-number message) arrives before the widget gives up.
WIDGET_GRACE_SECONDS = 5.0
GREETING = (
    "Hello! I can answer questions about osteoporosis from our article: bone density scans, calcium, vitamin D "
    "and safe exercises. I can also help you ask about cost, openings or an appointment. What would you like to know?"
)
# The buttons of `utter_greet` in domain.yml, word for word: the NLU model is trained on what
# they send, so other wording could land on another intent. Copied rather than read from
# domain.yml, which the web app's image does not contain; tests/web/test_widget.py compares them.
GREETING_TOPICS = (
    ("What is a DEXA scan?", "What is a DEXA scan?"),
    ("Calcium supplements", "Which calcium supplement is better, carbonate or citrate?"),
    ("Safe exercises", "What are the best exercises for osteoporosis?"),
    ("Cost & availability", "/inquire_cost"),
)
JAVASCRIPT = "text/javascript"


# The widget's one script, kept in three files for reading, and its style sheet in two; joined in order.
SCRIPT_PARTS = ("widget.js", "render.js", "relay.js")
STYLE_PARTS = ("widget.css", "conversation.css")


def build_bundle(source_dir: Path = SOURCE_DIR) -> bytes:
    """The widget's script with its style sheet inside, as served."""
    script = "\n".join((source_dir / name).read_text(encoding="utf-8") for name in SCRIPT_PARTS)
    css = "\n".join((source_dir / name).read_text(encoding="utf-8") for name in STYLE_PARTS)
    return script.replace('"__CSS__"', json.dumps(css), 1).encode()


def build_loader(config: dict, source_dir: Path = SOURCE_DIR) -> bytes:
    """The loader with `config` (the widget's settings) inside; `</` escaped, as in an HTML page."""
    text = json.dumps(config, separators=(",", ":")).replace("</", "<\\/")
    return (source_dir / "loader.js").read_text(encoding="utf-8").replace('"__CONFIG__"', text, 1).encode()


@dataclass(frozen=True)
class Widget:
    """The loader and the bundle of one start of the app, with the bundle's digest."""

    loader: bytes
    bundle: bytes
    digest: str

    @classmethod
    def build(cls, settings: Settings, signers: ChatSigners, api_path: str) -> "Widget":
        bundle = build_bundle()
        digest = hashlib.sha256(bundle).hexdigest()[:16]
        config = {
            "api": api_path,
            "bundle": f"/widget/{digest}.js",
            "allowedOrigins": list(settings.allowed_origins),
            "clinicName": settings.clinic_name,
            "phone": settings.clinic_phone,
            "tel": tel_href(settings.clinic_phone),
            "timeoutMs": int((settings.rasa_timeout_seconds + WIDGET_GRACE_SECONDS) * 1000),
            "maxChars": MAX_MESSAGE_CHARS,
            "conversationHours": settings.widget_conversation_hours,
            "conversationAcrossTabs": settings.widget_conversation_across_tabs,
            "greeting": GREETING,
            # Signed like the buttons of Rasa's answers: only payloads we offered reach Rasa as they are.
            "topics": [{"title": title, "payload": signers.sign_button(payload)} for title, payload in GREETING_TOPICS],
        }
        return cls(build_loader(config), bundle, digest)


def _script(body: bytes, cache_control: str, etag: str) -> web.Response:
    response = web.Response(body=body, content_type=JAVASCRIPT, charset="utf-8", headers={
        "Cache-Control": cache_control,
        "ETag": f'"{etag}"',
        # Pages that isolate themselves (Cross-Origin-Embedder-Policy) may still load it.
        "Cross-Origin-Resource-Policy": "cross-origin",
        "Vary": "Accept-Encoding",
    })
    # Gzipped for the browsers that ask (all do): a third of the bytes on every site's first visit.
    response.enable_compression()
    return response


async def loader(request: web.Request) -> web.Response:
    widget = request.app[WIDGET]
    etag = hashlib.sha256(widget.loader).hexdigest()[:16]
    if request.headers.get("If-None-Match") == f'"{etag}"':
        return web.Response(status=304, headers={"ETag": f'"{etag}"', "Cache-Control": f"public, max-age={LOADER_MAX_AGE_SECONDS}"})
    return _script(widget.loader, f"public, max-age={LOADER_MAX_AGE_SECONDS}", etag)


async def bundle(request: web.Request) -> web.Response:
    widget = request.app[WIDGET]
    if request.match_info["digest"] != widget.digest:
        # An older version's bundle: its loader has expired, so the page reloads the new one.
        raise web.HTTPNotFound(text="There is no widget of this version here.")
    return _script(widget.bundle, "public, max-age=31536000, immutable", widget.digest)
