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


async def start(config: Path, **env: str) -> asyncio.subprocess.Process:
    """`lotse run --config config`; `env` adds variables (LOTSE_CRASH_AT, see bot/faults.py)."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", "--config", str(config),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, env={**os.environ, **env})
