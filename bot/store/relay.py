"""The relay's rows: conversations (one per assignment) and the messages written in them.

A conversation is open from the match until [relay] close_after after the appointment ends, while
the assignment stands (not cancelled) and no coordinator closed it.  The one rule is OPEN_SQL."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.store.db import Database, from_db_time, to_db_time

LIVE_STATES = ("active", "done", "no_show")  # an appointment that stands (or took place, or was missed)

# The conversation of assignment `a` (joined with its request `r`) is open at :now.
OPEN_SQL = (f"a.state IN {LIVE_STATES} AND a.relay_closed_at IS NULL "
            "AND datetime(r.starts_at, '+' || (r.duration_minutes * 60 + :close_after) || ' seconds') > datetime(:now)")


@dataclass(frozen=True)
class Conversation:
    assignment_id: int
    request_id: int
    guide_id: int
    newcomer_id: int        # the request's person (a coordinator for a request filed on someone's behalf)
    starts_at: datetime
    closes_at: datetime
    meeting_point: str | None
    open: bool

    def other(self, person_id: int) -> int:
        return self.newcomer_id if person_id == self.guide_id else self.guide_id

    def has(self, person_id: int) -> bool:
        return person_id in (self.guide_id, self.newcomer_id)


@dataclass(frozen=True)
class RelayMessage:
    id: int
    assignment_id: int
    sender_id: int
    recipient_id: int
    phrase: str | None
    body: str | None
    language: str | None
    state: str
    created_at: datetime
    reported_at: datetime | None
    file_ref: str | None = None
    file_name: str | None = None
    file_type: str | None = None
    file_platform: str | None = None


@dataclass(frozen=True)
class SentFile:
    """A photo or file a person sent, as their platform names it (Event.file)."""
    ref: str
    name: str
    type: str
    platform: str


class Relay:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _conversations(self, where: str, params: dict[str, object]) -> list[Conversation]:
        rows = await self.db.fetchall(
            "SELECT a.id, a.request_id, a.guide_id, r.person_id, r.starts_at, r.duration_minutes, a.meeting_point, "
            f"({OPEN_SQL}) AS open FROM assignments a JOIN requests r ON r.id = a.request_id WHERE {where} "
            "ORDER BY r.starts_at, a.id", params)
        found = []
        for row in rows:
            starts_at = from_db_time(row[4])
            assert starts_at is not None
            found.append(Conversation(row[0], row[1], row[2], row[3], starts_at,
                                      starts_at + timedelta(minutes=row[5]) + timedelta(seconds=params["close_after"]),
                                      row[6], bool(row[7])))
        return found

    async def conversation(self, assignment_id: int, now: datetime, close_after: timedelta) -> Conversation | None:
        found = await self._conversations("a.id = :id", {"id": assignment_id, "now": to_db_time(now),
                                                         "close_after": int(close_after.total_seconds())})
        return found[0] if found else None

    async def open_of(self, person_id: int, now: datetime, close_after: timedelta) -> list[Conversation]:
        """The person's open conversations (as newcomer or as guide), the soonest appointment first."""
        return await self._conversations(
            f"(a.guide_id = :person OR r.person_id = :person) AND {OPEN_SQL}",
            {"person": person_id, "now": to_db_time(now), "close_after": int(close_after.total_seconds())})

    async def add(self, conversation: Conversation, sender_id: int, phrase: str | None, body: str | None,
                  language: str | None, now: datetime, file: SentFile | None = None) -> int:
        return await self.db.insert(
            "INSERT INTO relay_messages (assignment_id, sender_id, recipient_id, phrase, body, language, created_at, "
            "file_ref, file_name, file_type, file_platform) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (conversation.assignment_id, sender_id, conversation.other(sender_id), phrase, body, language,
             to_db_time(now), *((file.ref, file.name, file.type, file.platform) if file else (None,) * 4)))

    async def sending(self, message_id: int) -> bool:
        """pending → sending, right before the wire; False if someone else took it."""
        return await self.db.execute("UPDATE relay_messages SET state = 'sending' WHERE id = ? AND state = 'pending'",
                                     (message_id,)) == 1

    async def finish(self, message_id: int, state: str, now: datetime) -> None:
        await self.db.execute("UPDATE relay_messages SET state = ?, sent_at = ? WHERE id = ?",
                              (state, to_db_time(now), message_id))

    async def recover(self, repeats_recognised: set[str]) -> tuple[list[int], int]:
        """At start: the messages a stop left behind.  'sending' ones on a platform that recognises a
        repeat (Message.key) go again, the others may have arrived and become 'uncertain'; returns
        the ids to deliver (with every 'pending' one) and how many became uncertain."""
        await self.db.execute(
            "UPDATE relay_messages SET state = 'pending' WHERE state = 'sending' AND recipient_id IN "
            "(SELECT id FROM people WHERE platform IN (SELECT value FROM json_each(?)))",
            (json.dumps(sorted(repeats_recognised)),))
        uncertain = await self.db.execute("UPDATE relay_messages SET state = 'uncertain' WHERE state = 'sending'")
        rows = await self.db.fetchall("SELECT id FROM relay_messages WHERE state = 'pending' ORDER BY id")
        return [r[0] for r in rows], uncertain

    def _message(self, row: object) -> RelayMessage:
        return RelayMessage(*[row[i] for i in range(8)], from_db_time(row[8]), from_db_time(row[9]),  # type: ignore[index, arg-type, misc]
                            *[row[i] for i in range(10, 14)])  # type: ignore[index]

    _COLUMNS = ("id, assignment_id, sender_id, recipient_id, phrase, body, language, state, created_at, reported_at, "
                "file_ref, file_name, file_type, file_platform")

    async def message(self, message_id: int) -> RelayMessage | None:
        row = await self.db.fetchone(f"SELECT {self._COLUMNS} FROM relay_messages WHERE id = ?", (message_id,))
        return None if row is None else self._message(row)

    async def last(self, assignment_id: int, count: int) -> list[RelayMessage]:
        """The conversation's last `count` messages, oldest first."""
        rows = await self.db.fetchall(
            f"SELECT {self._COLUMNS} FROM relay_messages WHERE assignment_id = ? ORDER BY id DESC LIMIT ?",
            (assignment_id, count))
        return [self._message(r) for r in reversed(rows)]

    async def report(self, message_id: int, recipient_id: int, now: datetime) -> bool:
        """The recipient reports a message they received; False if it is not theirs or was reported."""
        return await self.db.execute(
            "UPDATE relay_messages SET reported_at = ? WHERE id = ? AND recipient_id = ? AND reported_at IS NULL",
            (to_db_time(now), message_id, recipient_id)) == 1

    async def decide(self, assignment_id: int, now: datetime) -> int:
        """A coordinator decided on the conversation's reports: how many were open."""
        return await self.db.execute(
            "UPDATE relay_messages SET decided_at = ? WHERE assignment_id = ? AND reported_at IS NOT NULL "
            "AND decided_at IS NULL", (to_db_time(now), assignment_id))

    async def close(self, assignment_id: int, now: datetime) -> bool:
        return await self.db.execute(
            "UPDATE assignments SET relay_closed_at = ? WHERE id = ? AND relay_closed_at IS NULL",
            (to_db_time(now), assignment_id)) == 1

    async def set_meeting_point(self, assignment_id: int, guide_id: int, place: str) -> bool:
        return await self.db.execute(
            "UPDATE assignments SET meeting_point = ? WHERE id = ? AND guide_id = ? AND state = 'active'",
            (place, assignment_id, guide_id)) == 1

    async def meeting_point(self, request_id: int) -> str | None:
        row = await self.db.fetchone(
            "SELECT meeting_point FROM assignments WHERE request_id = ? AND state = 'active'", (request_id,))
        return row[0] if row else None

    # -- privacy -----------------------------------------------------------------------------------
    # (export and erasure: bot/store/privacy.py, with the person's other rows)
    async def purge(self, now: datetime, close_after: timedelta, dry_run: bool = False) -> int:
        """Messages of closed conversations, except reported ones no coordinator decided on yet."""
        where = ("assignment_id IN (SELECT a.id FROM assignments a JOIN requests r ON r.id = a.request_id "
                 f"WHERE NOT ({OPEN_SQL})) AND NOT (reported_at IS NOT NULL AND decided_at IS NULL)")
        params = {"now": to_db_time(now), "close_after": int(close_after.total_seconds())}
        if dry_run:
            row = await self.db.fetchone(f"SELECT count(*) FROM relay_messages WHERE {where}", params)
            return int(row[0]) if row else 0
        return await self.db.execute(f"DELETE FROM relay_messages WHERE {where}", params)
