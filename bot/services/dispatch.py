"""Dispatch: a confirmed request finds a guide by itself.

- A wave offers the request to the `[matching] wave_size` best-ranked eligible guides not asked
  before.  Offers expire after `[matching] offer_timeout`, shorter when the appointment is near
  (a quarter of the time left, at least 15 minutes).
- The first accept wins: `Bookings.claim` moves the request from open to matched with one
  conditional UPDATE inside a transaction (and a unique index allows one active assignment per
  request), so two taps at the same moment can never book two guides.  The other offers are
  closed as "taken" and their messages edited.
- A decline, or the last open offer of a wave expiring, opens the next wave.  When nobody is left,
  or the appointment is closer than `[matching] escalate_before`, every coordinator gets the
  request with the ranked list and its explanations, and the newcomer hears that a coordinator
  helps.
- A coordinator may assign any approved guide by hand: one matching finds eligible is booked at
  once (`assign_by_hand`); one it did not offer the request to gets it as an offer, after the
  coordinator confirmed (`offer_by_hand`) — the guide still accepts or declines, and a decline is
  reported to that coordinator.
- A guide who cancels (`guide_cancelled`) is never offered that request again (matching's
  "cancelled" exclusion); the coordinators are told.
- A guide who ends a pause (`guide_returned`) gets the requests still waiting that they fit: each
  such request without a wave out gets its next wave, with this guide in it.
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
from bot.core.messenger import Messenger
from bot.core.transport import DeliveryError, DeliveryUncertain
from bot.core.types import Message
from bot import faults
from bot.services.coordinators import coordinator_people
from bot.services import programme as money
from bot.services.matching import Evaluation, Need, rank
from bot.services.scheduler import Scheduler
from bot.store import Store
from bot.clock import utcnow
from bot.store.bookings import Offer
from bot.store.requests import Request
from bot.store.store import Person

log = logging.getLogger(__name__)

MIN_OFFER_TIME = timedelta(minutes=15)


class Notifier(Protocol):
    async def offer(self, guide: Person, offer_id: int, request: Request) -> Message: ...
    async def offer_closed(self, guide: Person, offer: Offer, request: Request, why: str) -> None: ...
    async def matched(self, newcomer: Person, guide: Person, request: Request) -> None: ...
    async def assigned(self, guide: Person, newcomer: Person, request: Request) -> None: ...
    async def escalated(self, coordinators: list[Person], request: Request, ranked: list[Any]) -> None: ...
    async def cap_warning(self, guide: Person, coordinators: list[Person], account: Any, level: float) -> None: ...
    async def declined_by_hand(self, coordinator: Person, guide: Person, request: Request) -> None: ...
    async def still_searching(self, newcomer: Person, request: Request, refer: bool) -> None: ...
    async def cancelled_by_newcomer(self, guide: Person, newcomer: Person, request: Request) -> None: ...
    async def cancelled_by_guide(self, newcomer: Person, guide: Person, request: Request) -> None: ...
    async def guide_withdrew(self, coordinators: list[Person], guide: Person, request: Request) -> None: ...


@dataclass(frozen=True)
class Outcome:
    """What happened to a guide's answer (the handler phrases it)."""

    code: str  # accepted, already (this guide accepted before), taken, expired, declined, gone, refused,
    #            asked (offer_by_hand: the offer is out)
    request: Request | None = None
    reason: str | None = None  # refused: the guide's standing (bot/services/authority.py)


@dataclass(frozen=True)
class Wave:
    """A wave written to the database and not sent yet (plan_wave → send_wave)."""

    request: Request
    need: Any
    offers: list[int]
    expires: datetime
    escalate: bool


