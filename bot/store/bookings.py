"""Bookings: offers to guides and the assignments that win them — the rows dispatch decides with."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from bot.store.db import Database, from_db_time, to_db_time


@dataclass(frozen=True)
class Offer:
    id: int
    request_id: int
    guide_id: int
    wave: int
    state: str
    expires_at: datetime
    message_id: str | None
    asked_by: int | None = None  # the coordinator who sent it by hand; None for an offer of a wave


@dataclass(frozen=True)
class Assignment:
    id: int
    request_id: int
    guide_id: int
    state: str
    starts_at: datetime


def _offer(row: object) -> Offer:
    return Offer(row["id"], row["request_id"], row["guide_id"], row["wave"], row["state"],  # type: ignore[index]
                 from_db_time(row["expires_at"]), row["message_id"], row["asked_by"])  # type: ignore[index, arg-type]


class Bookings:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- offers ---------------------------------------------------------------------------------
    async def offered_guides(self, request_id: int) -> set[int]:
        """Guides not to ask again: all but those whose offer was only "taken" by someone else
        (when the request opens again because that guide cancelled, they may be asked anew)."""
        rows = await self.db.fetchall("SELECT guide_id FROM offers WHERE request_id = ? AND state != 'taken'",
                                      (request_id,))
        return {r[0] for r in rows}

    async def next_wave(self, request_id: int) -> int:
        row = await self.db.fetchone("SELECT coalesce(max(wave), 0) + 1 FROM offers WHERE request_id = ?",
                                     (request_id,))
        return int(row[0]) if row else 1

    async def add_offer(self, request_id: int, guide_id: int, wave: int, now: datetime, expires: datetime,
                        asked_by: int | None = None) -> int:
        """A new offer, or the guide's earlier one for this request opened anew.  `asked_by`: the
        coordinator who sends it by hand."""
        await self.db.execute(
            "INSERT INTO offers (request_id, guide_id, wave, sent_at, expires_at, asked_by) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (request_id, guide_id) DO UPDATE SET state = 'open', wave = excluded.wave, "
            "sent_at = excluded.sent_at, expires_at = excluded.expires_at, answered_at = NULL, message_id = NULL, "
            "notified = NULL, asked_by = excluded.asked_by",
            (request_id, guide_id, wave, to_db_time(now), to_db_time(expires), asked_by))
        row = await self.db.fetchone("SELECT id FROM offers WHERE request_id = ? AND guide_id = ?",
                                     (request_id, guide_id))
        assert row is not None
        return int(row[0])

    async def notifying(self, offer_id: int) -> bool:
        """Claim the sending of an offer's message (not sent yet → 'sending'); False if it left or
        is leaving already.  Committed before the message leaves."""
        return await self.db.execute(
            "UPDATE offers SET notified = 'sending' WHERE id = ? AND notified IS NULL AND state = 'open'",
            (offer_id,)) == 1

    async def notified(self, offer_id: int, outcome: str, message_id: str | None) -> None:
        """'sent' (with the message id, to edit it later), 'uncertain' or 'failed'."""
        await self.db.execute("UPDATE offers SET notified = ?, message_id = coalesce(?, message_id) WHERE id = ?",
                              (outcome, message_id, offer_id))

    async def recover_notifying(self, repeats_recognised: set[str]) -> tuple[int, int]:
        """At start, offer messages the last process left 'sending': to be sent again where the
        platform recognises a repeat, 'uncertain' (not sent again) elsewhere — the rule of
        reminders.recover.  Returns (again, uncertain)."""
        platforms = json.dumps(sorted(repeats_recognised))
        again = await self.db.execute(
            "UPDATE offers SET notified = NULL WHERE notified = 'sending' AND guide_id IN "
            " (SELECT id FROM people WHERE platform IN (SELECT value FROM json_each(?)))", (platforms,))
        uncertain = await self.db.execute("UPDATE offers SET notified = 'uncertain' WHERE notified = 'sending'")
        return again, uncertain

    async def unsent_offers(self) -> list[tuple[int, int]]:
        """Open offers whose message never left: (offer id, request id)."""
        rows = await self.db.fetchall(
            "SELECT id, request_id FROM offers WHERE state = 'open' AND notified IS NULL ORDER BY id")
        return [(int(r[0]), int(r[1])) for r in rows]

    async def offer(self, offer_id: int) -> Offer | None:
        row = await self.db.fetchone("SELECT * FROM offers WHERE id = ?", (offer_id,))
        return None if row is None else _offer(row)

    async def open_offers(self, request_id: int | None = None) -> list[Offer]:
        if request_id is None:
            rows = await self.db.fetchall("SELECT * FROM offers WHERE state = 'open' ORDER BY expires_at")
        else:
            rows = await self.db.fetchall("SELECT * FROM offers WHERE state = 'open' AND request_id = ?", (request_id,))
        return [_offer(r) for r in rows]

    async def close_offer(self, offer_id: int, state: str, now: datetime, reason: str | None = None) -> bool:
        """open → declined / expired / withdrawn / taken; False if it was not open any more."""
        changed = await self.db.execute(
            "UPDATE offers SET state = ?, answered_at = ?, decline_reason = coalesce(?, decline_reason) "
            "WHERE id = ? AND state = 'open'", (state, to_db_time(now), reason, offer_id))
        return changed == 1

    async def set_decline_reason(self, offer_id: int, reason: str) -> None:
        await self.db.execute("UPDATE offers SET decline_reason = ? WHERE id = ? AND state = 'declined'",
                              (reason, offer_id))

    async def close_all(self, request_id: int, state: str, now: datetime) -> list[Offer]:
        """Close every open offer of a request; returns those closed (to edit their messages)."""
        closing = await self.open_offers(request_id)
        await self.db.execute("UPDATE offers SET state = ?, answered_at = ? WHERE request_id = ? AND state = 'open'",
                              (state, to_db_time(now), request_id))
        return closing

    # -- the decision -----------------------------------------------------------------------------
    async def claim(self, request_id: int, guide_id: int, now: datetime, offer_id: int | None = None,
                    by: int | None = None) -> int | None:
        """First accept wins: one conditional UPDATE moves the request from open to matched; only
        the caller who changed that row gets the assignment (its id; None for everyone else).
        Call inside a transaction."""
        won = await self.db.execute("UPDATE requests SET state = 'matched' WHERE id = ? AND state = 'open'",
                                    (request_id,))
        if won != 1:
            return None
        row = await self.db.fetchone(
            "INSERT INTO assignments (request_id, guide_id, assigned_by, created_at) VALUES (?, ?, ?, ?) RETURNING id",
            (request_id, guide_id, by, to_db_time(now)))
        if offer_id is not None:
            await self.db.execute("UPDATE offers SET state = 'accepted', answered_at = ? WHERE id = ?",
                                  (to_db_time(now), offer_id))
        assert row is not None
        return int(row[0])

    # -- assignments ------------------------------------------------------------------------------
    async def assignment(self, assignment_id: int) -> Assignment | None:
        rows = await self._assignments("a.id = ?", (assignment_id,))
        return rows[0] if rows else None

    async def active_assignment(self, request_id: int) -> Assignment | None:
        rows = await self._assignments("a.request_id = ? AND a.state = 'active'", (request_id,))
        return rows[0] if rows else None

    async def upcoming_of_guide(self, guide_id: int, now: datetime) -> list[Assignment]:
        return await self._assignments("a.guide_id = ? AND a.state = 'active' AND r.starts_at > ?",
                                       (guide_id, to_db_time(now)))

    async def _assignments(self, where: str, params: tuple[object, ...]) -> list[Assignment]:
        rows = await self.db.fetchall(
            "SELECT a.id, a.request_id, a.guide_id, a.state, r.starts_at FROM assignments a "
            f"JOIN requests r ON r.id = a.request_id WHERE {where} ORDER BY r.starts_at", params)
        return [Assignment(r[0], r[1], r[2], r[3], from_db_time(r[4])) for r in rows]  # type: ignore[arg-type]

    async def end_assignment(self, assignment_id: int, state: str, now: datetime) -> bool:
        changed = await self.db.execute(
            "UPDATE assignments SET state = ?, ended_at = ? WHERE id = ? AND state = 'active'",
            (state, to_db_time(now), assignment_id))
        return changed == 1

    async def report_outcome(self, assignment_id: int, guide_id: int, state: str, now: datetime) -> bool:
        """The guide's follow-up answer: active → done / no_show / cancelled_late, once.  A late
        cancellation cancels the request too (statistics count it with the other cancellations)."""
        changed = await self.db.execute(
            "UPDATE assignments SET state = ?, ended_at = ? WHERE id = ? AND guide_id = ? AND state = 'active'",
            (state, to_db_time(now), assignment_id, guide_id))
        if changed == 1 and state == "cancelled_late":
            await self.db.execute(
                "UPDATE requests SET state = 'cancelled', cancelled_at = ? "
                "WHERE id = (SELECT request_id FROM assignments WHERE id = ?) AND state = 'matched'",
                (to_db_time(now), assignment_id))
        return changed == 1

    async def report_hours(self, assignment_id: int, guide_id: int, hours: float) -> bool:
        """Once: the hours are what the funder pays for, so an old button cannot change them."""
        changed = await self.db.execute(
            "UPDATE assignments SET hours = ? WHERE id = ? AND guide_id = ? AND state = 'done' AND hours IS NULL",
            (hours, assignment_id, guide_id))
        return changed == 1

    async def give_feedback(self, assignment_id: int, newcomer_id: int, feedback: str | None,
                            comment: str | None = None) -> bool:
        """The newcomer's 👍 / 👎 and an optional comment on an appointment that was theirs."""
        changed = await self.db.execute(
            "UPDATE assignments SET feedback = coalesce(?, feedback), feedback_comment = coalesce(?, feedback_comment) "
            "WHERE id = ? AND state IN ('active', 'done') "
            "AND request_id IN (SELECT id FROM requests WHERE person_id = ?)",
            (feedback, comment, assignment_id, newcomer_id))
        return changed == 1

    async def reopen(self, request_id: int) -> None:
        await self.db.execute("UPDATE requests SET state = 'open' WHERE id = ? AND state = 'matched'", (request_id,))

    async def waiting_for_a_wave(self, now: datetime) -> list[int]:
        """Open, upcoming, not escalated requests with no offer out (e.g. after a crash)."""
        rows = await self.db.fetchall(
            "SELECT r.id FROM requests r WHERE r.state = 'open' AND r.escalated_at IS NULL AND r.starts_at > ? "
            "AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.request_id = r.id AND o.state = 'open')",
            (to_db_time(now),))
        return [r[0] for r in rows]

    async def open_requests(self, now: datetime) -> list[int]:
        """Upcoming requests still waiting for a guide (escalated or not), the soonest first."""
        rows = await self.db.fetchall(
            "SELECT id FROM requests WHERE state = 'open' AND starts_at > ? ORDER BY starts_at, id", (to_db_time(now),))
        return [r[0] for r in rows]

    async def request_of_assignment(self, assignment_id: int, guide_id: int) -> int | None:
        row = await self.db.fetchone("SELECT request_id FROM assignments WHERE id = ? AND guide_id = ?",
                                     (assignment_id, guide_id))
        return None if row is None else int(row[0])

    async def mark_escalated(self, request_id: int, now: datetime) -> bool:
        changed = await self.db.execute(
            "UPDATE requests SET escalated_at = ? WHERE id = ? AND escalated_at IS NULL", (to_db_time(now), request_id))
        return changed == 1

    async def unmatched(self, now: datetime) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT id FROM requests WHERE state = 'open' AND escalated_at IS NOT NULL AND starts_at > ? "
            "ORDER BY starts_at", (to_db_time(now),))
        return [r[0] for r in rows]
