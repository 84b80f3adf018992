"""The rows behind the funding programme's accounts (bot/services/programme.py): the hours an
assignment counts, per guide and month; the coordinating and benefits marks; corrections of hours
with their audit trail; the cap warnings already sent.

An assignment counts in the month and year of its appointment (local time is the caller's
business: the bounds passed in are UTC instants).  What it counts:
- took place (state 'done'): the hours the guide reported (NULL: the appointment's duration);
- booked ('active'): the appointment's duration — it will be paid once it took place, so a cap
  must see it now;
- anything else (cancelled, no-show): nothing.
Each assignment's hours are rounded to [programme] rounding (SQLite's round(): halves up).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.store.db import Database, from_db_time, to_db_time


def year_span(year: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The local calendar year as a UTC range [start, end)."""
    return (datetime.combine(date(year, 1, 1), time(0), zone), datetime.combine(date(year + 1, 1, 1), time(0), zone))


def window_span(day: date, weeks: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The weeks a weekly average is taken over: `weeks` local weeks ending with `day`'s week."""
    monday = day - timedelta(days=day.weekday())
    end = monday + timedelta(days=7)
    return (datetime.combine(end - timedelta(weeks=weeks), time(0), zone), datetime.combine(end, time(0), zone))


def counted_sql(step: float) -> str:
    """The hours one assignment `a` (with its request `r`) counts, rounded to `step`."""
    raw = ("(CASE WHEN a.state = 'done' THEN coalesce(a.hours, r.duration_minutes / 60.0) "
           "WHEN a.state = 'active' THEN r.duration_minutes / 60.0 ELSE 0 END)")
    return f"(round({raw} / {step!r}) * {step!r})" if step else raw


@dataclass(frozen=True)
class MonthHours:
    month: str         # "2026-03", the appointment's local month, as the caller grouped it
    hours: float
    assignments: int   # assignments that count (took place or booked)


@dataclass(frozen=True)
class Counted:
    """One assignment that counts, with what the funder's summary groups it by (no newcomer identity)."""
    guide_id: int
    starts_at: datetime
    hours: float       # as counted, rounded
    state: str         # 'done' or 'active'
    topic: str
    language: str      # the newcomer's first language ('' if none was given)
    district: str


@dataclass(frozen=True)
class GuideEntry:
    """What the payment list needs of a guide: the name (None once erased, or never given)."""
    name: str | None
    erased: bool
    coordinating: bool
    benefits: bool


@dataclass(frozen=True)
class Worked:
    """One assignment of a guide as the accounts see it."""
    assignment_id: int
    starts_at: datetime
    state: str            # 'active' (booked) or 'done' (took place)
    hours: float | None   # as reported (or corrected); None: not reported yet
    counted: float        # what it counts, rounded


@dataclass(frozen=True)
class Correction:
    assignment_id: int
    corrected_by: int | None
    corrected_at: datetime
    old_hours: float | None
    new_hours: float
    reason: str


class Programme:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def hours(self, guide_ids: list[int] | None, start: datetime, end: datetime, step: float,
                    leave_out: int | None = None) -> dict[int, float]:
        """Guide → hours counted for appointments in [start, end) (every guide with any, or those
        listed), the request `leave_out` not counted (the one being matched)."""
        ids = "" if guide_ids is None else "AND a.guide_id IN (SELECT value FROM json_each(:ids))"
        rows = await self.db.fetchall(
            f"SELECT a.guide_id, sum({counted_sql(step)}) FROM assignments a JOIN requests r ON r.id = a.request_id "
            f"WHERE r.starts_at >= :start AND r.starts_at < :end AND r.id IS NOT :leave_out {ids} GROUP BY a.guide_id",
            {"start": to_db_time(start), "end": to_db_time(end), "leave_out": leave_out,
             "ids": json.dumps(guide_ids or [])})
        return {int(r[0]): float(r[1] or 0) for r in rows}

    async def counted(self, start: datetime, end: datetime, step: float,
                      guide_id: int | None = None) -> list[tuple[int, datetime, float, str]]:
        """Every assignment that counts in [start, end) (of one guide, or of all): (guide,
        appointment start, hours, state)."""
        one = "" if guide_id is None else "AND a.guide_id = :guide"
        rows = await self.db.fetchall(
            f"SELECT a.guide_id, r.starts_at, {counted_sql(step)}, a.state FROM assignments a "
            "JOIN requests r ON r.id = a.request_id WHERE r.starts_at >= :start AND r.starts_at < :end "
            f"AND a.state IN ('active', 'done') {one} ORDER BY r.starts_at, a.id",
            {"start": to_db_time(start), "end": to_db_time(end), "guide": guide_id})
        return [(int(r[0]), from_db_time(r[1]), float(r[2]), r[3]) for r in rows]  # type: ignore[misc]

    async def details(self, start: datetime, end: datetime, step: float) -> list[Counted]:
        """`counted` with the request's topic, district and first language, for the year's report."""
        rows = await self.db.fetchall(
            f"SELECT a.guide_id, r.starts_at, {counted_sql(step)}, a.state, r.topic, coalesce(rl.language, ''), "
            "r.district FROM assignments a JOIN requests r ON r.id = a.request_id "
            "LEFT JOIN request_languages rl ON rl.request_id = r.id AND rl.position = 0 "
            "WHERE r.starts_at >= ? AND r.starts_at < ? AND a.state IN ('active', 'done') ORDER BY r.starts_at, a.id",
            (to_db_time(start), to_db_time(end)))
        return [Counted(int(r[0]), from_db_time(r[1]), float(r[2]), r[3], r[4], r[5], r[6])  # type: ignore[arg-type]
                for r in rows]

    async def guides(self, guide_ids: list[int]) -> dict[int, GuideEntry]:
        """Name, erasure and marks of these guides (the payment list's, coordinators only)."""
        found: dict[int, GuideEntry] = {}
        for chunk in range(0, len(guide_ids), 500):
            ids = guide_ids[chunk:chunk + 500]
            rows = await self.db.fetchall(
                "SELECT g.person_id, p.display_name, p.erased_at IS NOT NULL, g.coordinating, g.benefits "
                f"FROM guides g JOIN people p ON p.id = g.person_id WHERE g.person_id IN ({','.join('?' * len(ids))})",
                tuple(ids))
            found.update({int(r[0]): GuideEntry(r[1], bool(r[2]), bool(r[3]), bool(r[4])) for r in rows})
        return found

    async def worked(self, guide_id: int, start: datetime, end: datetime, step: float) -> list[Worked]:
        """A guide's assignments that count in [start, end), by appointment start."""
        rows = await self.db.fetchall(
            f"SELECT a.id, r.starts_at, a.state, a.hours, {counted_sql(step)} FROM assignments a "
            "JOIN requests r ON r.id = a.request_id WHERE a.guide_id = ? AND r.starts_at >= ? AND r.starts_at < ? "
            "AND a.state IN ('active', 'done') ORDER BY r.starts_at, a.id",
            (guide_id, to_db_time(start), to_db_time(end)))
        return [Worked(int(r[0]), from_db_time(r[1]), r[2], r[3], float(r[4])) for r in rows]  # type: ignore[arg-type]

    async def worked_one(self, assignment_id: int, step: float) -> tuple[int, Worked] | None:
        """(guide, the assignment) whatever its state; None if there is no such assignment."""
        row = await self.db.fetchone(
            f"SELECT a.guide_id, a.id, r.starts_at, a.state, a.hours, {counted_sql(step)} FROM assignments a "
            "JOIN requests r ON r.id = a.request_id WHERE a.id = ?", (assignment_id,))
        if row is None:
            return None
        return int(row[0]), Worked(int(row[1]), from_db_time(row[2]), row[3], row[4], float(row[5]))  # type: ignore[arg-type]

    async def marks(self, guide_id: int) -> tuple[bool, bool]:
        """(coordinating, receives benefits)."""
        row = await self.db.fetchone("SELECT coordinating, benefits FROM guides WHERE person_id = ?", (guide_id,))
        return (bool(row[0]), bool(row[1])) if row else (False, False)

    async def set_mark(self, guide_id: int, mark: str, value: bool) -> bool:
        if mark not in ("coordinating", "benefits"):
            raise ValueError(mark)
        return await self.db.execute(f"UPDATE guides SET {mark} = ? WHERE person_id = ? AND {mark} != ?",
                                     (int(value), guide_id, int(value))) == 1

    async def correct_hours(self, assignment_id: int, by: int | None, new_hours: float, reason: str,
                            now: datetime) -> float | None | bool:
        """Set an assignment's hours and keep the old value, who and why; False if there is no such
        assignment that took place with hours reported (only those have hours to correct: before the
        guide reports, the follow-up asks them).  Returns the old hours."""
        async with self.db.transaction():
            row = await self.db.fetchone(
                "SELECT hours FROM assignments WHERE id = ? AND state = 'done' AND hours IS NOT NULL", (assignment_id,))
            if row is None:
                return False
            await self.db.execute("UPDATE assignments SET hours = ? WHERE id = ?", (new_hours, assignment_id))
            await self.db.execute(
                "INSERT INTO hours_corrections (assignment_id, corrected_by, corrected_at, old_hours, new_hours, reason) "
                "VALUES (?, ?, ?, ?, ?, ?)", (assignment_id, by, to_db_time(now), row[0], new_hours, reason))
        return row[0]

    async def corrections(self, assignment_id: int) -> list[Correction]:
        rows = await self.db.fetchall(
            "SELECT assignment_id, corrected_by, corrected_at, old_hours, new_hours, reason FROM hours_corrections "
            "WHERE assignment_id = ? ORDER BY id", (assignment_id,))
        return [Correction(r[0], r[1], from_db_time(r[2]), r[3], r[4], r[5]) for r in rows]  # type: ignore[arg-type]

    async def warned(self, guide_id: int, year: int, level: float, now: datetime) -> bool:
        """Note that the warning at `level` of the yearly cap went to this guide; False if it had."""
        return await self.db.execute(
            "INSERT OR IGNORE INTO cap_warnings (guide_id, year, level, sent_at) VALUES (?, ?, ?, ?)",
            (guide_id, year, level, to_db_time(now))) == 1
