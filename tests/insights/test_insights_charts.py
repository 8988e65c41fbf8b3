"""The charts as SVG the staff pages' policy allows, the heat map's shades, the period and the wording."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from datetime import date

import pytest

from bot.insights.charts import all_charts, heat_level
from bot.insights.export import figure_rows
from bot.insights.figures import DayFigures, Insights, topic_label
from bot.insights.period import Period, parse_period
from bot.insights.queries import FirstContact
from bot.insights.wording import duration, percent, share_change

SVG = "{http://www.w3.org/2000/svg}"
TODAY = date(2025, 3, 12)


def _insights(week_hours: list[list[int]] | None = None, topics=None) -> Insights:
    period = Period(date(2025, 3, 6), TODAY)
    days = [DayFigures(day, 10, 20, 2, 1) for day in period.each_day()]
    return Insights(
        period=period, conversations=70, messages=140, asked_question=30, started_inquiry=12, became_lead=9, leads=10,
        leads_by_kind=[("Cost", 10)], leads_by_status=[("New", 10)], first_contact=FirstContact(3600.0, 5, 5),
        topics=topics if topics is not None else [("DEXA scan", 12), ("Vitamin D", 3)], unanswered=7,
        previous_messages=100, previous_unanswered=10, emergencies=1, crisis=0, days=days,
        week_hours=week_hours or [[0] * 24 for _ in range(7)],
    )


def test_every_chart_is_an_image_with_a_name_and_nothing_the_policy_refuses() -> None:
    for name, svg in all_charts(_insights()).items():
        root = ElementTree.fromstring(str(svg))
        assert root.get("role") == "img" and root.get("id") == f"chart-{name}"
        titles = [node for node in root.iter(f"{SVG}title")]
        assert len(titles) == 1 and root.get("aria-labelledby") == titles[0].get("id")
        assert "Mar 6, 2025 to Mar 12, 2025" in titles[0].text
        tags = {node.tag.removeprefix(SVG) for node in root.iter()}
        assert not tags & {"script", "style", "a", "image", "foreignObject"}, name
        assert all("style" not in node.attrib for node in root.iter()), name
        assert "http" not in str(svg).replace("http://www.w3.org/", ""), name


def test_the_heat_map_shades_each_cell_by_its_messages() -> None:
    hours = [[0] * 24 for _ in range(7)]
    hours[0][9] = 8  # Monday 9 AM, the busiest
    hours[2][14] = 2  # Wednesday 2 PM
    hours[6][23] = 5  # Sunday 11 PM
    root = ElementTree.fromstring(str(all_charts(_insights(hours))["heatmap"]))
    # pygal draws a group per series in each layer; the cells are in the plot's.
    series = [node for node in root.iter(f"{SVG}g")
              if "series" in node.get("class", "").split() and list(node.iter(f"{SVG}rect"))]
    assert len(series) == 7
    # A series a weekday, from the bottom row (Sunday) up to Monday; a cell an hour.
    shades = {}
    for group in series:
        row = int(next(c for c in group.get("class").split() if c.startswith("serie-")).removeprefix("serie-"))
        cells = [node.get("class") for node in group.iter(f"{SVG}rect")]
        assert len(cells) == 24
        for hour, shade in enumerate(cells):
            shades[(6 - row, hour)] = shade
    assert shades[(0, 9)] == "rect heat-4"
    assert shades[(2, 14)] == "rect heat-1"
    assert shades[(6, 23)] == "rect heat-3"
    assert sum(shade != "rect heat-0" for shade in shades.values()) == 3


@pytest.mark.parametrize("count, busiest, level", [(0, 10, 0), (1, 10, 1), (3, 10, 2), (5, 10, 2), (6, 10, 3),
                                                   (10, 10, 4), (0, 0, 0)])
def test_heat_levels(count: int, busiest: int, level: int) -> None:
    assert heat_level(count, busiest) == level


def test_an_empty_period_draws_its_charts() -> None:
    charts = all_charts(_insights(topics=[]))
    assert "No questions answered" in charts["topics"]


def test_topic_labels_keep_only_what_a_response_key_holds() -> None:
    assert topic_label("dexa_scan") == "DEXA scan"
    assert topic_label("t_and_z_scores") == "T and Z scores"
    assert topic_label("vitamin_d") == "Vitamin D"
    assert topic_label('x"><script>alert(1)</script>') == "Xscriptalert1script"


def test_presets_and_dates() -> None:
    assert parse_period({}, TODAY).period == Period(date(2025, 2, 11), TODAY, "30")
    assert parse_period({"period": "7"}, TODAY).period == Period(date(2025, 3, 6), TODAY, "7")
    assert parse_period({"period": "90"}, TODAY).period.days == 90
    chosen = parse_period({"from": "2025-01-01", "to": "2025-01-31", "period": "7"}, TODAY)
    assert chosen.period == Period(date(2025, 1, 1), date(2025, 1, 31)) and chosen.errors == []
    assert chosen.period.label == "Jan 1, 2025 to Jan 31, 2025"
    assert chosen.period.previous() == Period(date(2024, 12, 1), date(2024, 12, 31))
    year = parse_period({"from": "2024-03-12", "to": "2025-03-12"}, TODAY)
    assert year.errors == [] and year.period.days == 366
    too_long = parse_period({"from": "2024-03-11", "to": "2025-03-12"}, TODAY)
    assert too_long.period.key == "30" and too_long.errors[0] == "A period can be at most 366 days long."


def test_the_wording_of_shares_durations_and_changes() -> None:
    assert (percent(None), percent(0.034), percent(0.4), percent(1)) == ("–", "3.4%", "40%", "100%")
    assert duration(None) == "–" and duration(20) == "under 1 min" and duration(1800) == "30 min"
    assert duration(5400) == "1 h 30 min" and duration(7200) == "2 h" and duration(100_000) == "1 d 4 h"
    assert share_change(0.1, 0.075, 7) == "up 2.5 points on the 7 days before"
    assert share_change(0.05, 0.05, 30) == "the same as the 30 days before"
    assert share_change(0.05, None, 30) == "no messages to compare in the 30 days before"


def test_the_csv_rows_hold_every_figure() -> None:
    rows = figure_rows(_insights())
    assert ("Totals", "Conversations", 70) in rows and ("Funnel", "Left their details (lead)", 9) in rows
    assert ("Time to first contact", "Median seconds", 3600) in rows
    assert ("Totals", "Unanswered share", "0.0500") in rows
    assert len([row for row in rows if row[0] == "Visitor messages by hour"]) == 7 * 24
