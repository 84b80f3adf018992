"""`lotse run` as a real process with its real Telegram transport against tests/botapi_server.py:
the shared set-up of the tests that kill it (SIGKILL) or stop it (SIGTERM) and start it again."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.botapi_server import BotApiServer
from tests.conftest import checkout_env


def write_config(tmp_path: Path, server: BotApiServer) -> Path:
    """A config for Lotse on Telegram at `server`, its database at tmp_path/lotse.db."""
    config = tmp_path / "lotse.toml"
    config.write_text(f"""
[database]
path = "{tmp_path / 'lotse.db'}"
[telegram]
enabled = true
token = "{server.token}"
base_url = "{server.url}"
poll_timeout = "1s"
""")
    return config


# `lotse run` with a SIGKILL installed at one fault point (bot/faults.py): the process dies there as
# at a power cut — no cleanup, no flush.
_KILLED_AT = """
import os, signal, sys
from bot import faults
faults.install(sys.argv[1], lambda: os.kill(os.getpid(), signal.SIGKILL))
from bot.cli import main
sys.exit(main(sys.argv[2:]))
"""


async def start(config: Path, crash_at: str | None = None) -> asyncio.subprocess.Process:
    """`lotse run --config config`, killed at fault point `crash_at` if given."""
    command = ["-m", "bot.cli"] if crash_at is None else ["-c", _KILLED_AT, crash_at]
    return await asyncio.create_subprocess_exec(
        sys.executable, *command, "run", "--config", str(config),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, env=checkout_env())


def polls(server: BotApiServer) -> int:
    return len(server.sent(method="getUpdates"))


async def run_until(config: Path, server: BotApiServer, settled: Callable[[], Awaitable[bool]],
                    timeout: float = 30.0) -> str:
    """Start `lotse run`, wait until it polls (it is up) and then until `settled()` holds (or
    `timeout` seconds passed: the caller's assertions then say what is missing), stop it with
    SIGTERM; asserts a clean exit (status 0, no traceback) and returns its stderr."""
    before = polls(server)
    process = await start(config)
    try:
        await server.wait_for(lambda: polls(server) > before or None, timeout=60, what="a poll")
        for _ in range(int(timeout / 0.05)):
            if await settled():
                break
            await asyncio.sleep(0.05)
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 60)
    stderr = err.decode()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr, stderr
    return stderr
