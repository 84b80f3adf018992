"""Broadcast: a coordinator's notice goes out from the outbox, one row per recipient, under each
platform's limits, and the coordinator watches it go.

- One lane per platform drains that platform's pending rows: it waits for its Pace
  (the `rate` its transport declares in its Traits, messages per second, evenly spaced, shared with the
  coordinator's progress edits and report, and checked against the answers of the last second —
  written here instead of using a platform library's rate limiter, which throttles every call including
  replies to people, has no per-chat limit for private chats and pauses everything on a 429), then
  claims the next row with one conditional UPDATE (pending → claimed) and sends it at once; up to
  MAX_IN_FLIGHT sends are on the wire together, so the pace holds when the platform is slow.
  Two messages to the same chat are at least the transport's `per_chat_interval` apart.
- Each row ends as sent (with the platform's message id), unreachable (the person blocked the bot:
  they are marked unreachable, never retried), failed (a permanent error, or `max_attempts` temporary
  ones, retried with exponential backoff), or skipped (the person withdrew consent since).  A 429
  pauses the whole lane for its retry_after and puts the row back, not counting as a try.
- Transports that implement SendsOnce make one attempt per claim and leave pace and retries to
  the lane; others (whose library waits out the platform's limit itself) use their own send.
- Progress: the coordinator gets one message that is edited at most every `progress_interval`
  seconds (sent / failed / may not have arrived / remaining), and right when the last row is done a final edit and a report.
- Restart: rows are in the database.  A claimed row is marked 'sending' right before its request
  leaves.  At start a row still 'claimed' never left and is sent; one still 'sending' may or may not
  have reached the person: on platforms that recognise a repeat (the message's key becomes its
  transaction id) it is sent again and arrives once, elsewhere it becomes 'uncertain' and is not
  sent again (at most once — a crash never makes anyone get a notice twice; the report counts it).
  The window is one HTTP request per row in flight; everything else resumes where it stopped.  A
  send that timed out (it may have arrived) ends 'uncertain' the same way instead of being retried.

Texts are phrased by a BroadcastTexts (handlers/broadcast.py) in each reader's language.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, Protocol

from bot.config import Settings
from bot.core.messenger import Messenger
from bot.core.types import Message
from bot.core.transport import (DeliveryError, DeliveryUncertain, RateLimited, RecipientUnreachable, SendsOnce,
                                TemporaryFailure, Transport)
from bot.store import Store
from bot.clock import utcnow
from bot.store.outbox import UNFINISHED, Claim
from bot.store.store import Person

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 8
IDLE_CHECK = 60.0  # seconds: an idle lane looks at the outbox at least this often


class BroadcastTexts(Protocol):
    def notice(self, recipient: Person, text: str) -> str: ...
    def progress(self, coordinator: Person, broadcast_id: int, tally: dict[str, int], done: bool) -> str: ...
    def report(self, coordinator: Person, broadcast_id: int, tally: dict[str, int]) -> str: ...


class Pace:
    """How fast one platform may be sent to: evenly spaced slots, `rate` per second (time lost while
    idle is not made up in a burst), at most `max_in_flight` messages on the wire — and never more
    than `rate` + 1 messages answered within the last second plus those still on the wire (29/s
    gives 30, a common platform limit).  Answers
    arrive about when the platform counted the message, so a stall on either side that squeezes
    messages together (they left late, or the platform handled a queue at once) makes the sender
    wait instead of crossing the platform's limit."""

    def __init__(self, rate: float | None, max_in_flight: int = MAX_IN_FLIGHT) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.cap = int(rate) + 1 if rate else None  # the pace's own jitter may use one message of slack
        self._next = 0.0
        self._in_flight = 0
        self._slots = asyncio.Semaphore(max_in_flight)
        self._answered: deque[float] = deque()

    async def acquire(self) -> None:
        await self._slots.acquire()
        try:
            now = time.monotonic()
            slot = max(self._next, now)
            self._next = slot + self.interval
            if slot > now:
                await asyncio.sleep(slot - now)
            while self.cap is not None:
                now = time.monotonic()
                while self._answered and now - self._answered[0] >= 1.0:
                    self._answered.popleft()
                if self._in_flight + len(self._answered) < self.cap:
                    break
                await asyncio.sleep(self._answered[0] + 1.0 - now if self._answered else self.interval)
        except BaseException:
            self._slots.release()
            raise
        self._in_flight += 1

    def release(self, sent: bool = True) -> None:
        self._in_flight -= 1
        if sent:
            self._answered.append(time.monotonic())
        self._slots.release()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self.acquire()
        try:
            yield
        finally:
            self.release()


