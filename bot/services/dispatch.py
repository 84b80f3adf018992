"""Dispatch: a confirmed request finds a guide by itself.

- A wave offers the request to the `[matching] wave_size` best-ranked eligible guides not asked
  before.  Offers expire after `[matching] offer_timeout`, shorter when the appointment is near
  (a quarter of the time left, at least 15 minutes).
- The first accept wins: `Dispatches.claim` moves the request from open to matched with one
  conditional UPDATE inside a transaction (and a unique index allows one active assignment per
  request), so two taps at the same moment can never book two guides.  The other offers are
  closed as "taken" and their messages edited.
- A decline, or the last open offer of a wave expiring, opens the next wave.  When nobody is left,
  or the appointment is closer than `[matching] escalate_before`, every coordinator gets the
  request with the ranked list and its explanations, and the newcomer hears that a coordinator
  helps.
- Offer expiries live in the database; a job of the bot's one Scheduler (bot/services/scheduler.py)
  per offer wakes dispatch at the expiry time, and `resume()` at start expires what fell due while Lotse was down and re-arms
  the rest.  Tests call `expire_due()` after moving the clock.

Texts are not written here: a Notifier (handlers/offers.py) phrases every message in its
recipient's language.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from bot.config import Settings
from bot.services.authority import TAKE_ON, standing
from bot.services.coordinators import coordinator_people
from bot.services.matching import rank
from bot.services.scheduler import Scheduler
from bot.store import Store
from bot.clock import utcnow
from bot.store.dispatch import Offer
from bot.store.requests import Request
from bot.store.store import Person

log = logging.getLogger(__name__)

MIN_OFFER_TIME = timedelta(minutes=15)


class Notifier(Protocol):
    async def offer(self, guide: Person, offer_id: int, request: Request) -> str | None: ...
    async def offer_closed(self, guide: Person, offer: Offer, request: Request, why: str) -> None: ...
    async def matched(self, newcomer: Person, guide: Person, request: Request) -> None: ...
    async def assigned(self, guide: Person, newcomer: Person, request: Request) -> None: ...
    async def escalated(self, coordinators: list[Person], request: Request, ranked: list[Any]) -> None: ...
    async def still_searching(self, newcomer: Person, request: Request) -> None: ...
    async def cancelled_by_newcomer(self, guide: Person, newcomer: Person, request: Request) -> None: ...
    async def cancelled_by_guide(self, newcomer: Person, guide: Person, request: Request) -> None: ...


@dataclass(frozen=True)
class Outcome:
    """What happened to a guide's answer (the handler phrases it)."""

    code: str  # accepted, already (this guide accepted before), taken, expired, declined, gone, refused
    request: Request | None = None
    reason: str | None = None  # refused: the guide's standing (bot/services/authority.py)


