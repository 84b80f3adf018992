"""Broadcast pace: a notice to N recipients through Lotse's real Telegram transport (PTB over
HTTP) against a Bot-API-wire server that enforces Telegram's ~30 messages/s with 429s.

    .venv/bin/python bench/broadcast_rate.py [--recipients 5000] [--limit 30] [--rate R]

The server (tests/botapi_server.py with flood_limit(per_second=LIMIT): a sliding one-second
window over send* calls) runs in a separate process on 127.0.0.1.  Lotse starts on a fresh SQLite
file seeded with N newcomers who agreed to the privacy notice and one queued broadcast to them
(`[telegram] rate` from the defaults unless --rate is given), exactly as after a
coordinator's "Send".  Measured at the server: the arrival times of the first and the last notice.

Prints the achieved rate (N-1 intervals over that time), rate / LIMIT (target >= 0.95), the 429s
the server answered (target 0) and whether every recipient got the notice exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FIRST_ID = 100_000
COORDINATOR = 9001
MARKER = "closed on Friday"


# ---------------------------------------------------------------------------- server process
def serve(recipients: int, limit: int) -> None:
    from aiohttp import web

    from bench.control import serve_forever
    from tests.botapi_server import BotApiServer

    class CountingServer(BotApiServer):
        """Records the arrival time of every notice delivered, and wakes the waiter at the last."""

        def _m_sendMessage(self, call):  # noqa: ANN001, ANN202, N802
            result = super()._m_sendMessage(call)
            if MARKER in str(call.params.get("text")):
                arrivals.append(call.time)
                per_chat[call.chat_id] = per_chat.get(call.chat_id, 0) + 1
                if len(arrivals) >= recipients:
                    done.set()
            return result

    arrivals: list[float] = []
    per_chat: dict[int, int] = {}
    done = asyncio.Event()

    async def main() -> None:
        server = CountingServer()
        await server.start()
        server.user(COORDINATOR, first_name="Weber")
        for user_id in range(FIRST_ID, FIRST_ID + recipients):
            server.user(user_id, first_name=f"User{user_id}")
        server.flood_limit(per_second=limit)

        async def result(request: web.Request) -> web.Response:
            await done.wait()
            return web.json_response({"first": arrivals[0], "last": arrivals[-1], "delivered": len(arrivals),
                                      "once_each": len(per_chat) == recipients and set(per_chat.values()) == {1},
                                      "count_429": server.count_429,
                                      "at_429": [round(c.time - arrivals[0], 3) for c in server.calls
                                                 if c.status == 429]})

        await serve_forever(server, [("GET", "/result", result)])

    asyncio.run(main())


# ---------------------------------------------------------------------------- Lotse
async def seed(db_path: Path, recipients: int) -> None:
    from bot.store import Store
    from tests.telegram_harness import queued_broadcast

    store = await Store.open(db_path)
    try:
        async with store.transaction():
            await queued_broadcast(store, list(range(FIRST_ID, FIRST_ID + recipients)), COORDINATOR,
                                   "The immigration office is closed on Friday.")
    finally:
        await store.close()


async def run(args: argparse.Namespace) -> None:
    import aiohttp

    from bot.app import App
    from bot.config import BroadcastSettings, DatabaseSettings, Duration, RolesSettings, Settings
    from bot.transports.registry import TelegramSettings
    from bot.transports.telegram import TRAITS, TelegramTransport

    server = subprocess.Popen([sys.executable, __file__, "--serve", "--recipients", str(args.recipients),
                               "--limit", str(args.limit)], stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(server.stdout.readline())  # type: ignore[union-attr]
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "bench.db"
            await seed(db, args.recipients)
            section = TelegramSettings(enabled=True, token=info["token"], base_url=info["api"],
                                       poll_timeout=Duration(seconds=5))
            if args.rate is not None:
                section = dataclasses.replace(section, rate=args.rate)
            settings = dataclasses.replace(
                Settings(), database=DatabaseSettings(path=db), broadcast=BroadcastSettings(),
                roles=RolesSettings(coordinators=(f"telegram:{COORDINATOR}",))).with_section("telegram", section)
            app = App(settings, [TelegramTransport(section, traits=dataclasses.replace(
                TRAITS, rate=section.rate, per_chat_interval=section.per_chat_interval))])
            started = time.perf_counter()
            await app.start()  # resumes the queued broadcast
            try:
                async with aiohttp.ClientSession() as session:
                    async with session.get(f"{info['ctl']}/result",
                                           timeout=aiohttp.ClientTimeout(total=None)) as response:
                        result = await response.json()
            finally:
                await app.stop()
            wall = time.perf_counter() - started
        rate = (result["delivered"] - 1) / (result["last"] - result["first"])
        print(f"recipients: {args.recipients}, server limit {args.limit}/s (429 above it), "
              f"[telegram] rate = {section.rate:g}")
        print(f"delivered:           {result['delivered']:8d}   (exactly once each: {result['once_each']})")
        print(f"time first→last:     {result['last'] - result['first']:8.1f} s   (wall, start to done: {wall:.1f} s)")
        print(f"achieved rate:       {rate:8.2f} messages/s")
        print(f"rate / {args.limit}:           {rate / args.limit:8.3f}   (target >= 0.95)")
        print(f"429s received:       {result['count_429']:8d}   (target 0)"
              + (f" at {result['at_429']} s after the first notice" if result["at_429"] else ""))
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=5000)
    parser.add_argument("--limit", type=int, default=30, help="the server's messages per second")
    parser.add_argument("--rate", type=float, default=None, help="override [telegram] rate")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.recipients, args.limit)
    else:
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
