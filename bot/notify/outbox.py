"""Sends the queued staff notices, retrying with backoff until each one goes out.

Rows are claimed with a lease: a conditional UPDATE writes a fresh token and an
expiry only where no unexpired lease exists, so of several worker processes exactly
one wins each row. A worker that dies mid-send leaves a lease that simply runs out,
and the row is picked up again; a notice may then repeat, but none is lost. A lead
is never removed or given up on for a failed notice: refusals are retried, only
less often.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Mapping, Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.orm import sessionmaker

from bot.db import utcnow
from bot.notify import DeliveryError
from bot.notify.email import EmailSender
from bot.notify.models import OutboxChannel, OutboxMessage
from bot.notify.webhook import WebhookSender
from bot.settings import Settings

log = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 200


class NoticeSender(Protocol):
    async def send(self, payload: Mapping) -> None:
        """Deliver one notice or raise (`DeliveryError` to say whether it is worth retrying soon)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait before the next try: doubling from a first delay up to a cap.

    A refusal (an SMTP 5xx, an HTTP 4xx) is retried on a slower schedule: it usually
    needs someone to fix a setting, and the notice must still go out afterwards.
    """

    first_delay_seconds: float = 30.0
    max_delay_seconds: float = 3600.0
    refused_first_delay_seconds: float = 600.0
    refused_max_delay_seconds: float = 6 * 3600.0
    # Longer than any send can take (the SMTP and webhook timeouts), so a lease only
    # runs out when its worker is gone.
    lease_seconds: float = 300.0

    def delay(self, attempts: int, *, permanent: bool, rng: random.Random) -> float:
        """Seconds before try number `attempts + 1`, with jitter so workers do not retry in step."""
        if permanent:
            first, cap = self.refused_first_delay_seconds, self.refused_max_delay_seconds
        else:
            first, cap = self.first_delay_seconds, self.max_delay_seconds
        ceiling = min(cap, first * 2 ** min(max(attempts - 1, 0), 32))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


@dataclass(frozen=True)
class Claim:
    id: int
    # None for a summary, which is about no lead.
    lead_id: int | None
    channel: OutboxChannel
    payload: str
    attempts: int
    token: str

    @property
    def about(self) -> str:
        """For log lines: "lead #12", or "a summary"."""
        return f"lead #{self.lead_id}" if self.lead_id is not None else "a summary"


class OutboxWorker:
    """Delivers due outbox rows; run one or more per deployment, in any processes."""

    def __init__(
        self,
        session_factory: sessionmaker,
        settings: Settings,
        *,
        email_sender: NoticeSender | None = None,
        webhook_sender: NoticeSender | None = None,
        visit_email_sender: NoticeSender | None = None,
        retry_policy: RetryPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        batch_size: int = 10,
    ) -> None:
        self._session_factory = session_factory
        self._settings = settings
        # A mail server is enough: summaries name their own recipients (lead notices need MAIL_TO).
        if email_sender is None and settings.smtp_host:
            email_sender = EmailSender(settings)
        if webhook_sender is None and settings.webhook_url:
            webhook_sender = WebhookSender(settings)
        self._senders: dict[OutboxChannel, NoticeSender | None] = {
            OutboxChannel.email: email_sender,
            OutboxChannel.webhook: webhook_sender,
            # Built by the web app, which knows where visits are read (bot.leads.visits).
            OutboxChannel.visit_email: visit_email_sender,
        }
        self.retry_policy = retry_policy or RetryPolicy()
        self._clock = clock
        self._rng = rng or random.Random()
        self._batch_size = batch_size
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake_event: asyncio.Event | None = None

    # -- one pass -------------------------------------------------------------

    async def deliver_due(self) -> int:
        """Claim the notices that are due, send them, record the outcome; return how many went out."""
        _claimed, delivered = await self._deliver_batch()
        return delivered

    async def _deliver_batch(self) -> tuple[int, int]:
        claims = await asyncio.to_thread(self._claim_due)
        if not claims:
            return 0, 0
        outcomes = await asyncio.gather(*(self._deliver(claim) for claim in claims))
        return len(claims), sum(outcomes)

    def _claim_due(self) -> list[Claim]:
        now = self._clock()
        lease_until = now + timedelta(seconds=self.retry_policy.lease_seconds)
        due = (
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.lease_expires_at.is_(None), OutboxMessage.lease_expires_at <= now),
        )
        with self._session_factory() as session:
            query = (
                select(
                    OutboxMessage.id,
                    OutboxMessage.lead_id,
                    OutboxMessage.channel,
                    OutboxMessage.payload,
                    OutboxMessage.attempts,
                )
                .where(*due)
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(self._batch_size)
            )
            if session.get_bind().dialect.name == "postgresql":
                # Rows another worker is claiming right now are skipped rather than waited for.
                query = query.with_for_update(skip_locked=True)
            rows = session.execute(query).all()
            claims = []
            for row in rows:
                token = uuid.uuid4().hex
                # The claim itself: succeeds only if the row is still as read and unleased.
                result = session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row.id, OutboxMessage.attempts == row.attempts, *due)
                    .values(lease_token=token, lease_expires_at=lease_until)
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount == 1:
                    claims.append(
                        Claim(row.id, row.lead_id, OutboxChannel(row.channel), row.payload, row.attempts, token)
                    )
            session.commit()
        return claims

    async def _deliver(self, claim: Claim) -> bool:
        sender = self._senders.get(claim.channel)
        try:
            if sender is None:
                raise DeliveryError(f"{claim.channel.value} notices are not configured", permanent=True)
            await sender.send(json.loads(claim.payload))
        except DeliveryError as exc:
            error = exc
        except Exception as exc:  # a sender bug must not stop the other notices
            log.warning("Notice #%s about %s failed unexpectedly", claim.id, claim.about, exc_info=True)
            error = DeliveryError(f"unexpected error ({type(exc).__name__})")
        else:
            await asyncio.to_thread(self._mark_sent, claim)
            log.info("Notice about %s sent by %s", claim.about, claim.channel.value)
            return True

        attempts = claim.attempts + 1
        delay = self.retry_policy.delay(attempts, permanent=error.permanent, rng=self._rng)
        await asyncio.to_thread(self._schedule_retry, claim, str(error)[:MAX_ERROR_LENGTH], delay)
        log.warning(
            "Notice about %s by %s failed (try %d): %s; next try in %d s",
            claim.about,
            claim.channel.value,
            attempts,
            error,
            delay,
        )
        return False

    def _mark_sent(self, claim: Claim) -> None:
        with self._session_factory() as session:
            # Not conditional on the lease: the notice went out, so no one should send it again.
            result = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == claim.id, OutboxMessage.sent_at.is_(None))
                .values(
                    sent_at=self._clock(),
                    attempts=OutboxMessage.attempts + 1,
                    last_error=None,
                    lease_token=None,
                    lease_expires_at=None,
                )
                .execution_options(synchronize_session=False)
            )
            session.commit()
        if result.rowcount != 1:
            log.warning("Notice #%s about %s was already marked sent", claim.id, claim.about)

    def _schedule_retry(self, claim: Claim, error: str, delay_seconds: float) -> None:
        now = self._clock()
        with self._session_factory() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == claim.id, OutboxMessage.lease_token == claim.token)
                .values(
                    attempts=OutboxMessage.attempts + 1,
                    next_attempt_at=now + timedelta(seconds=delay_seconds),
                    last_error=error,
                    lease_token=None,
                    lease_expires_at=None,
                )
                .execution_options(synchronize_session=False)
            )
            session.commit()

    # -- the loop -------------------------------------------------------------

    def wake(self) -> None:
        """Ask a running `run` loop to look for due notices now; safe from any thread."""
        loop, event = self._loop, self._wake_event
        if loop is None or event is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            event.set()
            return
        try:
            loop.call_soon_threadsafe(event.set)
        except RuntimeError:
            pass  # the loop has closed: nothing left to wake

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver due notices every `settings.outbox_poll_seconds` (sooner on `wake`) until `stop` is set."""
        self._loop = asyncio.get_running_loop()
        self._wake_event = asyncio.Event()
        poll = max(self._settings.outbox_poll_seconds, 0.01)
        log.info("Outbox worker started (polling every %s s)", poll)
        try:
            while not stop.is_set():
                try:
                    claimed, _delivered = await self._deliver_batch()
                except Exception:
                    # The database may be restarting: keep the loop alive and try again.
                    log.exception("Outbox pass failed; trying again in %s s", poll)
                    claimed = 0
                if claimed >= self._batch_size:
                    continue  # more may be waiting
                await self._sleep(stop, poll)
        finally:
            self._loop = None
            self._wake_event = None
            log.info("Outbox worker stopped")

    async def _sleep(self, stop: asyncio.Event, seconds: float) -> None:
        assert self._wake_event is not None
        waiters = {
            asyncio.ensure_future(stop.wait()),
            asyncio.ensure_future(self._wake_event.wait()),
        }
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)
        self._wake_event.clear()
