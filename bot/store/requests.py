"""Requests for accompaniment, with the languages the newcomer speaks (first language first)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.store.db import Database, from_db_time, to_db_time

OPEN_STATES = ("open", "matched")


@dataclass(frozen=True)
class Request:
    id: int
    person_id: int
    topic: str
    starts_at: datetime
    duration_minutes: int
    district: str
    place: str | None
    preferred_gender: str | None
    note: str | None
    state: str
    languages: tuple[str, ...]
    created_at: datetime
    cancelled_at: datetime | None
    on_behalf: bool = False          # filed by a coordinator (person_id) for behalf_name
    behalf_name: str | None = None
    behalf_phone: str | None = None  # None on behalf: reached through the coordinator
    interpreter: bool = False        # needs a professional interpreter
    referred_at: datetime | None = None

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)


@dataclass(frozen=True)
class NewRequest:
    topic: str
    starts_at: datetime
    duration_minutes: int
    district: str
    place: str | None
    preferred_gender: str | None
    note: str | None
    languages: tuple[str, ...]
    behalf_name: str | None = None   # set: a coordinator files it for this person
    behalf_phone: str | None = None
    interpreter: bool = False


class Requests:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def count_open(self, person_id: int, now: datetime) -> int:
        row = await self.db.fetchone(
            "SELECT count(*) FROM requests WHERE person_id = ? AND state IN ('open', 'matched') AND starts_at > ?",
            (person_id, to_db_time(now)),
        )
        return int(row[0]) if row else 0

    async def create(self, person_id: int, new: NewRequest, now: datetime) -> int:
        async with self.db.transaction():
            request_id = await self.db.insert(
                "INSERT INTO requests (person_id, topic, starts_at, duration_minutes, district, place, "
                "preferred_gender, note, created_at, on_behalf, behalf_name, behalf_phone, interpreter) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (person_id, new.topic, to_db_time(new.starts_at), new.duration_minutes, new.district, new.place,
                 new.preferred_gender, new.note, to_db_time(now), int(new.behalf_name is not None), new.behalf_name,
                 new.behalf_phone, int(new.interpreter)),
            )
            await self.db.executemany(
                "INSERT INTO request_languages (request_id, language, position) VALUES (?, ?, ?)",
                [(request_id, lang, i) for i, lang in enumerate(new.languages)],
            )
        return request_id

    async def _load(self, where: str, params: tuple[object, ...]) -> list[Request]:
        rows = await self.db.fetchall(
            "SELECT r.*, (SELECT group_concat(language, ' ') FROM "
            "(SELECT language FROM request_languages WHERE request_id = r.id ORDER BY position)) AS langs "
            f"FROM requests r WHERE {where} ORDER BY r.starts_at, r.id", params)
        return [Request(
            id=row["id"], person_id=row["person_id"], topic=row["topic"],
            starts_at=from_db_time(row["starts_at"]),  # type: ignore[arg-type]
            duration_minutes=row["duration_minutes"], district=row["district"], place=row["place"],
            preferred_gender=row["preferred_gender"], note=row["note"], state=row["state"],
            languages=tuple((row["langs"] or "").split()),
            created_at=from_db_time(row["created_at"]),  # type: ignore[arg-type]
            cancelled_at=from_db_time(row["cancelled_at"]),
            on_behalf=bool(row["on_behalf"]), behalf_name=row["behalf_name"], behalf_phone=row["behalf_phone"],
            interpreter=bool(row["interpreter"]), referred_at=from_db_time(row["referred_at"]),
        ) for row in rows]

    async def get(self, request_id: int) -> Request | None:
        found = await self._load("r.id = ?", (request_id,))
        return found[0] if found else None

    async def of_person(self, person_id: int) -> list[Request]:
        return await self._load("r.person_id = ?", (person_id,))

    async def cancellable(self, person_id: int, now: datetime) -> list[Request]:
        return await self._load("r.person_id = ? AND r.state IN ('open', 'matched') AND r.starts_at > ?",
                                (person_id, to_db_time(now)))

    async def upcoming(self, now: datetime) -> list[Request]:
        """Every request still open or matched whose appointment is ahead (coordinators' lists)."""
        return await self._load("r.state IN ('open', 'matched') AND r.starts_at > ?", (to_db_time(now),))

    async def mark_interpreter(self, request_id: int) -> bool:
        """Mark it as needing a professional interpreter; False if it already was (or is gone)."""
        return await self.db.execute("UPDATE requests SET interpreter = 1 WHERE id = ? AND interpreter = 0",
                                     (request_id,)) == 1

    async def mark_referred(self, request_id: int, now: datetime) -> bool:
        """Note that the referral went out; False if it had before: it is sent at most once."""
        return await self.db.execute("UPDATE requests SET referred_at = ? WHERE id = ? AND referred_at IS NULL",
                                     (to_db_time(now), request_id)) == 1

    async def cancel(self, request_id: int, person_id: int, now: datetime) -> bool:
        """Cancel if it is the person's and still open or matched; False if not (already cancelled…)."""
        changed = await self.db.execute(
            "UPDATE requests SET state = 'cancelled', cancelled_at = ? "
            "WHERE id = ? AND person_id = ? AND state IN ('open', 'matched')",
            (to_db_time(now), request_id, person_id),
        )
        return changed == 1
