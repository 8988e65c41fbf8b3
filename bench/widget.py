"""The embeddable widget's size: what a visitor's browser downloads for it, raw and gzipped."""

from __future__ import annotations

import gzip

from bot.settings import Settings
from bot.web.chat import ChatSigners
from bot.web.widget import Widget

# The budget for loader and bundle together, gzipped.
BUDGET_GZIPPED_BYTES = 25 * 1024


def widget_size() -> dict:
    """`{"loader": {"raw", "gzipped"}, "bundle": {...}, "gzipped_total", "budget_gzipped"}`, in bytes."""
    # A throwaway secret: the signed quick replies have the length of real ones, and no key file is written.
    settings = Settings(session_secret="bench-only " * 4)
    widget = Widget.build(settings, ChatSigners.for_settings(settings), "/api/chat")
    sizes = {name: {"raw": len(body), "gzipped": len(gzip.compress(body, compresslevel=9))}
             for name, body in (("loader", widget.loader), ("bundle", widget.bundle))}
    return {**sizes, "gzipped_total": sizes["loader"]["gzipped"] + sizes["bundle"]["gzipped"],
            "budget_gzipped": BUDGET_GZIPPED_BYTES}
