"""Nothing acknowledged is lost (issue 12, part 3): `lotse run` as a real process with its real
Telegram transport against the Bot-API-wire server in tests/botapi_server.py, many people's
messages waiting there, the process killed with SIGKILL at several moments, restarted, and the
answers counted at the server: every message answered exactly once, none twice, and the inbox
table empty at the end.

The kill points wait on what the server saw (the first getUpdates answered, the offset confirmed,
k replies accepted), not on sleeps; the "random" ones are seeded.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.store import Store
from bot.config import Settings
from tests.lotse_process import run_until, start, write_config
from tests.botapi_server import ApiError, BotApiServer, Call

USERS = 30
FIRST = 810_000
WELCOME = "Welcome to Lotse!"  # how /start answers (English catalog)


class KillingServer(BotApiServer):
    """Kills the process (SIGKILL) the moment its `kill_at`-th sendMessage arrives, before the
    server stores it: the most deterministic "in the middle of answering" there is."""

    kill_at: int | None = None
    pid: int | None = None

    def _m_sendMessage(self, call: Call) -> dict:
        if self.kill_at is not None and self.pid is not None and sum(replies(self).values()) + 1 >= self.kill_at:
            os.kill(self.pid, signal.SIGKILL)
            self.kill_at = None
            raise ApiError(500, "the bot died")  # it never reads this: nothing was delivered
        return super()._m_sendMessage(call)




def queue_starts(server: BotApiServer) -> list[int]:
    """/start from USERS people, all waiting at the server before Lotse starts."""
    chats = [FIRST + i for i in range(USERS)]
    for chat in chats:
        server.user(chat, f"Amira{chat - FIRST}", language_code="en")
        server.inject_message(chat, "/start")
    return chats


def replies(server: BotApiServer) -> Counter[int]:
    """Messages the server accepted from the bot, per chat."""
    return Counter(int(call.chat_id) for call in server.sent(method="sendMessage") if call.ok)


def polls(server: BotApiServer) -> list[Call]:
    return server.sent(method="getUpdates")


def offset_confirmed(server: BotApiServer) -> bool:
    """A getUpdates asked for an offset past an update: Telegram now forgets what came before."""
    return any(isinstance(c.params.get("offset"), int) and c.params["offset"] > 1 for c in polls(server))


async def inbox_rows(path: Path) -> int:
    store = await Store.open(path)
    try:
        return await store.inbox.count()
    finally:
        await store.close()


async def lost_in_the_instant(path: Path, server: BotApiServer) -> set[int]:
    """Chats whose replies were leaving (handled, stored in the inbox row) and had not reached the
    server when the process died: the one price of never sending twice on Telegram (as with
    reminders), not sent again."""
    store = await Store.open(path)
    try:
        rows = await store.db.fetchall("SELECT user_id FROM inbox WHERE replies IS NOT NULL")
    finally:
        await store.close()
    return {int(r[0]) for r in rows} - set(replies(server))


async def kill(process: asyncio.subprocess.Process, path: Path, server: BotApiServer) -> set[int]:
    """SIGKILL; returns the chats lost in the instant (see above)."""
    if process.returncode is None:
        process.send_signal(signal.SIGKILL)
    await process.communicate()
    assert process.returncode == -signal.SIGKILL
    await asyncio.sleep(0.2)  # bytes the dead process had already written still reach the server
    return await lost_in_the_instant(path, server)


async def run_until_answered(config: Path, server: BotApiServer, done: Callable[[], bool]) -> None:
    """Start Lotse, wait until it polls (it is up), `done` and the inbox is empty, stop it cleanly
    (exit status 0, no traceback)."""
    path = config.parent / "lotse.db"

    async def settled() -> bool:
        return done() and not await inbox_rows(path)

    await run_until(config, server, settled)


def answered_once(server: BotApiServer, chats: list[int], lost: set[int], kills: int = 1) -> None:
    """Every chat answered once, except those whose reply was leaving when a kill came: at most one
    per worker and kill (each worker has at most one event's replies on the wire)."""
    got = replies(server)
    doubled = {chat: n for chat, n in got.items() if n > 1}
    missing = {chat for chat in chats if chat not in got}
    assert not doubled, f"answered more than once: {doubled}"
    assert missing == lost, f"never answered: {sorted(missing)}; lost in the instant of a kill: {sorted(lost)}"
    assert len(lost) <= kills * Settings().bot.workers
    for chat in chats:
        if chat not in lost:
            assert server.texts(chat)[0].startswith(WELCOME), server.texts(chat)


# -- kill points: each waits on something the server saw ------------------------------------------

async def first_poll_answered(server: BotApiServer, rnd: random.Random) -> None:
    await server.wait_for(lambda: any(c.ok and c.result for c in polls(server)) or None, timeout=60)


async def offset_moved(server: BotApiServer, rnd: random.Random) -> None:
    await server.wait_for(lambda: offset_confirmed(server) or None, timeout=60)


async def some_replies_out(server: BotApiServer, rnd: random.Random) -> None:
    await server.wait_for(lambda: sum(replies(server).values()) >= USERS // 3 or None, timeout=60)


async def at_random(server: BotApiServer, rnd: random.Random) -> None:
    """A random moment within the first 0.3 s after this process's first poll."""
    before = len(polls(server))
    await server.wait_for(lambda: len(polls(server)) > before or None, timeout=60)
    await asyncio.sleep(rnd.uniform(0, 0.3))


@pytest.mark.parametrize("kill_point", [first_poll_answered, offset_moved, some_replies_out],
                         ids=lambda f: f.__name__)
async def test_killed_then_restarted_every_message_is_answered_once(tmp_path: Path, kill_point) -> None:
    async with BotApiServer() as server:
        chats = queue_starts(server)
        config = write_config(tmp_path, server)
        process = await start(config)
        await kill_point(server, random.Random(0))
        lost = await kill(process, tmp_path / "lotse.db", server)
        server.answer_late("getMe", 0.5)  # the real Telegram is further away than loopback: what
        # was left in the inbox must wait until the transport can send
        await run_until_answered(config, server, lambda: set(replies(server)) | lost >= set(chats))
        answered_once(server, chats, lost, kills=3)
        assert await inbox_rows(tmp_path / "lotse.db") == 0


@pytest.mark.parametrize("kill_at", [1, USERS // 3, USERS - 2])
async def test_killed_while_a_reply_arrives_every_message_is_answered_once(tmp_path: Path, kill_at: int) -> None:
    async with KillingServer() as server:
        chats = queue_starts(server)
        config = write_config(tmp_path, server)
        process = await start(config)
        server.pid, server.kill_at = process.pid, kill_at
        await process.wait()
        lost = await kill(process, tmp_path / "lotse.db", server)
        await run_until_answered(config, server, lambda: set(replies(server)) | lost >= set(chats))
        answered_once(server, chats, lost, kills=3)
        assert await inbox_rows(tmp_path / "lotse.db") == 0


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_killed_at_random_moments_again_and_again(tmp_path: Path, seed: int) -> None:
    rnd = random.Random(seed)
    async with BotApiServer() as server:
        chats = queue_starts(server)
        config = write_config(tmp_path, server)
        lost: set[int] = set()
        for _ in range(3):
            process = await start(config)
            await at_random(server, rnd)
            lost |= await kill(process, tmp_path / "lotse.db", server)
        await run_until_answered(config, server, lambda: set(replies(server)) | lost >= set(chats))
        answered_once(server, chats, lost, kills=3)
        assert await inbox_rows(tmp_path / "lotse.db") == 0
