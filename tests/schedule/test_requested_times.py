"""Reading the days and times visitors ask about, scored on messages written by someone who never saw `data/`.

`tests/nlu/realistic/availability.yml` gives each message the window its writer meant, in the
clinic's local time, "now" being Monday 2026-11-30 10:00 in America/New_York. Windows are compared
within the clinic's hours (08:00-17:00), where "morning" and "before noon" mean the same. A time
named on its own ("at 2:30", "around 10") is where the visit starts: the window read must start
there and leave room for the visit to end after it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.schedule.requested_times import RequestedTimes, requested_times

EVAL = Path(__file__).resolve().parents[1] / "nlu" / "realistic" / "availability.yml"
TZ = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=TZ)
OPENS, CLOSES = time(8), time(17)


def _clock(value) -> time | None:
    if value is None:
        return None
    hours, minutes = str(value).split(":")
    return time(int(hours), int(minutes))


class OpenFrom(frozenset):
    """Any day from `first` on ("after the holidays"): read as a stretch of days starting that day."""

    def __new__(cls, first: date):
        made = super().__new__(cls, {first})
        made.first = first
        return made

    def __eq__(self, other) -> bool:
        return isinstance(other, frozenset) and bool(other) and min(other) == self.first

    __hash__ = frozenset.__hash__


def expected_window(window: dict | None) -> tuple[frozenset[date] | None, time, time]:
    window = window or {}
    days = None
    if window.get("days"):
        days = frozenset(date.fromisoformat(str(day)) for day in window["days"])
    elif window.get("from") and not window.get("to"):
        days = OpenFrom(date.fromisoformat(str(window["from"])))
    elif window.get("from"):
        first, last = date.fromisoformat(str(window["from"])), date.fromisoformat(str(window.get("to") or window["from"]))
        days = frozenset(first + timedelta(n) for n in range((last - first).days + 1))
    return days, max(_clock(window.get("earliest")) or OPENS, OPENS), min(_clock(window.get("latest")) or CLOSES, CLOSES)


def parsed_window(parsed: RequestedTimes | None) -> tuple[frozenset[date] | None, time, time]:
    if parsed is None:
        return None, OPENS, CLOSES
    days = frozenset(parsed.days) if parsed.days is not None else None
    return days, max(parsed.earliest or OPENS, OPENS), min(parsed.latest or CLOSES, CLOSES)


def same_window(meant: tuple, read: tuple) -> bool:
    (meant_days, meant_from, meant_to), (read_days, read_from, read_to) = meant, read
    named_time = datetime.combine(date.min, meant_to) - datetime.combine(date.min, meant_from) <= timedelta(hours=1)
    if meant == read:
        return True
    return named_time and meant_to < CLOSES and (meant_days, meant_from) == (read_days, read_from) and read_to > meant_to


def load(section: str, path: Path = EVAL) -> list[dict]:
    return yaml.safe_load(path.read_text())[section]


@pytest.mark.parametrize("eval_file, now", [
    ("availability.yml", NOW),
    # Each written later by another hand, and scored before the reader was changed for it:
    # 42 of 50, then 33 of 40.
    ("availability-2.yml", datetime(2026, 12, 9, 14, 0, tzinfo=TZ)),
    ("availability-3.yml", datetime(2026, 12, 18, 16, 0, tzinfo=TZ)),
])
def test_the_days_and_times_visitors_ask_about_are_read_as_they_meant_them(eval_file, now):
    asks = load("asks", EVAL.with_name(eval_file))
    wrong = [(ask["text"], expected_window(ask.get("window")), parsed_window(requested_times(ask["text"], now=now, tz=TZ)))
             for ask in asks]
    wrong = [item for item in wrong if not same_window(item[1], item[2])]
    share = 1 - len(wrong) / len(asks)
    print(f"\n{len(asks) - len(wrong)}/{len(asks)} windows read as meant ({share:.0%})")
    for text, expected, got in wrong:
        print(f"  {text!r}: meant {expected}, read {got}")
    assert share >= 0.95


@pytest.mark.parametrize("text", ["do you have any openings", "I'd like to book a free consultation", "may I come in",
                                  "how much is a visit", "my back hurts when I sit"])
def test_a_message_without_days_or_times_asks_for_none(text):
    assert requested_times(text, now=NOW, tz=TZ) is None


def test_a_weekday_said_on_that_same_day_means_the_next_one():
    parsed = requested_times("monday afternoon", now=NOW, tz=TZ)
    assert parsed.days == (date(2026, 12, 7),) and parsed.earliest == time(12)


def test_windows_follow_the_clinic_clock_across_the_change_to_winter_time():
    sunday = datetime(2026, 10, 31, 12, 0, tzinfo=TZ)  # the clocks go back on Sunday 1 November
    parsed = requested_times("monday and tuesday mornings", now=sunday, tz=TZ)
    windows = parsed.windows(TZ, today=sunday.date())
    assert [(start.hour, end.hour) for start, end in windows] == [(5, 17), (5, 17)]
    assert [start.astimezone(TZ).date() for start, _ in windows] == [date(2026, 11, 2), date(2026, 11, 3)]
