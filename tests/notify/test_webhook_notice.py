import json

import pytest
from aiohttp import web

from bot.leads.models import LeadKind
from bot.notify.models import OutboxChannel
from bot.leads.store import LeadStore
from tests.fixtures import free_port
from tests.leads.factories import PERSONAL_FRAGMENTS, a_new_lead, outbox_rows


class Receiver:
    """A real local webhook endpoint answering with a status the test chooses."""

    def __init__(self):
        self.status = 204
        self.requests: list[tuple[dict, dict]] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append((body, dict(request.headers)))
        return web.Response(status=self.status)


@pytest.fixture
async def receiver(aiohttp_server):
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hooks/new-lead", receiver.handle)
    server = await aiohttp_server(app)
    receiver.url = str(server.make_url("/hooks/new-lead"))
    return receiver


@pytest.fixture
def webhook_settings(settings, receiver):
    # Webhook only, so the email channel does not blur what these tests see.
    return settings.with_overrides(webhook_url=receiver.url, smtp_host="")


async def test_a_new_lead_is_posted_to_the_webhook(
    session_factory, webhook_settings, receiver, make_worker, clock
):
    store = LeadStore(session_factory, webhook_settings, clock=clock)
    lead_id = store.add(a_new_lead(kind=LeadKind.availability))
    assert [row.channel for row in outbox_rows(session_factory)] == [OutboxChannel.webhook]

    assert await make_worker(settings=webhook_settings).deliver_due() == 1

    [(body, headers)] = receiver.requests
    assert body == {
        "event": "lead.created",
        "lead_id": lead_id,
        "kind": "availability",
        "url": f"https://clinic.example/staff/leads/{lead_id}",
        "created_at": clock.now.isoformat().replace("+00:00", "Z"),
    }
    assert headers["Content-Type"].startswith("application/json")
    assert headers["Idempotency-Key"] == f"lead.created-{lead_id}"
    for fragment in PERSONAL_FRAGMENTS:
        assert fragment.lower() not in json.dumps(body).lower()
    assert outbox_rows(session_factory)[0].sent_at is not None


@pytest.mark.parametrize(
    "status, low, high",
    [(503, 15, 30), (429, 15, 30), (400, 300, 600), (404, 300, 600)],
)
async def test_an_error_answer_is_retried_sooner_or_later_then_delivered(
    session_factory, webhook_settings, receiver, make_worker, clock, status, low, high
):
    LeadStore(session_factory, webhook_settings, clock=clock).add(a_new_lead())
    worker = make_worker(settings=webhook_settings)
    receiver.status = status
    assert await worker.deliver_due() == 0
    [row] = outbox_rows(session_factory)
    assert row.last_error == f"webhook answered HTTP {status}"
    assert low <= (row.next_attempt_at - clock.now).total_seconds() <= high

    receiver.status = 200
    clock.move_to(row.next_attempt_at)
    assert await worker.deliver_due() == 1
    assert len(receiver.requests) == 2


async def test_an_unreachable_webhook_is_retried(session_factory, settings, make_worker, clock):
    nowhere = settings.with_overrides(webhook_url=f"http://127.0.0.1:{free_port()}/hook", smtp_host="")
    LeadStore(session_factory, nowhere, clock=clock).add(a_new_lead())
    assert await make_worker(settings=nowhere).deliver_due() == 0
    [row] = outbox_rows(session_factory)
    assert row.last_error.startswith("webhook unreachable")
    assert 15 <= (row.next_attempt_at - clock.now).total_seconds() <= 30


async def test_a_notice_for_a_channel_no_longer_configured_waits_instead_of_vanishing(
    session_factory, webhook_settings, receiver, make_worker, clock
):
    LeadStore(session_factory, webhook_settings, clock=clock).add(a_new_lead())
    # The webhook setting was removed before the worker got to the notice.
    worker = make_worker(settings=webhook_settings.with_overrides(webhook_url=""))
    assert await worker.deliver_due() == 0
    [row] = outbox_rows(session_factory)
    assert row.sent_at is None and "not configured" in row.last_error

    clock.move_to(row.next_attempt_at)
    assert await make_worker(settings=webhook_settings).deliver_due() == 1
    assert len(receiver.requests) == 1
