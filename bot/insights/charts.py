"""The insights charts, drawn on the server by pygal as SVG to put inside the page.

The staff pages' Content-Security-Policy allows no inline script or style and nothing from
another host, so each chart is cut down to shapes and text: pygal's scripts (its tooltips come
from a CDN), its <style>, the tooltip layer and the tooltip texts are taken out, and the
colours come from the staff style sheet (staff/static/insights.css), by pygal's class names.
Each chart is an image with a name (role="img", its <title>); the page puts the same figures
in a table beside it for screen readers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pygal
from markupsafe import Markup
from pygal.style import Style

from bot.insights.figures import WEEKDAYS, Insights, hour_label

# Widths in the page's pixels (the SVG scales down on narrower screens): text then shows at its size.
WIDE = 1160
HALF = 540
# Heat map shades: 0 for no messages, then HEAT_LEVELS steps up to the busiest hour.
HEAT_LEVELS = 4
# What pygal adds that these pages must not carry, or do not need: scripts and styles (the
# policy forbids them inline), the tooltip layer and the texts only its script reads.
_REMOVED_TAGS = {"script", "style"}
_REMOVED_CLASSES = {"tooltip-overlay"}
_REMOVED_DESC_CLASSES = {"value", "x_label", "x centered", "y centered", "label", "xlink"}


def _local_name(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _unwanted(node, root) -> bool:
    if not isinstance(node.tag, str):  # comments
        return True
    name = _local_name(node.tag)
    classes = node.get("class", "")
    return (
        name in _REMOVED_TAGS
        or bool(_REMOVED_CLASSES & set(classes.split()))
        or (name == "desc" and classes in _REMOVED_DESC_CLASSES)
        # The chart's own title names it; the others are tooltips of long labels.
        or (name == "title" and node not in list(root))
    )


def _self_contained(name: str, label: str, shade: Callable | None = None) -> Callable:
    """A pygal xml filter: the chart without scripts, styles or tooltips, named `label`;
    `shade(root)`, when given, then sets what pygal cannot (the heat map's cell classes)."""

    def clean(root):
        for parent in list(root.iter()):
            for child in list(parent):
                if _unwanted(child, root):
                    parent.remove(child)
        for node in root.iter():
            node.attrib.pop("style", None)
        for node in root:
            if _local_name(node.tag) == "title":
                node.text = label
                node.set("id", f"chart-{name}-title")
        root.set("id", f"chart-{name}")
        root.set("role", "img")
        root.set("aria-labelledby", f"chart-{name}-title")
        root.set("class", f"pygal-chart insights-chart chart-{name}")
        if shade is not None:
            shade(root)
        return root

    return clean


def _config(**options) -> pygal.Config:
    config = pygal.Config()
    # No scripts: pygal's default fetches its tooltips from a CDN. Its base CSS, still added,
    # is removed by the filter with the rest.
    config.js = []
    config.css = []
    config.disable_xml_declaration = True
    config.explicit_size = False
    config.truncate_label = -1
    config.truncate_legend = -1
    config.margin = 12
    # The sizes pygal lays the labels out by; the style sheet draws the text at the same sizes.
    config.style = Style(font_family="inherit", label_font_size=12, major_label_font_size=12, legend_font_size=13,
                         value_font_size=13, value_label_font_size=12, tooltip_font_size=12, no_data_font_size=18)
    for key, value in options.items():
        setattr(config, key, value)
    return config


def _render(chart, name: str, label: str, shade: Callable | None = None) -> Markup:
    """The chart's SVG, self-contained, with the id `chart-<name>` and the accessible name `label`."""
    chart.add_xml_filter(_self_contained(name, label, shade))
    # pygal escapes every text it writes (labels, titles), and every label is ours.
    return Markup(chart.render(is_unicode=True))


def _day_label(day: date) -> str:
    return f"{day:%b} {day.day}"


def daily_chart(insights: Insights) -> Markup:
    """Conversations and leads per clinic day, as two lines."""
    days = insights.days
    every = 1 if len(days) <= 14 else 7
    chart = pygal.Line(_config(
        width=WIDE, height=340, legend_at_bottom=True, show_minor_x_labels=every == 1, x_label_rotation=0,
        dots_size=3, show_dots=len(days) <= 31, min_scale=2, max_scale=6,
    ))
    chart.x_labels = [_day_label(day.day) for day in days]
    chart.x_labels_major = [_day_label(day.day) for index, day in enumerate(days) if index % every == 0]
    chart.add("Conversations", [day.conversations for day in days])
    chart.add("Leads", [day.leads for day in days])
    return _render(chart, "daily", f"Conversations and leads by day, {insights.period.label}")


def funnel_chart(insights: Insights) -> Markup:
    """Conversations, then those that asked a question, started an inquiry, left a lead: bars."""
    steps = insights.funnel
    chart = pygal.HorizontalBar(_config(
        width=HALF, height=260, show_legend=False, print_values=True, print_values_position="top", min_scale=2,
    ))
    # pygal draws the first label at the bottom: reversed, the conversations are on top.
    chart.x_labels = [step.label for step in reversed(steps)]
    chart.add("Conversations", [step.count for step in reversed(steps)])
    return _render(chart, "funnel", f"From conversation to lead, {insights.period.label}")


def topics_chart(insights: Insights, limit: int = 10) -> Markup:
    """The most answered FAQ topics, as bars, the most answered on top."""
    topics = insights.topics[:limit]
    chart = pygal.HorizontalBar(_config(
        width=HALF, height=max(180, 32 * len(topics) + 80), show_legend=False, print_values=True,
        print_values_position="top",
        min_scale=2, no_data_text="No questions answered",
    ))
    chart.x_labels = [label for label, _count in reversed(topics)]
    chart.add("Answers", [count for _label, count in reversed(topics)])
    return _render(chart, "topics", f"Questions answered by topic, {insights.period.label}")


def heat_level(count: int, busiest: int) -> int:
    """0 for no messages, else 1 to HEAT_LEVELS by the share of the busiest hour's messages."""
    if count <= 0 or busiest <= 0:
        return 0
    return max(1, -(-count * HEAT_LEVELS // busiest))


def _heat_classes(levels: list[list[int]]) -> Callable:
    """Sets class `heat-<level>` on each cell: `levels[weekday][hour]`; series i is weekday 6 - i."""

    def shade(root) -> None:
        for node in root.iter():
            classes = node.get("class", "").split()
            serie = next((c for c in classes if c.startswith("serie-")), None)
            if "series" not in classes or serie is None:
                continue
            weekday = len(WEEKDAYS) - 1 - int(serie.removeprefix("serie-"))
            cells = [rect for rect in node.iter() if "rect" in rect.get("class", "").split()]
            for hour, cell in enumerate(cells):
                cell.set("class", f"rect heat-{levels[weekday][hour]}")

    return shade


def heat_map_chart(insights: Insights) -> Markup:
    """Visitor messages by weekday and clinic hour: a row a day, a cell an hour, darker for more.

    Drawn as a column of seven stacked cells of one unit each per hour, a series a weekday
    (seven series draw much faster than twenty-four); each cell's shade is a class (`heat-0` to
    `heat-4`) the style sheet colours.
    """
    busiest = max((count for row in insights.week_hours for count in row), default=0)
    rows = len(WEEKDAYS)
    chart = pygal.StackedBar(_config(
        width=WIDE, height=300, show_legend=False, spacing=1, range=(0, rows), show_y_guides=False,
        # Each weekday's name beside the middle of its row, Monday on top.
        y_labels=[{"label": WEEKDAYS[weekday][:3], "value": rows - weekday - 0.5} for weekday in range(rows)],
        x_label_rotation=0, show_minor_x_labels=False,
    ))
    chart.x_labels = [hour_label(hour) for hour in range(24)]
    chart.x_labels_major = [hour_label(hour) for hour in range(0, 24, 3)]
    # pygal stacks the first series at the bottom: Sunday first, Monday on top.
    for weekday in reversed(range(rows)):
        chart.add(WEEKDAYS[weekday], [1] * 24)
    levels = [[heat_level(count, busiest) for count in row] for row in insights.week_hours]
    return _render(chart, "heatmap", f"Visitor messages by weekday and hour, {insights.period.label}",
                   _heat_classes(levels))


def all_charts(insights: Insights) -> dict[str, Markup]:
    """{"daily", "funnel", "topics", "heatmap"}: each chart's SVG, ready to put in the page."""
    return {
        "daily": daily_chart(insights),
        "funnel": funnel_chart(insights),
        "topics": topics_chart(insights),
        "heatmap": heat_map_chart(insights),
    }
