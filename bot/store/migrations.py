"""Numbered SQL migrations: bot/store/migrations/NNNN_name.sql, applied in order, each atomically."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.clock import utcnow
from bot.store.db import Database, to_db_time
from bot.store.files import DatabaseFileError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_FOREIGN_KEYS_OFF = re.compile(r"--\s*foreign_keys:\s*off", re.IGNORECASE)  # "-- foreign_keys: off"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(Exception):
    pass


class NewerDatabaseError(DatabaseFileError):
    """The database carries migrations this Lotse does not know: a newer Lotse wrote it.  Running on
    it could corrupt what the newer code relies on, so Lotse refuses (as mautrix-python's
    UnsupportedDatabaseVersion does)."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"migration file name must look like 0001_name.sql: {path.name}")
        found.append(Migration(int(match.group(1)), match.group(2), path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migrations share a number in {directory}")
    return found


def foreign_keys_off(sql: str) -> bool:
    """The file asks to run with foreign keys off: its first line is `-- foreign_keys: off`."""
    first = sql.lstrip("\ufeff").split("\n", 1)[0]
    return _FOREIGN_KEYS_OFF.fullmatch(first.strip()) is not None


async def applied_versions(db: Database) -> set[int]:
    await db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    rows = await db.fetchall("SELECT version FROM schema_migrations")
    return {row["version"] for row in rows}


async def check_known(db: Database, directory: Path = MIGRATIONS_DIR) -> None:
    """Raise NewerDatabaseError if the database has a schema version above the newest migration
    this code knows.  Reads only (works on a read-only connection)."""
    if await db.fetchone("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'") is None:
        return
    row = await db.fetchone("SELECT max(version) AS newest FROM schema_migrations")
    newest = row["newest"] if row is not None else None
    known = max((m.version for m in discover(directory)), default=0)
    if newest is not None and newest > known:
        raise NewerDatabaseError(f"database: {db.path} was written by a newer Lotse (schema {newest}, this one "
                                 f"knows {known}); upgrade Lotse or restore a backup")


async def upgrade(db: Database, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Apply every migration not applied yet; returns those applied now.  A database written by a
    newer Lotse is refused (NewerDatabaseError) before anything is written.

    Each file runs inside its own transaction together with its schema_migrations row, so a
    failing migration leaves the database exactly as it was before that file.  A file whose first
    line is `-- foreign_keys: off` (one that rebuilds a table other tables reference) runs with
    foreign keys off, and `PRAGMA foreign_key_check` must find nothing before its COMMIT.
    """
    await check_known(db, directory)
    done = await applied_versions(db)
    newly: list[Migration] = []
    for migration in discover(directory):
        if migration.version in done:
            continue
        sql = migration.path.read_text(encoding="utf-8")
        stamp = to_db_time(utcnow())
        script = (
            "BEGIN IMMEDIATE;\n"
            f"{sql}\n;\n"
            "INSERT INTO schema_migrations (version, name, applied_at) "
            f"VALUES ({migration.version}, '{migration.name}', '{stamp}');\n"
        )
        try:
            if foreign_keys_off(sql):
                await db.executescript_without_foreign_keys(script)  # checks, then commits
            else:
                await db.executescript(script + "COMMIT;")
        except Exception as exc:
            await db.rollback_script()
            raise MigrationError(f"migration {migration.path.name} failed: {exc}") from exc
        newly.append(migration)
    return newly
