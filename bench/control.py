"""What the Telegram benchmarks share: the loopback Bot API server runs in its own process (so the
bot measured has the CPU to itself) and is steered over a small HTTP control endpoint."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.Response]]


async def serve_forever(server, routes: list[tuple[str, str, Handler]]) -> None:  # noqa: ANN001 - BotApiServer
    """Open the control endpoint with `routes` ((method, path, handler)), print the addresses as one
    JSON line for the parent process, and serve until killed."""
    control = web.Application()
    for method, path, handler in routes:
        control.router.add_route(method, path, handler)
    runner = web.AppRunner(control, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    print(json.dumps({"api": server.url, "ctl": f"http://127.0.0.1:{runner.addresses[0][1]}",
                      "token": server.token}), flush=True)
    await asyncio.Event().wait()
