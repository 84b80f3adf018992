"""Telegram throughput: Lotse answering a dialog step vs. a bare PTB echo bot, same server, same run.

    .venv/bin/python bench/telegram_throughput.py [--updates 2000] [--users 200] [--rounds 3]

A Bot-API-wire server (tests/botapi_server.py) runs in a separate process on 127.0.0.1.  Each
round, for each bot in turn: start it, queue N text updates from U users at once, and time until
N sendMessage calls arrived; then stop it.  Both bots use the same PTB settings (polling,
concurrent_updates, pool size).  The echo bot sends the text back.  Lotse gets "/start" from
people who already agreed to the privacy notice: it stores the update in its inbox before PTB
acknowledges it, then in one transaction reads the person with their dialog, records the update
id, saves the new dialog state with its two button tokens and keeps the replies in the inbox row;
then it marks them as leaving, sends the translated menu with a translated two-button keyboard,
and deletes the inbox row.

Prints updates/s of each (median of the rounds) and the ratio Lotse / echo (target >= 0.8).

Also prints the CPU time per update of each bot (median of the rounds) and the ratio Lotse / echo
(target <= 1.25), steadier than updates/s on a shared machine.  The bots run in this process and
the server (which also generates the load) in its own, so this process's user+sys CPU time
(time.process_time: all its threads, aiosqlite's included) from queueing the updates until the
bot is idle again (every update handled, Lotse's inbox rows done), divided by the updates, is the
bot's alone; only the two control requests of the benchmark itself fall into it, too.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CONCURRENT_UPDATES = 16
POOL = CONCURRENT_UPDATES + 4


# ---------------------------------------------------------------------------- server process
def serve() -> None:
    from aiohttp import web

    from bench.control import serve_forever
    from tests.botapi_server import BotApiServer

    class CountingServer(BotApiServer):
        target = 0
        sends = 0
        reached: asyncio.Event

        def _m_sendMessage(self, call):  # noqa: ANN001, ANN202, N802
            result = super()._m_sendMessage(call)
            self.sends += 1
            if self.sends >= self.target:
                self.reached.set()
            return result

    async def main() -> None:
        server = CountingServer()
        server.reached = asyncio.Event()
        await server.start()

        async def inject(request: web.Request) -> web.Response:
            body = await request.json()
            server.calls.clear()
            server.sends, server.target = 0, body["users"] * body["per_user"]
            server.reached.clear()
            for round_ in range(body["per_user"]):
                for user in range(body["users"]):
                    server.inject_message(10_000 + user, body["text"], language_code="en",
                                          first_name=f"User{user}")
            return web.json_response({"queued": server.target})

        async def wait(request: web.Request) -> web.Response:
            await server.reached.wait()
            return web.json_response({"sends": server.sends})

        await serve_forever(server, [("POST", "/inject", inject), ("GET", "/wait", wait)])

    asyncio.run(main())


# ---------------------------------------------------------------------------- the two bots
def builder(api: str, token: str):  # noqa: ANN201
    from telegram.ext import ApplicationBuilder

    return (ApplicationBuilder().token(token).base_url(f"{api}/bot").base_file_url(f"{api}/file/bot")
            .concurrent_updates(CONCURRENT_UPDATES).connection_pool_size(POOL))


class EchoBot:
    def __init__(self, api: str, token: str) -> None:
        from telegram import Update
        from telegram.ext import ContextTypes, MessageHandler, filters

        async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            await context.bot.send_message(update.effective_chat.id, update.message.text)

        self.app = builder(api, token).build()
        self.app.add_handler(MessageHandler(filters.TEXT, echo))

    async def start(self) -> None:
        await self.app.initialize()
        await self.app.start()
        await self.app.updater.start_polling(poll_interval=0.0, timeout=1)

    async def idle(self) -> None:
        """Until every fetched update was handled."""
        while not self.app.update_queue.empty() or self.app.update_processor.current_concurrent_updates:
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        await self.app.updater.stop()
        await self.app.stop()
        await self.app.shutdown()


class LotseBot:
    def __init__(self, api: str, token: str, db_path: Path, users: int) -> None:
        from bot.app import App
        from bot.config import DatabaseSettings, Duration, Settings
        from bot.transports.registry import TelegramSettings
        from bot.transports.telegram import TelegramTransport

        settings = Settings()
        self.settings = dataclasses.replace(
            settings, database=DatabaseSettings(path=db_path),
        ).with_section("telegram", TelegramSettings(enabled=True, token=token, base_url=api,
                                                    poll_timeout=Duration(seconds=1),
                                                    concurrent_updates=CONCURRENT_UPDATES))
        self.users = users
        self.transport = TelegramTransport(self.settings.section("telegram"))
        self.app = App(self.settings, [self.transport])

    async def seed(self) -> None:
        """People who already agreed, so /start is one dialog step (the menu)."""
        from bot.store import Store
        from bot.clock import utcnow

        store = await Store.open(self.settings.database.path)
        for user in range(self.users):
            person = await store.people.get_or_create("telegram", str(10_000 + user), str(10_000 + user))
            await store.people.set_language(person.id, ("de", "en", "ar")[user % 3])
            await store.people.record_consent(person.id, "2026-11", utcnow(), f"User{user}")
        await store.close()

    async def start(self) -> None:
        await self.app.start()

    async def idle(self) -> None:
        """Until every recorded update was handled and its inbox row is done (after the send)."""
        assert self.app.inbox is not None
        await self.app.inbox.idle()

    async def stop(self) -> None:
        await self.app.stop()


async def measure(bot, ctl: str, users: int, per_user: int, text: str) -> tuple[float, float]:  # noqa: ANN001
    """(updates/s, CPU milliseconds of this process per update)."""
    import aiohttp

    await bot.start()
    try:
        async with aiohttp.ClientSession() as http:
            gc.collect()  # the previous bot's garbage is not this one's work
            started = time.perf_counter()
            cpu = time.process_time()
            async with http.post(f"{ctl}/inject", json={"users": users, "per_user": per_user, "text": text}) as r:
                await r.json()
            async with http.get(f"{ctl}/wait", timeout=aiohttp.ClientTimeout(total=600)) as r:
                await r.json()
            elapsed = time.perf_counter() - started
            await bot.idle()
            cpu = time.process_time() - cpu
    finally:
        await bot.stop()
    return users * per_user / elapsed, 1000 * cpu / (users * per_user)


async def run(args: argparse.Namespace) -> None:
    server = subprocess.Popen([sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(server.stdout.readline())
        per_user = max(1, args.updates // args.users)
        echo_rates, lotse_rates = [], []
        echo_cpus, lotse_cpus = [], []
        with tempfile.TemporaryDirectory() as tmp:
            seeded = LotseBot(info["api"], info["token"], Path(tmp) / "bench.db", args.users)
            await seeded.seed()
            # warm-up of both code paths (imports, connections, SQLite pages)
            await measure(EchoBot(info["api"], info["token"]), info["ctl"], args.users, 1, "warm")
            await measure(LotseBot(info["api"], info["token"], Path(tmp) / "bench.db", args.users),
                          info["ctl"], args.users, 1, "/start")
            for round_ in range(args.rounds):
                rate, cpu = await measure(EchoBot(info["api"], info["token"]), info["ctl"],
                                          args.users, per_user, "hello")
                echo_rates.append(rate)
                echo_cpus.append(cpu)
                rate, cpu = await measure(LotseBot(info["api"], info["token"], Path(tmp) / "bench.db",
                                                   args.users), info["ctl"], args.users, per_user, "/start")
                lotse_rates.append(rate)
                lotse_cpus.append(cpu)
                print(f"round {round_ + 1}: echo {echo_rates[-1]:7.0f}/s  lotse {lotse_rates[-1]:7.0f}/s  "
                      f"ratio {lotse_rates[-1] / echo_rates[-1]:.2f}", flush=True)
                print(f"round {round_ + 1} CPU per update: echo {echo_cpus[-1]:.3f} ms  "
                      f"lotse {lotse_cpus[-1]:.3f} ms  ratio {lotse_cpus[-1] / echo_cpus[-1]:.2f}", flush=True)
        echo, lotse = statistics.median(echo_rates), statistics.median(lotse_rates)
        print(f"updates: {args.users * per_user} per bot and round, {args.users} users, "
              f"concurrent_updates={CONCURRENT_UPDATES}, rounds={args.rounds}")
        print(f"echo bot (bare PTB): {echo:8.0f} updates/s")
        print(f"lotse dialog step:   {lotse:8.0f} updates/s")
        print(f"ratio lotse/echo:    {lotse / echo:8.2f}   (target >= 0.80)")
        echo_cpu, lotse_cpu = statistics.median(echo_cpus), statistics.median(lotse_cpus)
        print(f"CPU per update, echo bot (bare PTB): {echo_cpu:6.3f} ms  (user+sys of the bot's process)")
        print(f"CPU per update, lotse dialog step:   {lotse_cpu:6.3f} ms")
        print(f"CPU ratio lotse/echo:                {lotse_cpu / echo_cpu:6.2f}   (target <= 1.25)")
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
    else:
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
