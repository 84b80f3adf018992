"""Guide profiles: languages, districts, topics, weekly slots, pause, vetting and approval."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from bot.store.db import Database, from_db_time, to_db_time
from bot.vocabulary import VETTING

ALL_DISTRICTS = "*"


@dataclass(frozen=True)
class Slot:
    weekday: int       # 0 = Monday
    start_minute: int  # local time, minutes after midnight
    end_minute: int

    def as_list(self) -> list[int]:
        return [self.weekday, self.start_minute, self.end_minute]


@dataclass(frozen=True)
class Profile:
    """What a guide tells about themselves (registration and later edits)."""

    languages: tuple[str, ...]
    districts: tuple[str, ...]  # (ALL_DISTRICTS,) for all
    topics: tuple[str, ...]
    slots: tuple[Slot, ...]
    weekly_max: int
    gender: str | None


@dataclass(frozen=True)
class Guide:
    person_id: int
    state: str
    profile: Profile
    paused_from: date | None
    paused_until: date | None
    vetting: dict[str, date | None] = field(default_factory=dict)
    registered_at: datetime | None = None

    def paused_on(self, day: date) -> bool:
        """Paused that day: a range, or from a day on "until I resume" (paused_until empty)."""
        if self.paused_from is None or day < self.paused_from:
            return False
        return self.paused_until is None or day <= self.paused_until


def _date(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


class Guides:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def save_profile(self, person_id: int, profile: Profile, now: datetime) -> bool:
        """Create or update a profile in one transaction; returns True for a new registration.

        A rejected guide who registers again is pending again; an approved one stays approved.
        """
        async with self.db.transaction():
            existing = await self.db.fetchone("SELECT state FROM guides WHERE person_id = ?", (person_id,))
            all_districts = int(ALL_DISTRICTS in profile.districts)
            if existing is None:
                await self.db.execute(
                    "INSERT INTO guides (person_id, weekly_max, gender, all_districts, registered_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (person_id, profile.weekly_max, profile.gender, all_districts, to_db_time(now)))
            else:
                await self.db.execute(
                    "UPDATE guides SET weekly_max = ?, gender = ?, all_districts = ?, "
                    "state = CASE state WHEN 'rejected' THEN 'pending' ELSE state END WHERE person_id = ?",
                    (profile.weekly_max, profile.gender, all_districts, person_id))
            for table, column, values in (
                ("guide_districts", "district", [d for d in profile.districts if d != ALL_DISTRICTS]),
                ("guide_topics", "topic", profile.topics),
            ):
                await self.db.execute(f"DELETE FROM {table} WHERE guide_id = ?", (person_id,))
                await self.db.executemany(f"INSERT INTO {table} (guide_id, {column}) VALUES (?, ?)",
                                          [(person_id, v) for v in dict.fromkeys(values)])
            await self.db.execute("DELETE FROM guide_languages WHERE guide_id = ?", (person_id,))
            await self.db.executemany(  # in the order chosen: the guide's first language first
                "INSERT INTO guide_languages (guide_id, language, position) VALUES (?, ?, ?)",
                [(person_id, v, i) for i, v in enumerate(dict.fromkeys(profile.languages))])
            await self.set_slots(person_id, profile.slots)
        return existing is None or existing["state"] == "rejected"

    async def set_slots(self, person_id: int, slots: tuple[Slot, ...] | list[Slot]) -> None:
        async with self.db.transaction():
            await self.db.execute("DELETE FROM guide_slots WHERE guide_id = ?", (person_id,))
            await self.db.executemany(
                "INSERT INTO guide_slots (guide_id, weekday, start_minute, end_minute) VALUES (?, ?, ?, ?)",
                [(person_id, s.weekday, s.start_minute, s.end_minute) for s in sorted(set(slots),
                                                                                      key=Slot.as_list)])

    async def gender(self, person_id: int) -> str | None:
        """A guide's gender as they gave it (None: not given, or not a guide) — for texts whose words
        change with it."""
        row = await self.db.fetchone("SELECT gender FROM guides WHERE person_id = ?", (person_id,))
        return row[0] if row is not None else None

    async def get(self, person_id: int) -> Guide | None:
        row = await self.db.fetchone("SELECT * FROM guides WHERE person_id = ?", (person_id,))
        if row is None:
            return None

        async def column(sql: str) -> tuple[str, ...]:
            return tuple(r[0] for r in await self.db.fetchall(sql, (person_id,)))

        districts = (ALL_DISTRICTS,) if row["all_districts"] else await column(
            "SELECT district FROM guide_districts WHERE guide_id = ? ORDER BY district")
        slots = tuple(Slot(r[0], r[1], r[2]) for r in await self.db.fetchall(
            "SELECT weekday, start_minute, end_minute FROM guide_slots WHERE guide_id = ? "
            "ORDER BY weekday, start_minute", (person_id,)))
        profile = Profile(
            languages=await column(
                "SELECT language FROM guide_languages WHERE guide_id = ? ORDER BY position, language"),
            districts=districts,
            topics=await column("SELECT topic FROM guide_topics WHERE guide_id = ? ORDER BY topic"),
            slots=slots, weekly_max=row["weekly_max"], gender=row["gender"],
        )
        return Guide(
            person_id=person_id, state=row["state"], profile=profile,
            paused_from=_date(row["paused_from"]), paused_until=_date(row["paused_until"]),
            vetting={kind: _date(row[f"{kind}_on"]) for kind in VETTING},
            registered_at=from_db_time(row["registered_at"]),
        )

    async def pending(self) -> list[int]:
        rows = await self.db.fetchall("SELECT person_id FROM guides WHERE state = 'pending' ORDER BY registered_at")
        return [r[0] for r in rows]

    async def in_states(self, states: tuple[str, ...]) -> list[tuple[int, str]]:
        """(person id, state) of every guide in one of `states`, the longest registered first."""
        marks = ", ".join("?" * len(states))
        rows = await self.db.fetchall(f"SELECT person_id, state FROM guides WHERE state IN ({marks}) "
                                      "ORDER BY registered_at, person_id", states)
        return [(r[0], r[1]) for r in rows]

    async def decide(self, person_id: int, approve: bool, by: int | None, now: datetime,
                     vetting: dict[str, date] | None = None) -> bool:
        """Approve (with vetting dates) or reject a pending guide; False if not pending any more."""
        vetting = vetting or {}
        changed = await self.db.execute(
            "UPDATE guides SET state = ?, decided_at = ?, decided_by = ?, "
            "training_on = coalesce(?, training_on), pledge_on = coalesce(?, pledge_on), "
            "police_certificate_on = coalesce(?, police_certificate_on) "
            "WHERE person_id = ? AND state = 'pending'",
            ("approved" if approve else "rejected", to_db_time(now), by,
             *(vetting[k].isoformat() if vetting.get(k) else None for k in VETTING),
             person_id))
        return changed == 1

    async def change_state(self, person_id: int, from_states: tuple[str, ...], to_state: str, by: int | None,
                           now: datetime) -> bool:
        """Move a guide in one of `from_states` to `to_state` in one conditional UPDATE, recording
        who (`by`) and when in decided_by / decided_at — which therefore hold the latest change of
        standing, not only the first decision.  False if the guide is in none of `from_states` (or
        is no guide): nothing changed, so of two coordinators acting at once only the first wins.

        Which transitions make sense is bot/services/guides.py's business; `decide` stays the one
        for pending → approved, because it also records the vetting dates."""
        marks = ", ".join("?" * len(from_states))
        changed = await self.db.execute(
            f"UPDATE guides SET state = ?, decided_at = ?, decided_by = ? WHERE person_id = ? AND state IN ({marks})",
            (to_state, to_db_time(now), by, person_id, *from_states))
        return changed == 1

    async def set_decision_reason(self, person_id: int, reason: str | None) -> None:
        """Keep the reason of the decision just made (a rejection's, in the coordinator's words), or
        none: decision_reason always belongs to the latest decision (bot/services/guides.py)."""
        await self.db.execute("UPDATE guides SET decision_reason = ? WHERE person_id = ? "
                              "AND decision_reason IS NOT ?", (reason, person_id, reason))

    async def decision_reason(self, person_id: int) -> str | None:
        """The reason given with the latest decision (a rejection), if any."""
        row = await self.db.fetchone("SELECT decision_reason FROM guides WHERE person_id = ?", (person_id,))
        return None if row is None else row[0]

    async def pause(self, person_id: int, start: date, until: date | None) -> None:
        await self.db.execute("UPDATE guides SET paused_from = ?, paused_until = ? WHERE person_id = ?",
                              (start.isoformat(), until.isoformat() if until else None, person_id))

    async def resume(self, person_id: int) -> bool:
        changed = await self.db.execute(
            "UPDATE guides SET paused_from = NULL, paused_until = NULL WHERE person_id = ? AND paused_from IS NOT NULL",
            (person_id,))
        return changed == 1