class Dispatch:
    def __init__(self, store: Store, settings: Settings, notifier: Notifier, scheduler: Scheduler | None = None,
                 on_assigned: list[Callable[[int, int, Request], Awaitable[None]]] | None = None) -> None:
        self.store = store
        self.settings = settings
        self.notifier = notifier
        self._own_scheduler = scheduler is None
        self.scheduler = scheduler or Scheduler()
        # Called inside the transaction that books a guide, with the new assignment's id and the
        # guide's (reminders are planned there, so a booking never exists without them).
        self.on_assigned = on_assigned if on_assigned is not None else []
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- life cycle -------------------------------------------------------------------------------
    async def resume(self) -> None:
        """At start: expire what fell due while Lotse was down, re-arm the rest, and restart requests
        that are open but have no offer out (e.g. a crash right after they were confirmed)."""
        self.scheduler.start()
        await self.expire_due()
        for offer in await self.store.dispatch.open_offers():
            self._arm(offer.id, offer.expires_at)
        for request_id in await self.store.dispatch.waiting_for_a_wave(utcnow()):
            self.kick(request_id)

    async def stop(self) -> None:
        if self._own_scheduler:
            await self.scheduler.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def kick(self, request_id: int) -> None:
        """Run a wave for `request_id` soon (after the caller's transaction committed)."""
        task = asyncio.create_task(self._guarded(self.run_wave(request_id)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def idle(self) -> None:
        """Wait until every wave started by kick() is done (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _guarded(self, work: Any) -> None:
        try:
            await work
        except Exception:
            log.exception("dispatch failed")

    def _arm(self, offer_id: int, when: datetime) -> None:
        self.scheduler.at(f"offer-{offer_id}", when, self.expire_due)

    def offer_time(self, starts_at: datetime, now: datetime) -> timedelta:
        return min(self.settings.matching.offer_timeout, max(MIN_OFFER_TIME, (starts_at - now) / 4))

    # -- waves ----------------------------------------------------------------------------------
    async def run_wave(self, request_id: int) -> None:
        store, settings, now = self.store, self.settings, utcnow()
        sent: list[tuple[int, int]] = []
        escalate = False
        async with store.transaction():
            request = await store.requests.get(request_id)
            if request is None or request.state != "open" or request.starts_at <= now:
                return
            if await store.dispatch.open_offers(request_id):
                return  # a wave is still out
            need = await store.matching.need(request_id)
            ranked = rank(need, await store.matching.candidates(need, settings.zone), settings.matching.weights,
                          settings.zone, settings.matching.travel_buffer)
            asked = await store.dispatch.offered_guides(request_id)
            chosen = [e for e in ranked if e.eligible and e.guide_id not in asked][:settings.matching.wave_size]
            near = request.starts_at - now < settings.matching.escalate_before
            if not chosen or near:
                escalate = await store.dispatch.mark_escalated(request_id, now)
            wave = await store.dispatch.next_wave(request_id)
            expires = now + self.offer_time(request.starts_at, now)
            for evaluation in chosen:
                sent.append((await store.dispatch.add_offer(request_id, evaluation.guide_id, wave, now, expires),
                             evaluation.guide_id))
        for offer_id, guide_id in sent:
            guide = await store.people.get(guide_id)
            if guide is not None:
                message_id = await self.notifier.offer(guide, offer_id, request)
                await store.dispatch.set_message(offer_id, message_id)
            self._arm(offer_id, expires)
        if escalate:
            full = await store.matching.candidates(need, settings.zone, prefilter=False)
            everyone = rank(need, full, settings.matching.weights, settings.zone, settings.matching.travel_buffer)
            await self.notifier.escalated(await coordinator_people(store, settings), request, everyone)
            newcomer = await store.people.get(request.person_id)
            if newcomer is not None:
                await self.notifier.still_searching(newcomer, request)

    # -- answers --------------------------------------------------------------------------------
    async def accept(self, guide: Person, offer_id: int) -> Outcome:
        store, now = self.store, utcnow()
        async with store.transaction():
            offer = await store.dispatch.offer(offer_id)
            if offer is None or offer.guide_id != guide.id:
                return Outcome("gone")
            request = await store.requests.get(offer.request_id)
            if offer.state != "open" or request is None:
                return Outcome(await self._closed_code(offer), request)
            refusal = await self._standing(guide.id, request)
            if refusal is not None:  # suspended or paused since the offer went out: the offer stays open
                return Outcome("refused", request, refusal)
            assignment_id = await store.dispatch.claim(offer.request_id, guide.id, now, offer_id=offer_id)
            if assignment_id is None:
                await store.dispatch.close_offer(offer_id, "taken", now)
                return Outcome("taken", request)
            await self._booked(assignment_id, guide.id, request)
            others = await store.dispatch.close_all(offer.request_id, "taken", now)
        await self._after_match(request, guide, others)
        return Outcome("accepted", request)

    async def assign_by_hand(self, coordinator: Person, request_id: int, guide_id: int) -> Outcome:
        store, now = self.store, utcnow()
        async with store.transaction():
            request = await store.requests.get(request_id)
            guide = await store.people.get(guide_id)
            if request is not None and guide is not None:
                refusal = await self._standing(guide_id, request)
                if refusal is not None:
                    return Outcome("refused", request, refusal)
            assignment_id = None if request is None or guide is None else await store.dispatch.claim(
                request_id, guide_id, now, by=coordinator.id)
            if assignment_id is None:
                return Outcome("taken", request)
            assert request is not None and guide is not None
            await self._booked(assignment_id, guide_id, request)
            others = await store.dispatch.close_all(request_id, "taken", now)
        await self._after_match(request, guide, others)
        return Outcome("accepted", request)

    async def _standing(self, guide_id: int, request: Request) -> str | None:
        """May this guide take on `request` now?  Asked inside the booking transaction."""
        day = request.starts_at.astimezone(self.settings.zone).date()
        return standing(await self.store.guides.get(guide_id), TAKE_ON, day)

    async def _booked(self, assignment_id: int, guide_id: int, request: Request) -> None:
        for listener in self.on_assigned:
            await listener(assignment_id, guide_id, request)

    async def _after_match(self, request: Request, guide: Person, others: list[Offer]) -> None:
        for offer in others:
            other = await self.store.people.get(offer.guide_id)
            if other is not None:
                await self.notifier.offer_closed(other, offer, request, "taken")
        newcomer = await self.store.people.get(request.person_id)
        if newcomer is not None:
            await self.notifier.assigned(guide, newcomer, request)
            await self.notifier.matched(newcomer, guide, request)

    async def decline(self, guide: Person, offer_id: int, reason: str | None = None) -> Outcome:
        offer = await self.store.dispatch.offer(offer_id)
        if offer is None or offer.guide_id != guide.id:
            return Outcome("gone")
        request = await self.store.requests.get(offer.request_id)
        if not await self.store.dispatch.close_offer(offer_id, "declined", utcnow(), reason):
            return Outcome(await self._closed_code(await self.store.dispatch.offer(offer_id) or offer), request)
        if not await self.store.dispatch.open_offers(offer.request_id):
            self.kick(offer.request_id)
        return Outcome("declined", request)

    async def _closed_code(self, offer: Offer) -> str:
        """Why an answer to a closed offer changes nothing: the guide holds this appointment already
        (a second tap), someone else took it, or it ran out / was withdrawn."""
        if offer.state == "accepted":
            assignment = await self.store.dispatch.active_assignment(offer.request_id)
            if assignment is not None and assignment.guide_id == offer.guide_id:
                return "already"
        return "taken" if offer.state == "taken" else "expired"

    async def expire_due(self, now: datetime | None = None) -> None:
        now = now or utcnow()
        waves: set[int] = set()
        for offer in await self.store.dispatch.open_offers():
            if offer.expires_at > now:
                continue
            if await self.store.dispatch.close_offer(offer.id, "expired", now):
                request = await self.store.requests.get(offer.request_id)
                guide = await self.store.people.get(offer.guide_id)
                if guide is not None and request is not None:
                    await self.notifier.offer_closed(guide, offer, request, "expired")
                waves.add(offer.request_id)
        for request_id in waves:
            if not await self.store.dispatch.open_offers(request_id):
                self.kick(request_id)

    # -- cancellations ----------------------------------------------------------------------------
    async def request_cancelled(self, request: Request) -> None:
        """The newcomer cancelled: withdraw offers, free and tell an assigned guide."""
        now = utcnow()
        for offer in await self.store.dispatch.close_all(request.id, "withdrawn", now):
            guide = await self.store.people.get(offer.guide_id)
            if guide is not None:
                await self.notifier.offer_closed(guide, offer, request, "withdrawn")
        assignment = await self.store.dispatch.active_assignment(request.id)
        if assignment is not None and await self.store.dispatch.end_assignment(assignment.id, "cancelled_by_newcomer",
                                                                                now):
            guide = await self.store.people.get(assignment.guide_id)
            newcomer = await self.store.people.get(request.person_id)
            if guide is not None and newcomer is not None:
                await self.notifier.cancelled_by_newcomer(guide, newcomer, request)

    async def guide_cancelled(self, guide: Person, assignment_id: int) -> Request | None:
        """The guide cannot come: the request is open again, the newcomer is told, a new wave starts."""
        store, now = self.store, utcnow()
        async with store.transaction():
            request_id = await store.dispatch.request_of_assignment(assignment_id, guide.id)
            if request_id is None or not await store.dispatch.end_assignment(assignment_id, "cancelled_by_guide", now):
                return None
            await store.dispatch.reopen(request_id)
            request = await store.requests.get(request_id)
        assert request is not None
        newcomer = await store.people.get(request.person_id)
        if newcomer is not None:
            await self.notifier.cancelled_by_guide(newcomer, guide, request)
        self.kick(request.id)
        return request
