"""Reading a visitor's typed reply to the shown open times, scored on replies written by someone who never saw `data/`."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.schedule.offers import Reply, label, opening_payload, parse_opening, read_reply
from bot.schedule.requested_times import requested_times
from bot.settings import Settings
from tests.schedule.test_requested_times import EVAL, NOW, TZ, expected_window, load, parsed_window, same_window

SETTINGS = Settings()
SHOWN = ["Tue Dec 1, 9:00 AM", "Tue Dec 1, 2:00 PM", "Wed Dec 2, 8:00 AM", "Wed Dec 2, 11:00 AM",
         "Thu Dec 3, 10:00 AM", "Thu Dec 3, 3:00 PM"]


def shown_starts() -> list[str]:
    starts = []
    for title in SHOWN:
        moment = datetime.strptime(f"2026 {title}", "%Y %a %b %d, %I:%M %p").replace(tzinfo=TZ)
        assert label(moment, TZ) == title
        starts.append(moment.astimezone(timezone.utc).isoformat())
    return starts


def understood(reply: dict, read: Reply) -> bool:
    if reply["kind"] == "pick":
        return read.picked is not None and label(read.picked, TZ) == reply["picked"]
    if reply["kind"] == "new_window":
        return read.asked is not None and same_window(
            expected_window(reply.get("window")), parsed_window(requested_times(read.asked, now=NOW, tz=TZ)))
    return read.picked is None and read.asked is None


def test_typed_replies_to_the_shown_times_are_read_as_meant():
    """A statement of when the visitor is free ("mornings only pls") is kept as their times in words, as
    the question invites ("tell me which days and times suit you"), where the writer expected new
    buttons: those few are counted as misses."""
    replies = load("replies")
    offered = shown_starts()
    wrong = [(reply["kind"], reply["text"], read) for reply in replies
             if not understood(reply, read := read_reply(reply["text"], opening=None, offered=offered, other_chosen=False,
                                                         now=NOW, settings=SETTINGS))]
    share = 1 - len(wrong) / len(replies)
    print(f"\n{len(replies) - len(wrong)}/{len(replies)} replies read as meant ({share:.0%}), from {EVAL.name}")
    for kind, text, read in wrong:
        print(f"  {kind}: {text!r} read as {read}")
    assert share >= 0.85


def test_a_button_picks_its_time_and_other_times_picks_none():
    starts = datetime(2026, 12, 1, 14, 0, tzinfo=timezone.utc)
    payload = opening_payload(starts)
    assert payload == '/inform{"opening":"2026-12-01T14:00:00+00:00"}'
    assert read_reply("", opening="2026-12-01T14:00:00+00:00", offered=None, other_chosen=False, now=NOW,
                      settings=SETTINGS) == Reply(picked=starts)
    assert read_reply("", opening="other", offered=None, other_chosen=False, now=NOW, settings=SETTINGS) == Reply(other_times=True)
    assert parse_opening("2026-12-01T14:00:00") is None


@pytest.mark.parametrize("text", ["any weekday afternoon", "mornings are best", "after 3pm any weekday",
                                  "tuesday or thursday after lunch"])
def test_availability_described_in_words_is_kept_as_words(text):
    assert read_reply(text, opening=None, offered=shown_starts(), other_chosen=False, now=NOW, settings=SETTINGS) == Reply()


@pytest.mark.parametrize("text", ["the 4pm one", "the 9am one", "thurs 4 is good"])
def test_a_shown_time_named_that_fits_none_or_several_is_unclear(text):
    # 9am is shown on three days; 4pm on none.
    shown = shown_starts()
    nine_on_three_days = shown + [datetime(2026, 12, 2, 14, 0, tzinfo=timezone.utc).isoformat(),
                                  datetime(2026, 12, 3, 14, 0, tzinfo=timezone.utc).isoformat()]
    assert read_reply(text, opening=None, offered=nine_on_three_days, other_chosen=False, now=NOW,
                      settings=SETTINGS) == Reply(unclear=True)
