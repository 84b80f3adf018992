"""Reminders and follow-ups as rows: planned when an appointment is confirmed, claimed before
they are sent (pending → claimed, one conditional UPDATE), marked "sending" right before the message
leaves, then sent, skipped or failed.

A row is only ever claimed while its appointment still stands: a cancelled or re-assigned
appointment (its assignment no longer active) can never remind anyone, whatever is armed in memory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.store.db import Database, from_db_time, to_db_time

BEFORE, FOLLOWUP = "before", "followup"


@dataclass(frozen=True)
class Reminder:
    id: int
    assignment_id: int
    person_id: int
    kind: str                 # before / followup
    offset_minutes: int       # before: minutes ahead of the start
    due_at: datetime
    state: str
    attempts: int
    # the appointment, read with the claim
    request_id: int
    guide_id: int
    newcomer_id: int
    starts_at: datetime
    ends_at: datetime

    @property
    def to_guide(self) -> bool:
        return self.person_id == self.guide_id


@dataclass(frozen=True)
class Planned:
    person_id: int
    kind: str
    offset_minutes: int
    due_at: datetime


_SELECT = (
    "SELECT m.id, m.assignment_id, m.person_id, m.kind, m.offset_minutes, m.due_at, m.state, m.attempts, "
    " a.request_id, a.guide_id, r.person_id, r.starts_at, r.duration_minutes "
    "FROM reminders m JOIN assignments a ON a.id = m.assignment_id JOIN requests r ON r.id = a.request_id "
)

# Which assignment states a reminder may still go out in: before the appointment only while it
# stands; the guide's follow-up while nobody has answered it; the newcomer's feedback also after the
# guide reported that it took place.
_STILL_WANTED = (
    "(CASE WHEN m.kind = 'before' OR m.person_id = a.guide_id THEN a.state = 'active' "
    " ELSE a.state IN ('active', 'done') END)"
)


def _reminder(row: object) -> Reminder:
    r = tuple(row)  # type: ignore[arg-type]
    starts_at: datetime = from_db_time(r[11])  # type: ignore[assignment]
    return Reminder(r[0], r[1], r[2], r[3], r[4], from_db_time(r[5]), r[6], r[7], r[8], r[9], r[10],  # type: ignore[arg-type]
                    starts_at, starts_at + timedelta(minutes=r[12]))


class Reminders:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def plan(self, assignment_id: int, planned: list[Planned]) -> None:
        """Add the rows of one appointment (call inside the transaction that confirmed it)."""
        await self.db.executemany(
            "INSERT INTO reminders (assignment_id, person_id, kind, offset_minutes, due_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [(assignment_id, p.person_id, p.kind, p.offset_minutes, to_db_time(p.due_at)) for p in planned])

    async def due_before(self, moment: datetime, limit: int | None = None) -> list[tuple[int, datetime]]:
        """(id, due_at) of pending rows due before `moment`, soonest first."""
        sql = "SELECT id, due_at FROM reminders WHERE state = 'pending' AND due_at <= ? ORDER BY due_at"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rows = await self.db.fetchall(sql, (to_db_time(moment),))
        return [(r[0], from_db_time(r[1])) for r in rows]  # type: ignore[misc]

    async def claim(self, reminder_id: int, now: datetime) -> Reminder | None:
        """pending → claimed, only if due and its appointment still stands; None otherwise (someone
        else claimed it, or it is cancelled).  The caller composes the message, calls sending(),
        sends, and calls finish()."""
        changed = await self.db.execute(
            "UPDATE reminders AS m SET state = 'claimed', claimed_at = ?, attempts = attempts + 1 "
            "FROM assignments a WHERE m.id = ? AND m.state = 'pending' AND m.due_at <= ? "
            f"AND a.id = m.assignment_id AND {_STILL_WANTED}",
            (to_db_time(now), reminder_id, to_db_time(now)))
        if changed != 1:
            await self.db.execute(  # a pending row whose appointment is gone: close it for good
                "UPDATE reminders AS m SET state = 'skipped', done_at = ? FROM assignments a "
                f"WHERE m.id = ? AND m.state = 'pending' AND a.id = m.assignment_id AND NOT {_STILL_WANTED}",
                (to_db_time(now), reminder_id))
            return None
        row = await self.db.fetchone(_SELECT + "WHERE m.id = ?", (reminder_id,))
        return None if row is None else _reminder(row)

    async def sending(self, reminder_id: int) -> None:
        """claimed → sending: the message leaves now (committed before it does)."""
        await self.db.execute("UPDATE reminders SET state = 'sending' WHERE id = ? AND state = 'claimed'",
                              (reminder_id,))

    async def finish(self, reminder_id: int, state: str, now: datetime) -> None:
        """claimed / sending → sent / skipped / failed."""
        await self.db.execute(
            "UPDATE reminders SET state = ?, done_at = ? WHERE id = ? AND state IN ('claimed', 'sending')",
            (state, to_db_time(now), reminder_id))

    async def retry_later(self, reminder_id: int, when: datetime) -> None:
        """sending → pending again, due at `when` (a delivery error that surely did not deliver)."""
        await self.db.execute(
            "UPDATE reminders SET state = 'pending', due_at = ? WHERE id = ? AND state IN ('claimed', 'sending')",
            (to_db_time(when), reminder_id))

    async def recover(self, now: datetime, repeats_recognised: set[str]) -> tuple[int, int]:
        """At start, rows the last process left unfinished: claimed ones never left it, so they are
        pending again; "sending" ones may have reached the person — pending again where the
        platform recognises a repeat (`repeats_recognised`, see Message.key), "uncertain" (not sent
        again) elsewhere.  Returns (pending again, uncertain)."""
        platforms = json.dumps(sorted(repeats_recognised))
        again = await self.db.execute(
            "UPDATE reminders SET state = 'pending' WHERE state = 'claimed' OR (state = 'sending' AND person_id IN "
            " (SELECT id FROM people WHERE platform IN (SELECT value FROM json_each(?))))", (platforms,))
        uncertain = await self.db.execute(
            "UPDATE reminders SET state = 'uncertain', done_at = ? WHERE state = 'sending'", (to_db_time(now),))
        return again, uncertain

    async def closer_one_due(self, reminder: Reminder, now: datetime) -> bool:
        """Is a later reminder of the same kind for the same person (a smaller offset) also due?
        Then this one is stale: "tomorrow at 9:30" must not follow "in two hours"."""
        row = await self.db.fetchone(
            "SELECT 1 FROM reminders WHERE assignment_id = ? AND person_id = ? AND kind = 'before' "
            "AND offset_minutes < ? AND due_at <= ? LIMIT 1",
            (reminder.assignment_id, reminder.person_id, reminder.offset_minutes, to_db_time(now)))
        return row is not None

    async def of_assignment(self, assignment_id: int) -> list[tuple[int, str, int, str]]:
        """(person_id, kind, offset_minutes, state) of one appointment's rows (tests, coordinators)."""
        rows = await self.db.fetchall(
            "SELECT person_id, kind, offset_minutes, state FROM reminders WHERE assignment_id = ? ORDER BY due_at",
            (assignment_id,))
        return [tuple(r) for r in rows]  # type: ignore[misc]
