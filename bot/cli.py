"""The `lotse` command: run, console, db upgrade, export."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings
from bot.core.transport import StartupError, Transport

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lotse", description="Lotse: volunteer guides for newcomers.")
    parser.add_argument("--log-level", default="WARNING", help="DEBUG, INFO, WARNING (default), ERROR")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="serve every transport enabled in the config (console if none)")
    run.add_argument("--config", type=Path, help="TOML file (default: embedded defaults)")
    console = sub.add_parser("console", help="chat with the bot in this terminal")
    console.add_argument("--config", type=Path, help="TOML file (default: embedded defaults)")
    console.add_argument("--user", default="you", help="the console user you speak as first")
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply pending migrations")
    upgrade.add_argument("--config", type=Path, help="TOML file (default: embedded defaults)")
    export = sub.add_parser("export", help="accompaniments of a period as CSV for the funder (no newcomer identity)")
    export.add_argument("--config", type=Path, help="TOML file (default: embedded defaults)")
    export.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD")
    export.add_argument("--to", dest="last", required=True, help="last day, YYYY-MM-DD (included)")
    export.add_argument("--out", type=Path, help="file to write (default: standard output)")
    export.add_argument("--decimal-comma", action="store_true", help='hours as "1,5" (German spreadsheets)')
    return parser


def build_transports(settings: Settings, console_only: bool = False, user: str = "you") -> list[Transport]:
    from bot.transports.console import ConsoleTransport

    transports: list[Transport] = []
    if not console_only and settings.telegram.enabled:
        from bot.transports.telegram import TelegramTransport

        transports.append(TelegramTransport(settings.telegram))
    if not console_only and settings.matrix.enabled:
        from bot.transports.matrix import MatrixTransport

        transports.append(MatrixTransport(settings.matrix))
    if not transports:
        transports.append(ConsoleTransport(user=user))
    return transports


async def _db_upgrade(settings: Settings) -> int:
    from bot.store import migrations
    from bot.store.db import Database

    db = await Database.open(settings.database.path)
    try:
        applied = await migrations.upgrade(db)
    finally:
        await db.close()
    if applied:
        for migration in applied:
            print(f"applied {migration.version:04d}_{migration.name}")
    else:
        print("database is up to date")
    return 0


async def _export(settings: Settings, args: argparse.Namespace) -> int:
    """Read-only: the database is opened so that nothing can be written, not even migrations."""
    import sqlite3
    from datetime import UTC, date

    from bot.export import assignments_csv, period
    from bot.store.db import Database
    from bot.store.stats import Stats

    try:
        first, last = date.fromisoformat(args.first), date.fromisoformat(args.last)
    except ValueError as exc:
        print(f"export: --from/--to: {exc} (expected YYYY-MM-DD)", file=sys.stderr)
        return EXIT_CONFIG
    if first > last:
        print("export: --from must not be after --to", file=sys.stderr)
        return EXIT_CONFIG
    try:  # the period as UTC instants: its first or last day may lie beyond what datetime can hold
        for moment in period(first, last, settings.zone):
            moment.astimezone(UTC)
    except OverflowError:
        print(f"export: --from/--to: {first.isoformat()} to {last.isoformat()} reaches beyond the years 1 to 9999",
              file=sys.stderr)
        return EXIT_CONFIG
    if not Path(settings.database.path).exists():
        print(f"export: no database at {settings.database.path}", file=sys.stderr)
        return EXIT_CONFIG
    db = await Database.open(settings.database.path, read_only=True)
    try:
        content = await assignments_csv(Stats(db), first, last, settings.zone, args.decimal_comma)
    except (LookupError, sqlite3.OperationalError) as exc:
        print(f"export: {exc} (run `lotse db upgrade` first)", file=sys.stderr)
        return EXIT_CONFIG
    finally:
        await db.close()
    if args.out is None:
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
    else:
        args.out.write_bytes(content)
    return 0


async def _serve(settings: Settings, transports: list[Transport]) -> int:
    from bot.app import App

    await App(settings, transports).run()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # nio warns about every error response that does not match its schema (e.g. a refused token),
    # which Lotse reports itself in one line.
    logging.getLogger("nio.responses").setLevel(logging.ERROR)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG
    try:
        if args.command == "export":
            return asyncio.run(_export(settings, args))
        if args.command == "db":
            return asyncio.run(_db_upgrade(settings))
        if args.command == "console":
            return asyncio.run(_serve(settings, build_transports(settings, console_only=True, user=args.user)))
        return asyncio.run(_serve(settings, build_transports(settings)))
    except StartupError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
