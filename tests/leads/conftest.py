from pathlib import Path

import pytest

from bot.leads.store import LeadStore
from bot.settings import Settings
from tests.leads.factories import FakeClock, migrated_database


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        public_url="https://clinic.example",
        smtp_host="127.0.0.1",
        mail_from="assistant@clinic.example",
        mail_to=("frontdesk@clinic.example",),
        webhook_url="https://hooks.example/new-lead",
    )


@pytest.fixture
def database(settings: Settings):
    with migrated_database(settings) as (engine, session_factory):
        yield engine, session_factory


@pytest.fixture
def engine(database):
    return database[0]


@pytest.fixture
def session_factory(database):
    return database[1]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(session_factory, settings: Settings, clock: FakeClock) -> LeadStore:
    return LeadStore(session_factory, settings, clock=clock)
