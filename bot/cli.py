"""The `lotse` command: run, console, db upgrade, db backup, export, report, privacy purge, privacy erase.

Operator errors (a bad config, an unusable database file, a refused token) are one line on stderr
and exit status 2, never a traceback.  Log lines pass a filter that removes every secret.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bot import logsafe
from bot.config import ConfigError, Settings, load_settings
from bot.core.transport import StartupError, Transport
from bot.store.files import DatabaseFileError

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
    backup = db_sub.add_parser("backup", help="copy the database to PATH (safe while Lotse runs)")
    backup.add_argument("path", type=Path, metavar="PATH", help="the backup file to write (mode 0600)")
    backup.add_argument("--force", action="store_true", help="overwrite PATH if it exists")
    backup.add_argument("--config", type=Path, help="TOML file (default: embedded defaults)")
    export = sub.add_parser("export", help="accompaniments of a period as CSV for the funder (no newcomer identity)")
    export.add_argument("--config", type=Path, help="TOML file (default: embedded defaults)")
    export.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD")
    export.add_argument("--to", dest="last", required=True, help="last day, YYYY-MM-DD (included)")
    export.add_argument("--out", type=Path, help="file to write (default: standard output)")
    export.add_argument("--decimal-comma", action="store_true", help='hours as "1,5" (German spreadsheets)')
    report = sub.add_parser("report", help="the year's payment list (names: coordinators only) and the funder's "
                                           "summary with a chart of hours per month")
    report.add_argument("--config", type=Path, help="TOML file (default: embedded defaults)")
    report.add_argument("--year", required=True, help="the calendar year, e.g. 2026")
    report.add_argument("--format", default="pdf", help="pdf (default) or csv")
    report.add_argument("--out", type=Path, default=Path("."), help="folder to write the two files into (default: here)")
    report.add_argument("--language", help="language of the labels (default: [bot] default_language)")
    privacy = sub.add_parser("privacy", help="data rights and retention")
    privacy_sub = privacy.add_subparsers(dest="privacy_command", required=True)
    purge = privacy_sub.add_parser("purge", help="apply the retention rules of [privacy] now (the bot does it daily)")
    purge.add_argument("--dry-run", action="store_true", help="only count what would be purged; change nothing")
    purge.add_argument("--config", type=Path, help="TOML file (default: embedded defaults)")
    erase = privacy_sub.add_parser("erase", help="erase one person, as their `deleteme` would")
    erase.add_argument("person", metavar="PLATFORM:ID", help="as in [roles] coordinators, e.g. telegram:123456789")
    erase.add_argument("--config", type=Path, help="TOML file (default: embedded defaults)")
    return parser


def build_transports(settings: Settings, console_only: bool = False, user: str = "you") -> list[Transport]:
    from bot.transports import registry

    return registry.build_enabled(settings, console_only=console_only, user=user)


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
    from bot.store import migrations
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
        await migrations.check_known(db)
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
        try:
            _write_private(args.out, content)
        except OSError as exc:
            print(f"export: cannot write {args.out}: {(exc.strerror or str(exc)).lower()}", file=sys.stderr)
            return EXIT_CONFIG
    return 0


async def _report(settings: Settings, args: argparse.Namespace) -> int:
    """`lotse report`: read-only, like `lotse export`; two files, written only their owner can read."""
    from bot.core.i18n import Catalogs
    from bot.services import reports
    from bot.store import Store, migrations
    from bot.store.db import Database
    from handlers import labels

    if not args.year.isdigit() or not 1970 <= int(args.year) <= 9998:
        print(f"report: --year: {args.year!r} is not a year from 1970 to 9998 (e.g. 2026)", file=sys.stderr)
        return EXIT_CONFIG
    if args.format not in reports.FORMATS:
        print(f"report: --format: {args.format!r} is not one of {', '.join(reports.FORMATS)}", file=sys.stderr)
        return EXIT_CONFIG
    language = args.language or settings.bot.default_language
    if language not in settings.bot.languages:
        print(f"report: --language: {language!r} is not one of [bot] languages", file=sys.stderr)
        return EXIT_CONFIG
    if not args.out.is_dir():
        print(f"report: --out: {args.out} is not a folder", file=sys.stderr)
        return EXIT_CONFIG
    if not Path(settings.database.path).exists():
        print(f"report: no database at {settings.database.path}", file=sys.stderr)
        return EXIT_CONFIG
    catalogs = Catalogs(settings.bot.languages, settings.bot.default_language, settings.zone,
                        region=settings.bot.region)
    db = await Database.open(settings.database.path, read_only=True)
    try:
        await migrations.check_known(db)
        built = await reports.build(Store(db), settings.programme, settings.zone, int(args.year))
    except (LookupError, sqlite3.OperationalError) as exc:
        print(f"report: {exc} (run `lotse db upgrade` first)", file=sys.stderr)
        return EXIT_CONFIG
    finally:
        await db.close()
    written = reports.files(built, args.format, catalogs.get(language), catalogs.get(settings.bot.default_language),
                            settings.programme, labels.topic, labels.language)
    for file in written:
        try:
            _write_private(args.out / file.filename, file.content)
        except OSError as exc:
            print(f"report: cannot write {args.out / file.filename}: {(exc.strerror or str(exc)).lower()}",
                  file=sys.stderr)
            return EXIT_CONFIG
        print(args.out / file.filename)
    return 0


def _write_private(path: Path, content: bytes) -> None:
    """Write a file only its owner can read (0600 whatever the umask): exports hold personal data."""
    from bot.store.files import create_private

    with open(create_private(path), "wb") as fh:
        fh.write(content)


async def _db_backup(settings: Settings, target: Path, force: bool) -> int:
    """A consistent copy through SQLite's online backup API, while a running Lotse may be writing
    (WAL): written to a private temporary file next to `target`, then renamed into place."""
    import os

    from bot.store import files

    source = Path(settings.database.path)
    if target.is_dir():
        print(f"backup: {target} is a directory; name the backup file", file=sys.stderr)
        return EXIT_CONFIG
    if target.exists() and not force:
        print(f"backup: {target} exists; choose another name or add --force to overwrite it", file=sys.stderr)
        return EXIT_CONFIG
    files.prepare(source, read_only=True)
    if target.resolve() == source.resolve():
        print(f"backup: {target} is the database itself", file=sys.stderr)
        return EXIT_CONFIG
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        os.close(files.create_private(partial, exclusive=True))
    except OSError as exc:
        print(f"backup: cannot write {target}: {(exc.strerror or str(exc)).lower()}", file=sys.stderr)
        return EXIT_CONFIG

    def copy() -> int:
        src = sqlite3.connect(f"file:{source.resolve()}?mode=ro", uri=True, timeout=5)
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
                return int(dst.execute("PRAGMA page_count").fetchone()[0]) * int(
                    dst.execute("PRAGMA page_size").fetchone()[0])
            finally:
                dst.close()
        finally:
            src.close()

    try:
        size = await asyncio.to_thread(copy)
        os.replace(partial, target)
    except BaseException:
        for leftover in (partial, Path(f"{partial}-journal"), Path(f"{partial}-wal"), Path(f"{partial}-shm")):
            leftover.unlink(missing_ok=True)
        raise
    print(f"backed up {source} to {target} ({size // 1024} KiB)")
    return 0


@dataclass
class _Offline:
    """The services bot/services/privacy.py and retention.py need, without transports: nobody is
    told anything, and the running bot's dispatch finds reopened requests at its next start."""

    settings: Settings
    store: Any
    dispatch: None = None
    messenger: None = None
    retention_texts: None = None


