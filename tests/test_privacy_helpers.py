"""file_contains, and what it proves: with secure_delete on, a deleted or overwritten value is
gone from the database file and its log after a checkpoint."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from bot.store import Store
from tests.privacy_helpers import file_contains

AT = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


async def test_a_deleted_value_is_gone_from_the_file_after_a_checkpoint(db_path: Path) -> None:
    store = await Store.open(db_path)
    try:
        erased = await store.people.get_or_create("test", "Qx7-erased-user", "Qx7-erased-chat")
        await store.people.record_consent(erased.id, "v1", AT, "Qx7 Overwritten Name")
        kept = await store.people.get_or_create("test", "Qx7-kept-user", "Qx7-kept-chat")
        await store.people.record_consent(kept.id, "v1", AT, "Qx7 Kept Name")
        await store.db.checkpoint()
        assert file_contains(db_path, "Qx7 Overwritten Name")
        assert file_contains(db_path, "Qx7-erased-user")

        await store.people.record_decline(erased.id, AT)                  # the name overwritten (NULL)
        await store.db.execute("DELETE FROM people WHERE id = ?", (erased.id,))  # the row deleted
        assert file_contains(db_path, "Qx7 Overwritten Name")  # the log still holds the old page
        await store.db.checkpoint()

        assert not file_contains(db_path, "Qx7 Overwritten Name")
        assert not file_contains(db_path, "Qx7-erased-user")
        assert not file_contains(db_path, "Qx7-erased-chat")
        assert file_contains(db_path, "Qx7 Kept Name")
        assert file_contains(db_path, "Qx7-kept-user")
        assert db_path.with_name(db_path.name + "-wal").stat().st_size == 0
    finally:
        await store.close()


def test_without_secure_delete_the_value_would_stay(tmp_path: Path) -> None:
    """The control: the same deletion with secure_delete off leaves the bytes in the file, so the
    test above proves the pragma, not a quirk of page layout."""
    path = tmp_path / "plain.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA secure_delete = OFF")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        conn.execute("INSERT INTO t (v) VALUES ('Qx7 Overwritten Name'), ('Qx7 Kept Name')")
        conn.commit()
        conn.execute("DELETE FROM t WHERE v = 'Qx7 Overwritten Name'")
        conn.commit()
    assert file_contains(path, "Qx7 Overwritten Name")
    assert file_contains(path, "Qx7 Kept Name")
    assert not file_contains(path, "Qx7 never written")
