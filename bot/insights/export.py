"""The insights as a CSV file: one figure a row, as "section, item, value", for a spreadsheet."""

from __future__ import annotations

import csv
import io

from bot.insights.figures import WEEKDAYS, Insights, hour_label

CSV_COLUMNS = ("Section", "Item", "Value")


def _share(value: float | None) -> str:
    # A plain number a spreadsheet reads: the share from 0 to 1, four decimals.
    return "" if value is None else f"{value:.4f}"


def figure_rows(insights: Insights) -> list[tuple[str, str, object]]:
    """Every figure the page shows, as (section, item, value); shares from 0 to 1, times in seconds."""
    period = insights.period
    rows: list[tuple[str, str, object]] = [
        ("Period", "First day", period.first_day.isoformat()),
        ("Period", "Last day", period.last_day.isoformat()),
        ("Totals", "Conversations", insights.conversations),
        ("Totals", "Visitor messages", insights.messages),
        ("Totals", "Leads", insights.leads),
        ("Totals", "Emergency messages", insights.emergencies),
        ("Totals", "Crisis messages", insights.crisis),
        ("Totals", "Unanswered messages", insights.unanswered),
        ("Totals", "Unanswered share", _share(insights.unanswered_share)),
        ("Totals", "Unanswered share, previous period", _share(insights.previous_unanswered_share)),
    ]
    for step in insights.funnel:
        rows.append(("Funnel", step.label, step.count))
    for label, count in insights.leads_by_kind:
        rows.append(("Leads by kind", label, count))
    for label, count in insights.leads_by_status:
        rows.append(("Leads by status", label, count))
    contact = insights.first_contact
    median = "" if contact.median_seconds is None else round(contact.median_seconds)
    rows += [
        ("Time to first contact", "Median seconds", median),
        ("Time to first contact", "Leads contacted", contact.contacted),
        ("Time to first contact", "Leads waiting", contact.waiting),
    ]
    rows += [("FAQ topics", label, count) for label, count in insights.topics]
    for day in insights.days:
        stamp = day.day.isoformat()
        rows += [
            ("Conversations by day", stamp, day.conversations),
            ("Leads by day", stamp, day.leads),
            ("Visitor messages by day", stamp, day.messages),
            ("Unanswered messages by day", stamp, day.unanswered),
        ]
    for weekday, hours in enumerate(insights.week_hours):
        rows += [("Visitor messages by hour", f"{WEEKDAYS[weekday]} {hour_label(hour)}", count)
                 for hour, count in enumerate(hours)]
    return rows


def insights_csv(insights: Insights) -> str:
    """The CSV text: a header row, then `figure_rows`. Every cell is ours (labels and numbers)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(figure_rows(insights))
    return buffer.getvalue()
