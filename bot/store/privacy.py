"""A person's data as they may see it (Art. 15, 20) and its erasure (Art. 17): the SQL of both.

`export` gathers every row that is about the person, as plain JSON-ready values.  `anonymise`
erases the person inside the caller's transaction, following bot/store/privacy_map.py: what
identifies them (ids, name, language, free text, dialog, buttons, consents, transport state that
names them) goes; what must stay stays without identity — the people row (so requests and
assignments keep their keys), the counts the statistics read, and a guide's past hours, which the
Träger keeps for its accounts under the export's pseudonym (Art. 17(3)(b)).  Nothing cascades:
requests and assignments are never deleted here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.store.db import Database, to_db_time


def _rows(rows: list[Any]) -> list[dict[str, Any]]:
    return [dict(row) for row in rows]


class Privacy:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def export(self, person_id: int) -> dict[str, Any]:
        """Everything stored about the person, table by table (the button tokens' payloads and the
        raw inbox are technical and leave with their rows; they are listed by count)."""
        one = self.db.fetchone
        many = self.db.fetchall
        person = await one("SELECT * FROM people WHERE id = ?", (person_id,))
        if person is None:
            return {}
        requests = _rows(await many("SELECT * FROM requests WHERE person_id = ? ORDER BY id", (person_id,)))
        for request in requests:
            request["languages"] = [r[0] for r in await many(
                "SELECT language FROM request_languages WHERE request_id = ? ORDER BY position", (request["id"],))]
        guide = await one("SELECT * FROM guides WHERE person_id = ?", (person_id,))
        profile: dict[str, Any] | None = None
        if guide is not None:
            profile = {k: guide[k] for k in guide.keys() if not k.endswith("_text")}
            profile["languages"] = [r[0] for r in await many(
                "SELECT language FROM guide_languages WHERE guide_id = ? ORDER BY position", (person_id,))]
            profile["districts"] = [r[0] for r in await many(
                "SELECT district FROM guide_districts WHERE guide_id = ? ORDER BY district", (person_id,))]
            profile["topics"] = [r[0] for r in await many(
                "SELECT topic FROM guide_topics WHERE guide_id = ? ORDER BY topic", (person_id,))]
            profile["weekly_slots"] = _rows(await many(
                "SELECT weekday, start_minute, end_minute FROM guide_slots WHERE guide_id = ? ORDER BY weekday, "
                "start_minute", (person_id,)))
        tokens = await one("SELECT count(*) FROM button_tokens WHERE person_id = ?", (person_id,))
        return {
            "person": dict(person),
            "consents": _rows(await many("SELECT version, action, at FROM consents WHERE person_id = ? ORDER BY at, id",
                                         (person_id,))),
            "requests": requests,
            "appointments_as_newcomer": _rows(await many(
                "SELECT a.id, a.request_id, a.state, a.created_at, a.ended_at, a.feedback, a.feedback_comment "
                "FROM assignments a JOIN requests r ON r.id = a.request_id WHERE r.person_id = ? ORDER BY a.id",
                (person_id,))),
            "guide_profile": profile,
            "appointments_as_guide": _rows(await many(
                "SELECT id, request_id, state, created_at, ended_at, hours FROM assignments WHERE guide_id = ? "
                "ORDER BY id", (person_id,))),
            "offers_received": _rows(await many(
                "SELECT id, request_id, wave, state, sent_at, expires_at, answered_at, decline_reason FROM offers "
                "WHERE guide_id = ? ORDER BY id", (person_id,))),
            "reminders": _rows(await many(
                "SELECT id, assignment_id, kind, due_at, state FROM reminders WHERE person_id = ? ORDER BY id",
                (person_id,))),
            "open_dialog": dict(row) if (row := await one(
                "SELECT dialog, step, data, updated_at FROM dialog_states WHERE person_id = ?", (person_id,))) else None,
            "buttons_waiting": tokens[0] if tokens else 0,
        }

    async def anonymise(self, person_id: int, now: datetime) -> None:
        """Erase the person (inside the caller's transaction): see the module docstring."""
        person = await self.db.fetchone("SELECT platform, platform_user_id, chat_id FROM people WHERE id = ?",
                                        (person_id,))
        if person is None:
            return
        run = self.db.execute
        for table in ("dialog_states", "button_tokens", "consents", "reminders"):
            await run(f"DELETE FROM {table} WHERE person_id = ?", (person_id,))
        await run("DELETE FROM broadcast_outbox WHERE person_id = ? AND state IN ('pending', 'claimed')", (person_id,))
        await run("UPDATE requests SET place = NULL, note = NULL, preferred_gender = NULL WHERE person_id = ?",
                  (person_id,))
        await run("UPDATE assignments SET feedback_comment = NULL WHERE guide_id = ? OR request_id IN "
                  "(SELECT id FROM requests WHERE person_id = ?)", (person_id, person_id))
        await run("UPDATE offers SET message_id = NULL WHERE guide_id = ?", (person_id,))
        for table in ("guide_languages", "guide_districts", "guide_topics", "guide_slots"):
            await run(f"DELETE FROM {table} WHERE guide_id = ?", (person_id,))
        await run("UPDATE guides SET state = CASE WHEN state IN ('pending', 'approved') THEN 'suspended' ELSE state END, "
                  "gender = NULL, all_districts = 0, paused_from = NULL, paused_until = NULL, training_on = NULL, pledge_on = NULL, "
                  "police_certificate_on = NULL WHERE person_id = ?", (person_id,))
        for value in {person["platform_user_id"], person["chat_id"]}:  # keys that name them ("dm:@x", "menu:!room")
            await run("DELETE FROM transport_state WHERE platform = ? AND substr(key, -length(?) - 1) = ':' || ?",
                      (person["platform"], value, value))
        await run("DELETE FROM inbox WHERE platform = ? AND user_id = ?",
                  (person["platform"], person["platform_user_id"]))
        await run("UPDATE people SET platform_user_id = 'erased-' || id, chat_id = 'erased-' || id, language = NULL, "
                  "display_name = NULL, consent_version = NULL, consent_at = NULL, declined_at = NULL, "
                  "unreachable_at = NULL, retention_asked_at = NULL, erased_at = ? WHERE id = ?",
                  (to_db_time(now), person_id))

    async def withdraw_open_offers(self, guide_id: int, now: datetime) -> list[int]:
        """Offers still waiting for this guide's answer, withdrawn; the ids of their requests."""
        rows = await self.db.fetchall("SELECT DISTINCT request_id FROM offers WHERE guide_id = ? AND state = 'open'",
                                      (guide_id,))
        await self.db.execute("UPDATE offers SET state = 'withdrawn', answered_at = ? WHERE guide_id = ? "
                              "AND state = 'open'", (to_db_time(now), guide_id))
        return [r[0] for r in rows]

    async def kept(self, person_id: int, version: str, now: datetime) -> None:
        """The person answered "keep my data" when asked after a long time without activity: the
        answer is activity, and renews their agreement."""
        await self.db.execute("UPDATE people SET retention_asked_at = NULL WHERE id = ?", (person_id,))
        await self.record(person_id, version, "agreed", now)

    async def record(self, person_id: int, version: str | None, action: str, at: datetime) -> None:
        """A line of the person's consent history: agreed, declined or withdrawn (with the notice version)."""
        await self.db.execute("INSERT INTO consents (person_id, version, action, at) VALUES (?, ?, ?, ?)",
                              (person_id, version, action, to_db_time(at)))
