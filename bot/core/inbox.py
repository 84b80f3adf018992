"""Between the transports and the router: every event is stored before it is acknowledged, then
handled in order per person, fairly between people.

- `record(events)` writes a batch to the inbox table (one transaction) and returns only then: a
  transport acknowledges to its platform (an update offset, a sync token) after it. The
  router deletes each row in the transaction that handled it, or keeps the replies in it until they
  went out (bot.core.replies; the workers then delete such rows several at a time, all of them
  before the inbox is idle); at start, whatever is still in the table is handled (or its replies
  sent) first (`start()`), so nothing acknowledged is lost to a crash.
- Each person has their own queue.  A fixed number of workers take the next *person* whose turn
  it is, handle one event of theirs, and put them at the back of the line if they have more:
  someone who sends fifty messages at once waits for their own backlog without holding a worker
  while they wait, and everybody else gets a turn in between.
- A per-person rate cap (`[bot] rate_limit` events per `rate_window`, a token bucket on Lotse's
  clock): the first event over the cap is still handled and answered with a polite "please slow
  down" in the person's language (the router does that, see Event.throttled); the rest are dropped
  before they are stored, and counted (`dropped`, and one log line per person and window).
- `close()` stops taking events and waits, up to a limit, until every stored event has been
  handled (a clean stop); what is left waits in the table for the next start.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.clock import utcnow
from bot.core.types import Event
from bot.store import Store
from bot.store.inbox import Arrival, Waiting

log = logging.getLogger(__name__)

Handler = Callable[[Event, int | None], Awaitable[None]]
# Sends the replies stored in an inbox row (they were leaving when the last process stopped):
# (row id, replies JSON, platform).
Resender = Callable[[int, str, str], Awaitable[None]]
Key = tuple[str, str]  # (platform, user id)
# Rows of sent replies are deleted this many at a time while busy (one statement and commit
# each, instead of one per row); a restart does not handle such a row again.
FLUSH_SENT = 32


_EVENT_FIELDS = tuple(field.name for field in dataclasses.fields(Event))


def event_to_json(event: Event) -> str:
    # Event's fields are plain values: no dataclasses.asdict (a deep copy) on every update
    return json.dumps({name: getattr(event, name) for name in _EVENT_FIELDS},
                      ensure_ascii=False, separators=(",", ":"))


def event_from_json(text: str) -> Event:
    data: dict[str, Any] = json.loads(text)
    data["args"] = tuple(data.get("args", ()))
    return Event(**data)


@dataclass
class _Bucket:
    tokens: float
    at: datetime
    warned: bool = False
    dropped: int = 0


class RateCap:
    """A token bucket per person: `limit` events per `window`, refilled evenly; limit 0 = no cap."""

    def __init__(self, limit: int, window: timedelta) -> None:
        self.limit = limit
        self.window = window
        self._buckets: dict[Key, _Bucket] = {}

    def admit(self, key: Key, now: datetime) -> str:
        """'ok', 'warn' (the first over the cap: answer it with "slow down") or 'drop'."""
        if self.limit <= 0:
            return "ok"
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.limit), now)
        elapsed = max(0.0, (now - bucket.at).total_seconds())
        bucket.tokens = min(float(self.limit), bucket.tokens + elapsed * self.limit / self.window.total_seconds())
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            if bucket.tokens >= 1.0 and bucket.warned:
                self._report(key, bucket)
            return "ok"
        if not bucket.warned:
            bucket.warned = True
            return "warn"
        bucket.dropped += 1
        return "drop"

    def _report(self, key: Key, bucket: _Bucket) -> None:
        """The person slowed down again: say in the log how many events were dropped meanwhile."""
        if bucket.dropped:
            log.warning("rate cap: dropped %s event(s) from %s:%s", bucket.dropped, key[0], key[1])
        bucket.warned = False
        bucket.dropped = 0

    def forget_idle(self, now: datetime) -> None:
        """Drop buckets that are full again (keeps memory flat with many people)."""
        for key, bucket in list(self._buckets.items()):
            if now - bucket.at >= self.window:
                self._report(key, bucket)
                del self._buckets[key]


@dataclass
class _Item:
    row_id: int | None
    event: Event
    done: asyncio.Future[None]
    stored: Waiting | None = None  # handled before the last stop, its replies not (surely) sent


class Inbox:
    def __init__(self, store: Store, handler: Handler, *, workers: int = 16,
                 rate_cap: RateCap | None = None, uncapped: frozenset[str] = frozenset(),
                 resend: Resender | None = None) -> None:
        self.store = store
        self.resend = resend
        self.uncapped = uncapped  # platforms whose people are not rate-capped (the terminal)
        self.handler = handler
        self.workers = workers
        self.rate_cap = rate_cap or RateCap(0, timedelta(minutes=1))
        self.dropped: Counter[Key] = Counter()
        self._queues: dict[Key, deque[_Item]] = {}
        self._turns: asyncio.Queue[Key] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._pending = 0  # events queued or being handled
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False

    # -- what transports call -------------------------------------------------------------------
    async def record(self, events: Sequence[Event]) -> list[asyncio.Future[None]]:
        """Store `events` durably, queue them, and return one future per stored event that is done
        when it was handled.  Redeliveries and events over the rate cap are not stored (no future).
        After this returns, the transport may acknowledge the events to its platform."""
        if self._closed:
            raise RuntimeError("the inbox is closed")
        now = utcnow()
        admitted: list[Event] = []
        for event in events:
            key = (event.platform, event.user_id)
            verdict = "ok" if event.platform in self.uncapped else self.rate_cap.admit(key, now)
            if verdict == "drop":
                self.dropped[key] += 1
                continue
            admitted.append(dataclasses.replace(event, throttled=True) if verdict == "warn" else event)
        ids = await self.store.inbox.add(
            [Arrival(e.platform, e.user_id, e.event_id, event_to_json(e)) for e in admitted], now)
        futures: list[asyncio.Future[None]] = []
        for row_id, event in zip(ids, admitted):
            if row_id is not None:
                futures.append(self._queue(row_id, event))
        return futures

    async def __call__(self, event: Event) -> None:
        """Store one event and wait until it was handled (the terminal, tests)."""
        for future in await self.record([event]):
            await future

    # -- life cycle -----------------------------------------------------------------------------
    async def start(self, work: bool = True) -> None:
        """Queue what the last process stored but did not handle (or handled without sending its
        replies), then start the workers (with `work` False: later, by `work()` — once the
        transports can send; events recorded meanwhile queue up behind these)."""
        waiting = await self.store.inbox.waiting()
        if waiting:
            log.info("inbox: %s event(s) stored before the last stop are handled now", len(waiting))
        for row in waiting:
            self._queue(row.id, event_from_json(row.event), row if row.replies is not None else None)
        if work:
            self.work()

    def work(self) -> None:
        """Start the workers."""
        if not self._tasks:
            self._tasks = [asyncio.create_task(self._work(), name=f"inbox-worker-{i}") for i in range(self.workers)]

    async def close(self, timeout: float = 20.0) -> bool:
        """Take no more events; wait until everything queued was handled (True) or `timeout`
        seconds passed (False: the rest stays stored for the next start).  Then stop the workers."""
        self._closed = True
        finished = True
        try:
            if not self._idle.is_set():
                await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            log.warning("inbox: %s event(s) not handled before the stop; they are handled at the next start",
                        self._pending)
            finished = False
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self._flush_guarded()
        for queue in self._queues.values():
            for item in queue:
                if not item.done.done():
                    item.done.cancel()
        return finished

    async def idle(self) -> None:
        """Wait until nothing is queued or being handled (tests)."""
        await self._idle.wait()

    @property
    def pending(self) -> int:
        return self._pending

    # -- inside ---------------------------------------------------------------------------------
    def _queue(self, row_id: int | None, event: Event, stored: Waiting | None = None) -> asyncio.Future[None]:
        key = (event.platform, event.user_id)
        item = _Item(row_id, event, asyncio.get_running_loop().create_future(), stored)
        queue = self._queues.get(key)
        if queue is None:
            self._queues[key] = deque([item])
            self._turns.put_nowait(key)  # not queued or being handled: their turn comes
        else:
            queue.append(item)  # their turn is already in line (or they are being served)
        self._pending += 1
        self._idle.clear()
        return item.done

    async def _flush_sent(self) -> None:
        """Delete the rows whose replies went out (the router marks them `sent`): in batches of
        FLUSH_SENT while busy, and whatever is left before the inbox is idle.  Called by a worker
        while its event still counts as pending, so the worker that makes the inbox idle deletes
        the last of them first (no flush is under way then: its worker would be pending, too)."""
        inbox = self.store.inbox
        if inbox.unflushed >= FLUSH_SENT:
            await self._flush_guarded()
        while self._pending == 1 and inbox.unflushed:
            await self._flush_guarded()

    async def _flush_guarded(self) -> None:
        try:
            await self.store.inbox.flush()
        except Exception:  # the rows stay: the next start only sends their replies again where that is safe
            log.exception("inbox: deleting the rows of sent replies failed")

    async def _work(self) -> None:
        while True:
            key = await self._turns.get()
            queue = self._queues[key]
            item = queue.popleft()
            try:
                if item.stored is None:
                    await self.handler(item.event, item.row_id)
                elif self.resend is not None and item.stored.replies is not None:
                    await self.resend(item.stored.id, item.stored.replies, item.event.platform)
            except asyncio.CancelledError:
                queue.appendleft(item)  # still stored; handled at the next start
                raise
            except Exception:  # the router logs and answers its own errors; this is a last guard
                log.exception("inbox: handling an event of %s:%s failed", key[0], key[1])
            if not item.done.done():
                item.done.set_result(None)
            if queue:
                self._turns.put_nowait(key)  # to the back of the line
            else:
                del self._queues[key]
            await self._flush_sent()
            self._pending -= 1
            if self._pending == 0:
                self._idle.set()
                self.rate_cap.forget_idle(utcnow())
