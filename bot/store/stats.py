"""Read-only queries for coordinators' statistics and the funder's export.

Requests count by when they were received (created_at); assignments and hours by when the
appointment was (requests.starts_at); hours are those reported (after any correction) for
appointments that took place.  A guide is active in a period with an assignment taken on or
taking place in it.  Every range is [start, end) in UTC.
"""

from __future__ import annotations

import hashlib
import hmac
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.store.db import Database, from_db_time, to_db_time

PSEUDONYM_KEY = "pseudonym_key"
CANCELLED = ("cancelled_by_guide", "cancelled_by_newcomer", "cancelled_late")


def pseudonym(key: str, guide_id: int) -> str:
    """A guide in the funder's files and reports (bot/export.py): "G-" and 8 hex digits of
    HMAC-SHA256(key, guide id), the key kept in app_secrets."""
    return "G-" + hmac.new(bytes.fromhex(key), str(guide_id).encode(), hashlib.sha256).hexdigest()[:8]


@dataclass(frozen=True)
class Figures:
    received: int
    matched: int
    median_to_match: timedelta | None
    cancelled: int
    no_shows: int
    active_guides: int
    hours: float
    by_topic: dict[str, int]
    by_language: dict[str, int]  # the newcomer's first language
    by_district: dict[str, int]


@dataclass(frozen=True)
class AssignmentRow:
    """One accompaniment for the export: no newcomer identity."""

    starts_at: datetime
    topic: str
    language: str
    district: str
    guide_id: int
    hours: float | None
    state: str


class Stats:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _grouped(self, column: str, span: tuple[str, str]) -> dict[str, int]:
        rows = await self.db.fetchall(
            f"SELECT {column}, count(*) AS n FROM requests r "
            "LEFT JOIN request_languages rl ON rl.request_id = r.id AND rl.position = 0 "
            "WHERE r.created_at >= ? AND r.created_at < ? GROUP BY 1 ORDER BY n DESC, 1", span)
        return {row[0] or "": int(row[1]) for row in rows}

    async def figures(self, start: datetime, end: datetime) -> Figures:
        span = (to_db_time(start), to_db_time(end))
        row = await self.db.fetchone(
            "SELECT count(*), coalesce(sum(state = 'cancelled'), 0) FROM requests "
            "WHERE created_at >= ? AND created_at < ?", span)
        received, cancelled = (int(row[0]), int(row[1])) if row else (0, 0)
        matches = await self.db.fetchall(
            "SELECT r.created_at, min(a.created_at) FROM requests r JOIN assignments a ON a.request_id = r.id "
            "WHERE r.created_at >= ? AND r.created_at < ? GROUP BY r.id", span)
        waits = [(from_db_time(m[1]) - from_db_time(m[0])).total_seconds() for m in matches]  # type: ignore[operator]
        done = await self.db.fetchone(
            "SELECT coalesce(sum(a.state = 'no_show'), 0), "
            "coalesce(sum(CASE WHEN a.state = 'done' THEN a.hours END), 0) "
            "FROM assignments a JOIN requests r ON r.id = a.request_id "
            "WHERE r.starts_at >= ? AND r.starts_at < ?", span)
        no_shows, hours = (int(done[0]), float(done[1])) if done else (0, 0.0)
        # A guide is active in a period when they took on an assignment in it, or came along to
        # one in it: a match made today for next week counts today.
        active = await self.db.fetchone(
            "SELECT count(DISTINCT a.guide_id) FROM assignments a JOIN requests r ON r.id = a.request_id "
            "WHERE (a.created_at >= ? AND a.created_at < ?) OR (r.starts_at >= ? AND r.starts_at < ?)", span * 2)
        guides = int(active[0]) if active else 0
        return Figures(
            received=received, matched=len(matches),
            median_to_match=timedelta(seconds=statistics.median(waits)) if waits else None,
            cancelled=cancelled, no_shows=no_shows, active_guides=guides, hours=hours,
            by_topic=await self._grouped("r.topic", span),
            by_language=await self._grouped("rl.language", span),
            by_district=await self._grouped("r.district", span),
        )

    async def assignments(self, start: datetime, end: datetime) -> list[AssignmentRow]:
        """Assignments (not cancelled) whose appointment lies in [start, end), in time order."""
        rows = await self.db.fetchall(
            "SELECT r.starts_at, r.topic, coalesce(rl.language, ''), r.district, a.guide_id, a.hours, a.state "
            "FROM assignments a JOIN requests r ON r.id = a.request_id "
            "LEFT JOIN request_languages rl ON rl.request_id = r.id AND rl.position = 0 "
            f"WHERE r.starts_at >= ? AND r.starts_at < ? AND a.state NOT IN {CANCELLED} "
            "ORDER BY r.starts_at, a.id", (to_db_time(start), to_db_time(end)))
        return [AssignmentRow(from_db_time(r[0]), r[1], r[2], r[3], r[4], r[5], r[6])  # type: ignore[arg-type]
                for r in rows]

    async def secret(self, name: str) -> str | None:
        row = await self.db.fetchone("SELECT value FROM app_secrets WHERE name = ?", (name,))
        return None if row is None else row[0]
