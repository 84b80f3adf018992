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

from bot.store.db import Database, from_db_time, to_db_time


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
            "messages_relayed": _rows(await many(
                "SELECT id, assignment_id, CASE WHEN sender_id = ? THEN 'sent' ELSE 'received' END AS direction, "
                "phrase, body, file_name, language, state, created_at, reported_at FROM relay_messages "
                "WHERE sender_id = ? OR recipient_id = ? ORDER BY id", (person_id, person_id, person_id))),
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
        await run("DELETE FROM relay_messages WHERE sender_id = ? OR recipient_id = ?", (person_id, person_id))
        await run("DELETE FROM broadcast_outbox WHERE person_id = ?", (person_id,))
        await run("UPDATE broadcasts SET progress_id = NULL WHERE coordinator_id = ?", (person_id,))
        await run("UPDATE requests SET place = NULL, note = NULL, preferred_gender = NULL, behalf_name = NULL, "
                  "behalf_phone = NULL WHERE person_id = ?",
                  (person_id,))
        await run("UPDATE assignments SET feedback_comment = NULL, meeting_point = NULL WHERE guide_id = ? OR "
                  "request_id IN (SELECT id FROM requests WHERE person_id = ?)", (person_id, person_id))
        await run("UPDATE offers SET message_id = NULL WHERE guide_id = ?", (person_id,))
        for table in ("guide_languages", "guide_districts", "guide_topics", "guide_slots"):
            await run(f"DELETE FROM {table} WHERE guide_id = ?", (person_id,))
        await run("UPDATE guides SET state = CASE WHEN state IN ('pending', 'approved') THEN 'suspended' ELSE state END, "
                  "gender = NULL, all_districts = 0, paused_from = NULL, paused_until = NULL, training_on = NULL, pledge_on = NULL, "
                  "police_certificate_on = NULL, decision_reason = NULL, benefits = 0 WHERE person_id = ?", (person_id,))
        await run("UPDATE hours_corrections SET reason = '—' WHERE assignment_id IN "
                  "(SELECT id FROM assignments WHERE guide_id = ?)", (person_id,))
        await self._forget_platform_traces(person["platform"], person["platform_user_id"], person["chat_id"])
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

    async def last_purge(self) -> datetime | None:
        """When the retention rules last ran (kept with the app's own values)."""
        row = await self.db.fetchone("SELECT value FROM app_secrets WHERE name = 'retention_last_run'")
        return from_db_time(row[0]) if row is not None else None

    async def purged(self, at: datetime) -> None:
        await self.db.execute("INSERT INTO app_secrets (name, value) VALUES ('retention_last_run', ?) "
                              "ON CONFLICT (name) DO UPDATE SET value = excluded.value", (to_db_time(at),))

    async def kept(self, person_id: int, version: str, now: datetime) -> None:
        """The person answered "keep my data" when asked after a long time without activity: the
        answer is activity, and renews their agreement."""
        await self.db.execute("UPDATE people SET retention_asked_at = NULL WHERE id = ?", (person_id,))
        await self.record(person_id, version, "agreed", now)

    async def record(self, person_id: int, version: str | None, action: str, at: datetime) -> None:
        """A line of the person's consent history: agreed, declined or withdrawn (with the notice version)."""
        await self.db.execute("INSERT INTO consents (person_id, version, action, at) VALUES (?, ?, ?, ?)",
                              (person_id, version, action, to_db_time(at)))

    # -- retention (bot/services/retention.py): each method one rule, one statement where possible --
    async def clear_texts(self, cutoff: datetime, dry_run: bool = False) -> list[int]:
        """Requests whose appointment ended before `cutoff`: place, note and the name and phone of
        someone a coordinator filed for set to NULL; their ids."""
        return await self._batched("requests", "place = NULL, note = NULL, behalf_name = NULL, behalf_phone = NULL",
                                   "r", f"SELECT r.id FROM requests r WHERE {_ENDED_BEFORE} AND (r.place IS NOT NULL "
                                   "OR r.note IS NOT NULL OR r.behalf_name IS NOT NULL OR r.behalf_phone IS NOT NULL)",
                                   cutoff, dry_run)

    async def clear_feedback_comments(self, cutoff: datetime, dry_run: bool = False) -> list[int]:
        """Assignments of requests that ended before `cutoff`: the feedback comment set to NULL."""
        return await self._batched("assignments", "feedback_comment = NULL, meeting_point = NULL", "a",
                                   f"SELECT a.id FROM assignments a JOIN requests r ON r.id = a.request_id "
                                   f"WHERE {_ENDED_BEFORE} AND (a.feedback_comment IS NOT NULL "
                                   "OR a.meeting_point IS NOT NULL)", cutoff, dry_run)

    async def clear_offer_messages(self, cutoff: datetime, dry_run: bool = False) -> list[int]:
        """Offers of requests that ended before `cutoff`: the id of the message on the guide's
        platform (nothing edits it any more) set to NULL."""
        return await self._batched("offers", "message_id = NULL", "o",
                                   f"SELECT o.id FROM offers o JOIN requests r ON r.id = o.request_id "
                                   f"WHERE {_ENDED_BEFORE} AND o.message_id IS NOT NULL", cutoff, dry_run)

    async def _batched(self, table: str, assignments: str, alias: str, candidates: str, cutoff: datetime,
                       dry_run: bool) -> list[int]:
        """UPDATE `table` SET `assignments` for the rows `candidates` selects (their ids), in
        batches of BATCH rows in id order (`alias`: the candidates' table), each its own short
        transaction, so that a first run over years of rows does not hold the writer lock long."""
        params: dict[str, Any] = {"cutoff": to_db_time(cutoff)}
        if dry_run:
            return [r[0] for r in await self.db.fetchall(f"{candidates} ORDER BY {alias}.id", params)]
        done: list[int] = []
        after = 0
        while True:
            rows = await self.db.fetchall(
                f"UPDATE {table} SET {assignments} WHERE id IN ({candidates} AND {alias}.id > :after "
                f"ORDER BY {alias}.id LIMIT :batch) RETURNING id", {**params, "after": after, "batch": BATCH})
            ids = [r[0] for r in rows]
            done += ids
            if len(ids) < BATCH:
                return sorted(done)
            after = max(ids)

    async def inactive(self, cutoff: datetime) -> list[int]:
        """People who agreed and were not asked yet, without activity since `cutoff`."""
        rows = await self.db.fetchall(
            f"{_LAST_ACTIVITY} SELECT p.id FROM people p JOIN last_activity l ON l.person_id = p.id "
            "WHERE p.erased_at IS NULL AND p.consent_at IS NOT NULL AND p.retention_asked_at IS NULL "
            "AND l.at < ? ORDER BY p.id", (to_db_time(cutoff),))
        return [r[0] for r in rows]

    async def mark_asked(self, person_ids: list[int], now: datetime) -> None:
        """The people were asked whether Lotse may keep their data (one statement for all)."""
        await self.db.executemany(
            "UPDATE people SET retention_asked_at = ? WHERE id = ? AND retention_asked_at IS NULL "
            "AND erased_at IS NULL", [(to_db_time(now), person_id) for person_id in person_ids])

    async def silent_since_asked(self, asked_before: datetime, person_id: int | None = None) -> list[int]:
        """People asked before `asked_before` without any activity since (only `person_id`, if given)."""
        rows = await self.db.fetchall(
            f"{_LAST_ACTIVITY} SELECT p.id FROM people p JOIN last_activity l ON l.person_id = p.id "
            "WHERE p.erased_at IS NULL AND p.retention_asked_at IS NOT NULL AND p.retention_asked_at <= :asked "
            "AND l.at <= p.retention_asked_at AND (:one IS NULL OR p.id = :one) ORDER BY p.id",
            {"asked": to_db_time(asked_before), "one": person_id})
        return [r[0] for r in rows]

    async def active_again(self, dry_run: bool = False) -> list[int]:
        """People asked who used Lotse since (a request, a dialog, an answer): no longer waiting to
        be erased, and asked anew after the next long silence."""
        candidates = (f"{_LAST_ACTIVITY} SELECT p.id FROM people p JOIN last_activity l ON l.person_id = p.id "
                      "WHERE p.erased_at IS NULL AND p.retention_asked_at IS NOT NULL AND l.at > p.retention_asked_at")
        if dry_run:
            return [r[0] for r in await self.db.fetchall(candidates)]
        rows = await self.db.fetchall(
            f"UPDATE people SET retention_asked_at = NULL WHERE id IN ({candidates}) RETURNING id")
        return sorted(r[0] for r in rows)

    async def declined_before(self, cutoff: datetime) -> list[int]:
        """People who declined the notice before `cutoff` and never agreed (and are not erased)."""
        rows = await self.db.fetchall(f"SELECT p.id FROM people p WHERE {_DECLINED} ORDER BY p.id",
                                      (to_db_time(cutoff),))
        return [r[0] for r in rows]

    async def referenced(self, person_ids: list[int]) -> list[int]:
        """Those of `person_ids` that a row of another table refers to (beyond their own consents,
        dialog and buttons): a request, a guide profile, a coordinator's decision, a broadcast…"""
        if not person_ids:
            return []
        references = await self.db.fetchall(
            "SELECT m.name, f.\"from\" FROM sqlite_schema m JOIN pragma_foreign_key_list(m.name) f "
            "WHERE m.type = 'table' AND f.\"table\" = 'people' ORDER BY m.name")
        checks = [f"EXISTS (SELECT 1 FROM {t} WHERE {c} = p.id)" for t, c in references if t not in _OWN_ROWS]
        marks = ", ".join("?" for _ in person_ids)
        rows = await self.db.fetchall(
            f"SELECT p.id FROM people p WHERE p.id IN ({marks}) AND ({' OR '.join(checks) or '0'}) ORDER BY p.id",
            person_ids)
        return [r[0] for r in rows]

    async def delete_declined(self, person_ids: list[int], cutoff: datetime) -> list[int]:
        """Delete the people rows (and consents, dialog, buttons, and transport state and inbox
        rows that name them) of people who declined before `cutoff` — inside the caller's
        transaction, for people `referenced` did not return.  Their ids."""
        if not person_ids:
            return []
        marks = ", ".join("?" for _ in person_ids)
        rows = await self.db.fetchall(f"SELECT p.id, p.platform, p.platform_user_id, p.chat_id FROM people p "
                                      f"WHERE p.id IN ({marks}) AND {_DECLINED}", [*person_ids, to_db_time(cutoff)])
        for row in rows:
            await self._forget_platform_traces(row["platform"], row["platform_user_id"], row["chat_id"])
        ids = [r["id"] for r in rows]
        if ids:
            marks = ", ".join("?" for _ in ids)
            for table in _OWN_ROWS:
                await self.db.execute(f"DELETE FROM {table} WHERE person_id IN ({marks})", ids)
            await self.db.execute(f"DELETE FROM people WHERE id IN ({marks})", ids)
        return ids

    async def _forget_platform_traces(self, platform: str, user_id: str, chat_id: str) -> None:
        """Transport state whose key names the person ("dm:@x", "menu:!room") and their raw inbox rows."""
        for value in {user_id, chat_id}:
            await self.db.execute("DELETE FROM transport_state WHERE platform = ? AND "
                                  "substr(key, -length(?) - 1) = ':' || ?", (platform, value, value))
        await self.db.execute("DELETE FROM inbox WHERE platform = ? AND user_id = ?", (platform, user_id))

    async def is_erased(self, person_id: int) -> bool:
        row = await self.db.fetchone("SELECT erased_at FROM people WHERE id = ?", (person_id,))
        return row is not None and row[0] is not None

    async def prunable(self, tokens_before: datetime, events_before: datetime) -> tuple[int, int]:
        """How many button tokens and processed event ids Store.prune would delete (a dry run)."""
        tokens = await self.db.fetchone("SELECT count(*) FROM button_tokens WHERE created_at < ?",
                                        (to_db_time(tokens_before),))
        events = await self.db.fetchone("SELECT count(*) FROM processed_events WHERE handled_at < ?",
                                        (to_db_time(events_before),))
        return (tokens[0] if tokens else 0), (events[0] if events else 0)


