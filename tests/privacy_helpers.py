"""Helpers for proving that erasure leaves nothing behind in the database files."""

from __future__ import annotations

from pathlib import Path


def file_contains(db_path: Path, needle: str) -> bool:
    """Whether the UTF-8 bytes of `needle` occur anywhere in the raw database file or its
    write-ahead log (-wal): live rows, free pages, unused space in a page, old page versions."""
    wanted = needle.encode("utf-8")
    for path in (db_path, db_path.with_name(db_path.name + "-wal")):
        if path.exists() and wanted in path.read_bytes():
            return True
    return False
