from pathlib import Path

import pytest

from bot.settings import Settings


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