BATCH = 2000  # rows per UPDATE of the text rules

# A request's appointment ended before :cutoff (the first test lets the index on starts_at narrow the rows).
_ENDED_BEFORE = ("r.starts_at < :cutoff AND julianday(r.starts_at) + r.duration_minutes / 1440.0 "
                 "< julianday(:cutoff)")

# The latest activity of every person, as stored times (ISO-8601 UTC text, which sorts as time):
# joining, agreeing (or answering "keep my data"), a request made, an appointment made or ended as
# guide or newcomer, an offer answered, a dialog step.  One pass over each table, not a subquery
# per person.
_LAST_ACTIVITY = """WITH activity (person_id, at) AS (
    SELECT id, created_at FROM people
    UNION ALL SELECT id, consent_at FROM people WHERE consent_at IS NOT NULL
    UNION ALL SELECT person_id, at FROM consents
    UNION ALL SELECT person_id, created_at FROM requests
    UNION ALL SELECT guide_id, max(created_at, ifnull(ended_at, '')) FROM assignments
    UNION ALL SELECT r.person_id, max(a.created_at, ifnull(a.ended_at, '')) FROM assignments a
        JOIN requests r ON r.id = a.request_id
    UNION ALL SELECT guide_id, answered_at FROM offers WHERE answered_at IS NOT NULL
    UNION ALL SELECT person_id, updated_at FROM dialog_states
), last_activity (person_id, at) AS (SELECT person_id, max(at) FROM activity GROUP BY person_id)"""

# Declined the notice before ? and never agreed to any version.
_DECLINED = ("p.erased_at IS NULL AND p.consent_at IS NULL AND p.declined_at IS NOT NULL AND p.declined_at < ? "
             "AND NOT EXISTS (SELECT 1 FROM consents c WHERE c.person_id = p.id AND c.action = 'agreed')")

# The person's own rows, which go with them rather than keep them.
_OWN_ROWS = ("consents", "dialog_states", "button_tokens")
