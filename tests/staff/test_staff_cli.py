"""`python -m bot staff ...`: accounts from the command line, with clear messages for bad input."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db import utcnow
from bot.staff import accounts
from bot.staff.cli import main
from bot.staff.models import StaffAccount, StaffLogin
from tests.staff.helpers import PASSWORD

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Run:
    def __init__(self, settings) -> None:
        self.settings = settings

    def __call__(self, *argv: str, stdin: str = "", prompts: list[str] | None = None) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        answers = list(prompts or [])

        def prompt(text: str) -> str:
            if not answers:
                raise EOFError
            return answers.pop(0)

        code = main(list(argv), settings=self.settings, stdin=io.StringIO(stdin), stdout=out, stderr=err, prompt=prompt)
        return code, out.getvalue(), err.getvalue()


@pytest.fixture
def run(staff_settings) -> Run:
    return Run(staff_settings)


def _account(database, login: str) -> StaffAccount | None:
    with database.session_factory() as db:
        return db.scalar(select(StaffAccount).where(StaffAccount.login == login))


def test_add_list_disable_enable(run, database) -> None:
    code, out, err = run("add", "Ann@Clinic.Example", "--admin", "--password-stdin", stdin=PASSWORD + "\n")
    assert (code, err) == (0, "")
    assert "Added the administrator account ann@clinic.example" in out
    code, out, _ = run("add", "ben@clinic.example", prompts=[PASSWORD, PASSWORD])
    assert code == 0 and "Added the staff account ben@clinic.example" in out
    ben = _account(database, "ben@clinic.example")
    assert ben is not None and accounts.verify_password(ben.password_hash, PASSWORD)

    code, out, _ = run("list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["LOGIN", "ROLE", "STATE", "LAST", "SIGN-IN"]
    assert lines[1].split() == ["ann@clinic.example", "admin", "active", "never"]
    assert lines[2].split() == ["ben@clinic.example", "staff", "active", "never"]

    assert run("disable", "ben@clinic.example")[0] == 0
    assert not _account(database, "ben@clinic.example").is_active
    assert "disabled" in run("list")[1].splitlines()[2]
    code, _, err = run("disable", "ben@clinic.example")
    assert code == 1 and "already disabled" in err
    assert run("enable", "ben@clinic.example")[0] == 0
    assert _account(database, "ben@clinic.example").is_active


@pytest.mark.parametrize(
    ("argv", "stdin", "prompts", "message"),
    [
        (["add", "not-an-email", "--password-stdin"], PASSWORD, None, "'not-an-email' is not a valid email address"),
        (["add", "ann@clinic.example", "--password-stdin"], "short\n", None, "too short: use at least 12 characters"),
        (["add", "ann@clinic.example", "--password-stdin"], "", None, "No password was given"),
        (["add", "ann@clinic.example"], "", [PASSWORD, PASSWORD + "x"], "two passwords are not the same"),
        (["add", "ann@clinic.example"], "", [], "no password was entered"),
        (["add", "ann@clinic.example", "--password-stdin"], "password12345678\n", None, "too easy to guess"),
        (["disable", "nobody@clinic.example"], "", None, "There is no staff account 'nobody@clinic.example'"),
        (["reset-password", "nobody@clinic.example", "--password-stdin"], PASSWORD + "\n", None, "no staff account"),
    ],
)
def test_bad_input_says_what_is_wrong_and_changes_nothing(run, database, argv, stdin, prompts, message) -> None:
    code, out, err = run(*argv, stdin=stdin, prompts=prompts)
    assert code == 1
    assert message in err
    assert out == ""
    with database.session_factory() as db:
        assert db.scalar(select(StaffAccount)) is None


def test_usage_errors(run) -> None:
    code, _, err = run()
    assert code == 2 and "usage: python -m bot staff" in err
    code, _, err = run("promote", "ann@clinic.example")
    assert code == 2 and "invalid choice: 'promote'" in err
    code, _, err = run("add")
    assert code == 2 and "the following arguments are required: email" in err


def test_adding_twice_is_refused(run) -> None:
    assert run("add", "ann@clinic.example", "--password-stdin", stdin=PASSWORD)[0] == 0
    code, _, err = run("add", "ANN@clinic.example", "--password-stdin", stdin=PASSWORD)
    assert code == 1 and "already a staff account 'ann@clinic.example'" in err


def test_the_last_administrator_cannot_be_disabled(run, database) -> None:
    run("add", "ann@clinic.example", "--admin", "--password-stdin", stdin=PASSWORD)
    code, _, err = run("disable", "ann@clinic.example")
    assert code == 1 and "only active administrator" in err
    assert _account(database, "ann@clinic.example").is_active


def test_reset_password_lifts_a_lock_and_ends_sessions(run, database) -> None:
    run("add", "ann@clinic.example", "--password-stdin", stdin=PASSWORD)
    with database.session_factory() as db:
        account = db.scalar(select(StaffAccount))
        account.failed_logins = 5
        account.locked_until = utcnow() + timedelta(minutes=10)
        db.add(StaffLogin(token_digest="a" * 64, account_id=account.id))
        db.commit()
    assert "sign-in locked" in run("list")[1]
    new_password = "violet harbor tandem 7"
    code, out, _ = run("reset-password", "ann@clinic.example", "--password-stdin", "--must-change", stdin=new_password)
    assert code == 0 and "must be changed at the next sign-in" in out
    with database.session_factory() as db:
        account = db.scalar(select(StaffAccount))
        assert accounts.verify_password(account.password_hash, new_password)
        assert not accounts.verify_password(account.password_hash, PASSWORD)
        assert (account.failed_logins, account.locked_until, account.must_change_password) == (0, None, True)
        assert db.scalar(select(StaffLogin)) is None


def test_through_python_dash_m_bot(tmp_path) -> None:
    env = {**os.environ, "DATA_DIR": str(tmp_path / "var")}
    env.pop("DATABASE_URL", None)
    added = subprocess.run(
        [sys.executable, "-m", "bot", "staff", "add", "ann@clinic.example", "--password-stdin"],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=60,
    )
    assert added.returncode == 0, added.stderr
    assert "Added the staff account ann@clinic.example" in added.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "bot", "staff", "add", "ann@", "--password-stdin"],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=60,
    )
    assert bad.returncode == 1 and "is not a valid email address" in bad.stderr
