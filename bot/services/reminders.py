"""Reminders before an appointment and follow-ups after it, which survive restarts.

- When dispatch books a guide, `plan()` adds the rows inside the same transaction: for every
  `[reminders] offsets` one reminder to each side (the newcomer's first one asks "still needed?"),
  and one follow-up to each side `followup_after` the end.  Offsets of whole days keep the local
  time of day in the configured zone (the day before at 9:30 even across a clock change); others
  count elapsed time.  Offsets already past at booking time are left out: the confirmation itself
  is the reminder.
- Only rows due within `horizon` are armed as jobs of the bot's one Scheduler; a periodic job arms
  the next window, so 100k future reminders cost nothing in memory.
- Sending claims the row first (bot.store.reminders: pending → claimed, only while the appointment
  stands), composes the message, marks the row "sending" (committed) right before the message
  leaves, then marks it sent.  `resume()` at start: a row left claimed never left the process and
  is sent now.  A row left "sending" may have reached the person: where the platform recognises a
  repeat (the message's key becomes its transaction id) it is sent again and arrives once;
  elsewhere it becomes "uncertain" and is not sent again.  The mark is written before the HTTP
  request, so "sending" almost always means the platform has it (a resend would be the double);
  only a crash in the instant between the mark and the request leaving loses that one reminder —
  logged at the next start.
- Late rows (Lotse was down): a reminder is still sent while its appointment is ahead and no
  closer reminder is also due; a follow-up while younger than `followup_expiry`; otherwise skipped.

Texts are not written here: a ReminderNotifier (handlers/reminders.py) phrases them.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.config import RemindersSettings, Settings
from bot.core.messenger import Messenger
from bot.core.transport import DeliveryError, DeliveryUncertain, RecipientUnreachable
from bot.core.types import Message
from bot import faults
from bot.services.scheduler import Scheduler
from bot.store import Store
from bot.clock import utcnow
from bot.store.reminders import BEFORE, FOLLOWUP, Planned, Reminder
from bot.store.requests import Request
from bot.store.store import Person

log = logging.getLogger(__name__)

DAY = timedelta(days=1)


class ReminderNotifier(Protocol):
    """Composes the messages, in each reader's language (sending stays here, with the row)."""

    async def reminder(self, person: Person, reminder: Reminder, request: Request,
                       ask_still_needed: bool) -> Message: ...

    async def followup(self, person: Person, reminder: Reminder, request: Request) -> Message: ...


