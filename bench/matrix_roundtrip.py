"""Matrix round trip: a Lotse dialog step vs. a bare matrix-nio echo bot, same Synapse, same run.

    .venv/bin/python bench/matrix_roundtrip.py [--rounds 100] [--block 20] [--warmup 10]

One Synapse (tests/synapse_server.py, in a temporary directory) serves the whole run.  Two bots
run side by side in this process, each in a DM with its own test person (a real nio client,
tests/synapse_server.MatrixUser):

* echo: a bare matrix-nio AsyncClient with the same client settings and the same sync loop as
  Lotse's transport (long-poll sync with Lotse's sync timeout, no filter, invites to DMs joined);
  it answers every m.text from someone else with an m.notice carrying the same body.
* lotse: Lotse itself (bot.app.App + bot.transports.matrix.MatrixTransport, started by
  tests/matrix_harness.matrix_world) on a fresh SQLite file.  Its person completes the onboarding
  in German first, so "!start" is one dialog step: record the event id (de-duplication), read
  the person with their dialog, save the new dialog state with its two button tokens, send the
  translated menu as a poll (org.matrix.msc3381.poll.start, two answers, the numbered list as
  fallback text), and remember that menu and its open poll for the room (transport_state).
  After every sync batch the sync token is written to SQLite too.

A round trip is timed with time.perf_counter() from just before the person sends a message
until the bot's answer has arrived at the person's client (say → wait_for_message).  Every
answer is checked: the echo must carry the text just sent (unique per round); Lotse's must be
the translated menu as a poll with its two answers, and both must come after the message in the
room's timeline (so a leftover is never timed by mistake).

Rounds are sequential, back to back (the next message goes out as soon as the previous answer
arrived), and interleaved in blocks (echo, lotse, then lotse, echo, ...) so that noise of the
shared machine hits both series alike; both bots are warmed up first.  Lotse sends nothing in the
background any more (the keycap reactions it used to add under every menu are gone), so there is
no second, "settled" series.

Prints median and p95 in ms of each series, the ratios Lotse / echo of median and p95, and the CPU
time per round of this process (both bots and both people) and of Synapse.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import nio  # noqa: E402

from bot.core.i18n import load_translations  # noqa: E402
from tests.conftest import make_settings  # noqa: E402
from tests.matrix_harness import MatrixWorld, Said, bot_account, matrix_world, options, said  # noqa: E402
from tests.synapse_server import MatrixUser, SynapseServer, running_synapse  # noqa: E402

LANGUAGE = ("de", "Deutsch")  # the person's language: the menu is translated, not the msgid
MENU_PROMPT = "What would you like to do?"
MENU_OPTIONS = ("I need someone to come with me", "I want to volunteer as a guide")
REPLY_TIMEOUT = 20.0


# ---------------------------------------------------------------------------- the echo bot
class EchoBot:
    """A bare matrix-nio bot: join DM invites, echo every m.text from others as an m.notice.

    Client config and sync loop as in bot/transports/matrix.py (no E2EE, sync tokens not stored,
    long-poll with the same timeout, presence offline); the backlog of the first sync is skipped.
    """

    def __init__(self, synapse: SynapseServer, user_id: str, password: str, sync_timeout_ms: int) -> None:
        config = nio.AsyncClientConfig(max_limit_exceeded=3, max_timeouts=2, store_sync_tokens=False,
                                       encryption_enabled=False)
        self.client = nio.AsyncClient(synapse.url, user_id, config=config)
        self.password = password
        self.sync_timeout_ms = sync_timeout_ms
        self.since: str | None = None
        self.task: asyncio.Task[None] | None = None
        self.echoed = 0

    async def start(self) -> None:
        login = await self.client.login(self.password, device_name="echo-bench")
        if not isinstance(login, nio.LoginResponse):
            raise RuntimeError(f"echo bot: login failed: {login!r}")
        first = await self.client.sync(timeout=0, full_state=True, set_presence="offline")
        if not isinstance(first, nio.SyncResponse):
            raise RuntimeError(f"echo bot: first sync failed: {first!r}")
        await self._handle(first, backlog=True)
        self.task = asyncio.create_task(self._loop(), name="echo-sync")

    async def stop(self) -> None:
        task, self.task = self.task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        await self.client.close()

    async def _loop(self) -> None:
        while True:
            response = await self.client.sync(timeout=self.sync_timeout_ms, since=self.since,
                                              set_presence="offline")
            if not isinstance(response, nio.SyncResponse):
                await asyncio.sleep(0.2)
                continue
            await self._handle(response, backlog=False)

    async def _handle(self, response: nio.SyncResponse, backlog: bool) -> None:
        for room_id in response.rooms.invite:
            await self.client.join(room_id)
        if not backlog:
            sends = []
            for room_id, info in response.rooms.join.items():
                for event in info.timeline.events:
                    if (isinstance(event, nio.RoomMessageText) and event.sender != self.client.user_id
                            and event.source.get("content", {}).get("msgtype") == "m.text"):
                        sends.append(self._echo(room_id, event.body))
            await asyncio.gather(*sends)
        self.since = response.next_batch

    async def _echo(self, room_id: str, body: str) -> None:
        response = await self.client.room_send(room_id, "m.room.message", {"msgtype": "m.notice", "body": body},
                                               ignore_unverified_devices=True)
        if isinstance(response, nio.RoomSendResponse):
            self.echoed += 1


# ---------------------------------------------------------------------------- measuring
@dataclass
class Series:
    name: str
    ms: list[float] = field(default_factory=list)
    cpu_self: float = 0.0     # s of CPU of this process (bots, people, event loop)
    cpu_synapse: float = 0.0  # s of CPU of the Synapse process

    def median(self) -> float:
        return statistics.median(self.ms)

    def p95(self) -> float:
        return statistics.quantiles(self.ms, n=20, method="inclusive")[18] if len(self.ms) > 1 else self.ms[0]


def process_cpu(pid: int) -> float:
    """user + system CPU seconds of a process (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def in_order_after(user: MatrixUser, room_id: str, sent_id: str, reply: Any) -> bool:
    """Whether ``reply`` comes after the event ``sent_id`` in the person's view of the timeline."""
    ids = [getattr(e, "event_id", None) for e in user.events.get(room_id, [])]
    return sent_id in ids and reply.event_id in ids and ids.index(sent_id) < ids.index(reply.event_id)


def from_bot(bot_id: str) -> Any:
    return lambda e: e.sender == bot_id


async def echo_round(user: MatrixUser, room_id: str, bot_id: str, n: int) -> float:
    text = f"echo {n} {uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    sent = await user.say(room_id, text)
    reply = await user.wait_for_message(room_id, from_bot(bot_id), timeout=REPLY_TIMEOUT)
    elapsed = time.perf_counter() - started
    if reply.body != text or reply.source["content"].get("msgtype") != "m.notice":
        raise AssertionError(f"echo round {n}: expected an m.notice {text!r}, got {reply.source['content']!r}")
    if not in_order_after(user, room_id, sent, reply):
        raise AssertionError(f"echo round {n}: the answer {reply.event_id} is not after {sent}")
    return elapsed


class LotseRounds:
    def __init__(self, world: MatrixWorld, user: MatrixUser, room_id: str) -> None:
        self.world = world
        self.user = user
        self.room = room_id
        i18n = load_translations(LANGUAGE[0])
        self.prompt = i18n.gettext(MENU_PROMPT)
        self.options = [i18n.gettext(o) for o in MENU_OPTIONS]
        if self.prompt == MENU_PROMPT:
            raise RuntimeError(f"no {LANGUAGE[0]} translation of {MENU_PROMPT!r}: the bench would not translate")

    async def round(self, n: int) -> float:
        started = time.perf_counter()
        sent = await self.user.say(self.room, "!start")
        bot_id = self.world.bot_user_id
        reply = Said(await self.user.wait_for_event(self.room, lambda e: said(e) and e.sender == bot_id,
                                                    timeout=REPLY_TIMEOUT, what="the menu"))
        elapsed = time.perf_counter() - started
        if reply.poll is None or not reply.body.startswith(self.prompt) or options(reply) != self.options:
            raise AssertionError(f"lotse round {n}: expected the {LANGUAGE[0]} menu {self.prompt!r} "
                                 f"{self.options} as a poll, got {reply.source!r}")
        if not in_order_after(self.user, self.room, sent, reply):
            raise AssertionError(f"lotse round {n}: the answer {reply.event_id} is not after {sent}")
        return elapsed


async def run(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory(prefix="lotse-bench-") as tmp:
        tmp_path = Path(tmp)
        setup = time.perf_counter()
        async with running_synapse(tmp_path / "synapse") as synapse:
            settings = make_settings(tmp_path / "lotse.db")
            async with matrix_world(settings, synapse, tmp_path) as world:
                sync_ms = int(world.settings.section("matrix").sync_timeout.total_seconds() * 1000)
                echo_id, echo_password = await bot_account(synapse)
                echo = EchoBot(synapse, echo_id, echo_password, sync_ms)
                echo_user: MatrixUser | None = None
                try:
                    await echo.start()
                    echo_user = await MatrixUser.create(synapse, f"echouser{uuid.uuid4().hex[:6]}")
                    echo_room = await echo_user.dm(echo_id)
                    await echo_user.wait_for_join(echo_room, echo_id, timeout=20)

                    person = await world.person("hamid")
                    await person.onboard(language=LANGUAGE[1])
                    lotse = LotseRounds(world, person.user, person.room)
                    print(f"setup (Synapse, both bots, onboarding): {time.perf_counter() - setup:.1f} s",
                          flush=True)

                    for i in range(args.warmup):
                        await echo_round(echo_user, echo_room, echo_id, -1 - i)
                        await lotse.round(-1 - i)

                    series = {name: Series(name) for name in ("echo", "lotse")}
                    done, cycle = 0, 0
                    while done < args.rounds:
                        block = min(args.block, args.rounds - done)
                        order = list(series.values())
                        for s in order[cycle % 2:] + order[:cycle % 2]:  # rotate who goes first
                            name = s.name
                            cpu0, syn0 = time.process_time(), process_cpu(synapse.pid)
                            for i in range(done, done + block):
                                if name == "echo":
                                    s.ms.append(1000 * await echo_round(echo_user, echo_room, echo_id, i))
                                    continue
                                s.ms.append(1000 * await lotse.round(i))
                            s.cpu_self += time.process_time() - cpu0
                            s.cpu_synapse += process_cpu(synapse.pid) - syn0
                        done, cycle = done + block, cycle + 1
                        print(f"rounds {done:4d}/{args.rounds}: " + "  ".join(
                            f"{s.name} {statistics.median(s.ms[-block:]):6.1f} ms" for s in series.values()),
                            flush=True)
                finally:
                    await echo.stop()
                    if echo_user is not None:
                        await echo_user.close()

    echo_s, lotse_s = series["echo"], series["lotse"]
    print()
    print(f"round trips: {args.rounds} per series after {args.warmup} warm-up rounds per bot, interleaved in "
          f"blocks of {args.block}; one Synapse on loopback; sync timeout {sync_ms} ms; {os.cpu_count()} CPUs")
    print(f"{'':28}{'median':>10}{'p95':>10}   CPU per round: this process / Synapse")
    for label, s in (("echo bot (bare matrix-nio)", echo_s), ("lotse dialog step (poll)", lotse_s)):
        n = len(s.ms)
        print(f"{label:28}{s.median():7.1f} ms{s.p95():7.1f} ms   "
              f"{1000 * s.cpu_self / n:5.1f} ms / {1000 * s.cpu_synapse / n:5.1f} ms")
    print(f"{'ratio lotse/echo':28}{lotse_s.median() / echo_s.median():9.2f}x{lotse_s.p95() / echo_s.p95():9.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=100, help="timed round trips per series (default 100)")
    parser.add_argument("--block", type=int, default=20, help="rounds per series before switching (default 20)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed round trips per bot first (default 10)")
    args = parser.parse_args()
    if args.rounds < 1 or args.block < 1 or args.warmup < 0:
        parser.error("--rounds and --block must be >= 1, --warmup >= 0")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
