"""The import-linter contracts in pyproject.toml ([tool.importlinter]): which package may import which."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.settings import PROJECT_ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_every_import_contract_is_kept():
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_file_of_ours_is_over_400_lines():
    sources = [path for suffix in ("py", "js", "css", "html") for path in (PROJECT_ROOT / "bot").rglob(f"*.{suffix}")]
    assert len(sources) > 50
    long = {
        str(path.relative_to(PROJECT_ROOT)): lines
        for path in sources
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert long == {}
