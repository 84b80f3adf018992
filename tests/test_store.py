"""The SQLite store: pragmas, migrations on fresh and existing databases, transactions."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from datetime import UTC, datetime, timedelta
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


# -- 0013: requests and assignments rebuilt with foreign keys off --------------------------------

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
CHILDREN = ("requests", "request_languages", "offers", "assignments", "reminders")


def _migrations_before(target: Path, version: int, also: tuple[int, ...] = ()) -> Path:
    target.mkdir()
    for source in MIGRATIONS_DIR.glob("*.sql"):
        if int(source.name[:4]) < version or int(source.name[:4]) in also:
            (target / source.name).write_text(source.read_text())
    return target


# _populate writes with today's store, which knows columns later migrations added to tables 0013
# leaves alone: those migrations come first (0014: offers.asked_by); requests, which 0013 rebuilds,
# it writes as the store did before 0016.
AFTER_0013_UNTOUCHED = (14,)


async def _populate(store: Store) -> dict[str, int]:
    """People, a guide, requests with languages, offers, assignments and reminders, written by the
    store's own methods as production writes them."""
    from bot.store.guides import Profile, Slot
    from bot.store.reminders import Planned
    from bot.store.db import to_db_time

    amira = await store.people.get_or_create("telegram", "1", "1")
    await store.people.record_consent(amira.id, "2026-11", T0, "Amira")
    leila = await store.people.get_or_create("telegram", "2", "2")
    await store.people.record_consent(leila.id, "2026-11", T0 + timedelta(minutes=1), "Leila")
    other = await store.people.get_or_create("telegram", "3", "3")
    await store.people.record_consent(other.id, "2026-11", T0, "Omar")
    nobody = await store.people.get_or_create("telegram", "4", "4")
    await store.people.record_decline(nobody.id, T0 + timedelta(minutes=2))
    for guide in (leila.id, other.id):
        await store.guides.save_profile(guide, Profile(("ar", "de"), ("Mitte",), ("doctor",), (Slot(0, 480, 720),),
                                                       3, "female"), T0)
        await store.guides.decide(guide, True, None, T0)
    requests = []
    for day in range(3):  # as Requests.create wrote them before 0016 added its columns
        requests.append(await store.db.insert(
            "INSERT INTO requests (person_id, topic, starts_at, duration_minutes, district, place, preferred_gender, "
            "note, created_at) VALUES (?, 'doctor', ?, 60, 'Mitte', 'Praxis Dr. Berg', 'female', 'knee', ?)",
            (amira.id, to_db_time(T0 + timedelta(days=day + 2)), to_db_time(T0))))
        await store.db.executemany("INSERT INTO request_languages (request_id, language, position) VALUES (?, ?, ?)",
                                   [(requests[-1], "ar", 0), (requests[-1], "de", 1)])
    for request_id in requests:
        offers = [await store.bookings.add_offer(request_id, guide, 1, T0, T0 + timedelta(hours=2))
                  for guide in (leila.id, other.id)]
        if request_id == requests[-1]:
            continue  # this one stays open, with open offers
        async with store.transaction():
            assignment = await store.bookings.claim(request_id, leila.id, T0, offer_id=offers[0])
            assert assignment is not None
            await store.bookings.close_all(request_id, "taken", T0)
            await store.reminders.plan(assignment, [
                Planned(leila.id, "before", 60, T0 + timedelta(days=1)),
                Planned(amira.id, "followup", 0, T0 + timedelta(days=3))])
    first = (await store.bookings.active_assignment(requests[0]))
    assert first is not None
    await store.bookings.report_outcome(first.id, leila.id, "done", T0 + timedelta(days=3))
    await store.bookings.report_hours(first.id, leila.id, 1.5)
    counts = {table: (await store.db.fetchone(f"SELECT count(*) FROM {table}"))[0] for table in CHILDREN}
    assert all(counts.values()), counts
    return counts


async def _rows(db: Database, table: str) -> list[tuple[object, ...]]:
    return [tuple(r) for r in await db.fetchall(f"SELECT * FROM {table} ORDER BY 1, 2")]


