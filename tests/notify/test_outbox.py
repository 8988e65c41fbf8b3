import asyncio
import random
import threading
from collections import Counter

import pytest
from sqlalchemy.exc import OperationalError

from bot.db import make_engine, make_session_factory
from bot.notify.email import EmailSender
from bot.notify.outbox import RetryPolicy
from tests.leads.factories import PERSONAL_FRAGMENTS, a_new_lead, outbox_rows, read_lead

# Far longer than any test: the waits below only guard against a hang, they time nothing.
HANG_GUARD_SECONDS = 30


@pytest.fixture
def other_process_sessions(settings):
    """A second engine and pool on the same database, as another worker process would have."""
    engine = make_engine(settings)
    yield make_session_factory(engine)
    engine.dispose()


def _seconds_until_retry(row, clock) -> float:
    return (row.next_attempt_at - clock.now).total_seconds()


class GatedSender(EmailSender):
    """The real email sender, held at the start of each send until the test lets it go."""

    def __init__(self, settings):
        super().__init__(settings)
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def send(self, payload):
        self.started.set()
        await self.release.wait()
        await super().send(payload)


class SignallingSender(EmailSender):
    """The real email sender, announcing each notice it got out."""

    def __init__(self, settings):
        super().__init__(settings)
        self.sent: asyncio.Queue = asyncio.Queue()

    async def send(self, payload):
        await super().send(payload)
        self.sent.put_nowait(payload["lead_id"])


def test_retry_delays_double_with_jitter_up_to_a_cap():
    policy = RetryPolicy()
    rng = random.Random(1)
    for attempts in range(1, 15):
        ceiling = min(3600.0, 30.0 * 2 ** (attempts - 1))
        delay = policy.delay(attempts, permanent=False, rng=rng)
        assert ceiling / 2 <= delay <= ceiling
        refused_ceiling = min(6 * 3600.0, 600.0 * 2 ** (attempts - 1))
        refused = policy.delay(attempts, permanent=True, rng=rng)
        assert refused_ceiling / 2 <= refused <= refused_ceiling
    # Jitter: workers that failed together do not all come back at the same moment.
    spread = {round(policy.delay(3, permanent=False, rng=random.Random(seed)), 3) for seed in range(20)}
    assert len(spread) > 10


async def test_smtp_down_keeps_the_lead_and_delivers_once_it_is_back_even_after_a_restart(
    store, make_worker, smtp_server, session_factory, clock
):
    smtp_server.stop()
    lead_id = store.add(a_new_lead())
    worker = make_worker()

    # Each failure waits about twice as long as the one before: 15-30 s, 30-60 s, 60-120 s.
    for attempt, (low, high) in enumerate([(15, 30), (30, 60), (60, 120)], start=1):
        assert await worker.deliver_due() == 0
        [row] = outbox_rows(session_factory, lead_id)
        assert row.attempts == attempt and row.sent_at is None
        assert row.last_error.startswith("SMTP server unreachable")
        assert low <= _seconds_until_retry(row, clock) <= high
        # Not due yet: a second pass right away does not hammer the server.
        assert await worker.deliver_due() == 0
        assert outbox_rows(session_factory, lead_id)[0].attempts == attempt
        clock.move_to(row.next_attempt_at)

    assert read_lead(session_factory, lead_id).name == "Maria Lopez"

    smtp_server.start()  # same port, as a mail server coming back
    restarted = make_worker()
    assert await restarted.deliver_due() == 1
    assert [mail.message["Subject"] for mail in smtp_server.received] == [f"New appointment inquiry #{lead_id}"]
    [row] = outbox_rows(session_factory, lead_id)
    assert row.sent_at == clock.now and row.attempts == 4 and row.last_error is None
    assert await restarted.deliver_due() == 0


async def test_waits_are_capped_at_an_hour(store, make_worker, smtp_server, session_factory, clock):
    smtp_server.stop()
    lead_id = store.add(a_new_lead())
    worker = make_worker()
    waits = []
    for _ in range(12):
        assert await worker.deliver_due() == 0
        [row] = outbox_rows(session_factory, lead_id)
        waits.append(_seconds_until_retry(row, clock))
        clock.move_to(row.next_attempt_at)
    # 30 s doubled eleven times is far past an hour; the wait is held at 30-60 minutes.
    assert all(1800 <= wait <= 3600 for wait in waits[-5:])
    assert max(waits) <= 3600


async def test_a_temporary_refusal_is_retried_on_the_normal_schedule(
    store, make_worker, smtp_server, session_factory, clock
):
    smtp_server.refuse("451 4.3.0 Mailbox temporarily unavailable")
    lead_id = store.add(a_new_lead())
    worker = make_worker()
    assert await worker.deliver_due() == 0
    [row] = outbox_rows(session_factory, lead_id)
    assert "451" in row.last_error
    assert 15 <= _seconds_until_retry(row, clock) <= 30

    smtp_server.accept()
    clock.move_to(row.next_attempt_at)
    assert await worker.deliver_due() == 1
    assert len(smtp_server.received) == 1


