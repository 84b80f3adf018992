"""The scheduler follows Lotse's one clock (bot/clock.py): a job falls due when the clock passes
its moment — the test's clock when a test moves it, never the machine's.  (APScheduler read the
machine's clock: once the real date had passed the dates a test fixed, every job meant for
"later" fired at once.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot import clock as lotse_clock
from bot.clock import ManualClock
from bot.services.scheduler import Scheduler

PAST = datetime(2020, 2, 28, 12, 0, tzinfo=UTC)  # long before any real "today" this runs on


@pytest.fixture
async def scheduler() -> AsyncIterator[Scheduler]:
    running = Scheduler()
    running.start()
    yield running
    await running.stop()


async def test_a_job_waits_for_the_clock_not_for_the_machine(scheduler: Scheduler) -> None:
    clock = ManualClock(PAST)
    lotse_clock.use(clock)
    try:
        ran: list[datetime] = []

        async def job() -> None:
            ran.append(lotse_clock.utcnow())

        scheduler.at("later", PAST + timedelta(days=1), job)
        await asyncio.sleep(0.05)           # the runner had its chance: the machine's date is far past
        await scheduler.settle()
        assert ran == [] and scheduler.has("later")
        clock.advance(timedelta(hours=23, minutes=59))
        await scheduler.settle()
        assert ran == []
        clock.advance(timedelta(minutes=1))  # 29 February 2020, 12:00: due now
        await scheduler.settle()
        assert ran == [PAST + timedelta(days=1)] and not scheduler.has("later")
    finally:
        lotse_clock.use(None)


async def test_moving_the_clock_wakes_the_scheduler_by_itself(scheduler: Scheduler) -> None:
    """Nobody calls settle(): the move of the clock alone makes the job run."""
    clock = ManualClock(PAST)
    lotse_clock.use(clock)
    try:
        done = asyncio.Event()

        async def job() -> None:
            done.set()

        scheduler.at("soon", PAST + timedelta(hours=2), job)
        await asyncio.sleep(0.05)
        assert not done.is_set()
        clock.advance(timedelta(hours=2))
        await asyncio.wait_for(done.wait(), 10)
    finally:
        lotse_clock.use(None)


async def test_periodic_jobs_follow_the_clock_and_coalesce(scheduler: Scheduler) -> None:
    clock = ManualClock(PAST)
    lotse_clock.use(clock)
    try:
        runs: list[datetime] = []

        async def job() -> None:
            runs.append(lotse_clock.utcnow())

        scheduler.every("arm", timedelta(hours=3), job)
        clock.advance(timedelta(hours=2))
        await scheduler.settle()
        assert runs == []
        clock.advance(timedelta(hours=1))
        await scheduler.settle()
        assert runs == [PAST + timedelta(hours=3)]
        clock.advance(timedelta(days=400))   # missed periods: one run, not thousands
        await scheduler.settle()
        assert len(runs) == 2
        clock.advance(timedelta(hours=3))
        await scheduler.settle()
        assert len(runs) == 3
    finally:
        lotse_clock.use(None)


async def test_replaced_and_cancelled_jobs_do_not_run(scheduler: Scheduler) -> None:
    clock = ManualClock(PAST)
    lotse_clock.use(clock)
    try:
        ran: list[str] = []

        async def job(name: str) -> None:
            ran.append(name)

        scheduler.at("offer-1", PAST + timedelta(minutes=5), job, "first")
        scheduler.at("offer-1", PAST + timedelta(minutes=10), job, "replacement")
        scheduler.at("offer-2", PAST + timedelta(minutes=5), job, "cancelled")
        scheduler.cancel("offer-2")
        clock.advance(timedelta(minutes=6))
        await scheduler.settle()
        assert ran == []
        clock.advance(timedelta(minutes=4))
        await scheduler.settle()
        assert ran == ["replacement"]
    finally:
        lotse_clock.use(None)


async def test_on_the_system_clock_a_job_in_the_near_future_runs(scheduler: Scheduler) -> None:
    done = asyncio.Event()

    async def job() -> None:
        done.set()

    scheduler.at("real", lotse_clock.utcnow() + timedelta(milliseconds=50), job)
    await asyncio.wait_for(done.wait(), 10)


async def test_a_failing_job_is_logged_and_the_scheduler_goes_on(scheduler: Scheduler,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    done = asyncio.Event()

    async def broken() -> None:
        raise ValueError("boom")

    async def fine() -> None:
        done.set()

    now = lotse_clock.utcnow()
    scheduler.at("broken", now, broken)
    scheduler.at("fine", now + timedelta(milliseconds=20), fine)
    await asyncio.wait_for(done.wait(), 10)
    assert "scheduled job broken failed" in caplog.text


async def test_old_event_ids_are_pruned_as_the_clock_passes(settings, clock) -> None:  # noqa: ANN001
    """Maintenance runs on the scheduler too: eight days on the clock later, an event id recorded
    for de-duplication is forgotten — without waiting six real hours."""
    from tests.conftest import Running

    lotse = await Running(settings).start()
    try:
        await lotse.transport.say("amira", "/help")
        count = "SELECT count(*) FROM processed_events"
        assert (await lotse.store.db.fetchone(count))[0] == 1
        clock.advance(timedelta(hours=6))
        await lotse.app.scheduler.settle()
        assert (await lotse.store.db.fetchone(count))[0] == 1  # younger than a week: kept
        clock.advance(timedelta(days=8))
        await lotse.app.scheduler.settle()
        assert (await lotse.store.db.fetchone(count))[0] == 0
    finally:
        await lotse.app.stop()
