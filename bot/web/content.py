"""The clinic's articles: plain-text files turned into sections for the page.

The text files are copies of the clinic's blog posts. They carry the blog's navigation
("» Blog"), button labels ("Click Here >>") and an image-map prompt that mean nothing
outside the blog; those lines are dropped, the button labels become the page's own
calls to action, and the rest becomes a title, a byline, headings and paragraphs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

# What the calls to action send to the chat, by kind.
CALL_TO_ACTION_MESSAGES = {
    "cost": "How much does a visit cost?",
    "appointment": "I'd like to book an appointment",
}
CALL_TO_ACTION_LABELS = {
    "cost": "Inquire about cost and availability",
    "appointment": "Request an appointment",
}

_BREADCRUMB = re.compile(r"^\s*»")
_COST_BUTTON = re.compile(r"^inquire about cost and availability\b.*$", re.IGNORECASE)
# The blog's own label carries a typo ("Reqeust"); match both spellings.
_APPOINTMENT_BUTTON = re.compile(r"^re(?:qu|qe)[eu]?st an appointment\s*(?:click here\s*>>)?$", re.IGNORECASE)
_CLICK_HERE = re.compile(r"click here\s*>>\s*$", re.IGNORECASE)
# The blog's body-map widget ("Where Does It Hurt?" and its prompt) is not part of the article.
_BODY_MAP_LINES = {"where does it hurt?", "look below to find your area of concern - and click where it hurts…"}
_BYLINE = re.compile(
    r"^(?P<author>[^/]+?)\s*/\s*(?P<date>(?:January|February|March|April|May|June|July|August"
    r"|September|October|November|December)\s+\d{1,2},\s+\d{4})$"
)
_SENTENCE_END = re.compile(r"[.,:;!…]$|\.\.\.$")
_MAX_HEADING_WORDS = 10
_SMALL_WORDS = {"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "vs", "vs."}


@dataclass(frozen=True)
class Block:
    """A paragraph of text, or a call to action (`kind` is "cost" or "appointment")."""

    kind: str
    text: str = ""

    @property
    def is_call_to_action(self) -> bool:
        return self.kind in CALL_TO_ACTION_MESSAGES

    @property
    def chat_message(self) -> str:
        return CALL_TO_ACTION_MESSAGES.get(self.kind, "")

    @property
    def label(self) -> str:
        return CALL_TO_ACTION_LABELS.get(self.kind, self.text)


@dataclass(frozen=True)
class Section:
    heading: str
    level: int  # 2 for a main heading, 3 for a sub-heading
    anchor: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    author: str = ""
    published: date | None = None
    # What comes before the first heading of the body (the blog's opening offer, the lede).
    lead: tuple[Block, ...] = ()
    sections: tuple[Section, ...] = field(default_factory=tuple)

    @property
    def headings(self) -> list[str]:
        return [section.heading for section in self.sections]


class ContentError(ValueError):
    """An article file cannot be shown; the message names the file."""


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "section"


def _lines(text: str) -> list[str]:
    """The non-empty lines, spacing tidied: the blog put each paragraph, heading and
    button label on a line of its own."""
    return [re.sub(r"\s{2,}", " ", line.strip()) for line in text.splitlines() if line.strip()]


def _is_heading(line: str) -> bool:
    words = line.split()
    return 0 < len(words) <= _MAX_HEADING_WORDS and not _SENTENCE_END.search(line)


def _is_title_case(line: str) -> bool:
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z'.]*", line) if w.lower() not in _SMALL_WORDS]
    return bool(words) and all(w[0].isupper() for w in words)


def _classify(line: str) -> Block | None:
    """The block a line becomes, or None when it is blog navigation."""
    if _BREADCRUMB.match(line) or line.lower() in _BODY_MAP_LINES:
        return None
    if _COST_BUTTON.match(line):
        return Block("cost")
    if _APPOINTMENT_BUTTON.match(line):
        return Block("appointment")
    if _CLICK_HERE.search(line):
        return None
    return Block("paragraph", line)


def parse_article(text: str, slug: str) -> Article:
    title = ""
    author = ""
    published: date | None = None
    lead: list[Block] = []
    sections: list[Section] = []
    current: tuple[str, int] | None = None
    blocks: list[Block] = []
    anchors: set[str] = set()

    def close_section() -> None:
        if current is not None:
            heading, level = current
            anchor = slugify(heading)
            while anchor in anchors:
                anchor += "-more"
            anchors.add(anchor)
            sections.append(Section(heading, level, anchor, tuple(blocks)))

    for line in _lines(text):
        byline = _BYLINE.match(line)
        if byline and not author:
            author = byline["author"].strip()
            published = datetime.strptime(byline["date"], "%B %d, %Y").date()
            continue
        block = _classify(line)
        if block is None:
            continue
        if block.kind == "paragraph" and _is_heading(line):
            if not title:
                title = line
                continue
            if line == title:
                continue
            close_section()
            current = (line, 2 if _is_title_case(line) else 3)
            blocks = []
            continue
        if current is None:
            lead.append(block)
        else:
            blocks.append(block)
    close_section()

    if not title:
        raise ContentError(f"the article {slug!r} has no title line")
    return Article(slug=slug, title=title, author=author, published=published, lead=tuple(lead), sections=tuple(sections))


def load_articles(content_dir: Path) -> list[Article]:
    """Every article in `content_dir` (`*.txt`, by file name), the first being the page's own."""
    if not content_dir.is_dir():
        raise ContentError(f"the content folder {content_dir} does not exist")
    articles = []
    for path in sorted(content_dir.glob("*.txt")):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ContentError(f"{path} is not UTF-8 text") from None
        articles.append(parse_article(text, slug=slugify(path.stem)))
    if not articles:
        raise ContentError(f"the content folder {content_dir} holds no article (*.txt)")
    return articles
