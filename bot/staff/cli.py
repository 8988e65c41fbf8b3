"""`python -m bot staff ...`: add, list, disable, enable staff accounts and reset passwords."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.db import make_engine, make_session_factory, upgrade_database, utcnow
from bot.settings import Settings, SettingsError
from bot.staff import accounts
from bot.staff.accounts import AccountError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(f"{self.format_usage()}{self.prog}: {message}")


class _UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m bot staff", description="Manage the accounts of the staff pages.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    add = commands.add_parser("add", help="add a staff account (asks for its password)")
    add.add_argument("email", help="the person's email address; it is their login")
    add.add_argument("--admin", action="store_true", help="may also read the audit log")
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    add.add_argument("--must-change", action="store_true", help="ask for a new password at the first sign-in")

    commands.add_parser("list", help="list the accounts")

    disable = commands.add_parser("disable", help="stop an account from signing in and end its sessions")
    disable.add_argument("email")
    enable = commands.add_parser("enable", help="let a disabled account sign in again")
    enable.add_argument("email")

    reset = commands.add_parser("reset-password", help="set a new password (also lifts a sign-in lock)")
    reset.add_argument("email")
    reset.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    reset.add_argument("--must-change", action="store_true", help="ask for a new password at the next sign-in")
    return parser


def _read_password(args: argparse.Namespace, stdin: TextIO, prompt: Callable[[str], str]) -> str:
    if args.password_stdin:
        line = stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        if password.endswith("\r"):
            password = password[:-1]
        if not password:
            raise AccountError("No password was given on standard input.")
        return password
    first = prompt("Password: ")
    second = prompt("Password again: ")
    if first != second:
        raise AccountError("The two passwords are not the same; nothing was changed.")
    return first


def _state(account) -> str:
    parts = ["active" if account.is_active else "disabled"]
    now = utcnow()
    if account.locked_until is not None and account.locked_until > now:
        parts.append("sign-in locked")
    if account.must_change_password:
        parts.append("must change password")
    return ", ".join(parts)


def main(
    argv: list[str],
    *,
    settings: Settings | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    prompt: Callable[[str], str] = getpass.getpass,
) -> int:
    """Run one staff command; `argv` is what follows `staff` on the command line."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    if argv and argv[0] == "staff":
        argv = argv[1:]
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as usage:
        print(usage, file=stderr)
        return 2
    except SystemExit as exit_:  # --help
        return int(exit_.code or 0)

    try:
        settings = settings or Settings.from_env()
    except SettingsError as problem:
        print(f"error: {problem}", file=stderr)
        return 2

    try:
        password = None
        if args.command == "add":
            # Check the address before asking for a password that would be thrown away.
            accounts.validate_staff_email(args.email)
        if args.command in {"add", "reset-password"}:
            password = _read_password(args, stdin, prompt)
    except AccountError as problem:
        print(f"error: {problem}", file=stderr)
        return 1
    except (EOFError, KeyboardInterrupt):
        print("error: no password was entered; nothing was changed.", file=stderr)
        return 1

    engine = make_engine(settings)
    try:
        upgrade_database(engine)
        factory = make_session_factory(engine)
        with factory() as db:
            try:
                message = _run(db, args, password, settings)
                db.commit()
            except AccountError as problem:
                db.rollback()
                print(f"error: {problem}", file=stderr)
                return 1
    finally:
        engine.dispose()
    if message:
        print(message, file=stdout)
    return 0


def _run(db: Session, args: argparse.Namespace, password: str | None, settings: Settings) -> str:
    if args.command == "add":
        account = accounts.create_account(
            db, args.email, password or "", is_admin=args.admin, must_change_password=args.must_change
        )
        role = "administrator" if account.is_admin else "staff"
        return f"Added the {role} account {account.login}."
    if args.command == "list":
        return _listing(accounts.list_accounts(db), ZoneInfo(settings.clinic_timezone))
    if args.command == "disable":
        account = accounts.disable_account(db, args.email)
        return f"Disabled {account.login}; its sessions were ended."
    if args.command == "enable":
        account = accounts.enable_account(db, args.email)
        return f"Enabled {account.login}."
    if args.command == "reset-password":
        account = accounts.require_account(db, args.email)
        accounts.set_password(db, account, password or "", must_change_password=args.must_change)
        extra = " It must be changed at the next sign-in." if args.must_change else ""
        return f"Set a new password for {account.login}; its sessions were ended and any sign-in lock lifted.{extra}"
    raise AccountError(f"Unknown command {args.command!r}.")


def _listing(rows: list, clinic_tz: ZoneInfo) -> str:
    if not rows:
        return "There are no staff accounts yet."
    table = [("LOGIN", "ROLE", "STATE", "LAST SIGN-IN")]
    for account in rows:
        last = "never"
        if account.last_login_at is not None:
            last = account.last_login_at.astimezone(clinic_tz).strftime("%Y-%m-%d %H:%M")
        table.append((account.login, "admin" if account.is_admin else "staff", _state(account), last))
    widths = [max(len(row[column]) for row in table) for column in range(3)]
    return "\n".join(
        "  ".join(value.ljust(widths[index]) if index < 3 else value for index, value in enumerate(row)).rstrip()
        for row in table
    )