PURGE_LINES = {
    "texts": "requests: place and note deleted",
    "feedback": "appointments: feedback comment and meeting point deleted",
    "offer_messages": "offers: message id deleted",
    "relayed": "relayed messages of closed conversations deleted",
    "active_again": "people asked earlier and active again",
    "erased": "people erased after no answer",
    "asked": "people asked whether to keep their data (marked only: no transports here)",
    "declined_deleted": "declined records deleted",
    "declined_anonymised": "declined records anonymised (still referred to)",
    "tokens": "button tokens pruned",
    "events": "processed event ids pruned",
}


async def _privacy_purge(settings: Settings, dry_run: bool) -> int:
    """`lotse privacy purge`: a dry run reads through a read-only connection, so it cannot change
    anything, not even migrate."""
    from bot.clock import utcnow
    from bot.services import retention
    from bot.store import Store, migrations
    from bot.store.db import Database

    if not Path(settings.database.path).exists():
        print(f"privacy purge: no database at {settings.database.path}", file=sys.stderr)
        return EXIT_CONFIG
    if dry_run:
        db = await Database.open(settings.database.path, read_only=True)
        store = Store(db)
        try:
            await migrations.check_known(db)
            purged = await retention.purge(_Offline(settings, store), utcnow(), dry_run=True)
        except (LookupError, sqlite3.OperationalError) as exc:
            print(f"privacy purge: {exc} (run `lotse db upgrade` first)", file=sys.stderr)
            return EXIT_CONFIG
        finally:
            await db.close()
    else:
        store = await Store.open(settings.database.path)
        try:
            purged = await retention.purge(_Offline(settings, store), utcnow())
        finally:
            await store.close()
    counts = purged.counts()
    if dry_run:
        print("dry run: nothing was changed; a purge now would do this:")
    for name, label in PURGE_LINES.items():
        print(f"{label}: {counts[name]}")
    return 0