async def test_a_permanent_refusal_is_retried_less_often_and_the_lead_is_kept(
    store, make_worker, smtp_server, session_factory, clock
):
    smtp_server.refuse("550 5.1.1 Mailbox unavailable")
    lead_id = store.add(a_new_lead())
    worker = make_worker()
    waits = []
    for _ in range(8):
        assert await worker.deliver_due() == 0
        [row] = outbox_rows(session_factory, lead_id)
        waits.append(_seconds_until_retry(row, clock))
        clock.move_to(row.next_attempt_at)
    assert "550" in row.last_error
    assert 300 <= waits[0] <= 600  # ten minutes at most, against half a minute for an outage
    assert all(3 * 3600 <= wait <= 6 * 3600 for wait in waits[-2:])
    assert read_lead(session_factory, lead_id) is not None and row.sent_at is None

    smtp_server.accept()  # someone fixed the address
    assert await worker.deliver_due() == 1
    assert [mail.message["Subject"] for mail in smtp_server.received] == [f"New appointment inquiry #{lead_id}"]


async def test_failure_records_hold_no_personal_details(store, make_worker, smtp_server, session_factory):
    smtp_server.refuse("550 5.1.1 <frontdesk@clinic.example>: Recipient address rejected")
    store.add(a_new_lead())
    await make_worker().deliver_due()
    [row] = outbox_rows(session_factory)
    assert row.last_error
    for fragment in PERSONAL_FRAGMENTS:
        assert fragment.lower() not in row.last_error.lower()


async def test_two_workers_racing_send_each_notice_exactly_once(
    store, make_worker, smtp_server, session_factory, other_process_sessions
):
    lead_ids = [store.add(a_new_lead(conversation_id=f"visitor-{n}")) for n in range(15)]
    first = make_worker(batch_size=4)
    second = make_worker(batch_size=4, session_factory=other_process_sessions, rng=random.Random(8))

    delivered = 0
    while True:
        counts = await asyncio.gather(first.deliver_due(), second.deliver_due(), first.deliver_due())
        delivered += sum(counts)
        if not any(counts):
            break

    assert delivered == len(lead_ids)
    subjects = Counter(mail.message["Subject"] for mail in smtp_server.received)
    assert subjects == Counter({f"New appointment inquiry #{lead_id}": 1 for lead_id in lead_ids})
    rows = outbox_rows(session_factory)
    assert all(row.sent_at is not None and row.attempts == 1 for row in rows)


async def test_a_notice_being_sent_is_not_taken_by_another_worker(
    store, make_worker, smtp_server, settings, other_process_sessions
):
    lead_id = store.add(a_new_lead())
    gated = GatedSender(settings)
    sending = asyncio.create_task(make_worker(email_sender=gated).deliver_due())
    await asyncio.wait_for(gated.started.wait(), HANG_GUARD_SECONDS)

    other = make_worker(session_factory=other_process_sessions)
    assert await other.deliver_due() == 0
    assert smtp_server.received == []

    gated.release.set()
    assert await asyncio.wait_for(sending, HANG_GUARD_SECONDS) == 1
    assert await other.deliver_due() == 0
    assert [mail.message["Subject"] for mail in smtp_server.received] == [f"New appointment inquiry #{lead_id}"]


async def test_a_worker_that_dies_mid_send_loses_no_notice(
    store, make_worker, smtp_server, settings, other_process_sessions, clock, retry_policy
):
    lead_id = store.add(a_new_lead())
    gated = GatedSender(settings)
    doomed = asyncio.create_task(make_worker(email_sender=gated).deliver_due())
    await asyncio.wait_for(gated.started.wait(), HANG_GUARD_SECONDS)
    doomed.cancel()  # the process is killed while its lease is held
    with pytest.raises(asyncio.CancelledError):
        await doomed

    survivor = make_worker(session_factory=other_process_sessions)
    assert await survivor.deliver_due() == 0  # the lease still runs
    clock.advance(retry_policy.lease_seconds + 1)
    assert await survivor.deliver_due() == 1
    assert [mail.message["Subject"] for mail in smtp_server.received] == [f"New appointment inquiry #{lead_id}"]


async def test_the_running_worker_sends_at_once_when_woken(store, make_worker, smtp_server, settings):
    # Polling once an hour: only the first pass and `wake` can explain a prompt delivery.
    sender = SignallingSender(settings)
    worker = make_worker(settings=settings.with_overrides(outbox_poll_seconds=3600.0), email_sender=sender)
    first = store.add(a_new_lead(conversation_id="first"))
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        assert await asyncio.wait_for(sender.sent.get(), HANG_GUARD_SECONDS) == first

        second = store.add(a_new_lead(conversation_id="second"))
        # As the save would from another thread (the action server runs saves in threads).
        waker = threading.Thread(target=worker.wake)
        waker.start()
        waker.join()
        assert await asyncio.wait_for(sender.sent.get(), HANG_GUARD_SECONDS) == second
    finally:
        stop.set()
        await asyncio.wait_for(running, HANG_GUARD_SECONDS)
    assert len(smtp_server.received) == 2


async def test_the_running_worker_survives_a_database_outage(
    store, make_worker, smtp_server, settings, session_factory
):
    calls = {"count": 0}

    def flaky_sessions():
        calls["count"] += 1
        if calls["count"] == 1:
            raise OperationalError("SELECT 1", {}, Exception("the database is restarting"))
        return session_factory()

    sender = SignallingSender(settings)
    worker = make_worker(
        settings=settings.with_overrides(outbox_poll_seconds=0.01), email_sender=sender, session_factory=flaky_sessions
    )
    lead_id = store.add(a_new_lead())
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        assert await asyncio.wait_for(sender.sent.get(), HANG_GUARD_SECONDS) == lead_id
    finally:
        stop.set()
        await asyncio.wait_for(running, HANG_GUARD_SECONDS)
    assert calls["count"] > 1
    assert len(smtp_server.received) == 1
