"""Capacity under concurrency: 20 visitors pick the same time at once, on real threads and a real
database each; exactly `capacity` of them get it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.orm import sessionmaker

from bot.db import _tune_sqlite, make_session_factory
from bot.schedule.bookings import attach_to_lead, hold, propose
from bot.schedule.models import BookingSeat
from bot.schedule.openings import find_openings
from bot.settings import Settings
from tests.schedule.builders import NOW, add_lead, local, set_capacity

VISITORS = 20


@pytest.fixture
def threaded_factory(settings: Settings, database) -> Iterator[sessionmaker]:
    """The test's database through a pool with a connection for every thread (make_engine's pool has 15)."""
    url = settings.effective_database_url
    sqlite = url.startswith("sqlite")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    engine = create_engine(url, pool_size=VISITORS + 2, max_overflow=0, hide_parameters=True,
                           connect_args={"timeout": 30} if sqlite else {})
    if sqlite:
        event.listen(engine, "connect", _tune_sqlite)
    yield make_session_factory(engine)
    engine.dispose()


def all_at_once(count: int, work: Callable[[int], object]) -> list:
    """`work(i)` on `count` threads, released together by a barrier."""
    barrier = threading.Barrier(count)

    def run(index: int):
        barrier.wait()
        return work(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def most_seats_in_a_cell(factory: sessionmaker) -> int:
    with factory() as session:
        counts = session.scalars(select(func.count()).select_from(BookingSeat).group_by(BookingSeat.cell_starts))
        return max(counts, default=0)


@pytest.mark.parametrize("capacity", [1, 3])
def test_twenty_visitors_at_once_get_exactly_capacity_holds(threaded_factory, settings, capacity):
    set_capacity(threaded_factory, capacity)
    wanted = find_openings(threaded_factory, settings, now=NOW)[0]
    held = all_at_once(VISITORS, lambda i: hold(threaded_factory, settings, starts=wanted.starts,
                                                conversation_id=f"visitor-{i}", now=NOW))
    winners = [h for h in held if h is not None]
    assert len(winners) == capacity
    assert len({h.booking_id for h in winners}) == capacity
    assert most_seats_in_a_cell(threaded_factory) == capacity
    later = find_openings(threaded_factory, settings, now=NOW, per_day=None, limit=50)
    assert wanted.starts not in {o.starts for o in later}


def test_visitors_picking_overlapping_times_at_once_never_exceed_capacity(threaded_factory, settings):
    # 30-minute consultations and an hour-long evaluation share cells; whatever wins, no cell goes over.
    from tests.schedule.builders import add_visit_type
    set_capacity(threaded_factory, 2)
    consult = add_visit_type(threaded_factory, "Free consultation", 30, position=0)
    evaluation = add_visit_type(threaded_factory, "Evaluation", 60, position=1, offered_in_chat=False)
    picks = [(local(2024, 3, 8, 8, 30 if i % 3 == 2 else 0), consult if i % 3 else evaluation) for i in range(VISITORS)]
    all_at_once(VISITORS, lambda i: hold(threaded_factory, settings, starts=picks[i][0], now=NOW,
                                         conversation_id=f"visitor-{i}", visit_type_id=picks[i][1]))
    assert most_seats_in_a_cell(threaded_factory) <= 2


def test_staff_and_a_lead_claiming_at_once_never_exceed_capacity(threaded_factory, settings):
    # A lead saved while its lapsed hold's time is proposed to another lead: one of them gets it.
    from bot.schedule.bookings import lapse_expired
    from datetime import timedelta
    nine = local(2024, 3, 8, 9)
    first = hold(threaded_factory, settings, starts=nine, conversation_id="conversation-1", now=NOW)
    other = hold(threaded_factory, settings, starts=local(2024, 3, 8, 10), conversation_id="conversation-2", now=NOW)
    lead_1 = add_lead(threaded_factory, settings, "conversation-1")
    lead_2 = add_lead(threaded_factory, settings, "conversation-2")
    with threaded_factory() as session:
        attach_to_lead(session, settings, booking_id=other.booking_id, conversation_id="conversation-2",
                       lead_id=lead_2, now=NOW)
        session.commit()
    lapse_expired(threaded_factory, now=NOW + timedelta(minutes=31))
    later = NOW + timedelta(minutes=35)

    def attach(_):
        with threaded_factory() as session:
            booking = attach_to_lead(session, settings, booking_id=first.booking_id,
                                     conversation_id="conversation-1", lead_id=lead_1, now=later)
            session.commit()
            return booking

    def move(_):
        with threaded_factory() as session:
            try:
                booking = propose(session, settings, booking_id=other.booking_id, starts=nine, now=later)
            except Exception as error:
                return error
            session.commit()
            return booking

    results = all_at_once(2, lambda i: (attach, move)[i](i))
    assert most_seats_in_a_cell(threaded_factory) == 1
    assert sum(1 for r in results if r is not None and not isinstance(r, Exception)) == 1
