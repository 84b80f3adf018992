"""A clean stop (issue 12, part 5): SIGTERM to a busy `lotse run` (real process, real Telegram
transport, the Bot-API-wire server) — it stops taking updates, finishes those it took, sends every
reply, exits 0 with nothing alarming on stderr; what it had not taken is answered after a restart,
once.  And a SIGTERM'd `lotse console` fed by a pipe ends just as cleanly.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.botapi_server import BotApiServer
from tests.test_inbox_crash import (FIRST, WELCOME, inbox_rows, polls, replies, run_until_answered, start,
                                    write_config)
from tests.test_console import _read_until, config as console_config

USERS = 40
LATER = 10  # people whose /start arrives after the SIGTERM
ALARMING = ("Traceback", "transport not started", "exception was never retrieved",
            "Task was destroyed but it is pending")
STOP_TIMEOUT = 20  # [bot] stop_timeout's default: the process must be gone well within it


def taken(server: BotApiServer) -> set[int]:
    """Update ids the bot confirmed to the server (a getUpdates offset past them)."""
    offsets = [c.params["offset"] for c in polls(server) if isinstance(c.params.get("offset"), int)]
    return set(range(1, max(offsets, default=1)))


def assert_calm(err: str) -> None:
    for word in ALARMING:
        assert word not in err, err


async def test_sigterm_while_busy_finishes_what_was_taken_and_exits_0(tmp_path: Path) -> None:
    async with BotApiServer() as server:
        chat_of: dict[int, int] = {}
        for i in range(USERS):
            server.user(FIRST + i, f"Olena{i}", language_code="en")
            chat_of[server.inject_message(FIRST + i, "/start")] = FIRST + i
        # Every reply takes a while: the process is busy when the signal comes.
        server.answer_late("sendMessage", 0.3, count=USERS)
        config = write_config(tmp_path, server)
        process = await start(config)
        await server.wait_for(lambda: taken(server) or None, timeout=60, what="the offset confirmed")
        await server.wait_for(lambda: replies(server) or None, timeout=60, what="a first reply")
        assert sum(replies(server).values()) < USERS  # still busy
        process.send_signal(signal.SIGTERM)
        for i in range(USERS, USERS + LATER):  # arrive while it stops: not taken by this process
            server.user(FIRST + i, f"Olena{i}", language_code="en")
            chat_of[server.inject_message(FIRST + i, "/start")] = FIRST + i
        _, err = await asyncio.wait_for(process.communicate(), STOP_TIMEOUT + 10)
        assert process.returncode == 0, err.decode()
        assert_calm(err.decode())

        confirmed = {chat_of[u] for u in taken(server) if u in chat_of}
        assert confirmed, "nothing was taken before the stop"
        got = replies(server)
        assert {chat for chat in confirmed if got[chat] != 1} == set()  # every taken one answered, once

        # What was not taken comes after the restart, once; nobody is answered twice.
        await run_until_answered(config, server, lambda: set(replies(server)) >= set(chat_of.values()))
        got = replies(server)
        assert {chat: n for chat, n in got.items() if n != 1} == {}
        assert set(got) == set(chat_of.values())
        assert all(server.texts(chat)[0].startswith(WELCOME) for chat in chat_of.values())
        assert await inbox_rows(tmp_path / "lotse.db") == 0


async def test_sigterm_to_a_piped_console_exits_0_without_a_traceback(tmp_path: Path) -> None:
    cfg = console_config(tmp_path)
    env = {**os.environ, "LANG": "en_GB.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "console", "--config", str(cfg),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path)
    assert process.stdin and process.stdout and process.stderr
    process.stdin.write(b"@amira /start\n")
    await process.stdin.drain()
    await _read_until(process.stdout, "  [3] ")  # it is up and answering; stdin stays open
    process.send_signal(signal.SIGTERM)
    err = await asyncio.wait_for(process.stderr.read(), STOP_TIMEOUT + 10)
    await asyncio.wait_for(process.wait(), STOP_TIMEOUT + 10)
    assert process.returncode == 0, err.decode()
    assert_calm(err.decode())
