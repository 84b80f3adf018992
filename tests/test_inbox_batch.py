"""The inbox in batches: a fetched batch is stored in one statement before anything of it is
acknowledged, and rows whose replies went out are deleted several at a time; neither loses an
update, handles one twice, nor sends a reply twice on Telegram.

(tests/test_inbox_crash.py kills a real process at many moments; these pin the batch mechanics.)
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.clock import utcnow
from bot.config import Settings
from bot.core.inbox import event_to_json
from bot.core.types import Event
from bot.store import Store
from bot.store.inbox import Arrival
from tests.conftest import make_settings
from tests.telegram_harness import telegram_world

WELCOME = "Welcome to Lotse!"


def arrival(user: str, event_id: str | None, text: str = "hi") -> Arrival:
    event = Event("test", user, user, "text", text=text, event_id=event_id)
    return Arrival("test", user, event_id, event_to_json(event))


async def test_a_batch_gets_ids_in_arrival_order_and_repeats_none(db_path: Path) -> None:
    store = await Store.open(db_path)
    try:
        [waiting] = await store.inbox.add([arrival("a", "4")], utcnow())
        await store.db.execute("INSERT INTO processed_events (platform, event_id, handled_at) "
                               "VALUES ('test', '3', '2026-01-01T00:00:00+00:00')")
        ids = await store.inbox.add(
            [arrival("b", "9"), arrival("a", "1"), arrival("b", "9"), arrival("c", "3"), arrival("a", "4"),
             arrival("c", "2")], utcnow())
        # 9 twice in the batch: its first copy is stored; 3 was handled, 4 is still waiting
        assert ids[2:5] == [None, None, None]
        new = [ids[0], ids[1], ids[5]]
        assert all(isinstance(i, int) for i in new) and new == sorted(new) and waiting not in new
        rows = await store.inbox.waiting()
        assert [r.id for r in rows] == [waiting, *new]  # a restart handles them in arrival order
        # without event ids (nothing to de-duplicate by): one row each, in order, too
        plain = await store.inbox.add([arrival("d", None, "x"), arrival("d", "7"), arrival("d", None, "x")],
                                      utcnow())
        assert all(isinstance(i, int) for i in plain) and plain == sorted(plain)
        assert await store.inbox.count() == 7
    finally:
        await store.close()


@pytest.fixture
def tg_settings(db_path: Path) -> Settings:
    return make_settings(db_path)


async def test_a_batch_that_cannot_be_stored_is_not_confirmed_and_comes_again(
        tg_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    async with telegram_world(tg_settings) as world:
        inbox = world.app.store.inbox
        add = inbox.add
        failed: list[int] = []

        async def failing_once(arrivals, now):  # noqa: ANN001, ANN202
            if not failed:
                failed.append(len(arrivals))
                raise sqlite3.OperationalError("disk I/O error")
            return await add(arrivals, now)

        monkeypatch.setattr(inbox, "add", failing_once)
        people = [world.person(5000 + i, f"P{i}", "en") for i in range(3)]
        update_ids = [world.server.inject_message(p.id, "/start") for p in people]
        for p in people:
            await world.server.wait_for_messages(p.id, 1)
        await world.app.inbox.idle()

        polls = [c for c in world.server.calls if c.method == "getUpdates"]
        fetched = [i for i, c in enumerate(polls) if c.result and c.result[0]["update_id"] == update_ids[0]]
        assert failed and len(fetched) >= 2, "the batch that failed to store was fetched again"
        # until it was stored, no getUpdates confirmed any of it (its offset stayed put)
        assert polls[fetched[0] + 1].params.get("offset") == polls[fetched[0]].params.get("offset")
        for p in people:
            texts = world.server.texts(p.id)
            assert len(texts) == 1 and texts[0].startswith(WELCOME), texts
        assert await inbox.count() == 0
