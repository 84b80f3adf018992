"""Broadcast through real python-telegram-bot against tests/botapi_server.py: the outbox under
429 / 403 / 5xx, and a real `lotse run` killed with SIGKILL in the middle (every person gets the
notice exactly once, counted at the server)."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from bot.config import BroadcastSettings, Settings
from bot.transports.registry import TelegramSettings
from bot.store import Store
from tests.botapi_server import BotApiServer
from tests.conftest import checkout_env, make_settings
from tests.telegram_harness import queued_broadcast, telegram_world

WEBER = 9001
NOTICE = "The immigration office in Dietzenbach is closed on Friday."


async def seed(store: Store, user_ids: list[int]) -> int:
    return await queued_broadcast(store, user_ids, WEBER, NOTICE)


def deliveries(server: BotApiServer, chat_id: int) -> int:
    return sum(1 for call in server.sent(chat_id, "sendMessage") if call.ok and NOTICE in call.params["text"])


@pytest.fixture
def tg_settings(db_path: Path) -> Settings:
    settings = make_settings(db_path, coordinators=(f"telegram:{WEBER}",))
    settings = settings.with_section("telegram", TelegramSettings(rate=200.0))
    return dataclasses.replace(settings, broadcast=BroadcastSettings(
        retry_backoff=0.05, max_attempts=3, progress_interval=0.1))


async def test_outbox_under_429_403_and_5xx(tg_settings: Settings) -> None:
    users = list(range(2001, 2013))
    async with BotApiServer() as server:
        for user_id in [WEBER, *users]:
            server.user(user_id, first_name=f"User{user_id}")
        server.block_user(2003)                                            # Mehmet blocked the bot
        server.fail_next("sendMessage", 502, count=2, chat_id=2005)        # transient: retried
        server.fail_next("sendMessage", 500, count=3, chat_id=2007)        # never works: failed after 3 tries
        server.fail_next("sendMessage", 429, retry_after=1, chat_id=2009)  # flood: the lane waits, then goes on
        async with telegram_world(tg_settings, server) as world:
            store = world.app.store
            broadcast_id = await seed(store, users)
            await world.app.broadcast.started(broadcast_id)
            report = await server.wait_for(
                lambda: [m for m in server.messages(WEBER) if m["text"].startswith("Report on notice")], timeout=20)
            assert report[0]["text"].split("\n") == [
                "Report on notice 1:", "Delivered to 10 people.",
                "1 person could not be reached: they blocked Lotse or left.",
                "1 message could not be sent, even after several tries."]
            assert [deliveries(server, u) for u in users] == [1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1]
            assert [c.status for c in server.sent(2005, "sendMessage")] == [502, 502, 200]
            assert [c.status for c in server.sent(2007, "sendMessage")] == [500, 500, 500]
            assert [c.status for c in server.sent(2003, "sendMessage")] == [403]  # tried once, not again
            first_429, retried = server.sent(2009, "sendMessage")
            assert first_429.status == 429 and retried.ok
            # nothing new was sent while the server had asked to wait (a send already on the wire may land)
            during = [c for c in server.sent(method="sendMessage")
                      if first_429.time + 0.1 < c.time < first_429.time + 0.95 and c.chat_id != WEBER]
            assert during == []
            assert (await store.people.find("telegram", "2003")).unreachable_at is not None
            progress = server.messages(WEBER)[0]
            assert progress["text"] == "Notice 1: finished.\nSent: 10 · Failed: 2 · Remaining: 0"
            assert "edit_date" in progress


async def test_a_send_whose_answer_times_out_is_uncertain_not_sent_twice(tg_settings: Settings) -> None:
    """Telegram carried out the sendMessage but answered after PTB's read timeout: the notice may
    have arrived (here it did), so it is not sent again and the report says so."""
    users = [2101, 2102, 2103]
    async with BotApiServer() as server:
        for user_id in [WEBER, *users]:
            server.user(user_id, first_name=f"User{user_id}")
        async with telegram_world(tg_settings, server, read_timeout=0.3) as world:
            broadcast_id = await seed(world.app.store, users)
            server.answer_late("sendMessage", 1.0, chat_id=2102)  # this notice's answer comes too late
            await world.app.broadcast.started(broadcast_id)
            report = await server.wait_for(
                lambda: [m for m in server.messages(WEBER) if m["text"].startswith("Report on notice")], timeout=20)
            assert report[0]["text"].split("\n") == [
                "Report on notice 1:", "Delivered to 2 people.",
                "1 message may not have arrived (Lotse restarted, or the platform did not answer in time); "
                "it was not sent again, so that nobody gets it twice."]
            assert [deliveries(server, u) for u in users] == [1, 1, 1]  # it had arrived: once each
            assert [c.chat_id for c in server.sent(method="sendMessage") if c.chat_id == 2102] == [2102]
            assert await world.app.store.broadcasts.tally(broadcast_id) == {"sent": 2, "uncertain": 1}


async def _lotse_run(config: Path, cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", "--config", str(config), cwd=cwd, env=checkout_env(),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)


def _outbox(db: Path) -> dict[str, int]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return dict(conn.execute("SELECT state, count(*) FROM broadcast_outbox GROUP BY state").fetchall())


async def test_sigkill_in_the_middle_resumes_and_nobody_gets_it_twice(tmp_path: Path) -> None:
    users = list(range(3001, 3031))
    db = tmp_path / "lotse.db"
    store = await Store.open(db)
    await seed(store, users)
    await store.close()
    async with BotApiServer() as server:
        for user_id in [WEBER, *users]:
            server.user(user_id, first_name=f"User{user_id}")
        config = tmp_path / "lotse.toml"
        config.write_text(f'[database]\npath = "lotse.db"\n[roles]\ncoordinators = ["telegram:{WEBER}"]\n'
                          f'[telegram]\nenabled = true\ntoken = "{server.token}"\nbase_url = "{server.url}"\n'
                          'poll_timeout = "1s"\nrate = 20.0\n[broadcast]\nprogress_interval = 0.2\n')
        # the 12th recipient's first try meets a flood limit: the sender pauses for 3 s, nothing on the wire
        server.fail_next("sendMessage", 429, retry_after=3, chat_id=3012)
        first = await _lotse_run(config, tmp_path)
        try:
            await server.wait_for(lambda: server.count_429 == 1, timeout=30, what="the 429")
            await server.wait_for(lambda: (lambda s: not s.get("sending") and s.get("pending"))(_outbox(db)),
                                  timeout=2, what="the outbox at rest")
            first.send_signal(signal.SIGKILL)
            await first.wait()
        finally:
            if first.returncode is None:
                first.kill()
        before = sum(deliveries(server, u) for u in users)
        assert 11 <= before < 30  # killed in the middle
        second = await _lotse_run(config, tmp_path)
        try:
            report = await server.wait_for(
                lambda: [m for m in server.messages(WEBER) if m["text"].startswith("Report on notice")], timeout=30)
            second.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(second.wait(), 10) == 0
        finally:
            if second.returncode is None:
                second.kill()
        assert [deliveries(server, u) for u in users] == [1] * 30
        assert report[0]["text"].split("\n") == ["Report on notice 1:", "Delivered to 30 people."]
        assert _outbox(db) == {"sent": 30}
        # one progress message, sent by the first process and edited by the second
        progress = [m for m in server.messages(WEBER) if m["text"].startswith("Notice 1")]
        assert len(progress) == 1 and progress[0]["text"].endswith("Sent: 30 · Failed: 0 · Remaining: 0")
