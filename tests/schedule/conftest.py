"""The schedule's tests run on a migrated database, once on SQLite and once on PostgreSQL."""

from pathlib import Path

import pytest

from bot.settings import Settings


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        public_url="https://clinic.example",
        clinic_name="Montross Physical Therapy",
        clinic_phone="(804) 493-3256",
        clinic_timezone="America/New_York",
        # The test feeds are served on 127.0.0.1.
        calendar_feed_private_addresses=True,
    )
