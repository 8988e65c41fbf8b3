"""Command line: `python -m bot run | serve | migrate | staff ...`."""

from __future__ import annotations

import argparse
import os
import sys

from bot.settings import SettingsError


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bot", description="The clinic assistant.")
    parser.add_argument(
        "command",
        choices=["run", "serve", "actions", "migrate", "staff", "backup", "restore"],
        help="run: Rasa, the action server and the web app together; serve: the web app alone; "
        "actions: the action server alone (--port, default 5055); "
        "migrate: bring the database schema up to date; staff: manage staff accounts; "
        "backup FILE / restore FILE: the whole database (leads, staff, conversations) to or from a file",
    )
    args, rest = parser.parse_known_args(argv[:1])
    rest = argv[1:]
    # The database, its backups, keys and logs hold visitors' details: for this account's eyes only.
    os.umask(0o077)
    try:
        return _run(parser, args.command, rest)
    except SettingsError as error:
        print(f"The settings need a change: {error}", file=sys.stderr)
        return 2


def _run(parser: argparse.ArgumentParser, command: str, rest: list[str]) -> int:
    # Each command imports only what it runs: the action server's workers need no web app,
    # and the web app no rasa_sdk.
    if command == "staff":
        from bot.staff.cli import main as staff_main

        return staff_main(rest)
    if command in ("backup", "restore"):
        from bot.backup import main as backup_main

        return backup_main(command, rest)
    if command == "actions":
        from bot.action_server import main as actions_main

        actions_parser = argparse.ArgumentParser(prog="python -m bot actions")
        actions_parser.add_argument("--port", type=int, default=5055)
        return actions_main(actions_parser.parse_args(rest).port)
    if rest:
        parser.error(f"unexpected arguments: {' '.join(rest)}")
    if command == "run":
        from bot.launcher import main as run_main

        return run_main()
    from bot.settings import Settings

    settings = Settings.from_env()
    if command == "serve":
        from bot.web.app import serve

        serve(settings)
        return 0
    from bot.db import make_engine, upgrade_database

    upgrade_database(make_engine(settings))
    print("The database schema is up to date.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