class BroadcastSender:
    def __init__(self, store: Store, settings: Settings, messenger: Messenger, texts: BroadcastTexts) -> None:
        self.store = store
        self.settings = settings
        self.messenger = messenger
        self.texts = texts
        self._lanes: dict[str, asyncio.Task[Any]] = {}
        self._paces: dict[str, Pace] = {}
        self._wake: dict[str, asyncio.Event] = {}
        self._paused_until: dict[str, float] = {}
        self._last_to_chat: dict[tuple[str, str], float] = {}
        self._sends: set[asyncio.Task[Any]] = set()
        self._progress_due: dict[int, asyncio.Task[Any]] = {}
        self._reporting: set[int] = set()
        self._last_edit: dict[int, float] = {}
        self._hurry: dict[int, asyncio.Event] = {}

    # -- life cycle -------------------------------------------------------------------------------
    async def resume(self) -> None:
        """At start: settle rows a crash left 'sending', then continue every unfinished broadcast."""
        interrupted = await self.store.broadcasts.recover_interrupted(utcnow(),
                                                                      self.messenger.recognising_repeats())
        if interrupted:
            log.warning("broadcast: %s message(s) were cut off by a restart and are not sent again", interrupted)
        for platform in self.messenger.transports:
            self._paces[platform] = Pace(self._rate(platform))
            self._wake[platform] = asyncio.Event()
            self._lanes[platform] = asyncio.create_task(self._guarded_lane(platform), name=f"broadcast-{platform}")
        for broadcast_id in await self.store.broadcasts.unfinished():
            broadcast = await self.store.broadcasts.get(broadcast_id)
            if broadcast is not None and broadcast.progress_id is None:
                await self._send_progress(broadcast_id)
            self._touch(broadcast_id)

    async def stop(self) -> None:
        """Stop claiming, let the sends on the wire finish (briefly), then stop everything."""
        lanes = list(self._lanes.values())
        for lane in lanes:
            lane.cancel()
        await asyncio.gather(*lanes, return_exceptions=True)
        if self._sends:
            await asyncio.wait(list(self._sends), timeout=5)
        rest = [*self._sends, *self._progress_due.values()]
        for task in rest:
            task.cancel()
        await asyncio.gather(*rest, return_exceptions=True)

    async def started(self, broadcast_id: int) -> None:
        """A broadcast was just created (its outbox committed): show progress, wake the lanes."""
        await self._send_progress(broadcast_id)
        for event in self._wake.values():
            event.set()

    async def idle(self) -> None:
        """Wait until nothing is pending, sending or waiting to be reported (tests)."""
        while True:
            if not self._sends and not self._progress_due and not await self.store.broadcasts.unfinished():
                return
            await asyncio.sleep(0.02)

    # -- lanes ------------------------------------------------------------------------------------
    def _rate(self, platform: str) -> float | None:
        traits = self.messenger.traits(platform)
        return traits.rate if traits is not None else None

    async def _guarded_lane(self, platform: str) -> None:
        while True:
            try:
                await self._lane(platform)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("broadcast lane %s failed; restarting it", platform)
                await asyncio.sleep(1)

    async def _lane(self, platform: str) -> None:
        transport = self.messenger.transports[platform]
        pace = self._paces[platform]
        wake = self._wake[platform]
        while True:
            pause = self._paused_until.get(platform, 0.0) - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
                continue
            await pace.acquire()
            wake.clear()
            try:
                claim = await self.store.broadcasts.claim(platform, utcnow())
            except BaseException:
                pace.release(sent=False)
                raise
            if claim is None:
                pace.release(sent=False)
                due = await self.store.broadcasts.next_due(platform, utcnow())
                timeout = IDLE_CHECK if due is None else min(IDLE_CHECK, max(0.01, (due - utcnow()).total_seconds()))
                try:
                    await asyncio.wait_for(wake.wait(), timeout)
                except TimeoutError:
                    pass
                continue
            task = asyncio.create_task(self._deliver(platform, transport, claim))
            self._sends.add(task)
            task.add_done_callback(self._sends.discard)
            task.add_done_callback(lambda _: pace.release())

    def _slot(self, platform: str):  # noqa: ANN202 - an async context manager
        """A slot of the platform's pace: notices, progress edits and reports share it."""
        pace = self._paces.get(platform)
        return pace.slot() if pace is not None else contextlib.nullcontext()

    async def _deliver(self, platform: str, transport: Transport, claim: Claim) -> None:
        store, b = self.store, self.settings.broadcast
        try:
            person = await store.people.get(claim.person_id)
            if person is None or not person.consented or person.declined_at is not None:
                await store.broadcasts.finish_row(claim.id, "skipped", utcnow(), error="no consent")
                return
            text = self.texts.notice(person, await store.broadcasts.text_for(claim.broadcast_id, person.language))
            await self._space_out(platform, person.chat_id)
            await store.broadcasts.sending(claim.id)
            try:
                if isinstance(transport, SendsOnce):
                    message_id = await transport.send_once(person.chat_id, text)
                else:
                    message_id = await transport.send(person.chat_id, Message(text, key=f"broadcast-{claim.id}"))
            except RecipientUnreachable as exc:
                await store.people.mark_unreachable(person.id, utcnow())
                await store.broadcasts.finish_row(claim.id, "unreachable", utcnow(), error=str(exc)[:500])
            except RateLimited as exc:
                log.warning("broadcast: %s asks to wait %.1f s", platform, exc.retry_after)
                self._paused_until[platform] = max(self._paused_until.get(platform, 0.0),
                                                   time.monotonic() + exc.retry_after)
                # the platform's pace, not the message's fault: it does not use up a try
                await store.broadcasts.retry_later(claim.id, utcnow() + timedelta(seconds=exc.retry_after),
                                                   str(exc)[:500], utcnow(), count_attempt=False)
            except DeliveryUncertain as exc:  # perhaps delivered: never risk a second copy
                await store.broadcasts.finish_row(claim.id, "uncertain", utcnow(), error=str(exc)[:500])
            except TemporaryFailure as exc:
                if claim.attempts >= b.max_attempts:
                    await store.broadcasts.finish_row(claim.id, "failed", utcnow(), error=str(exc)[:500])
                else:
                    delay = min(b.retry_backoff_cap, b.retry_backoff * 2 ** (claim.attempts - 1))
                    await store.broadcasts.retry_later(claim.id, utcnow() + timedelta(seconds=delay),
                                                       str(exc)[:500], utcnow())
                    self._wake[platform].set()
            except DeliveryError as exc:
                await store.broadcasts.finish_row(claim.id, "failed", utcnow(), error=str(exc)[:500])
            else:
                await store.broadcasts.finish_row(claim.id, "sent", utcnow(), message_id=message_id)
        except Exception:
            log.exception("broadcast: delivering outbox row %s failed", claim.id)
            await store.broadcasts.finish_row(claim.id, "failed", utcnow(), error="internal error")
        finally:
            if not await store.broadcasts.remaining(claim.broadcast_id):
                self._hurry.setdefault(claim.broadcast_id, asyncio.Event()).set()  # report now, not later
            self._touch(claim.broadcast_id)

    async def _space_out(self, platform: str, chat_id: str) -> None:
        traits = self.messenger.traits(platform)
        gap = traits.per_chat_interval if traits is not None else 0.0
        key = (platform, chat_id)
        now = time.monotonic()
        wait = self._last_to_chat.get(key, -gap) + gap - now
        self._last_to_chat[key] = now + max(0.0, wait)
        if len(self._last_to_chat) > 10_000:
            self._last_to_chat = {k: t for k, t in self._last_to_chat.items() if t > now - gap}
        if wait > 0:
            await asyncio.sleep(wait)

    # -- progress and report ----------------------------------------------------------------------
    async def _coordinator(self, broadcast_id: int) -> tuple[Any, Person] | None:
        broadcast = await self.store.broadcasts.get(broadcast_id)
        if broadcast is None or broadcast.coordinator_id is None:
            return None
        coordinator = await self.store.people.get(broadcast.coordinator_id)
        return None if coordinator is None else (broadcast, coordinator)

    async def _send_progress(self, broadcast_id: int) -> None:
        found = await self._coordinator(broadcast_id)
        if found is None:
            return
        _, coordinator = found
        tally = await self.store.broadcasts.tally(broadcast_id)
        async with self._slot(coordinator.platform):
            message_id = await self.messenger.send(coordinator, Message(
                self.texts.progress(coordinator, broadcast_id, tally, done=False)))
        await self.store.broadcasts.set_progress_message(broadcast_id, message_id)
        self._last_edit[broadcast_id] = time.monotonic()

    def _touch(self, broadcast_id: int) -> None:
        """Something changed: edit the progress message soon (one edit per interval at most)."""
        if broadcast_id in self._progress_due:
            return
        task = asyncio.create_task(self._progress(broadcast_id))
        self._progress_due[broadcast_id] = task

    async def _progress(self, broadcast_id: int) -> None:
        try:
            wait = self._last_edit.get(broadcast_id, 0.0) + self.settings.broadcast.progress_interval - time.monotonic()
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._hurry.setdefault(broadcast_id, asyncio.Event()).wait(), wait)
            del self._progress_due[broadcast_id]  # a change from now on schedules the next edit
            tally = await self.store.broadcasts.tally(broadcast_id)
            done = not any(tally.get(state) for state in UNFINISHED)
            if done:
                await self.store.broadcasts.complete(broadcast_id, utcnow())  # sending → done, once
                if broadcast_id in self._reporting:
                    return  # being reported right now
                # Claimed before the state is read (no await since the check): whoever reported
                # before has marked it 'reported' or failed by then — a state read earlier could be
                # from before their report and send it a second time.
                self._reporting.add(broadcast_id)
            try:
                found = await self._coordinator(broadcast_id)
                if found is None:
                    return
                broadcast, coordinator = found
                if done and broadcast.state == "reported":
                    return  # finished and reported before
                self._last_edit[broadcast_id] = time.monotonic()
                if broadcast.progress_id is not None:
                    async with self._slot(coordinator.platform):
                        await self.messenger.edit(coordinator, broadcast.progress_id, Message(
                            self.texts.progress(coordinator, broadcast_id, tally, done=done)))
                if done:
                    self._last_edit.pop(broadcast_id, None)
                    self._hurry.pop(broadcast_id, None)
                    async with self._slot(coordinator.platform):
                        await self.messenger.send(coordinator, Message(
                            self.texts.report(coordinator, broadcast_id, tally)))
                    await self.store.broadcasts.mark_reported(broadcast_id)
            finally:
                if done:
                    self._reporting.discard(broadcast_id)
        except Exception:
            self._progress_due.pop(broadcast_id, None)
            log.exception("broadcast: progress of %s failed", broadcast_id)
