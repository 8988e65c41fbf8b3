"""What administrators change in the schedule settings, each in the caller's transaction and in
the audit log: visit types, weekly hours, capacity, closed days and extra hours, the clinic
calendar's address, and the address of the confirmed visits' feed.

The values come checked by `bot.staff.schedule_forms`; a rule that needs the database (the chat
must still offer a visit type) is a `ScheduleChangeError`. Audit entries never hold the calendar's
address: it is a secret.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot import audit
from bot.audit import Actor, AuditAction
from bot.schedule.models import ScheduleException, VisitType, WeeklyHours
from bot.schedule.feed import forget_feed_state
from bot.schedule.rules import schedule_settings
from bot.staff.schedule_forms import WEEKDAYS, ExceptionForm, Hours, VisitTypeForm, hhmm, hours_text


class ScheduleChangeError(ValueError):
    """A change refused for what is already saved; `field` names the form field to show it at."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _record(db: Session, actor: Actor, detail: str, now: datetime) -> None:
    audit.record(db, actor, AuditAction.schedule_changed, detail=detail, now=now)


def _offer_in_chat_only(db: Session, chosen: VisitType) -> None:
    """`chosen` becomes the one visit type the chat offers."""
    for other in db.scalars(select(VisitType).where(VisitType.id != chosen.id, VisitType.offered_in_chat.is_(True))):
        other.offered_in_chat = False


def _check_chat_still_offers(db: Session) -> None:
    db.flush()
    active = db.scalar(select(func.count()).select_from(VisitType).where(VisitType.active.is_(True))) or 0
    offered = db.scalar(
        select(func.count()).select_from(VisitType)
        .where(VisitType.active.is_(True), VisitType.offered_in_chat.is_(True))
    ) or 0
    if active and not offered:
        raise ScheduleChangeError(
            "offered_in_chat",
            "The chat must offer one active visit type: tick 'Offered in the chat' on this one, or first "
            "on another active one.",
        )


def add_visit_type(db: Session, form: VisitTypeForm, *, actor: Actor, now: datetime) -> VisitType:
    visit_type = VisitType(name=form.name, minutes=form.minutes, position=form.position, active=form.active,
                           offered_in_chat=form.offered_in_chat)
    db.add(visit_type)
    db.flush()
    if form.offered_in_chat:
        _offer_in_chat_only(db, visit_type)
    _check_chat_still_offers(db)
    _record(db, actor, f"Added visit type #{visit_type.id} {form.name!r} ({form.minutes} min)"
            + (", offered in the chat" if form.offered_in_chat else ""), now)
    return visit_type


def update_visit_type(db: Session, visit_type_id: int, form: VisitTypeForm, *, actor: Actor,
                      now: datetime) -> VisitType:
    """Raises ScheduleChangeError("name", ...) when there is no such visit type."""
    visit_type = db.get(VisitType, visit_type_id)
    if visit_type is None:
        raise ScheduleChangeError("name", f"Visit type #{visit_type_id} does not exist any more.")
    visit_type.name, visit_type.minutes, visit_type.position = form.name, form.minutes, form.position
    visit_type.active, visit_type.offered_in_chat = form.active, form.offered_in_chat
    if form.offered_in_chat:
        _offer_in_chat_only(db, visit_type)
    _check_chat_still_offers(db)
    state = ("active" if form.active else "inactive") + (", offered in the chat" if form.offered_in_chat else "")
    _record(db, actor, f"Visit type #{visit_type_id} is now {form.name!r} ({form.minutes} min, order "
            f"{form.position}, {state})", now)
    return visit_type


def replace_weekly_hours(db: Session, hours: dict[int, list[Hours]], *, actor: Actor, now: datetime) -> None:
    """The bookable hours of every weekday (0 = Monday) become `hours`; a weekday without any is closed."""
    db.execute(delete(WeeklyHours))
    db.add_all(
        WeeklyHours(weekday=weekday, starts=starts, ends=ends)
        for weekday, ranges in sorted(hours.items())
        for starts, ends in ranges
    )
    summary = "; ".join(f"{WEEKDAYS[day][:3]} {hours_text(ranges) or 'closed'}" for day, ranges in sorted(hours.items()))
    _record(db, actor, f"Weekly hours: {summary}", now)


def set_capacity(db: Session, capacity: int, *, actor: Actor, now: datetime) -> None:
    row = schedule_settings(db)
    before = row.capacity
    row.capacity = capacity
    row.updated_at = now
    _record(db, actor, f"Capacity {before} → {capacity} visitor(s) at once", now)


def add_exception(db: Session, form: ExceptionForm, *, actor: Actor, now: datetime) -> ScheduleException:
    assert form.day is not None
    exception = ScheduleException(day=form.day, closed=form.closed, starts=None if form.closed else form.starts,
                                  ends=None if form.closed else form.ends, note=form.note)
    db.add(exception)
    db.flush()
    what = "closed" if form.closed else f"extra hours {hhmm(form.starts)}-{hhmm(form.ends)}"  # type: ignore[arg-type]
    _record(db, actor, f"{form.day.isoformat()}: {what}" + (f" ({form.note})" if form.note else ""), now)
    return exception


def delete_exception(db: Session, exception_id: int, *, actor: Actor, now: datetime) -> bool:
    """False when there is no such exception (already removed)."""
    exception = db.get(ScheduleException, exception_id)
    if exception is None:
        return False
    what = "closed day" if exception.closed else "extra hours"
    db.delete(exception)
    _record(db, actor, f"Removed the {what} on {exception.day.isoformat()}", now)
    return True


def set_calendar_feed(db: Session, url: str | None, *, actor: Actor, now: datetime) -> None:
    """The clinic calendar's address (None: no calendar); the background worker reads it next."""
    row = schedule_settings(db)
    changed = (row.calendar_feed_url or None) != url
    row.calendar_feed_url = url
    row.updated_at = now
    if changed:
        # The state described the old address; the worker reads the new one next.
        forget_feed_state(db)
        _record(db, actor, "Clinic calendar address changed" if url else "Clinic calendar removed", now)


def record_feed_refresh(db: Session, *, actor: Actor, now: datetime) -> None:
    _record(db, actor, "Clinic calendar read now, by hand", now)


def new_visits_feed_address(db: Session, *, actor: Actor, now: datetime) -> str:
    """A new secret for the confirmed visits' feed; the old address stops working at once. Returns it."""
    row = schedule_settings(db)
    row.visits_feed_token = secrets.token_urlsafe(32)
    row.updated_at = now
    _record(db, actor, "New address for the confirmed visits' feed; the old one stopped working", now)
    return row.visits_feed_token
