"""The inbox: incoming updates, stored before the platform is told they arrived.

A transport records a batch here (one transaction), and only then acknowledges it (an update
offset, a sync token).  The transaction that handles an update either deletes its
row (nothing to send) or stores the replies in it (`handled`), which leave right after the commit;
the row is deleted once they went out (`sent`, then `flush`: several such rows in one statement).
So after a crash every row still here is an update nobody has handled yet, or one whose replies
may not have gone out (or went out just before the crash: a row with replies is never handled
again, only its replies are sent again where a platform recognises a repeat).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.store.db import Database, to_db_time

_CHUNK = 200  # arrivals per INSERT (5 parameters each; SQLite allows 32766)


@dataclass(frozen=True)
class Waiting:
    id: int
    event: str  # the Event as JSON
    replies: str | None  # None: not handled yet; else the replies that were leaving (bot.core.replies)


@dataclass(frozen=True)
class Arrival:
    platform: str
    user_id: str
    event_id: str | None
    event: str  # the Event as JSON (bot.core.inbox knows its shape)


class Inbox:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._sent: list[int] = []  # rows whose replies went out, deleted at the next flush()

    async def add(self, arrivals: Sequence[Arrival], now: datetime) -> list[int | None]:
        """Store a batch in one transaction; per arrival its row id, or None for an update seen
        before (still waiting here, or handled already: a platform's redelivery; or earlier in
        the same batch).  Rows get ids in the order of `arrivals` (a restart handles them by id).

        Every statement is a round trip to the database thread, so a batch whose arrivals all
        carry an event id is one INSERT (per `_CHUNK`); otherwise one INSERT per arrival."""
        received = to_db_time(now)
        ids: list[int | None] = [None] * len(arrivals)
        async with self.db.transaction():
            if any(a.event_id is None for a in arrivals):
                for index, a in enumerate(arrivals):
                    row = await self.db.fetchone(
                        "INSERT OR IGNORE INTO inbox (platform, user_id, event_id, event, received_at) "
                        "SELECT ?, ?, ?, ?, ? WHERE ? IS NULL OR NOT EXISTS "
                        " (SELECT 1 FROM processed_events WHERE platform = ? AND event_id = ?) RETURNING id",
                        (a.platform, a.user_id, a.event_id, a.event, received, a.event_id, a.platform, a.event_id))
                    ids[index] = None if row is None else int(row[0])
                return ids
            first: dict[tuple[str, str | None], int] = {}  # the first arrival of each event id
            for index, a in enumerate(arrivals):
                first.setdefault((a.platform, a.event_id), index)
            keyed = sorted(first.values())
            for start in range(0, len(keyed), _CHUNK):
                chunk = keyed[start:start + _CHUNK]
                params: list[object] = [received]
                for index in chunk:
                    a = arrivals[index]
                    params += (index, a.platform, a.user_id, a.event_id, a.event)
                rows = await self.db.fetchall(
                    "INSERT OR IGNORE INTO inbox (platform, user_id, event_id, event, received_at) "
                    "SELECT v.column2, v.column3, v.column4, v.column5, ? "
                    f"FROM (VALUES {', '.join(['(?, ?, ?, ?, ?)'] * len(chunk))}) AS v "
                    "WHERE NOT EXISTS (SELECT 1 FROM processed_events p "
                    " WHERE p.platform = v.column2 AND p.event_id = v.column4) "
                    "ORDER BY v.column1 RETURNING id, platform, event_id", params)
                for row in rows:
                    ids[first[(str(row[1]), str(row[2]))]] = int(row[0])
        return ids

    async def waiting(self) -> list[Waiting]:
        """Every stored update not handled yet or whose replies were not sent, oldest first."""
        rows = await self.db.fetchall("SELECT id, event, replies FROM inbox ORDER BY id")
        return [Waiting(int(r[0]), str(r[1]), None if r[2] is None else str(r[2])) for r in rows]

    async def handled(self, row_id: int, replies: str) -> None:
        """Call inside the transaction that handled the update: its replies leave right after the
        commit (there is no separate "sending" mark: it would be written in the same instant)."""
        await self.db.execute("UPDATE inbox SET replies = ? WHERE id = ?", (replies, row_id))

    async def done(self, row_id: int) -> None:
        """Call inside the transaction that handled the update (nothing to send), or after the
        replies went out."""
        await self.db.execute("DELETE FROM inbox WHERE id = ?", (row_id,))

    def sent(self, row_id: int) -> None:
        """The replies kept in this row (`handled`) went out: the row is deleted at the next
        `flush`, together with others (one statement instead of one each)."""
        self._sent.append(row_id)

    @property
    def unflushed(self) -> int:
        """Rows `sent` that `flush` has not deleted yet."""
        return len(self._sent)

    async def flush(self) -> None:
        """Delete the rows `sent` since the last flush.  Their ids are taken first: a failed delete
        leaves the rows for the next start (which does not handle them again) rather than deleting
        those ids later, when a new row may have reused one."""
        ids, self._sent = self._sent, []
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            await self.db.execute(f"DELETE FROM inbox WHERE id IN ({', '.join(['?'] * len(chunk))})", chunk)

    async def count(self) -> int:
        row = await self.db.fetchone("SELECT count(*) FROM inbox")
        return int(row[0]) if row else 0
