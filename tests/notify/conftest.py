from pathlib import Path

import pytest

from bot.notify.outbox import OutboxWorker, RetryPolicy
from bot.settings import Settings
from tests.fixtures.smtp import SmtpServer
from tests.leads.factories import STAFF_ADDRESS, FakeClock


@pytest.fixture
def settings(tmp_path: Path, database_url: str, smtp_server: SmtpServer) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        public_url="https://clinic.example",
        clinic_timezone="America/New_York",
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        smtp_timeout_seconds=5.0,
        mail_from="assistant@clinic.example",
        mail_to=(STAFF_ADDRESS,),
    )





@pytest.fixture
def retry_policy() -> RetryPolicy:
    return RetryPolicy()



@pytest.fixture
def make_worker(session_factory, settings: Settings, clock: FakeClock, retry_policy: RetryPolicy):
    """A new worker on the test database, as a freshly started process would make."""
    import random

    def make(**overrides) -> OutboxWorker:
        options = {"clock": clock, "retry_policy": retry_policy, "rng": random.Random(7)}
        options.update(overrides)
        worker_settings = options.pop("settings", settings)
        factory = options.pop("session_factory", session_factory)
        return OutboxWorker(factory, worker_settings, **options)

    return make
