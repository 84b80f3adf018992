"""`lotse run` as a real process with its real Telegram transport against tests/botapi_server.py:
the shared set-up of the tests that kill it (SIGKILL) or stop it (SIGTERM) and start it again."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.botapi_server import BotApiServer


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
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, env=dict(os.environ))
