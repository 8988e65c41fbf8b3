"""Running Rasa's own command line (in .venv-rasa) from the tests."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT
from bot.stack import DEFAULT_MODEL, RASA_BIN


def require_model() -> Path:
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"No trained model at {DEFAULT_MODEL}: `make test` trains it before running the tests")
    return DEFAULT_MODEL


def run_rasa(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    if not RASA_BIN.exists():
        pytest.fail(f"Rasa is not installed at {RASA_BIN}: run `make setup`")
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run(
        [str(RASA_BIN), *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
