"""The repository: small methods over the schema, grouped by what they hold."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.clock import utcnow
from bot.store.inbox import Inbox
from bot.store.privacy import Privacy
from bot.store.db import Database, from_db_time, to_db_time
from bot.store import migrations
from bot.store.bookings import Bookings
from bot.store.guides import Guides
from bot.store.matching import Matching
from bot.store.outbox import Broadcasts
from bot.store.stats import Stats
from bot.store.programme import Programme
from bot.store.relay import Relay
from bot.store.requests import Requests
from bot.store.reminders import Reminders


@dataclass(frozen=True)
class Person:
    id: int
    platform: str
    platform_user_id: str
    chat_id: str
    language: str | None
    display_name: str | None
    role: str | None
    consent_version: str | None
    consent_at: datetime | None
    declined_at: datetime | None
    unreachable_at: datetime | None
    # Not a column: set on the coordinator who filed a request for someone (Store.newcomer_of); what
    # is written to "the newcomer" reaches this person, headed with the name they act for.
    acting_for: str | None = None

    @property
    def consented(self) -> bool:
        return self.consent_at is not None

    @classmethod
    def from_row(cls, row: Any) -> "Person":
        return cls(
            id=row["id"],
            platform=row["platform"],
            platform_user_id=row["platform_user_id"],
            chat_id=row["chat_id"],
            language=row["language"],
            display_name=row["display_name"],
            role=row["role"],
            consent_version=row["consent_version"],
            consent_at=from_db_time(row["consent_at"]),
            declined_at=from_db_time(row["declined_at"]),
            unreachable_at=from_db_time(row["unreachable_at"]),
        )


@dataclass(frozen=True)
class DialogState:
    dialog: str
    instance: str
    step: str
    data: dict[str, Any]
    updated_at: datetime
    buttons: dict[str, Any] = field(default_factory=dict)  # token -> value of the step's buttons


@dataclass(frozen=True)
class ButtonToken:
    token: str
    person_id: int
    action: str
    scope: str
    payload: Any


_PERSON_COLUMNS = ("id", "platform", "platform_user_id", "chat_id", "language", "display_name", "role",
                   "consent_version", "consent_at", "declined_at", "unreachable_at")
_DIALOG_COLUMNS = ("dialog", "instance", "step", "data", "updated_at", "buttons")
_PERSON_JSON = (
    "SELECT json_object("
    + ", ".join(f"'{c}', p.{c}" for c in _PERSON_COLUMNS) + ", "
    + ", ".join(f"'{c}', d.{c}" for c in _DIALOG_COLUMNS)
    + ") FROM people p LEFT JOIN dialog_states d ON d.person_id = p.id"
)


def _dialog(row: Any) -> DialogState | None:
    if row["dialog"] is None:
        return None
    return DialogState(
        dialog=row["dialog"],
        instance=row["instance"],
        step=row["step"],
        data=json.loads(row["data"]),
        updated_at=from_db_time(row["updated_at"]),  # type: ignore[arg-type]
        buttons=json.loads(row["buttons"]),
    )


class People:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get_or_create(self, platform: str, user_id: str, chat_id: str) -> Person:
        row = await self.db.fetchone(
            "SELECT * FROM people WHERE platform = ? AND platform_user_id = ?", (platform, user_id)
        )
        if row is None:
            await self.db.execute(
                "INSERT OR IGNORE INTO people (platform, platform_user_id, chat_id, created_at) "
                "VALUES (?, ?, ?, ?)",
                (platform, user_id, chat_id, to_db_time(utcnow())),
            )
            row = await self.db.fetchone(
                "SELECT * FROM people WHERE platform = ? AND platform_user_id = ?", (platform, user_id)
            )
        elif row["chat_id"] != chat_id:
            await self.db.execute("UPDATE people SET chat_id = ? WHERE id = ?", (chat_id, row["id"]))
            row = await self.db.fetchone("SELECT * FROM people WHERE id = ?", (row["id"],))
        assert row is not None
        return Person.from_row(row)

    async def with_dialog(self, platform: str, user_id: str, chat_id: str) -> tuple[Person, DialogState | None]:
        """The person behind an event and their current dialog, in one query (the hot path)."""
        row = await self.db.fetchone(
            "SELECT p.*, d.dialog, d.instance, d.step, d.data, d.updated_at, d.buttons FROM people p "
            "LEFT JOIN dialog_states d ON d.person_id = p.id "
            "WHERE p.platform = ? AND p.platform_user_id = ?", (platform, user_id)
        )
        return await self._resolve(platform, user_id, chat_id, row)

    async def claim_event(self, platform: str, event_id: str, user_id: str,
                          chat_id: str) -> tuple[Person, DialogState | None] | None:
        """Record a platform event id and load the person with their dialog, in ONE statement;
        None if the id was recorded before (a redelivery).  Call it inside the transaction that
        also holds the event's effects, so both commit or neither does.

        One statement because every statement is a round trip to the database thread, the
        dominant cost of handling an event: the INSERT returns the person through a subquery in
        its RETURNING clause (SQLite ≥ 3.35), and returns no row at all for a duplicate id.
        """
        rows = await self.db.fetchall(
            "INSERT OR IGNORE INTO processed_events (platform, event_id, handled_at) VALUES (?, ?, ?) "
            f"RETURNING ({_PERSON_JSON} WHERE p.platform = ? AND p.platform_user_id = ?)",
            (platform, event_id, to_db_time(utcnow()), platform, user_id),
        )
        if not rows:
            return None
        found = rows[0][0]
        return await self._resolve(platform, user_id, chat_id, json.loads(found) if found else None)

    async def _resolve(self, platform: str, user_id: str, chat_id: str,
                       row: Any) -> tuple[Person, DialogState | None]:
        if row is None or row["chat_id"] != chat_id:
            return await self.get_or_create(platform, user_id, chat_id), None if row is None else _dialog(row)
        return Person.from_row(row), _dialog(row)

    async def get(self, person_id: int) -> Person | None:
        row = await self.db.fetchone("SELECT * FROM people WHERE id = ?", (person_id,))
        return None if row is None else Person.from_row(row)

    async def find(self, platform: str, user_id: str) -> Person | None:
        row = await self.db.fetchone(
            "SELECT * FROM people WHERE platform = ? AND platform_user_id = ?", (platform, user_id)
        )
        return None if row is None else Person.from_row(row)

    async def set_language(self, person_id: int, language: str) -> None:
        await self.db.execute("UPDATE people SET language = ? WHERE id = ?", (language, person_id))

    async def set_role(self, person_id: int, role: str) -> None:
        await self.db.execute("UPDATE people SET role = ? WHERE id = ?", (role, person_id))

    async def record_consent(self, person_id: int, version: str, at: datetime, display_name: str | None) -> None:
        await self.db.execute(
            "UPDATE people SET consent_version = ?, consent_at = ?, declined_at = NULL, display_name = ? "
            "WHERE id = ?",
            (version, to_db_time(at), display_name, person_id),
        )

    async def record_decline(self, person_id: int, at: datetime) -> None:
        """Keep nothing but the decision: ids to recognise the person and the time they declined."""
        async with self.db.transaction():
            await self.db.execute("DELETE FROM dialog_states WHERE person_id = ?", (person_id,))
            await self.db.execute("DELETE FROM button_tokens WHERE person_id = ?", (person_id,))
            await self.db.execute(
                "UPDATE people SET language = NULL, display_name = NULL, role = NULL, consent_version = NULL, "
                "consent_at = NULL, declined_at = ? WHERE id = ?",
                (to_db_time(at), person_id),
            )

    async def mark_unreachable(self, person_id: int, at: datetime) -> None:
        await self.db.execute("UPDATE people SET unreachable_at = ? WHERE id = ?", (to_db_time(at), person_id))

    async def mark_reachable(self, person_id: int) -> None:
        await self.db.execute(
            "UPDATE people SET unreachable_at = NULL WHERE id = ? AND unreachable_at IS NOT NULL", (person_id,)
        )


class Dialogs:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, person_id: int) -> DialogState | None:
        row = await self.db.fetchone("SELECT * FROM dialog_states WHERE person_id = ?", (person_id,))
        return None if row is None else _dialog(row)

    async def save(self, person_id: int, state: DialogState) -> None:
        await self.db.execute(
            "INSERT INTO dialog_states (person_id, dialog, instance, step, data, updated_at, buttons) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (person_id) DO UPDATE SET "
            "dialog = excluded.dialog, instance = excluded.instance, step = excluded.step, "
            "data = excluded.data, updated_at = excluded.updated_at, buttons = excluded.buttons",
            (person_id, state.dialog, state.instance, state.step,
             json.dumps(state.data, ensure_ascii=False), to_db_time(state.updated_at),
             json.dumps(state.buttons, ensure_ascii=False)),
        )

    async def clear(self, person_id: int) -> None:
        await self.db.execute("DELETE FROM dialog_states WHERE person_id = ?", (person_id,))


class Buttons:
    """Button tokens: 12 url-safe characters (72 random bits), bound to one person."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(9)

    async def mint(self, person_id: int, items: Sequence[tuple[str, Any]]) -> list[str]:
        """One new token per (action, payload fields) for `person_id`."""
        tokens = [self.new_token() for _ in items]
        now = to_db_time(utcnow())
        await self.db.executemany(
            "INSERT INTO button_tokens (token, person_id, action, scope, payload, created_at) "
            "VALUES (?, ?, ?, '', ?, ?)",
            [(t, person_id, action, json.dumps(p, ensure_ascii=False), now) for t, (action, p) in zip(tokens, items)],
        )
        return tokens

    async def get(self, token: str) -> ButtonToken | None:
        row = await self.db.fetchone("SELECT * FROM button_tokens WHERE token = ?", (token,))
        if row is None:
            return None
        return ButtonToken(row["token"], row["person_id"], row["action"], row["scope"], json.loads(row["payload"]))

    async def prune(self, older_than: datetime) -> int:
        return await self.db.execute("DELETE FROM button_tokens WHERE created_at < ?", (to_db_time(older_than),))


