"""One aiosqlite connection, serialised by a lock, with explicit transactions.

SQLite allows one writer; aiosqlite runs every statement on one worker thread.  If two asyncio
tasks used the connection freely, a statement of task B could land inside task A's open
transaction.  So every statement takes `self._lock`, and `transaction()` holds it until COMMIT;
statements issued by the task that owns the transaction skip the lock.  The owner is the asyncio
task itself, recorded on the Database — not a ContextVar, which tasks and scheduler jobs started
inside the transaction would inherit: such a task waits for the COMMIT like any other, and its
writes are its own.

Every call is one round trip to the worker thread, and each costs CPU on the event loop, so the
connection runs in sqlite3's implicit-transaction mode (isolation_level "IMMEDIATE"): the
`BEGIN IMMEDIATE` travels with the first writing statement instead of on a trip of its own.  A
write outside `transaction()` is committed right after it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncio

import aiosqlite

def to_db_time(moment: datetime) -> str:
    """Times are stored as UTC ISO-8601 text ("2026-11-25T09:41:42.123456+00:00")."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the store; use an aware datetime")
    return moment.astimezone(UTC).isoformat()


def from_db_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


class ForeignKeyCheckError(sqlite3.IntegrityError):
    """`PRAGMA foreign_key_check` found rows whose parent is missing."""


class Database:
    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None  # the task inside transaction(), if any

    def _owned(self) -> bool:
        return self._owner is not None and asyncio.current_task() is self._owner

    @classmethod
    async def open(cls, path: Path | str, *, busy_timeout_ms: int = 5000, read_only: bool = False) -> "Database":
        """Open (and create) the database; `read_only` opens an existing file that nothing can change."""
        if sqlite3.sqlite_version_info < (3, 35):  # RETURNING; json_object
            raise RuntimeError(f"Lotse needs SQLite 3.35 or newer; this Python has {sqlite3.sqlite_version}")
        path = Path(path)
        if str(path) != ":memory:":
            from bot.store import files
            files.prepare(path, read_only=read_only)  # 0600/0700, or one clear DatabaseFileError
        if read_only:
            conn = await aiosqlite.connect(f"file:{path.resolve()}?mode=ro", uri=True)
            conn.row_factory = aiosqlite.Row
            await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            return cls(conn, path)
        conn = await aiosqlite.connect(str(path), isolation_level="IMMEDIATE")
        conn.row_factory = aiosqlite.Row
        await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute("PRAGMA foreign_keys = ON")
        # A deleted or overwritten value is zeroed in the file, not left behind in free space:
        # erasure must really erase (checkpoint() then clears the write-ahead log).
        await conn.execute("PRAGMA secure_delete = ON")
        # Matching reads five tables for thousands of guides: keep them in a 64 MiB page cache
        # (an upper bound, filled only as pages are read).
        await conn.execute("PRAGMA cache_size = -65536")
        return cls(conn, path)

    async def close(self) -> None:
        async with self._lock:
            await self._conn.close()

    @asynccontextmanager
    async def _access(self) -> AsyncIterator[None]:
        """Inside the owner's transaction: go ahead.  Otherwise: take the lock, and commit (or roll
        back) whatever the statement began."""
        if self._owned():
            yield
            return
        async with self._lock:
            try:
                yield
            except BaseException:
                if self._conn.in_transaction:
                    await self._conn.rollback()
                raise
            if self._conn.in_transaction:
                await self._conn.commit()

    # Each method below is one round trip to aiosqlite's worker thread: the cursor is not
    # closed explicitly (that would be a second trip); rowcount/lastrowid are plain attributes.
    async def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        """Run one statement; returns the number of changed rows."""
        async with self._access():
            cursor = await self._conn.execute(sql, params)
            return cursor.rowcount

    async def insert(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        """Run one INSERT; returns lastrowid."""
        async with self._access():
            cursor = await self._conn.execute(sql, params)
            return int(cursor.lastrowid or 0)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self._access():
            await self._conn.executemany(sql, rows)

    async def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> aiosqlite.Row | None:
        async with self._access():
            rows = await self._conn.execute_fetchall(sql, params)
        return next(iter(rows), None)

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[aiosqlite.Row]:
        async with self._access():
            return list(await self._conn.execute_fetchall(sql, params))

    async def executescript(self, script: str) -> None:
        """Run a script as it is (it manages its own transaction, as migrations do)."""
        async with self._lock:
            await self._conn.executescript(script)

    async def executescript_without_foreign_keys(self, script: str) -> None:
        """Run a script that opens its own transaction (BEGIN without COMMIT) with foreign keys off,
        as rebuilding a table others reference needs (with them on, DROP TABLE deletes every row
        first, and the children's ON DELETE actions with them).  The pragma cannot change inside a
        transaction, so it is set around it: OFF before, `PRAGMA foreign_key_check` before the
        COMMIT (any violating row rolls everything back: ForeignKeyCheckError), ON again afterwards
        in every case."""
        async with self._lock:
            if self._conn.in_transaction:
                raise RuntimeError("executescript_without_foreign_keys inside an open transaction")
            await self._conn.execute("PRAGMA foreign_keys = OFF")
            try:
                await self._conn.executescript(script)
                violations = await self._conn.execute_fetchall("PRAGMA foreign_key_check")
                if violations:
                    found = ", ".join(f"{r[0]} row {r[1]} -> {r[2]}" for r in list(violations)[:5])
                    raise ForeignKeyCheckError(f"foreign key check failed: {found}")
                if self._conn.in_transaction:
                    await self._conn.commit()
            except BaseException:
                if self._conn.in_transaction:
                    await self._conn.rollback()
                raise
            finally:
                await self._conn.execute("PRAGMA foreign_keys = ON")

    async def checkpoint(self) -> None:
        """Copy the write-ahead log into the database file and truncate the log to zero bytes, so
        the old versions of changed pages (an erased name, say) are gone from it too.  Readers on
        other connections can keep it from finishing; the next checkpoint completes it."""
        async with self._access():
            await self._conn.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")

    async def rollback_script(self) -> None:
        """After a failed script: roll back what it left open."""
        async with self._lock:
            if self._conn.in_transaction:
                await self._conn.rollback()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator["Database"]:
        """All statements until the end of the block commit together (BEGIN IMMEDIATE at the first
        write), or roll back on any exception.  Nested use joins the outer transaction."""
        if self._owned():
            yield self
            return
        async with self._lock:
            self._owner = asyncio.current_task()
            try:
                try:
                    yield self
                except BaseException:
                    if self._conn.in_transaction:
                        await self._conn.rollback()
                    raise
                if self._conn.in_transaction:
                    await self._conn.commit()
            finally:
                self._owner = None
