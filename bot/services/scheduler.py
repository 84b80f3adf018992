"""The one scheduler of the bot: an APScheduler 3 AsyncIOScheduler with jobs in memory only.

The database is always the source of truth (offer expiries, reminders); a job is only a wake-up
call at the moment something falls due.  Services re-create their jobs from their rows at start
(`resume()`), so nothing is lost when the process dies, and a job that fires for a row that changed
meanwhile finds nothing to do.  Jobs run on Lotse's own event loop; their exceptions are logged.

The moment "now" comes from bot.store.db.utcnow(), which tests move; APScheduler itself keeps the
real clock, so tests call the services' `*_due()` methods after moving theirs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)

Job = Callable[..., Awaitable[Any]]


class Scheduler:
    def __init__(self) -> None:
        self._scheduler: AsyncIOScheduler | None = None

    @property
    def running(self) -> bool:
        return self._scheduler is not None and self._scheduler.running

    def start(self) -> None:
        if not self.running:
            self._scheduler = AsyncIOScheduler(timezone=UTC)
            self._scheduler.start()

    def stop(self) -> None:
        if self.running:
            assert self._scheduler is not None
            self._scheduler.shutdown(wait=False)
        self._scheduler = None

    def at(self, key: str, when: datetime, job: Job, *args: Any) -> None:
        """Run `job(*args)` at `when` (at once if that is past); replaces a job with the same key.
        Does nothing before start() (the service's resume() arms from the database then)."""
        if not self.running:
            return
        assert self._scheduler is not None
        self._scheduler.add_job(_logged, DateTrigger(run_date=when), args=(key, job, *args), id=key,
                                replace_existing=True, misfire_grace_time=None)

    def every(self, key: str, interval: timedelta, job: Job, *args: Any) -> None:
        if not self.running:
            return
        assert self._scheduler is not None
        self._scheduler.add_job(_logged, IntervalTrigger(seconds=interval.total_seconds()), args=(key, job, *args),
                                id=key, replace_existing=True, coalesce=True, max_instances=1,
                                misfire_grace_time=None)

    def cancel(self, key: str) -> None:
        if self.running:
            assert self._scheduler is not None
            job = self._scheduler.get_job(key)
            if job is not None:
                job.remove()

    def has(self, key: str) -> bool:
        return self.running and self._scheduler.get_job(key) is not None  # type: ignore[union-attr]

    def count(self) -> int:
        return len(self._scheduler.get_jobs()) if self.running else 0  # type: ignore[union-attr]


async def _logged(key: str, job: Job, *args: Any) -> None:
    try:
        await job(*args)
    except Exception:
        log.exception("scheduled job %s failed", key)
