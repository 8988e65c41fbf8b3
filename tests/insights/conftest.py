"""Fixtures for the insights: a migrated database on SQLite and PostgreSQL, and the known week in it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from bot.db import make_engine, make_session_factory, upgrade_database
from bot.settings import Settings
from tests.insights.known_clinic import Expected, KnownClinic


@dataclass
class Database:
    engine: Engine
    session_factory: sessionmaker
    settings: Settings


@pytest.fixture
def insights_database(tmp_path: Path, database_url: str):
    """An empty migrated database: SQLite, then PostgreSQL."""
    settings = Settings(data_dir=tmp_path / "var", database_url=database_url, public_url="http://clinic.test",
                        clinic_timezone="America/New_York")
    engine = make_engine(settings)
    upgrade_database(engine)
    try:
        yield Database(engine, make_session_factory(engine), settings)
    finally:
        engine.dispose()


@pytest.fixture
def known_week(insights_database: Database) -> Expected:
    return KnownClinic(insights_database.engine, insights_database.session_factory, insights_database.settings).build()
