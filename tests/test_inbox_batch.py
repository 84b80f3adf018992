"""The inbox in batches: a fetched batch is stored in one statement before anything of it is
acknowledged, and rows whose replies went out are deleted several at a time; neither loses an
update, handles one twice, nor sends a reply twice on Telegram.

(tests/test_inbox_crash.py kills a real process at many moments; these pin the batch mechanics.)
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from bot.clock import utcnow
from bot.config import Settings
from bot.core import inbox as core_inbox
from bot.core.inbox import Inbox, event_to_json
from bot.core.types import Event
from bot.store import Store
from bot.store.inbox import Arrival
from tests.conftest import make_settings
from tests.botapi_server import BotApiServer
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


async def test_rows_of_sent_replies_go_in_batches_and_all_before_idle(db_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Many people, few workers: the rows are deleted a few at a time, and when the inbox is idle
    none is left (bench/telegram_throughput.py and the tests wait on idle)."""
    monkeypatch.setattr(core_inbox, "FLUSH_SENT", 5)
    store = await Store.open(db_path)
    deletes = 0
    flush = store.inbox.flush

    async def counted() -> None:
        nonlocal deletes
        deletes += bool(store.inbox.unflushed)
        await flush()

    monkeypatch.setattr(store.inbox, "flush", counted)

    async def handle(event: Event, row: int | None) -> None:  # what the router does with replies
        assert row is not None
        async with store.transaction():
            await store.inbox.handled(row, "{}")
        await asyncio.sleep(0)  # the replies leave
        store.inbox.sent(row)

    inbox = Inbox(store, handle, workers=4)
    await inbox.start()
    try:
        for round_ in range(3):
            events = [Event("test", f"u{u}", f"u{u}", "text", text="hi", event_id=f"{round_}-{u}-{n}")
                      for n in range(4) for u in range(10)]
            futures = await inbox.record(events)
            assert len(futures) == 40
            await inbox.idle()
            assert await store.inbox.count() == 0 and store.inbox.unflushed == 0
        assert deletes < 3 * 40 // 2  # batched, not one statement per row
    finally:
        await inbox.close()
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


async def test_sent_rows_left_by_a_crash_are_not_sent_again(tg_settings: Settings,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The process dies after the replies went out and before their rows were deleted (a flush that
    never happens): the next start sends nothing of them again on Telegram, handles none again,
    and deletes the rows."""
    async with BotApiServer() as server:
        async with telegram_world(tg_settings, server) as world:
            inbox = world.app.store.inbox

            async def never() -> None:  # the crash: the rows stay
                inbox._sent.clear()  # noqa: SLF001

            monkeypatch.setattr(inbox, "flush", never)
            people = [world.person(6000 + i, f"P{i}", "en") for i in range(4)]
            for p in people:
                server.inject_message(p.id, "/start")
            for p in people:
                await server.wait_for_messages(p.id, 1)
            await world.app.inbox.idle()
            assert await inbox.count() == len(people)
        monkeypatch.undo()
        async with telegram_world(tg_settings, server) as world:
            await world.app.inbox.idle()
            assert await world.app.store.inbox.count() == 0
            late = world.person(6100, "Late", "en")
            await late.send("/start")
        per_chat = Counter(int(c.chat_id) for c in server.sent(method="sendMessage") if c.ok)
        assert all(per_chat[p.id] == 1 for p in people), per_chat
