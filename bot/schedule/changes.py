"""What administrators change in the schedule settings, each in the caller's transaction and in
the audit log (action `schedule_changed`): visit types, weekly hours, capacity, closed days and
extra hours, the clinic calendar's address, and the address of the confirmed visits' feed.

The values come checked by the caller (the staff pages read them from their forms) as the plain
types below: a `VisitTypeChange`, `Hours` ranges by weekday, an `ExceptionChange`, a number or an
address. A rule that needs the database (the chat must still offer a visit type) is a
`ScheduleChangeError`. Times of day and days are the clinic's local ones. Audit entries never hold
the calendar's address: it is a secret.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import NamedTuple

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot import audit
from bot.audit import Actor, AuditAction
from bot.schedule.feed import forget_feed_state
from bot.schedule.models import ScheduleException, VisitType, WeeklyHours
from bot.schedule.rules import schedule_settings

# Index 0 is Monday, as `date.weekday()` counts.
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class Hours(NamedTuple):
    """One range of bookable hours in a day, local time of day: from `starts` up to `ends`."""

    starts: time
    ends: time


@dataclass(frozen=True)
class VisitTypeChange:
    """A visit type as it is to be saved.

    `name`: what the chat and the pages call it (at most 100 characters); `minutes`: its length, a
    multiple of 15; `position`: its order in lists, 1 first; `active`: offered at all;
    `offered_in_chat`: the one type the chat offers (only an active type can be).
    """

    name: str
    minutes: int
    position: int
    active: bool = True
    offered_in_chat: bool = False


@dataclass(frozen=True)
class ExceptionChange:
    """A day that differs from the weekly hours: `closed` all day, or open for extra hours
    `starts`-`ends` (local times of day, both given, `ends` after `starts`). `note` is shown to
    staff only and written to the audit log (at most 200 characters)."""

    day: date
    closed: bool = True
    starts: time | None = None
    ends: time | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if not self.closed and (self.starts is None or self.ends is None or self.ends <= self.starts):
            raise ValueError(f"Extra hours need a start before their end, not {self.starts}-{self.ends}.")


class ScheduleChangeError(ValueError):
    """A change refused for what is already saved; the message is fit to show, and `field` names the
    form field to show it at (a visit type's `name` or `offered_in_chat`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def hhmm(moment: time) -> str:
    """A time of day as '08:30'."""
    return f"{moment:%H:%M}"


def hours_text(hours: Iterable[tuple[time, time]]) -> str:
    """'08:00-12:00, 13:00-17:00': ranges as the hours field and the audit log show them; '' for none."""
    return ", ".join(f"{hhmm(starts)}-{hhmm(ends)}" for starts, ends in hours)


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


def add_visit_type(db: Session, change: VisitTypeChange, *, actor: Actor, now: datetime) -> VisitType:
    """Adds a visit type (offered in the chat: instead of any other) and returns it, flushed.

    Raises ScheduleChangeError("offered_in_chat", ...) when active types would remain but the chat
    would offer none; the caller rolls back.
    """
    visit_type = VisitType(name=change.name, minutes=change.minutes, position=change.position, active=change.active,
                           offered_in_chat=change.offered_in_chat)
    db.add(visit_type)
    db.flush()
    if change.offered_in_chat:
        _offer_in_chat_only(db, visit_type)
    _check_chat_still_offers(db)
    _record(db, actor, f"Added visit type #{visit_type.id} {change.name!r} ({change.minutes} min)"
            + (", offered in the chat" if change.offered_in_chat else ""), now)
    return visit_type


def update_visit_type(db: Session, visit_type_id: int, change: VisitTypeChange, *, actor: Actor,
                      now: datetime) -> VisitType:
    """Visit type #`visit_type_id` becomes `change` (offered in the chat: instead of any other); returns it.

    Raises ScheduleChangeError("name", ...) when there is no such visit type, and
    ScheduleChangeError("offered_in_chat", ...) when active types would remain but the chat would
    offer none; the caller rolls back.
    """
    visit_type = db.get(VisitType, visit_type_id)
    if visit_type is None:
        raise ScheduleChangeError("name", f"Visit type #{visit_type_id} does not exist any more.")
    visit_type.name, visit_type.minutes, visit_type.position = change.name, change.minutes, change.position
    visit_type.active, visit_type.offered_in_chat = change.active, change.offered_in_chat
    if change.offered_in_chat:
        _offer_in_chat_only(db, visit_type)
    _check_chat_still_offers(db)
    state = ("active" if change.active else "inactive") + (", offered in the chat" if change.offered_in_chat else "")
    _record(db, actor, f"Visit type #{visit_type_id} is now {change.name!r} ({change.minutes} min, order "
            f"{change.position}, {state})", now)
    return visit_type


def replace_weekly_hours(db: Session, hours: Mapping[int, Iterable[Hours]], *, actor: Actor, now: datetime) -> None:
    """The bookable hours of every weekday (0 = Monday .. 6 = Sunday) become `hours`: each day's
    ranges sorted, none overlapping. A weekday without any, or missing, is closed."""
    days = {weekday: list(ranges) for weekday, ranges in sorted(hours.items())}
    db.execute(delete(WeeklyHours))
    db.add_all(
        WeeklyHours(weekday=weekday, starts=starts, ends=ends)
        for weekday, ranges in days.items()
        for starts, ends in ranges
    )
    summary = "; ".join(f"{WEEKDAYS[day][:3]} {hours_text(ranges) or 'closed'}" for day, ranges in days.items())
    _record(db, actor, f"Weekly hours: {summary}", now)


def set_capacity(db: Session, capacity: int, *, actor: Actor, now: datetime) -> None:
    """How many visitors can be seen at the same time (a whole number, 1 or more)."""
    row = schedule_settings(db)
    before = row.capacity
    row.capacity = capacity
    row.updated_at = now
    _record(db, actor, f"Capacity {before} → {capacity} visitor(s) at once", now)


def add_exception(db: Session, change: ExceptionChange, *, actor: Actor, now: datetime) -> ScheduleException:
    """Adds a closed day or a day's extra hours and returns it, flushed; a closed day keeps no times.

    Raises ScheduleChangeError("day", ...) when that day is already closed, or closed when extra hours are added.
    """
    already = db.scalars(select(ScheduleException).where(ScheduleException.day == change.day)).all()
    if any(other.closed for other in already) or (change.closed and already):
        raise ScheduleChangeError(
            "day", "That day is already in the list: remove it there first to change it.")
    exception = ScheduleException(day=change.day, closed=change.closed, note=change.note,
                                  starts=None if change.closed else change.starts,
                                  ends=None if change.closed else change.ends)
    db.add(exception)
    db.flush()
    what = "closed" if change.closed else f"extra hours {hhmm(change.starts)}-{hhmm(change.ends)}"  # type: ignore[arg-type]
    _record(db, actor, f"{change.day.isoformat()}: {what}" + (f" ({change.note})" if change.note else ""), now)
    return exception


def delete_exception(db: Session, exception_id: int, *, actor: Actor, now: datetime) -> bool:
    """Removes closed day or extra hours #`exception_id`; False when there is no such one (already removed)."""
    exception = db.get(ScheduleException, exception_id)
    if exception is None:
        return False
    what = "closed day" if exception.closed else "extra hours"
    db.delete(exception)
    _record(db, actor, f"Removed the {what} on {exception.day.isoformat()}", now)
    return True


def set_calendar_feed(db: Session, url: str | None, *, actor: Actor, now: datetime) -> None:
    """The clinic calendar's address, normalized (`feed.normalize_feed_url`), or None: no calendar.

    A different address forgets what was read from the old one; the background worker reads the
    new one next. Saving the same address again is not recorded.
    """
    row = schedule_settings(db)
    changed = (row.calendar_feed_url or None) != url
    row.calendar_feed_url = url
    row.updated_at = now
    if changed:
        # The state described the old address; the worker reads the new one next.
        forget_feed_state(db)
        _record(db, actor, "Clinic calendar address changed" if url else "Clinic calendar removed", now)


def record_feed_refresh(db: Session, *, actor: Actor, now: datetime) -> None:
    """Notes in the audit log that `actor` had the clinic calendar read at once."""
    _record(db, actor, "Clinic calendar read now, by hand", now)


def new_visits_feed_address(db: Session, *, actor: Actor, now: datetime) -> str:
    """A new secret for the confirmed visits' feed; the old address stops working at once. Returns
    the secret (URL-safe, 43 characters)."""
    row = schedule_settings(db)
    row.visits_feed_token = secrets.token_urlsafe(32)
    row.updated_at = now
    _record(db, actor, "New address for the confirmed visits' feed; the old one stopped working", now)
    return row.visits_feed_token