async def _privacy_erase(settings: Settings, who: str) -> int:
    """`lotse privacy erase PLATFORM:ID`: the same erasure as the person's `deleteme`."""
    from bot.services import privacy
    from bot.store import Store

    platform, _, user_id = who.partition(":")
    if not platform or not user_id:
        print(f"privacy erase: {who!r} is not PLATFORM:ID (e.g. telegram:123456789)", file=sys.stderr)
        return EXIT_CONFIG
    if not Path(settings.database.path).exists():
        print(f"privacy erase: no database at {settings.database.path}", file=sys.stderr)
        return EXIT_CONFIG
    store = await Store.open(settings.database.path)
    try:
        person = await store.people.find(platform, user_id)
        if person is None or await store.privacy.is_erased(person.id):
            print(f"privacy erase: nobody known as {who} (never here, or erased already)", file=sys.stderr)
            return EXIT_CONFIG
        erased = await privacy.erase(_Offline(settings, store), person)
    finally:
        await store.close()
    print(f"erased {who} (person {person.id}): {erased.requests_cancelled} open request(s) cancelled, "
          f"{erased.appointments_handed_back} future appointment(s) as guide handed back, "
          f"{erased.offers_withdrawn} open offer(s) withdrawn; nobody was told (no transports here)")
    return 0


async def _serve(settings: Settings, transports: list[Transport]) -> int:
    from bot.app import App

    await App(settings, transports).run()
    return 0


def configure_logging(level: str, stream: TextIO | None = None) -> logging.Handler:
    """One handler on the root logger (stderr), whose lines pass `logsafe.RedactingFilter`.

    httpx logs every request URL at INFO, and a Telegram URL holds the bot token: below DEBUG,
    httpx (and the chatty nio and httpcore) only speak from WARNING up."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ConfigError(f"--log-level: unknown level {level!r} (DEBUG, INFO, WARNING, ERROR)")
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(numeric)
    for each in root.handlers:
        if not any(isinstance(f, logsafe.RedactingFilter) for f in each.filters):
            each.addFilter(logsafe.RedactingFilter())
    quiet = logging.WARNING if numeric > logging.DEBUG else logging.NOTSET
    for name in ("httpx", "httpcore", "nio"):
        logging.getLogger(name).setLevel(quiet)
    # nio warns about every error response that does not match its schema (e.g. a refused token),
    # which Lotse reports itself in one line.
    logging.getLogger("nio.responses").setLevel(logging.ERROR)
    return handler


def register_secrets(settings: Settings) -> None:
    """Every secret of the config is redacted from the logs from now on."""
    from bot.transports import registry

    for entry in registry.entries():
        if entry.settings is not None:
            for secret in entry.secrets(settings.section(entry.name)):
                logsafe.add_secret(secret)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        configure_logging(args.log_level)
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG
    register_secrets(settings)
    from bot.store.migrations import MigrationError

    try:
        if args.command == "export":
            return asyncio.run(_export(settings, args))
        if args.command == "report":
            return asyncio.run(_report(settings, args))
        if args.command == "privacy" and args.privacy_command == "purge":
            return asyncio.run(_privacy_purge(settings, args.dry_run))
        if args.command == "privacy":
            return asyncio.run(_privacy_erase(settings, args.person))
        if args.command == "db" and args.db_command == "backup":
            return asyncio.run(_db_backup(settings, args.path, args.force))
        if args.command == "db":
            return asyncio.run(_db_upgrade(settings))
        if args.command == "console":
            return asyncio.run(_serve(settings, build_transports(settings, console_only=True, user=args.user)))
        return asyncio.run(_serve(settings, build_transports(settings)))
    except (StartupError, DatabaseFileError) as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG
    except MigrationError as exc:
        print(f"database: {settings.database.path}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except sqlite3.DatabaseError as exc:  # e.g. a damaged file: SQLite's own words, one line
        print(f"database: {settings.database.path}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