class Events:
    """De-duplication of platform events by their id (recorded by People.claim_event)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def prune(self, older_than: datetime) -> int:
        return await self.db.execute(
            "DELETE FROM processed_events WHERE handled_at < ?", (to_db_time(older_than),)
        )


class TransportState:
    """Key/value state of one transport (e.g. a sync token), JSON values."""

    def __init__(self, db: Database, platform: str) -> None:
        self.db = db
        self.platform = platform

    async def get(self, key: str, default: Any = None) -> Any:
        row = await self.db.fetchone(
            "SELECT value FROM transport_state WHERE platform = ? AND key = ?", (self.platform, key)
        )
        return default if row is None else json.loads(row["value"])

    async def set(self, key: str, value: Any) -> None:
        await self.db.execute(
            "INSERT INTO transport_state (platform, key, value, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (platform, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (self.platform, key, json.dumps(value, ensure_ascii=False), to_db_time(utcnow())),
        )


class Store:
    """Everything persistent, opened and migrated in one call."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.people = People(db)
        self.dialogs = Dialogs(db)
        self.buttons = Buttons(db)
        self.events = Events(db)
        self.requests = Requests(db)
        self.guides = Guides(db)
        self.matching = Matching(db)
        self.bookings = Bookings(db)
        self.reminders = Reminders(db)
        self.broadcasts = Broadcasts(db)
        self.stats = Stats(db)
        self.inbox = Inbox(db)
        self.privacy = Privacy(db)
        self.relay = Relay(db)
        self.programme = Programme(db)

    @classmethod
    async def open(cls, path: Path | str) -> "Store":
        db = await Database.open(path)
        try:
            await migrations.upgrade(db)
        except BaseException:
            await db.close()
            raise
        return cls(db)

    async def newcomer_of(self, request: Any) -> Person | None:
        """Who is written to as the request's newcomer: its person — or, for a request a coordinator
        filed on someone's behalf, that coordinator standing in for them (named as them to guides)."""
        person = await self.people.get(request.person_id)
        if person is None or not request.on_behalf:
            return person
        name = request.behalf_name or "?"
        return replace(person, display_name=name, acting_for=name)

    def transport_state(self, platform: str) -> TransportState:
        return TransportState(self.db, platform)

    def transaction(self):  # noqa: ANN201 - an async context manager
        return self.db.transaction()

    async def prune(self, now: datetime, keep: timedelta, keep_tokens: timedelta | None = None) -> tuple[int, int]:
        """Processed event ids older than `keep` and button tokens older than `keep_tokens` (default:
        `keep`): deleted; how many tokens and events."""
        return await self.buttons.prune(now - (keep_tokens or keep)), await self.events.prune(now - keep)

    async def close(self) -> None:
        await self.db.close()
