"""How the insights read: shares, durations and changes, the same on the page and in the email."""

from __future__ import annotations

NO_FIGURE = "–"


def percent(value: float | None) -> str:
    """0.4 -> '40%', 0.034 -> '3.4%' (one decimal under 10%), None -> '–'."""
    if value is None:
        return NO_FIGURE
    return f"{value:.1%}" if value < 0.1 else f"{value:.0%}"


def duration(seconds: float | None) -> str:
    """3600 -> '1 h', 5400 -> '1 h 30 min', 100000 -> '1 d 4 h' (to the hour from a day on),
    40 -> 'under 1 min', None -> '–'."""
    if seconds is None:
        return NO_FIGURE
    minutes = int(round(seconds / 60))
    if minutes < 1:
        return "under 1 min"
    if minutes >= 24 * 60:
        days, hours = divmod(int(round(seconds / 3600)), 24)
        return f"{days} d {hours} h" if hours else f"{days} d"
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def share_change(current: float | None, previous: float | None, days: int) -> str:
    """How a share moved against the `days` before: 'up 2.5 points on the 30 days before'."""
    if current is None or previous is None:
        return f"no messages to compare in the {days} days before"
    points = (current - previous) * 100
    if abs(points) < 0.05:
        return f"the same as the {days} days before"
    return f"{'up' if points > 0 else 'down'} {abs(points):.1f} points on the {days} days before"
