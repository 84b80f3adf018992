"""Reminders survive SIGKILL: `lotse run` as a real process, sending through the real Telegram
transport to the Bot-API-wire server in this test, killed between claim and send, after delivery,
and at random moments, restarted, and the deliveries counted at the server.

The database is prepared before each run with N appointments tomorrow, each with one reminder
per side that fell due a minute ago (so each chat expects exactly one reminder).
"""

from __future__ import annotations

import asyncio
import random
import signal
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import PrivacySettings
from bot.store import Store
from bot.clock import utcnow
from bot.store.guides import Profile, Slot
from bot.store.reminders import BEFORE, Planned
from bot.store.requests import NewRequest
from tests.lotse_process import run_until, start, write_config
from tests.botapi_server import BotApiServer

PAIRS = 15
NEWCOMER, GUIDE = 710_000, 720_000


async def prepare(path: Path, server: BotApiServer) -> set[int]:
    """PAIRS booked appointments whose reminders are due; returns the chats that must get one."""
    store = await Store.open(path)
    now = utcnow()
    chats: set[int] = set()
    try:
        for i in range(PAIRS):
            ids = []
            for base, role, name in ((NEWCOMER, "newcomer", f"Amira{i}"), (GUIDE, "guide", f"Leila{i}")):
                server.user(base + i, name)
                person = await store.people.get_or_create("telegram", str(base + i), str(base + i))
                await store.people.set_language(person.id, "en")
                await store.people.record_consent(person.id, PrivacySettings().notice_version, now, name)
                await store.people.set_role(person.id, role)
                ids.append(person.id)
                chats.add(base + i)
            newcomer, guide = ids
            await store.guides.save_profile(guide, Profile(("ar",), ("Dreieich",), ("doctor",),
                                                           (Slot(1, 540, 720),), 3, "female"), now)
            starts = now + timedelta(hours=23)
            request_id = await store.requests.create(newcomer, NewRequest(
                "doctor", starts, 60, "Dreieich", None, None, None, ("ar",)), now)
            async with store.transaction():
                assignment = await store.bookings.claim(request_id, guide, now)
                assert assignment is not None
                due = now - timedelta(minutes=1)
                await store.reminders.plan(assignment, [Planned(newcomer, BEFORE, 1440, due),
                                                        Planned(guide, BEFORE, 1440, due)])
    finally:
        await store.close()
    return chats



def reminders_at(server: BotApiServer) -> Counter[int]:
    """Reminders the server accepted, per chat."""
    return Counter(int(call.chat_id) for call in server.sent(method="sendMessage")
                   if call.ok and str(call.params.get("text", "")).startswith("Reminder:"))


async def states(path: Path) -> Counter[str]:
    store = await Store.open(path)
    try:
        return Counter(r[0] for r in await store.db.fetchall("SELECT state FROM reminders"))
    finally:
        await store.close()


async def unfinished(path: Path, sending: bool = True) -> int:
    """Rows not yet sent, skipped, failed or uncertain (with `sending` False: rows the next start
    will send — a row left "sending" becomes uncertain instead)."""
    found = await states(path)
    return found["pending"] + found["claimed"] + (found["sending"] if sending else 0)



async def run_to_the_end(config: Path, server: BotApiServer) -> Counter[str]:
    """Start Lotse, wait until it polls (it is up) and no row is left to send, stop it cleanly;
    returns the rows' final states."""
    path = config.parent / "lotse.db"

    async def settled() -> bool:
        return not await unfinished(path)

    await run_until(config, server, settled)
    return await states(path)


async def test_killed_between_claim_and_send_the_reminder_goes_out_once_after_restart(tmp_path: Path) -> None:
    async with BotApiServer() as server:
        chats = await prepare(tmp_path / "lotse.db", server)
        config = write_config(tmp_path, server)
        crashing = await start(config, crash_at="reminder-claimed")
        await asyncio.wait_for(crashing.wait(), 60)
        assert crashing.returncode == -signal.SIGKILL
        assert reminders_at(server) == Counter()          # it died after the claim, before sending
        assert (await states(tmp_path / "lotse.db"))["claimed"] == 1

        assert await run_to_the_end(config, server) == Counter({"sent": 2 * PAIRS})
        assert reminders_at(server) == Counter({chat: 1 for chat in chats})


async def test_killed_after_delivery_before_the_mark_it_is_not_sent_again(tmp_path: Path) -> None:
    """Telegram has it, the process dies before recording it: the row is left "sending", which a
    restart takes as "probably arrived" (uncertain) and does not send again."""
    async with BotApiServer() as server:
        chats = await prepare(tmp_path / "lotse.db", server)
        config = write_config(tmp_path, server)
        crashing = await start(config, crash_at="reminder-delivered")
        await asyncio.wait_for(crashing.wait(), 60)
        assert sum(reminders_at(server).values()) == 1
        assert await run_to_the_end(config, server) == Counter({"sent": 2 * PAIRS - 1, "uncertain": 1})
        assert reminders_at(server) == Counter({chat: 1 for chat in chats})


async def test_killed_in_the_instant_between_the_mark_and_the_request_that_one_is_lost(tmp_path: Path) -> None:
    """The price of never sending twice on Telegram, pinned down: a crash after the row is marked
    "sending" and before the request leaves loses that one reminder (logged at the restart)."""
    async with BotApiServer() as server:
        chats = await prepare(tmp_path / "lotse.db", server)
        config = write_config(tmp_path, server)
        crashing = await start(config, crash_at="reminder-sending")
        await asyncio.wait_for(crashing.wait(), 60)
        assert reminders_at(server) == Counter()
        assert await run_to_the_end(config, server) == Counter({"sent": 2 * PAIRS - 1, "uncertain": 1})
        delivered = reminders_at(server)
        assert len(delivered) == 2 * PAIRS - 1 and set(delivered) < chats and set(delivered.values()) == {1}


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_killed_at_random_moments_nothing_is_doubled_nothing_lost(tmp_path: Path, seed: int) -> None:
    rnd = random.Random(seed)
    path = tmp_path / "lotse.db"
    async with BotApiServer() as server:
        chats = await prepare(path, server)
        config = write_config(tmp_path, server)
        lost_in_the_instant: set[int] = set()  # chats whose row a kill left "sending" before the request left
        for _ in range(3):
            if not await unfinished(path, sending=False):
                break
            before = sum(reminders_at(server).values())
            process = await start(config)
            # kill once sending has begun, a random few milliseconds in
            await server.wait_for(lambda: sum(reminders_at(server).values()) > before or None, timeout=60)
            await asyncio.sleep(rnd.uniform(0, 0.05))
            process.send_signal(signal.SIGKILL)
            await process.wait()
            await asyncio.sleep(0.2)  # bytes the dead process had already written still reach the server
            lost_in_the_instant |= await _sending_but_not_delivered(path, server)
        final = await run_to_the_end(config, server)
        delivered = reminders_at(server)
        assert set(delivered.values()) == {1}                       # nothing doubled
        assert chats - set(delivered) == lost_in_the_instant        # nothing lost but what the instant took
        assert final["sent"] + final["uncertain"] == 2 * PAIRS and not final["failed"]


async def _sending_but_not_delivered(path: Path, server: BotApiServer) -> set[int]:
    store = await Store.open(path)
    try:
        rows = await store.db.fetchall(
            "SELECT p.platform_user_id FROM reminders m JOIN people p ON p.id = m.person_id WHERE m.state = 'sending'")
    finally:
        await store.close()
    delivered = reminders_at(server)
    return {int(r[0]) for r in rows if int(r[0]) not in delivered}
