"""Claiming and freeing the seats that keep bookings within capacity (see bot/schedule/models.py).

A claim reads the seats taken in the booking's cells and takes the lowest free seat below the
capacity in each; two claims that read the same seats pick the same number, and the database's
UNIQUE(cell_starts, seat) refuses the second (IntegrityError: the caller retries or gives up).

On SQLite a claim first takes the database's write lock (`BEGIN IMMEDIATE`), so what it reads
cannot change before it writes; PostgreSQL needs no lock beyond the constraint.
"""

from __future__ import annotations

import logging
import random
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from bot.schedule.hours import cells
from bot.schedule.models import CELL_MINUTES, BookingSeat

log = logging.getLogger(__name__)

T = TypeVar("T")
# Each try after a conflict reads what the winner wrote, so a claim settles in about `capacity` tries.
MAX_TRIES = 30


def lock_for_claim(session: Session) -> None:
    """On SQLite, make sure the session's transaction holds the write lock before it reads seats.

    A transaction that has written already holds it (SQLite's driver begins one only before a
    write); otherwise `BEGIN IMMEDIATE` takes it, waiting the connection's busy timeout.
    PostgreSQL: nothing to do.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    if not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def assign(session: Session, starts: datetime, ends: datetime, capacity: int,
           ignore: Collection[int] = ()) -> list[tuple[datetime, int]] | None:
    """(cell start, seat) for each cell of `starts`-`ends`, or None when a cell has `capacity` seats taken.

    Seats of the bookings in `ignore` count as free (a booking that moves to a nearby time).
    """
    wanted = cells(starts, ends, CELL_MINUTES)
    query = select(BookingSeat.cell_starts, BookingSeat.seat).where(BookingSeat.cell_starts.in_(wanted))
    if ignore:
        query = query.where(BookingSeat.booking_id.not_in(list(ignore)))
    taken: dict[datetime, set[int]] = defaultdict(set)
    for cell, seat in session.execute(query):
        taken[cell].add(seat)
    chosen = []
    for cell in wanted:
        used = taken[cell]
        if len(used) >= capacity:
            return None
        chosen.append((cell, next(seat for seat in range(capacity) if seat not in used)))
    return chosen


def take(session: Session, booking_id: int, chosen: Iterable[tuple[datetime, int]]) -> None:
    """Insert the seats `assign` chose, in cell order; raises IntegrityError when one was taken meanwhile."""
    session.add_all(BookingSeat(booking_id=booking_id, cell_starts=cell, seat=seat) for cell, seat in chosen)
    session.flush()


def free(session: Session, booking_ids: Collection[int]) -> None:
    """Delete every seat of these bookings."""
    if booking_ids:
        session.execute(
            delete(BookingSeat).where(BookingSeat.booking_id.in_(list(booking_ids)))
            .execution_options(synchronize_session=False)
        )


def taken_per_cell(session: Session, starts: datetime, ends: datetime) -> dict[int, int]:
    """Seats taken in each cell that starts in `starts`-`ends`, keyed by the cell's POSIX second."""
    first = cells(starts, starts, CELL_MINUTES)
    lower = first[0] if first else starts
    rows = session.execute(
        select(BookingSeat.cell_starts, func.count())
        .where(BookingSeat.cell_starts >= lower, BookingSeat.cell_starts < ends)
        .group_by(BookingSeat.cell_starts)
    )
    return {int(cell.timestamp()): count for cell, count in rows}


def is_conflict(error: Exception) -> bool:
    """A unique violation, a deadlock or serialization failure, or SQLite's lock timing out: worth a retry."""
    original = getattr(error, "orig", None)
    sqlstate = getattr(original, "sqlstate", None)
    if isinstance(error, IntegrityError):
        return sqlstate == "23505" or "UNIQUE constraint failed" in str(original)
    if isinstance(error, OperationalError):
        return sqlstate in {"40001", "40P01"} or "database is locked" in str(original)
    return False


def retrying(attempt: Callable[[], T], what: str) -> T:
    """Run `attempt` (one whole transaction) again after each conflict, up to MAX_TRIES times."""
    for tries in range(1, MAX_TRIES + 1):
        try:
            return attempt()
        except (IntegrityError, OperationalError) as error:
            if not is_conflict(error) or tries == MAX_TRIES:
                raise
            log.debug("%s met a concurrent claim (try %d); trying again", what, tries)
            time.sleep(random.uniform(0, 0.002 * tries))
    raise AssertionError("unreachable")
