"""Broadcasts and their outbox: who is in an audience, one row per recipient, and the claims the
sender makes on those rows (see migrations/0009_broadcasts_and_pseudonyms.sql)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.store.db import Database, from_db_time, to_db_time

UNFINISHED = ("pending", "claimed", "sending")
_SEP = "\x1f"  # districts may contain spaces


@dataclass(frozen=True)
class Audience:
    """Approved guides and/or newcomers, narrowed by spoken language and/or district (empty: all).

    A guide matches a language they speak and a district they serve (or all districts); a
    newcomer matches a language they read Lotse in or named in a request, and a district of one
    of their requests.  Only people who agreed to the privacy notice belong to any audience.
    """

    kind: str
    languages: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()

    def params(self) -> dict[str, Any]:
        return {"guides": int(self.kind in ("guides", "everyone")),
                "newcomers": int(self.kind in ("newcomers", "everyone")),
                "langs": json.dumps(list(self.languages)), "any_lang": int(not self.languages),
                "dists": json.dumps(list(self.districts), ensure_ascii=False), "any_dist": int(not self.districts)}


# The audience as one WHERE clause over people p (named parameters from Audience.params()).
_IN_LANGS = "IN (SELECT value FROM json_each(:langs))"
_IN_DISTS = "IN (SELECT value FROM json_each(:dists))"
_AUDIENCE = f"""
p.consent_at IS NOT NULL AND p.declined_at IS NULL AND (
  (:guides AND EXISTS (
     SELECT 1 FROM guides g WHERE g.person_id = p.id AND g.state = 'approved'
       AND (:any_lang OR EXISTS (SELECT 1 FROM guide_languages gl WHERE gl.guide_id = p.id
                                 AND gl.language {_IN_LANGS}))
       AND (:any_dist OR g.all_districts = 1 OR EXISTS (SELECT 1 FROM guide_districts gd
                                 WHERE gd.guide_id = p.id AND gd.district {_IN_DISTS}))))
  OR
  (:newcomers AND p.role = 'newcomer'
     AND (:any_lang OR p.language {_IN_LANGS} OR EXISTS (
            SELECT 1 FROM requests r JOIN request_languages rl ON rl.request_id = r.id
            WHERE r.person_id = p.id AND rl.language {_IN_LANGS}))
     AND (:any_dist OR EXISTS (SELECT 1 FROM requests r WHERE r.person_id = p.id AND r.district {_IN_DISTS})))
)"""


@dataclass(frozen=True)
class Broadcast:
    id: int
    coordinator_id: int | None
    audience: Audience
    state: str
    progress_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class Claim:
    """One outbox row claimed for sending (now in state 'claimed'; 'sending' once it leaves)."""

    id: int
    broadcast_id: int
    person_id: int
    attempts: int


class Broadcasts:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- audience ---------------------------------------------------------------------------------
    async def count(self, audience: Audience) -> dict[str, int]:
        """Recipients per platform."""
        rows = await self.db.fetchall(
            f"SELECT p.platform, count(*) FROM people p WHERE {_AUDIENCE} GROUP BY p.platform ORDER BY p.platform",
            audience.params())
        return {row[0]: int(row[1]) for row in rows}

    async def create(self, coordinator_id: int, audience: Audience, texts: dict[str, str], now: datetime) -> int:
        """The broadcast, its texts ('' = default) and one pending outbox row per recipient, together."""
        stamp = to_db_time(now)
        async with self.db.transaction():
            broadcast_id = await self.db.insert(
                "INSERT INTO broadcasts (coordinator_id, audience, languages, districts, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (coordinator_id, audience.kind, " ".join(audience.languages), _SEP.join(audience.districts), stamp))
            await self.db.executemany(
                "INSERT INTO broadcast_texts (broadcast_id, language, text) VALUES (?, ?, ?)",
                [(broadcast_id, language, text) for language, text in texts.items()])
            await self.db.execute(
                "INSERT INTO broadcast_outbox (broadcast_id, person_id, platform, updated_at) "
                f"SELECT :broadcast, p.id, p.platform, :now FROM people p WHERE {_AUDIENCE} ORDER BY p.id",
                {**audience.params(), "broadcast": broadcast_id, "now": stamp})
        return broadcast_id

    async def get(self, broadcast_id: int) -> Broadcast | None:
        row = await self.db.fetchone("SELECT * FROM broadcasts WHERE id = ?", (broadcast_id,))
        if row is None:
            return None
        audience = Audience(row["audience"], tuple(row["languages"].split()),
                            tuple(d for d in row["districts"].split(_SEP) if d))
        return Broadcast(row["id"], row["coordinator_id"], audience, row["state"], row["progress_id"],
                         from_db_time(row["created_at"]))  # type: ignore[arg-type]

    async def set_progress_message(self, broadcast_id: int, message_id: str | None) -> None:
        await self.db.execute("UPDATE broadcasts SET progress_id = ? WHERE id = ?", (message_id, broadcast_id))

    async def text_for(self, broadcast_id: int, language: str | None) -> str:
        """The version in `language`, or the default."""
        row = await self.db.fetchone(
            "SELECT text FROM broadcast_texts WHERE broadcast_id = ? AND language IN (?, '') "
            "ORDER BY language = '' LIMIT 1", (broadcast_id, language or ""))
        return row[0] if row else ""

    # -- the sender's claims ----------------------------------------------------------------------
    async def claim(self, platform: str, now: datetime) -> Claim | None:
        """Take the next due pending row of `platform` (pending → claimed) in one conditional UPDATE."""
        stamp = to_db_time(now)
        rows = await self.db.fetchall(
            "UPDATE broadcast_outbox SET state = 'claimed', attempts = attempts + 1, updated_at = :now "
            "WHERE id = (SELECT id FROM broadcast_outbox WHERE platform = :platform AND state = 'pending' "
            "            AND (not_before IS NULL OR not_before <= :now) ORDER BY broadcast_id, id LIMIT 1) "
            "AND state = 'pending' RETURNING id, broadcast_id, person_id, attempts",
            {"platform": platform, "now": stamp})
        if not rows:
            return None
        row = rows[0]
        return Claim(row[0], row[1], row[2], row[3])

    async def sending(self, row_id: int) -> None:
        """claimed → sending: the message leaves now (committed before it does)."""
        await self.db.execute("UPDATE broadcast_outbox SET state = 'sending' WHERE id = ? AND state = 'claimed'",
                              (row_id,))

    async def finish_row(self, row_id: int, state: str, now: datetime, *, message_id: str | None = None,
                         error: str | None = None) -> bool:
        """claimed / sending → sent / failed / unreachable / skipped / uncertain."""
        changed = await self.db.execute(
            "UPDATE broadcast_outbox SET state = ?, message_id = ?, error = ?, updated_at = ? "
            "WHERE id = ? AND state IN ('claimed', 'sending')", (state, message_id, error, to_db_time(now), row_id))
        return changed == 1

    async def retry_later(self, row_id: int, not_before: datetime, error: str, now: datetime,
                          count_attempt: bool = True) -> None:
        """sending → pending again, not before `not_before` (without `count_attempt` the try is given back)."""
        await self.db.execute(
            "UPDATE broadcast_outbox SET state = 'pending', not_before = ?, error = ?, updated_at = ?, "
            "attempts = attempts - ? WHERE id = ? AND state IN ('claimed', 'sending')",
            (to_db_time(not_before), error, to_db_time(now), int(not count_attempt), row_id))

    async def recover_interrupted(self, now: datetime, repeats_recognised: set[str]) -> int:
        """Rows a crash left unfinished: 'claimed' ones never left and are pending again, so are
        'sending' ones on platforms that recognise a repeat (`repeats_recognised`, Message.key);
        other 'sending' ones may or may not have reached the person: never sent again
        ('uncertain').  Returns how many became uncertain."""
        await self.db.execute(
            "UPDATE broadcast_outbox SET state = 'pending', updated_at = ? WHERE state = 'claimed' "
            "OR (state = 'sending' AND platform IN (SELECT value FROM json_each(?)))",
            (to_db_time(now), json.dumps(sorted(repeats_recognised))))
        return await self.db.execute(
            "UPDATE broadcast_outbox SET state = 'uncertain', error = 'interrupted by a restart', updated_at = ? "
            "WHERE state = 'sending'", (to_db_time(now),))

    async def next_due(self, platform: str, now: datetime) -> datetime | None:
        """When the earliest waiting row of `platform` may go (None: nothing pending)."""
        row = await self.db.fetchone(
            "SELECT min(coalesce(not_before, :now)) FROM broadcast_outbox WHERE platform = :platform "
            "AND state = 'pending'", {"platform": platform, "now": to_db_time(now)})
        return from_db_time(row[0]) if row is not None else None

    async def pending_platforms(self) -> list[str]:
        rows = await self.db.fetchall("SELECT DISTINCT platform FROM broadcast_outbox WHERE state = 'pending'")
        return [r[0] for r in rows]

    async def tally(self, broadcast_id: int) -> dict[str, int]:
        """Outbox rows per state."""
        rows = await self.db.fetchall(
            "SELECT state, count(*) FROM broadcast_outbox WHERE broadcast_id = ? GROUP BY state", (broadcast_id,))
        return {row[0]: int(row[1]) for row in rows}

    async def remaining(self, broadcast_id: int) -> int:
        """Rows of the broadcast still to send (pending, claimed or sending)."""
        row = await self.db.fetchone(
            "SELECT count(*) FROM broadcast_outbox WHERE broadcast_id = ? "
            "AND state IN ('pending', 'claimed', 'sending')",
            (broadcast_id,))
        return int(row[0]) if row else 0

    async def unfinished(self) -> list[int]:
        """Broadcasts still sending, or done but not yet reported to their coordinator."""
        rows = await self.db.fetchall("SELECT id FROM broadcasts WHERE state IN ('sending', 'done') ORDER BY id")
        return [r[0] for r in rows]

    async def mark_reported(self, broadcast_id: int) -> None:
        """done → reported, after the report reached the coordinator (a crash before this sends
        the report again at the next start: twice rather than never)."""
        await self.db.execute("UPDATE broadcasts SET state = 'reported' WHERE id = ? AND state = 'done'",
                              (broadcast_id,))

    async def complete(self, broadcast_id: int, now: datetime) -> bool:
        """Mark done when no row is left to send; True only for the one caller who did it."""
        changed = await self.db.execute(
            "UPDATE broadcasts SET state = 'done', finished_at = ? WHERE id = ? AND state = 'sending' "
            "AND NOT EXISTS (SELECT 1 FROM broadcast_outbox WHERE broadcast_id = ? "
            "                AND state IN ('pending', 'claimed', 'sending'))",
            (to_db_time(now), broadcast_id, broadcast_id))
        return changed == 1
