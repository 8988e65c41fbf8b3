"""Reading the insights page's figures back out of its HTML, as a test compares them."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class InsightsPage:
    # data-figure key -> the figure's text (without its note).
    figures: dict[str, str] = field(default_factory=dict)
    # data-table name -> rows of cell texts.
    tables: dict[str, list[list[str]]] = field(default_factory=dict)
    # data-day (ISO date) -> cell texts of that day's row.
    days: dict[str, list[str]] = field(default_factory=dict)
    svgs: list[str] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.page = InsightsPage()
        self._figure: str | None = None
        self._in_note = False
        self._table: str | None = None
        self._row: list[str] | None = None
        self._day: str | None = None
        self._cell: list[str] | None = None
        self._in_head = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "dd" and "data-figure" in attributes:
            self._figure = attributes["data-figure"]
            self.page.figures[self._figure] = ""
        elif tag == "span" and self._figure and "figure-note" in (attributes.get("class") or ""):
            self._in_note = True
        elif tag == "table" and "data-table" in attributes:
            self._table = attributes["data-table"]
            self.page.tables[self._table] = []
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and not self._in_head:
            self._row = []
            self._day = attributes.get("data-day")
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "svg":
            self.page.svgs.append(attributes.get("id") or "")

    def handle_endtag(self, tag):
        if tag == "dd":
            self._figure = None
        elif tag == "span":
            self._in_note = False
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._day:
                self.page.days[self._day] = self._row
            elif self._table and self._row:
                self.page.tables[self._table].append(self._row)
            self._row = None
        elif tag == "thead":
            self._in_head = False
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._figure and not self._in_note:
            self.page.figures[self._figure] += data.strip()
        if self._cell is not None:
            self._cell.append(data)


def read_insights_page(html: str) -> InsightsPage:
    reader = _Reader()
    reader.feed(html)
    return reader.page
