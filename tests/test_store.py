"""The SQLite store: pragmas, migrations on fresh and existing databases, transactions."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.store import Store, migrations
from bot.store.db import Database
from bot.store.migrations import MIGRATIONS_DIR, MigrationError


async def test_pragmas_and_schema(db_path: Path) -> None:
    store = await Store.open(db_path)
    try:
        assert (await store.db.fetchone("PRAGMA journal_mode"))[0] == "wal"
        assert (await store.db.fetchone("PRAGMA foreign_keys"))[0] == 1
        assert (await store.db.fetchone("PRAGMA busy_timeout"))[0] == 5000
        versions = [r[0] for r in await store.db.fetchall("SELECT version FROM schema_migrations ORDER BY 1")]
        assert versions == [m.version for m in migrations.discover()]
    finally:
        await store.close()


async def test_upgrade_twice_is_a_no_op_and_keeps_data(db_path: Path) -> None:
    store = await Store.open(db_path)
    person = await store.people.get_or_create("telegram", "42", "42")
    await store.close()
    db = await Database.open(db_path)
    try:
        assert await migrations.upgrade(db) == []
        row = await db.fetchone("SELECT platform_user_id FROM people WHERE id = ?", (person.id,))
        assert row["platform_user_id"] == "42"
    finally:
        await db.close()


def _copy_migrations(target: Path, extra: dict[str, str]) -> Path:
    target.mkdir()
    for source in MIGRATIONS_DIR.glob("*.sql"):
        (target / source.name).write_text(source.read_text())
    for name, sql in extra.items():
        (target / name).write_text(sql)
    return target


async def test_new_migration_applies_to_an_existing_database(tmp_path: Path, db_path: Path) -> None:
    store = await Store.open(db_path)
    await store.people.get_or_create("matrix", "@leila:example.org", "!room:example.org")
    await store.close()
    directory = _copy_migrations(tmp_path / "m", {
        "9001_people_nickname.sql": "ALTER TABLE people ADD COLUMN nickname TEXT;"
                                   "UPDATE people SET nickname = 'L';",
    })
    db = await Database.open(db_path)
    try:
        applied = await migrations.upgrade(db, directory)
        assert [(m.version, m.name) for m in applied] == [(9001, "people_nickname")]
        row = await db.fetchone("SELECT platform_user_id, nickname FROM people")
        assert tuple(row) == ("@leila:example.org", "L")
    finally:
        await db.close()


async def test_failing_migration_leaves_the_database_unchanged(tmp_path: Path, db_path: Path) -> None:
    store = await Store.open(db_path)
    await store.close()
    directory = _copy_migrations(tmp_path / "m", {
        "9001_half.sql": "CREATE TABLE half (x INTEGER); INSERT INTO no_such_table VALUES (1);",
    })
    db = await Database.open(db_path)
    try:
        with pytest.raises(MigrationError, match="9001_half.sql"):
            await migrations.upgrade(db, directory)
        assert await db.fetchone("SELECT name FROM sqlite_master WHERE name = 'half'") is None
        assert await db.fetchone("SELECT 1 FROM schema_migrations WHERE version = 9001") is None
        # and the connection is usable afterwards
        assert (await db.fetchone("SELECT count(*) FROM people"))[0] == 0
    finally:
        await db.close()


async def test_transaction_rolls_back_everything_on_error(db_path: Path) -> None:
    store = await Store.open(db_path)
    try:
        with pytest.raises(RuntimeError):
            async with store.transaction():
                await store.people.get_or_create("telegram", "1", "1")
                raise RuntimeError("crash in the middle")
        assert (await store.db.fetchone("SELECT count(*) FROM people"))[0] == 0
    finally:
        await store.close()


async def test_concurrent_tasks_never_write_into_each_others_transaction(db_path: Path) -> None:
    store = await Store.open(db_path)
    try:
        entered = asyncio.Event()

        async def slow_failing_transaction() -> None:
            async with store.transaction():
                await store.people.get_or_create("telegram", "a", "a")
                entered.set()
                await asyncio.sleep(0.05)
                raise RuntimeError("rolled back")

        async def other_writer() -> None:
            await entered.wait()
            await store.people.get_or_create("telegram", "b", "b")

        results = await asyncio.gather(slow_failing_transaction(), other_writer(), return_exceptions=True)
        assert isinstance(results[0], RuntimeError) and results[1] is None
        rows = await store.db.fetchall("SELECT platform_user_id FROM people")
        assert [r[0] for r in rows] == ["b"]  # b survived a's rollback, a is gone
    finally:
        await store.close()


async def test_a_task_started_inside_a_transaction_does_not_join_it(db_path: Path) -> None:
    """asyncio copies context into new tasks: a transaction owner kept in a ContextVar would make a
    task started inside the transaction (dispatch's waves, scheduler jobs) write into it — and lose
    its writes to the rollback, or leave them uncommitted.  The task waits for the COMMIT instead
    and its writes are its own."""
    store = await Store.open(db_path)
    try:
        spawned: list[asyncio.Task[object]] = []
        with pytest.raises(RuntimeError):
            async with store.transaction():
                await store.people.get_or_create("telegram", "inside", "inside")
                spawned.append(asyncio.create_task(store.people.get_or_create("telegram", "task", "task")))
                await asyncio.sleep(0.01)  # the task runs now — and must wait for the lock
                assert not spawned[0].done()
                raise RuntimeError("rolled back")
        await spawned[0]
        rows = await store.db.fetchall("SELECT platform_user_id FROM people")
        assert [r[0] for r in rows] == ["task"]
        with sqlite3.connect(db_path) as other:  # committed: another connection sees it
            assert other.execute("SELECT platform_user_id FROM people").fetchall() == [("task",)]
    finally:
        await store.close()


async def test_foreign_keys_cascade(db_path: Path) -> None:
    store = await Store.open(db_path)
    try:
        person = await store.people.get_or_create("telegram", "1", "1")
        await store.buttons.mint(person.id, [("x", 1), ("x", 2)])
        await store.db.execute("DELETE FROM people WHERE id = ?", (person.id,))
        assert (await store.db.fetchone("SELECT count(*) FROM button_tokens"))[0] == 0
        with pytest.raises(sqlite3.IntegrityError):
            await store.buttons.mint(999, [("x", 1)])
    finally:
        await store.close()


async def test_times_are_stored_as_utc(db_path: Path) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    store = await Store.open(db_path)
    try:
        person = await store.people.get_or_create("telegram", "1", "1")
        berlin = datetime(2026, 3, 29, 3, 30, tzinfo=ZoneInfo("Europe/Berlin"))  # just after the DST switch
        await store.people.record_consent(person.id, "v1", berlin, "Amira")
        raw = (await store.db.fetchone("SELECT consent_at FROM people"))[0]
        assert raw == "2026-03-29T01:30:00+00:00"
        with pytest.raises(ValueError):
            await store.people.record_consent(person.id, "v1", datetime(2026, 1, 1), "x")
    finally:
        await store.close()


def test_tokens_fit_telegram_callback_data() -> None:
    from bot.store.store import Buttons

    tokens = {Buttons.new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(1 <= len(t.encode()) <= 64 for t in tokens)


# -- migrations that run with foreign keys off --------------------------------

async def test_a_foreign_keys_off_migration_that_leaves_a_dangling_key_is_rolled_back(
        tmp_path: Path, db_path: Path) -> None:
    store = await Store.open(db_path)
    person = await store.people.get_or_create("telegram", "1", "1")
    await store.close()
    directory = _copy_migrations(tmp_path / "m", {
        "9001_dangling.sql": "-- foreign_keys: off\n"
                             "CREATE TABLE half (x INTEGER);\n"
                             "DELETE FROM people;\n"
                             "INSERT INTO button_tokens (token, person_id, action, created_at) "
                             "VALUES ('t', 999, 'x', '2026-01-01');",
        "9002_never.sql": "CREATE TABLE never (x INTEGER);",
    })
    db = await Database.open(db_path)
    try:
        with pytest.raises(MigrationError, match="9001_dangling.sql.*foreign key check failed: button_tokens"):
            await migrations.upgrade(db, directory)
        assert (await db.fetchone("PRAGMA foreign_keys"))[0] == 1
        assert await db.fetchone("SELECT name FROM sqlite_master WHERE name IN ('half', 'never')") is None
        assert await db.fetchone("SELECT 1 FROM schema_migrations WHERE version > 9000") is None
        assert [r[0] for r in await db.fetchall("SELECT id FROM people")] == [person.id]
        assert (await db.fetchone("SELECT count(*) FROM button_tokens"))[0] == 0
        with pytest.raises(sqlite3.IntegrityError):  # enforced again on this connection
            await db.execute("INSERT INTO button_tokens (token, person_id, action, created_at) "
                             "VALUES ('t', 999, 'x', '2026-01-01')")
    finally:
        await db.close()


async def test_a_foreign_keys_off_migration_that_fails_leaves_foreign_keys_on(tmp_path: Path, db_path: Path) -> None:
    store = await Store.open(db_path)
    await store.close()
    directory = _copy_migrations(tmp_path / "m", {
        "9001_broken.sql": "-- foreign_keys: off\nCREATE TABLE half (x INTEGER); INSERT INTO no_such_table VALUES (1);",
    })
    db = await Database.open(db_path)
    try:
        with pytest.raises(MigrationError, match="9001_broken.sql"):
            await migrations.upgrade(db, directory)
        assert (await db.fetchone("PRAGMA foreign_keys"))[0] == 1
        assert await db.fetchone("SELECT name FROM sqlite_master WHERE name = 'half'") is None
    finally:
        await db.close()


def test_only_the_first_line_turns_foreign_keys_off() -> None:
    assert migrations.foreign_keys_off("-- foreign_keys: off\nDROP TABLE x;")
    assert migrations.foreign_keys_off("--  Foreign_Keys: OFF  \r\nDROP TABLE x;")
    assert not migrations.foreign_keys_off("-- a comment\n-- foreign_keys: off\n")
    assert not migrations.foreign_keys_off("CREATE TABLE x (y);")

