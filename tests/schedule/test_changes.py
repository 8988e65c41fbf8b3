"""The schedule settings' changes, called directly: each saved in the caller's transaction with its
audit entry, the chat always offering an active visit type, and the calendar's address kept out of
the audit log. (The staff pages that call them: tests/staff/test_staff_schedule_settings.py.)"""

from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import select

from bot.audit import AuditAction, AuditEntry
from bot.schedule import changes
from bot.schedule.changes import ExceptionChange, Hours, ScheduleChangeError, VisitTypeChange
from bot.schedule.models import ScheduleException, VisitType, WeeklyHours
from bot.schedule.rules import schedule_settings
from bot.staff.accounts import create_account
from tests.schedule.builders import NOW

CONSULTATION = VisitTypeChange(name="Free consultation", minutes=30, position=1, offered_in_chat=True)


@pytest.fixture
def db(session_factory):
    with session_factory() as session:
        yield session


@pytest.fixture
def admin(db):
    account = create_account(db, "admin@clinic.example", "lantern orbit cello 42", is_admin=True)
    db.commit()
    return account


def details(db) -> list[str]:
    return list(db.scalars(
        select(AuditEntry.detail).where(AuditEntry.action == AuditAction.schedule_changed.value).order_by(AuditEntry.id)
    ))


def test_a_visit_type_offered_in_the_chat_is_the_only_one_offered(db, admin):
    first = changes.add_visit_type(db, CONSULTATION, actor=admin, now=NOW)
    second = changes.add_visit_type(db, VisitTypeChange(name="Assessment", minutes=60, position=2,
                                                        offered_in_chat=True), actor=admin, now=NOW)
    changes.update_visit_type(db, first.id, VisitTypeChange(name="Consultation", minutes=45, position=3),
                              actor=admin, now=NOW)
    db.commit()
    saved = db.scalars(select(VisitType).order_by(VisitType.id))
    assert [(v.name, v.minutes, v.position, v.offered_in_chat) for v in saved] == [
        ("Consultation", 45, 3, False), ("Assessment", 60, 2, True),
    ]
    assert details(db) == [
        f"Added visit type #{first.id} 'Free consultation' (30 min), offered in the chat",
        f"Added visit type #{second.id} 'Assessment' (60 min), offered in the chat",
        f"Visit type #{first.id} is now 'Consultation' (45 min, order 3, active)",
    ]


def test_the_chat_must_still_offer_an_active_visit_type(db, admin):
    added = changes.add_visit_type(db, CONSULTATION, actor=admin, now=NOW)
    db.commit()
    with pytest.raises(ScheduleChangeError, match="The chat must offer one active visit type") as refused:
        changes.update_visit_type(db, added.id, VisitTypeChange(name="Free consultation", minutes=30, position=1),
                                  actor=admin, now=NOW)
    assert refused.value.field == "offered_in_chat"
    with pytest.raises(ScheduleChangeError, match="Visit type #999 does not exist any more.") as missing:
        changes.update_visit_type(db, 999, CONSULTATION, actor=admin, now=NOW)
    assert missing.value.field == "name"


def test_weekly_hours_are_replaced_and_summed_up_by_day(db, admin):
    changes.replace_weekly_hours(db, {0: [Hours(time(8), time(12)), Hours(time(13), time(17))], 1: []},
                                 actor=admin, now=NOW)
    db.commit()
    assert [(h.weekday, h.starts, h.ends) for h in db.scalars(select(WeeklyHours).order_by(WeeklyHours.id))] == [
        (0, time(8), time(12)), (0, time(13), time(17)),
    ]
    assert details(db) == ["Weekly hours: Mon 08:00-12:00, 13:00-17:00; Tue closed"]


def test_capacity_is_set(db, admin):
    changes.set_capacity(db, 3, actor=admin, now=NOW)
    db.commit()
    assert schedule_settings(db).capacity == 3
    assert details(db) == ["Capacity 1 → 3 visitor(s) at once"]


def test_closed_days_and_extra_hours_are_added_and_removed(db, admin):
    closed = changes.add_exception(db, ExceptionChange(day=date(2024, 12, 25), starts=time(9), note="Christmas"),
                                   actor=admin, now=NOW)
    extra = changes.add_exception(db, ExceptionChange(day=date(2024, 12, 28), closed=False, starts=time(9),
                                                      ends=time(12)), actor=admin, now=NOW)
    db.commit()
    assert (closed.starts, closed.ends) == (None, None)
    assert changes.delete_exception(db, extra.id, actor=admin, now=NOW) is True
    db.commit()
    assert changes.delete_exception(db, extra.id, actor=admin, now=NOW) is False
    assert [e.id for e in db.scalars(select(ScheduleException))] == [closed.id]
    assert details(db) == [
        "2024-12-25: closed (Christmas)", "2024-12-28: extra hours 09:00-12:00",
        "Removed the extra hours on 2024-12-28",
    ]


def test_a_closed_day_is_in_the_list_once(db, admin):
    christmas = ExceptionChange(day=date(2024, 12, 25), note="Christmas")
    changes.add_exception(db, christmas, actor=admin, now=NOW)
    for again in (christmas, ExceptionChange(day=date(2024, 12, 25), closed=False, starts=time(9), ends=time(12))):
        with pytest.raises(ScheduleChangeError) as refused:
            changes.add_exception(db, again, actor=admin, now=NOW)
        assert refused.value.field == "day"
    assert len(db.scalars(select(ScheduleException)).all()) == 1


@pytest.mark.parametrize("starts, ends", [(None, time(12)), (time(9), None), (time(12), time(9))])
def test_extra_hours_need_a_start_before_their_end(starts, ends):
    with pytest.raises(ValueError, match="Extra hours need a start before their end"):
        ExceptionChange(day=date(2024, 12, 28), closed=False, starts=starts, ends=ends)


def test_the_calendar_address_is_audited_only_when_it_changes_and_never_written_there(db, admin):
    secret = "https://calendar.example/private-abc123/basic.ics"
    changes.set_calendar_feed(db, secret, actor=admin, now=NOW)
    changes.set_calendar_feed(db, secret, actor=admin, now=NOW)
    changes.record_feed_refresh(db, actor=admin, now=NOW)
    changes.set_calendar_feed(db, None, actor=admin, now=NOW)
    db.commit()
    assert schedule_settings(db).calendar_feed_url is None
    assert details(db) == ["Clinic calendar address changed", "Clinic calendar read now, by hand",
                           "Clinic calendar removed"]


def test_a_new_visits_feed_address_replaces_the_old(db, admin):
    before = schedule_settings(db).visits_feed_token
    token = changes.new_visits_feed_address(db, actor=admin, now=NOW)
    db.commit()
    assert token != before and schedule_settings(db).visits_feed_token == token and len(token) == 43
    assert details(db) == ["New address for the confirmed visits' feed; the old one stopped working"]