class Dispatch:
    def __init__(self, store: Store, settings: Settings, notifier: Notifier, messenger: Messenger,
                 scheduler: Scheduler | None = None,
                 on_assigned: list[Callable[[int, int, Request], Awaitable[None]]] | None = None) -> None:
        self.store = store
        self.settings = settings
        self.notifier = notifier
        self.messenger = messenger
        self._own_scheduler = scheduler is None
        self.scheduler = scheduler or Scheduler()
        # Called inside the transaction that books a guide, with the new assignment's id and the
        # guide's (reminders are planned there, so a booking never exists without them).
        self.on_assigned = on_assigned if on_assigned is not None else []
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- life cycle -------------------------------------------------------------------------------
    async def resume(self) -> None:
        """At start: settle offer messages a crash cut off (see _send_offer), expire what fell due
        while Lotse was down, re-arm the rest, send offers whose message never left, and restart
        requests that are open but have no offer out."""
        self.scheduler.start()
        again, uncertain = await self.store.bookings.recover_notifying(self.messenger.recognising_repeats())
        if uncertain:
            log.warning("%s offer message(s) were leaving when the last process stopped; they most likely "
                        "arrived and are not sent again", uncertain)
        await self.expire_due()
        for offer in await self.store.bookings.open_offers():
            self._arm(offer.id, offer.expires_at)
        unsent = await self.store.bookings.unsent_offers()
        if unsent:
            self._spawn(self._send_offers(unsent))
        for request_id in await self.store.bookings.waiting_for_a_wave(utcnow()):
            self.kick(request_id)

    async def _send_offers(self, offers: list[tuple[int, int]]) -> None:
        for offer_id, request_id in offers:
            request = await self.store.requests.get(request_id)
            if request is not None:
                await self._send_offer(offer_id, request)

    async def stop(self, grace: float = 10.0) -> None:
        """Let waves being sent finish (up to `grace` seconds), then cancel what is left."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=grace)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._own_scheduler:
            await self.scheduler.stop()

    def kick(self, request_id: int) -> None:
        """Run a wave for `request_id` soon, in a task of its own (its transaction is its own: a
        task never joins the transaction of the code that started it, see bot/store/db.py)."""
        self._spawn(self.run_wave(request_id))

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(self._guarded(work))
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
    async def run_wave(self, request_id: int, including: int | None = None) -> None:
        """Plan the next wave in a transaction of its own, then send it."""
        wave = await self.plan_wave(request_id, including)
        if wave is not None:
            await self.send_wave(wave)

    async def plan_wave(self, request_id: int, including: int | None = None) -> Wave | None:
        """The database half of a wave: choose the guides, write their offers, mark an escalation.
        Called inside a transaction (the newcomer's, when a request is confirmed: request and first
        offers commit together), or in one of its own.  Nothing is sent here: send_wave() after
        the commit.  `including`: a guide who is part of this wave if matching finds them eligible
        and they were not asked before, even beyond the wave size (a guide back from a pause)."""
        store, settings, now = self.store, self.settings, utcnow()
        async with store.transaction():
            request = await store.requests.get(request_id)
            if request is None or request.state != "open" or request.starts_at <= now:
                return None
            if await store.bookings.open_offers(request_id):
                return None  # a wave is still out
            need = await store.matching.need(request_id)
            ranked = await self.ranking(need)
            asked = await store.bookings.offered_guides(request_id)
            fitting = [e for e in ranked if e.eligible and e.guide_id not in asked]
            chosen = fitting[:settings.matching.wave_size]
            chosen += [e for e in fitting[settings.matching.wave_size:] if e.guide_id == including]
            near = request.starts_at - now < settings.matching.escalate_before
            escalate = False
            if not chosen or near:
                escalate = await store.bookings.mark_escalated(request_id, now)
            number = await store.bookings.next_wave(request_id)
            expires = now + self.offer_time(request.starts_at, now)
            offers = [await store.bookings.add_offer(request_id, e.guide_id, number, now, expires) for e in chosen]
        return Wave(request, need, offers, expires, escalate)

    async def send_wave(self, wave: Wave, newcomer_told: bool = False) -> None:
        """The messages of a planned wave, after its transaction committed.  `newcomer_told`: the
        newcomer has just read that Lotse is looking (the confirmation) — no "still looking" in the
        same second; the coordinators are alerted all the same."""
        faults.point("wave-planned")
        for offer_id in wave.offers:
            await self._send_offer(offer_id, wave.request)
            self._arm(offer_id, wave.expires)
        if wave.escalate:
            store, settings = self.store, self.settings
            everyone = await self.ranking(wave.need, prefilter=False)
            await self.notifier.escalated(await coordinator_people(store, settings), wave.request, everyone)
            newcomer = None if newcomer_told else await store.newcomer_of(wave.request)
            if newcomer is not None:
                refer = bool(settings.referral.name) and await store.requests.mark_referred(wave.request.id, utcnow())
                await self.notifier.still_searching(newcomer, wave.request, refer)

    async def _send_offer(self, offer_id: int, request: Request) -> None:
        """One offer message, at most once on platforms that cannot recognise a repeat: the row is
        marked 'sending' before the message leaves (a crash then leaves it 'uncertain', see resume)."""
        store = self.store
        offer = await store.bookings.offer(offer_id)
        guide = None if offer is None else await store.people.get(offer.guide_id)
        if offer is None or guide is None or not await store.bookings.notifying(offer_id):
            return  # gone, or someone else is sending it
        message = await self.notifier.offer(guide, offer_id, request)
        faults.point("offer-sending")
        try:
            message_id = await self.messenger.deliver(guide, message)
        except DeliveryUncertain as exc:
            log.warning("offer %s may not have arrived (%s); not sent again", offer_id, exc)
            await store.bookings.notified(offer_id, "uncertain", None)
            return
        except DeliveryError as exc:
            log.info("offer %s not delivered: %s", offer_id, exc)
            await store.bookings.notified(offer_id, "failed", None)
            return
        faults.point("offer-delivered")
        await store.bookings.notified(offer_id, "sent", message_id)

    async def guide_returned(self, guide_id: int) -> list[int]:
        """A guide ended their pause: each upcoming request still waiting for a guide, with no wave
        out, that this guide fits gets its next wave now, with them in it.  "Fits" is matching's
        word (eligible), which also keeps out a guide who declined the request, let an offer of it
        expire or cancelled it after taking it on; a guide asked before (plan_wave's `asked`) is not
        asked again.  A request whose wave is still out reaches them with its next wave.  Returns
        the requests planned."""
        store = self.store
        planned = []
        for request_id in await store.bookings.open_requests(utcnow()):
            if await store.bookings.open_offers(request_id) or guide_id in await store.bookings.offered_guides(
                    request_id):
                continue
            evaluation = await self.judge(request_id, guide_id)
            if evaluation is None or not evaluation.eligible:
                continue
            planned.append(request_id)
            await self.run_wave(request_id, including=guide_id)
        return planned

    # -- answers --------------------------------------------------------------------------------
    async def accept(self, guide: Person, offer_id: int) -> Outcome:
        store, now = self.store, utcnow()
        async with store.transaction():
            offer = await store.bookings.offer(offer_id)
            if offer is None or offer.guide_id != guide.id:
                return Outcome("gone")
            request = await store.requests.get(offer.request_id)
            if offer.state != "open" or request is None:
                return Outcome(await self._closed_code(offer), request)
            refusal = await self._standing(guide.id, request)
            if refusal is not None:  # suspended or paused since the offer went out: the offer stays open
                return Outcome("refused", request, refusal)
            assignment_id = await store.bookings.claim(offer.request_id, guide.id, now, offer_id=offer_id,
                                                       by=offer.asked_by)
            if assignment_id is None:
                await store.bookings.close_offer(offer_id, "taken", now)
                return Outcome("taken", request)
            await self._booked(assignment_id, guide.id, request)
            others = await store.bookings.close_all(offer.request_id, "taken", now)
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
            assignment_id = None if request is None or guide is None else await store.bookings.claim(
                request_id, guide_id, now, by=coordinator.id)
            if assignment_id is None:
                return Outcome("taken", request)
            assert request is not None and guide is not None
            await self._booked(assignment_id, guide_id, request)
            others = await store.bookings.close_all(request_id, "taken", now)
        await self._after_match(request, guide, others)
        return Outcome("accepted", request)

    async def ranking(self, need: Need, prefilter: bool = True) -> list[Evaluation]:
        """The guides for `need`, judged and ordered (bot.services.matching.rank) under the
        programme's caps; without `prefilter` every guide, for a coordinator's "why not"."""
        settings = self.settings
        candidates = await self.store.matching.candidates(need, settings.zone, prefilter=prefilter,
                                                          programme=settings.programme)
        return rank(need, candidates, settings.matching.weights, settings.zone, settings.matching.travel_buffer,
                    settings.programme)

    async def judge(self, request_id: int, guide_id: int) -> Evaluation | None:
        """How matching sees this guide for this request now: eligible, or why not (None: the
        request or the guide is gone)."""
        need = await self.store.matching.need(request_id)
        if need is None:
            return None
        ranked = await self.ranking(need, prefilter=False)
        return next((e for e in ranked if e.guide_id == guide_id), None)

    async def refusal(self, request_id: int, guide_id: int) -> str | None:
        """Why this guide may not take on this request now (paused that day, suspended, not
        approved — bot/services/authority.py), or None."""
        request = await self.store.requests.get(request_id)
        return None if request is None else await self._standing(guide_id, request)

    async def offer_by_hand(self, coordinator: Person, request_id: int, guide_id: int) -> Outcome:
        """A coordinator asks a guide matching did not offer the request to (confirmed after reading
        why): an offer like a wave's, naming the coordinator — the guide accepts or declines, the
        newcomer hears only of an accept.  "asked" (also when this guide's offer is out already),
        "refused" (the guide's standing), or "taken" (the request is not open any more)."""
        store, now = self.store, utcnow()
        async with store.transaction():
            request = await store.requests.get(request_id)
            guide = await store.people.get(guide_id)
            if request is None or guide is None or request.state != "open" or request.starts_at <= now:
                return Outcome("taken", request)
            refusal = await self._standing(guide_id, request)
            if refusal is not None:
                return Outcome("refused", request, refusal)
            if any(o.guide_id == guide_id for o in await store.bookings.open_offers(request_id)):
                return Outcome("asked", request)
            expires = now + self.offer_time(request.starts_at, now)
            offer_id = await store.bookings.add_offer(request_id, guide_id, await store.bookings.next_wave(request_id),
                                                      now, expires, asked_by=coordinator.id)
        await self._send_offer(offer_id, request)
        self._arm(offer_id, expires)
        return Outcome("asked", request)

    async def _standing(self, guide_id: int, request: Request) -> str | None:
        """May this guide take on `request` now?  Asked inside the booking transaction."""
        day = request.starts_at.astimezone(self.settings.zone).date()
        return standing(await self.store.guides.get(guide_id), TAKE_ON, day)

    async def _booked(self, assignment_id: int, guide_id: int, request: Request) -> None:
        for listener in self.on_assigned:
            await listener(assignment_id, guide_id, request)

    async def warn_caps(self, guide: Person, when: datetime) -> None:
        """Tell the guide and the coordinators when the guide's hours in `when`'s year newly reach
        a [programme] warn_at share of the yearly cap (after a booking or a change of hours)."""
        settings = self.settings
        year = when.astimezone(settings.zone).year
        found = await money.new_warning(self.store, settings.programme, settings.zone, guide.id, year, utcnow())
        if found is not None:
            await self.notifier.cap_warning(guide, await coordinator_people(self.store, settings), *found)

    async def _after_match(self, request: Request, guide: Person, others: list[Offer]) -> None:
        for offer in others:
            other = await self.store.people.get(offer.guide_id)
            if other is not None:
                await self.notifier.offer_closed(other, offer, request, "taken")
        newcomer = await self.store.newcomer_of(request)
        if newcomer is not None:
            await self.notifier.assigned(guide, newcomer, request)
            await self.notifier.matched(newcomer, guide, request)
        await self.warn_caps(guide, request.starts_at)

    async def decline(self, guide: Person, offer_id: int, reason: str | None = None) -> Outcome:
        offer = await self.store.bookings.offer(offer_id)
        if offer is None or offer.guide_id != guide.id:
            return Outcome("gone")
        request = await self.store.requests.get(offer.request_id)
        if not await self.store.bookings.close_offer(offer_id, "declined", utcnow(), reason):
            return Outcome(await self._closed_code(await self.store.bookings.offer(offer_id) or offer), request)
        coordinator = None if offer.asked_by is None else await self.store.people.get(offer.asked_by)
        if coordinator is not None and request is not None:
            await self.notifier.declined_by_hand(coordinator, guide, request)
        if not await self.store.bookings.open_offers(offer.request_id):
            self.kick(offer.request_id)
        return Outcome("declined", request)

    async def _closed_code(self, offer: Offer) -> str:
        """Why an answer to a closed offer changes nothing: the guide holds this appointment already
        (a second tap), someone else took it, or it ran out / was withdrawn."""
        if offer.state == "accepted":
            assignment = await self.store.bookings.active_assignment(offer.request_id)
            if assignment is not None and assignment.guide_id == offer.guide_id:
                return "already"
        return "taken" if offer.state == "taken" else "expired"

    async def expire_due(self, now: datetime | None = None) -> None:
        now = now or utcnow()
        waves: set[int] = set()
        for offer in await self.store.bookings.open_offers():
            if offer.expires_at > now:
                continue
            if await self.store.bookings.close_offer(offer.id, "expired", now):
                request = await self.store.requests.get(offer.request_id)
                guide = await self.store.people.get(offer.guide_id)
                if guide is not None and request is not None:
                    await self.notifier.offer_closed(guide, offer, request, "expired")
                waves.add(offer.request_id)
        for request_id in waves:
            if not await self.store.bookings.open_offers(request_id):
                self.kick(request_id)

    # -- cancellations ----------------------------------------------------------------------------
    async def request_cancelled(self, request: Request) -> None:
        """The newcomer cancelled: withdraw offers, free and tell an assigned guide."""
        now = utcnow()
        for offer in await self.store.bookings.close_all(request.id, "withdrawn", now):
            guide = await self.store.people.get(offer.guide_id)
            if guide is not None:
                await self.notifier.offer_closed(guide, offer, request, "withdrawn")
        assignment = await self.store.bookings.active_assignment(request.id)
        if assignment is not None and await self.store.bookings.end_assignment(assignment.id, "cancelled_by_newcomer",
                                                                                now):
            guide = await self.store.people.get(assignment.guide_id)
            newcomer = await self.store.newcomer_of(request)
            if guide is not None and newcomer is not None:
                await self.notifier.cancelled_by_newcomer(guide, newcomer, request)

    async def guide_cancelled(self, guide: Person, assignment_id: int) -> Request | None:
        """The guide cannot come: the request is open again, the newcomer and the coordinators are
        told, a new wave starts — without this guide (matching excludes a guide who cancelled a
        request from it for good: Need.cancelled)."""
        store, now = self.store, utcnow()
        async with store.transaction():
            request_id = await store.bookings.request_of_assignment(assignment_id, guide.id)
            if request_id is None or not await store.bookings.end_assignment(assignment_id, "cancelled_by_guide", now):
                return None
            await store.bookings.reopen(request_id)
            request = await store.requests.get(request_id)
        assert request is not None
        newcomer = await store.newcomer_of(request)
        if newcomer is not None:
            await self.notifier.cancelled_by_guide(newcomer, guide, request)
        await self.notifier.guide_withdrew(await coordinator_people(store, self.settings), guide, request)
        self.kick(request.id)
        return request
