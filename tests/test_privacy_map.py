"""The privacy map covers the live schema exactly: a new column cannot slip past it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store import Store
from bot.store.privacy_map import KINDS, MAP, Column, columns


async def _schema(db_path: Path) -> dict[str, set[str]]:
    store = await Store.open(db_path)  # every migration applied
    try:
        tables = [r[0] for r in await store.db.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {table: {r["name"] for r in await store.db.fetchall(f"PRAGMA table_xinfo({table})")}
                for table in tables}
    finally:
        await store.close()


async def test_the_map_names_every_table_and_column_of_the_schema_and_nothing_else(db_path: Path) -> None:
    schema = await _schema(db_path)
    missing = sorted(f"{table}.{column}" for table, cols in schema.items() for column in cols
                     if column not in MAP.get(table, {}))
    missing_tables = sorted(set(schema) - set(MAP))
    gone = sorted(f"{table}.{column}" for table, cols in MAP.items() for column in cols
                  if column not in schema.get(table, set()))
    assert not missing_tables, f"tables missing from bot/store/privacy_map.py: {missing_tables}"
    assert not missing, f"columns missing from bot/store/privacy_map.py (classify them): {missing}"
    assert not gone, f"bot/store/privacy_map.py names columns the schema no longer has: {gone}"


def test_every_entry_is_classified_and_says_what_erasure_and_retention_do() -> None:
    for table, cols in MAP.items():
        assert cols, table
        for name, column in cols.items():
            assert isinstance(column, Column) and column.kind in KINDS, f"{table}.{name}"
            assert column.erase.strip() and column.retain.strip(), f"{table}.{name}"
    with pytest.raises(ValueError):
        Column("secret", "set to NULL", "forever")
    with pytest.raises(ValueError):
        Column("personal", "", "forever")


@pytest.mark.parametrize(("table", "column", "kind"), [
    ("people", "display_name", "personal"),
    ("people", "platform_user_id", "personal"),
    ("people", "chat_id", "personal"),
    ("requests", "place", "personal"),
    ("requests", "note", "personal"),
    ("assignments", "feedback_comment", "personal"),
    ("guides", "gender", "personal"),
    ("inbox", "event", "personal"),
    ("dialog_states", "data", "personal"),
    ("request_languages", "language", "statistical"),
    ("assignments", "hours", "statistical"),
    ("app_secrets", "value", "technical"),
])
def test_the_classification_of_what_matters_most(table: str, column: str, kind: str) -> None:
    assert MAP[table][column].kind == kind


def test_nothing_personal_outlives_erasure() -> None:
    """A personal column is deleted, nulled or replaced when its person is erased — never kept."""
    kept = [f"{t}.{c}: {MAP[t][c].erase}" for t, c in columns("personal") if MAP[t][c].erase.startswith("kept")]
    assert not kept