def _checks(sql: str) -> list[str]:
    """The CHECK clauses of a CREATE TABLE, whitespace normalised."""
    found = []
    for match in re.finditer(r"CHECK\s*\(", sql):
        depth, i = 1, match.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(sql[i], 0)
            i += 1
        found.append(" ".join(sql[match.start():i].split()))
    return found


async def _shape(db: Database, table: str) -> dict[str, object]:
    sql = (await db.fetchone("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)))[0]
    return {
        "columns": [tuple(r) for r in await db.fetchall(f"PRAGMA table_info({table})")],
        "checks": _checks(sql),
        "foreign_keys": sorted((r["from"], r["table"], r["to"]) for r in
                               await db.fetchall(f"PRAGMA foreign_key_list({table})")),
    }


async def test_0013_rebuilds_requests_and_assignments_keeping_every_row_and_index(
        tmp_path: Path, db_path: Path) -> None:
    db = await Database.open(db_path)
    try:
        await migrations.upgrade(db, _migrations_before(tmp_path / "m", 13, AFTER_0013_UNTOUCHED))
        counts = await _populate(Store(db))
        before = {table: await _rows(db, table) for table in CHILDREN}
        indexes = await db.fetchall("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name")
        shapes = {table: await _shape(db, table) for table in ("requests", "assignments")}

        # 0013 and the ones after it up to 0016, which adds columns to the rebuilt requests
        applied = await migrations.upgrade(db, _migrations_before(tmp_path / "m2", 16))
        assert [m.version for m in applied] == [13, 15]

        assert (await db.fetchone("PRAGMA foreign_keys"))[0] == 1
        assert await db.fetchall("PRAGMA foreign_key_check") == []
        for table in CHILDREN:
            assert await _rows(db, table) == before[table], table
            assert len(before[table]) == counts[table]
        after = await db.fetchall("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name")
        assert [tuple(r) for r in after if r["name"] != "consents_person"] == [tuple(r) for r in indexes]
        for table, shape in shapes.items():  # the same columns, defaults, checks; only ON DELETE changed
            assert await _shape(db, table) == shape, table
        for table, expected in (("requests", {"person_id": "RESTRICT"}),
                                ("assignments", {"request_id": "RESTRICT", "guide_id": "RESTRICT",
                                                 "assigned_by": "SET NULL"})):
            keys = {r["from"]: r["on_delete"] for r in await db.fetchall(f"PRAGMA foreign_key_list({table})")}
            assert keys == expected, table
        # the children keep their own definitions (and their cascades)
        offers = {r["from"]: (r["table"], r["on_delete"]) for r in await db.fetchall("PRAGMA foreign_key_list(offers)")}
        assert offers == {"request_id": ("requests", "CASCADE"), "guide_id": ("guides", "CASCADE"),
                          "asked_by": ("people", "SET NULL")}

        # what the keys now refuse: deleting a person, guide or request an assignment needs
        for sql, value in (("DELETE FROM people WHERE id = ?", 1), ("DELETE FROM people WHERE id = ?", 2),
                           ("DELETE FROM requests WHERE id = ?", 1)):
            with pytest.raises(sqlite3.IntegrityError):
                await db.execute(sql, (value,))

        consents = [tuple(r) for r in await db.fetchall("SELECT person_id, version, action, at FROM consents ORDER BY id")]
        assert consents == [(1, "2026-11", "agreed", "2026-11-25T09:00:00+00:00"),
                            (3, "2026-11", "agreed", "2026-11-25T09:00:00+00:00"),
                            (2, "2026-11", "agreed", "2026-11-25T09:01:00+00:00"),
                            (4, None, "declined", "2026-11-25T09:02:00+00:00")]
        people = await db.fetchall("SELECT erased_at, retention_asked_at FROM people")
        assert {tuple(r) for r in people} == {(None, None)}
    finally:
        await db.close()


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



async def test_secure_delete_is_on(db_path: Path) -> None:
    store = await Store.open(db_path)
    try:
        assert (await store.db.fetchone("PRAGMA secure_delete"))[0] == 1
    finally:
        await store.close()
