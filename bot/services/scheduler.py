"""The one scheduler of the bot: wake-up calls at moments of Lotse's one clock (bot/clock.py).

The database is always the source of truth (offer expiries, reminders, broadcasts); a job is only
a wake-up call at the moment something falls due.  Services re-create their jobs from their rows
at start (`resume()`), so nothing is lost when the process dies, and a job that fires for a row
that changed meanwhile finds nothing to do.

Why not APScheduler: it reads the machine's clock itself, so a test that fixes its dates (or a
demo under a moved clock) saw jobs meant for "later" fire at once.  This one asks bot.clock for
"now", sleeps on the event loop until the next job is due (at most a minute, so a jump of the
system clock is noticed), and wakes at once when the clock is moved by hand or a job is added.
Jobs run as their own asyncio tasks on Lotse's loop; their exceptions are logged; a periodic job
never runs twice at once and missed periods are coalesced into one run.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot import clock

log = logging.getLogger(__name__)

Job = Callable[..., Awaitable[Any]]

MAX_SLEEP = 60.0  # seconds: re-read the clock at least this often


@dataclass
class _Entry:
    when: datetime
    job: Job
    args: tuple[Any, ...]
    every: timedelta | None
    seq: int


class Scheduler:
    def __init__(self) -> None:
        self._jobs: dict[str, _Entry] = {}
        self._heap: list[tuple[datetime, int, str]] = []
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._busy: set[asyncio.Task[None]] = set()  # running jobs
        self._periodic: dict[str, asyncio.Task[None]] = {}  # key → its running periodic job
        self._stopped = False

    @property
    def running(self) -> bool:
        return self._runner is not None and not self._runner.done()

    def start(self) -> None:
        if not self.running:
            self._stopped = False
            self._runner = asyncio.create_task(self._run(), name="lotse-scheduler")
            self._unsubscribe = clock.on_move(self._poke)

    async def stop(self) -> None:
        """Stop waking anyone; jobs still running are cancelled and awaited."""
        runner, self._runner = self._runner, None
        self._stopped = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if runner is not None:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
        busy = list(self._busy)
        for task in busy:
            task.cancel()
        await asyncio.gather(*busy, return_exceptions=True)
        self._jobs.clear()
        self._heap.clear()

    def at(self, key: str, when: datetime, job: Job, *args: Any) -> None:
        """Run `job(*args)` at `when` (at once if that is past); replaces a job with the same key.
        Does nothing before start() (the service's resume() arms from the database then)."""
        self._add(key, _Entry(when, job, args, None, next(self._seq)))

    def every(self, key: str, interval: timedelta, job: Job, *args: Any) -> None:
        """Run `job(*args)` each `interval` of the clock, the first time one interval from now."""
        if interval <= timedelta(0):
            raise ValueError("interval must be positive")
        self._add(key, _Entry(clock.utcnow() + interval, job, args, interval, next(self._seq)))

    def cancel(self, key: str) -> None:
        self._jobs.pop(key, None)

    def has(self, key: str) -> bool:
        return key in self._jobs

    def count(self) -> int:
        return len(self._jobs)

    async def settle(self) -> None:
        """Run what is due on the clock now and wait until every running job has finished (tests
        call this after moving the clock)."""
        while True:
            self._start_due(clock.utcnow())
            busy = list(self._busy)
            if not busy:
                return
            await asyncio.gather(*busy, return_exceptions=True)

    # -- inside ---------------------------------------------------------------------------------
    def _add(self, key: str, entry: _Entry) -> None:
        if not self.running:
            return
        self._jobs[key] = entry
        heapq.heappush(self._heap, (entry.when, entry.seq, key))
        self._poke()

    def _poke(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        # The flag, not only the cancellation, ends the loop: Python 3.11's wait_for swallows a
        # cancellation that coincides with the wake-up (a clock move during stop()).
        while not self._stopped:
            self._wake.clear()
            now = clock.utcnow()
            self._start_due(now)
            delay = MAX_SLEEP
            if self._heap:
                delay = min(MAX_SLEEP, max(0.0, (self._heap[0][0] - now).total_seconds()))
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            except TimeoutError:
                pass

    def _start_due(self, now: datetime) -> None:
        heap = self._heap
        while heap and heap[0][0] <= now:
            when, seq, key = heapq.heappop(heap)
            entry = self._jobs.get(key)
            if entry is None or entry.seq != seq:
                continue  # replaced or cancelled
            if entry.every is None:
                del self._jobs[key]
            else:  # missed periods are coalesced into this one run; the next is due after `now`
                missed = (now - entry.when) // entry.every + 1
                nxt = _Entry(entry.when + entry.every * missed, entry.job, entry.args, entry.every, next(self._seq))
                self._jobs[key] = nxt
                heapq.heappush(heap, (nxt.when, nxt.seq, key))
                running = self._periodic.get(key)
                if running is not None and not running.done():
                    continue  # never twice at once
            task = asyncio.create_task(_logged(key, entry.job, *entry.args), name=f"job-{key}")
            self._busy.add(task)
            task.add_done_callback(self._busy.discard)
            if entry.every is not None:
                self._periodic[key] = task


async def _logged(key: str, job: Job, *args: Any) -> None:
    try:
        await job(*args)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("scheduled job %s failed", key)
