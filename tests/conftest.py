"""Shared fixtures: settings on a temporary SQLite file, and a running Lotse on a RecordingTransport."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import App
from bot.config import DatabaseSettings, RolesSettings, Settings
from bot import clock as lotse_clock
from bot.clock import ManualClock
from bot.transports.recording import RecordingTransport


def make_settings(db_path: Path, coordinators: tuple[str, ...] = ()) -> Settings:
    settings = Settings()
    return dataclasses.replace(
        settings,
        database=DatabaseSettings(path=db_path),
        roles=RolesSettings(coordinators=coordinators),
        # Transcripts send many messages while the test's clock stands still: no rate cap here
        # (tests/test_fairness.py tests the cap).
        bot=dataclasses.replace(settings.bot, rate_limit=0),
    )


Clock = ManualClock  # the `clock` fixture's type

# The language picker in the default order of [bot] languages, each name in its own script.
LANGUAGE_NAMES = ["Deutsch", "English", "العربية", "فارسی", "دری", "پښتو", "Kurdî (kurmancî)", "Türkçe", "ትግርኛ", "Soomaali", "Українська", "Русский", "Français"]

# Wednesday 25 November 2026, 10:00 in Berlin.
WEDNESDAY_10AM = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    """Lotse's one clock, standing at WEDNESDAY_10AM until the test moves it (services and the
    scheduler follow it)."""
    moving = ManualClock(WEDNESDAY_10AM)
    lotse_clock.use(moving)
    yield moving
    lotse_clock.use(None)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "lotse.db"


@pytest.fixture
def settings(db_path: Path) -> Settings:
    return make_settings(db_path, coordinators=("test:weber",))


class Running:
    """A started App and its recording transport."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.transport = RecordingTransport()
        self.app = App(settings, [self.transport])

    async def start(self) -> "Running":
        await self.app.start()
        return self

    @property
    def store(self):  # noqa: ANN201
        assert self.app.store is not None
        return self.app.store


@pytest.fixture
async def lotse(settings: Settings) -> AsyncIterator[Running]:
    running = await Running(settings).start()
    yield running
    await running.app.stop()


@pytest.fixture
def bot(lotse: Running) -> RecordingTransport:
    return lotse.transport


def checkout_env() -> dict[str, str]:
    """The environment for a `lotse` subprocess that runs this checkout's code: the virtualenv's
    editable install may point at another worktree, so this one comes first on the path."""
    import os

    root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


async def run_lotse(*args: str, cwd: Path, timeout: float = 60) -> tuple[int, str, str]:
    """Run the `lotse` command line in a real subprocess: (exit status, stdout, stderr)."""
    import asyncio
    import sys

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, cwd=cwd, env=checkout_env())
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def set_standing(store, guide_id: int, state: str, by: int | None = None) -> None:  # noqa: ANN001
    """Move a guide who just registered (pending) to `state` the way coordinators do, through
    bot/services/guides.py: suspended is approved first, then suspended."""
    from bot.clock import utcnow
    from bot.services import guides

    moves = {"pending": (), "approved": (guides.approve,), "rejected": (guides.reject,),
             "suspended": (guides.approve, guides.suspend)}[state]
    for move in moves:
        assert await move(store, guide_id, by, utcnow()), f"{move.__name__} of guide {guide_id} refused"


def labels(message) -> list[str]:  # noqa: ANN001
    return [b.label for b in message.flat_buttons]


def texts(messages) -> list[str]:  # noqa: ANN001
    return [m.text for m in messages]

from tests.synapse_server import synapse  # noqa: E402,F401  (session-scoped real Synapse, started on first use)
