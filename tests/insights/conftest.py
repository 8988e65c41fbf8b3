"""Fixtures for the insights: a migrated database on SQLite and PostgreSQL, and the known week in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings
from tests.insights.known_clinic import Expected, KnownClinic
from tests.staff.helpers import Database, migrated_database


@pytest.fixture
def insights_database(tmp_path: Path, database_url: str):
    """An empty migrated database: SQLite, then PostgreSQL."""
    yield from migrated_database(Settings(data_dir=tmp_path / "var", database_url=database_url,
                                          public_url="http://clinic.test", clinic_timezone="America/New_York"))


@pytest.fixture
def known_week(insights_database: Database) -> Expected:
    return KnownClinic(insights_database.engine, insights_database.session_factory, insights_database.settings).build()