def plan(settings: RemindersSettings, zone: ZoneInfo, guide_id: int, newcomer_id: int, starts_at: datetime,
         ends_at: datetime, now: datetime) -> list[Planned]:
    """The reminder rows of one appointment (pure)."""
    rows: list[Planned] = []
    for offset in sorted(settings.offsets, reverse=True):
        due = due_before(starts_at, offset, zone)
        if due <= now:
            continue
        minutes = int(offset.total_seconds() // 60)
        rows += [Planned(newcomer_id, BEFORE, minutes, due), Planned(guide_id, BEFORE, minutes, due)]
    follow = ends_at + settings.followup_after
    rows += [Planned(guide_id, FOLLOWUP, 0, follow), Planned(newcomer_id, FOLLOWUP, 0, follow)]
    return rows


def due_before(starts_at: datetime, offset: timedelta, zone: ZoneInfo) -> datetime:
    """`offset` before `starts_at`: whole days on the local calendar (same wall-clock time), the
    rest as elapsed time."""
    days, rest = divmod(offset, DAY)
    local = starts_at.astimezone(zone).replace(tzinfo=None) - timedelta(days=days)
    return local.replace(tzinfo=zone).astimezone(starts_at.tzinfo) - rest



class ReminderService:
    def __init__(self, store: Store, settings: Settings, notifier: ReminderNotifier, scheduler: Scheduler,
                 messenger: Messenger) -> None:
        self.store = store
        self.settings = settings
        self.notifier = notifier
        self.scheduler = scheduler
        self.messenger = messenger
        self._sending: set[asyncio.Task[None]] = set()
        self._stopping = False
        # One reminder at a time: at a crash at most one row is "sending" (see above), and it is
        # gentle on rate limits.
        self._one_at_a_time = asyncio.Lock()

    # -- planning (inside dispatch's booking transaction) -----------------------------------------
    async def on_assigned(self, assignment_id: int, guide_id: int, request: Request) -> None:
        rows = plan(self.settings.reminders, self.settings.zone, guide_id, request.person_id,
                    request.starts_at, request.ends_at, utcnow())
        await self.store.reminders.plan(assignment_id, rows)
        if any(row.due_at <= utcnow() + self.settings.reminders.horizon for row in rows):
            self.scheduler.at("reminders-arm-now", utcnow(), self.arm)  # runs after the booking commits

    # -- life cycle -----------------------------------------------------------------------------
    async def resume(self) -> None:
        """At start: settle the rows the last process left claimed or sending (see above); arm the
        window; keep arming."""
        again, uncertain = await self.store.reminders.recover(utcnow(), self.messenger.recognising_repeats())
        if again:
            log.info("%s reminder(s) were cut off by the last stop before they were sent; sending now", again)
        if uncertain:
            log.warning("%s reminder(s) were being sent when the last process stopped; they most likely "
                        "arrived and are not sent again (state 'uncertain')", uncertain)
        self.scheduler.start()
        await self.arm()
        self.scheduler.every("reminders-arm", self.settings.reminders.horizon / 2, self.arm)

    async def arm(self) -> None:
        """One job per pending row due within the horizon (overdue ones fire at once)."""
        until = utcnow() + self.settings.reminders.horizon
        for reminder_id, due_at in await self.store.reminders.due_before(until):
            self.scheduler.at(f"reminder-{reminder_id}", due_at, self.fire, reminder_id)

    async def stop(self, grace: float = 10.0) -> None:
        """Let reminders being sent finish (so they are marked sent, not sent again after the
        restart); start no new ones."""
        self._stopping = True
        if self._sending:
            await asyncio.wait(set(self._sending), timeout=grace)

    async def fire_due(self, now: datetime | None = None) -> None:
        """Send everything due by now, and wait for what the scheduler sends meanwhile (tests call
        this after moving the clock; the scheduler would send the same rows by itself)."""
        for reminder_id, _ in await self.store.reminders.due_before(now or utcnow()):
            await self.fire(reminder_id)
        await self.scheduler.settle()

    # -- one reminder ---------------------------------------------------------------------------
    async def fire(self, reminder_id: int) -> None:
        if self._stopping:
            return
        task = asyncio.current_task()
        assert task is not None
        self._sending.add(task)
        try:
            async with self._one_at_a_time:
                await self._fire(reminder_id)
        finally:
            self._sending.discard(task)

    async def _fire(self, reminder_id: int) -> None:
        store, now = self.store, utcnow()
        async with store.transaction():
            reminder = await store.reminders.claim(reminder_id, now)
        if reminder is None:
            return  # sent by someone else, not due, or its appointment is gone
        faults.point("reminder-claimed")
        request = await store.requests.get(reminder.request_id)
        person = (await store.newcomer_of(request) if request is not None and reminder.person_id == request.person_id
                  else await store.people.get(reminder.person_id))
        if person is None or request is None or await self._stale(reminder, now):
            await store.reminders.finish(reminder.id, "skipped", now)
            return
        if reminder.kind == BEFORE:
            message = await self.notifier.reminder(person, reminder, request, await self._asks(reminder))
        else:
            message = await self.notifier.followup(person, reminder, request)
        await store.reminders.sending(reminder.id)
        faults.point("reminder-sending")
        try:
            await self.messenger.deliver(person, message)
        except RecipientUnreachable:
            await store.reminders.finish(reminder.id, "failed", utcnow())
            return
        except DeliveryUncertain:
            await store.reminders.finish(reminder.id, "uncertain", utcnow())
            return
        except DeliveryError as exc:
            await self._retry(reminder, exc)
            return
        faults.point("reminder-delivered")
        await store.reminders.finish(reminder.id, "sent", utcnow())

    async def _stale(self, reminder: Reminder, now: datetime) -> bool:
        if reminder.kind == FOLLOWUP:
            return now > reminder.due_at + self.settings.reminders.followup_expiry
        return now >= reminder.starts_at or await self.store.reminders.closer_one_due(reminder, now)

    async def _asks(self, reminder: Reminder) -> bool:
        """The newcomer's first reminder asks whether the appointment is still needed."""
        if reminder.to_guide:
            return False
        rows = await self.store.reminders.of_assignment(reminder.assignment_id)
        offsets = [offset for person, kind, offset, _ in rows if person == reminder.person_id and kind == BEFORE]
        return reminder.offset_minutes == max(offsets)

    async def _retry(self, reminder: Reminder, exc: Exception) -> None:
        now = utcnow()
        if reminder.attempts >= self.settings.reminders.max_attempts:
            log.warning("reminder %s given up after %s attempts: %s", reminder.id, reminder.attempts, exc)
            await self.store.reminders.finish(reminder.id, "failed", now)
            return
        when = now + self.settings.reminders.retry_after
        log.info("reminder %s not delivered (%s); again at %s", reminder.id, exc, when)
        await self.store.reminders.retry_later(reminder.id, when)
        self.scheduler.at(f"reminder-{reminder.id}", when, self.fire, reminder.id)
