"""Wiring: store, catalogs, router and handlers, messenger, transports; start and stop."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta

from bot.config import Settings
from bot.core.context import Services
from bot.core.i18n import Catalogs
from bot.core.inbox import Inbox, RateCap
from bot.core.messenger import Messenger
from bot.core.router import Router
from bot.vocabulary import COORDINATOR, EVERYONE, GUIDE, NEWCOMER
from bot.core.transport import CommandMenu, HasCommandMenus, NeedsState, Transport
from bot.store import Store
from bot.clock import utcnow
from bot.services.broadcast import BroadcastSender
from bot.services.dispatch import Dispatch
from bot.services.reminders import ReminderService
from bot.services import retention
from bot.services.scheduler import Scheduler
from handlers import COMMANDS, register_all
from handlers.broadcast import BroadcastNotices
from handlers.offers import OfferTexts
from handlers.privacy import RetentionTexts
from handlers.relay import RelayTexts
from handlers.reminders import ReminderTexts

log = logging.getLogger(__name__)


class App:
    def __init__(self, settings: Settings, transports: list[Transport]) -> None:
        self.settings = settings
        self.transports = transports
        self.store: Store | None = None
        self.router: Router | None = None
        self.dispatch: Dispatch | None = None
        self.reminders: ReminderService | None = None
        self.scheduler = Scheduler()
        self.broadcast: BroadcastSender | None = None
        self.inbox: Inbox | None = None
        self.services: Services | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        settings = self.settings
        self.store = await Store.open(settings.database.path)
        await self.store.prune(utcnow(), keep=retention.event_keep(settings),
                               keep_tokens=retention.token_keep(settings))
        catalogs = Catalogs(settings.bot.languages, settings.bot.default_language, settings.zone,
                            region=settings.bot.region)
        messenger = Messenger(self.store)
        services = self.services = Services(settings, self.store, catalogs, messenger)
        services.retention_texts = RetentionTexts(services)
        self.router = Router(services, COMMANDS)
        register_all(self.router)
        self.scheduler = Scheduler()
        self.reminders = services.reminders = ReminderService(self.store, settings, ReminderTexts(services),
                                                              self.scheduler, messenger)
        self.dispatch = services.dispatch = Dispatch(self.store, settings, OfferTexts(services), messenger, self.scheduler,
                                                     on_assigned=[self.reminders.on_assigned])
        self.broadcast = services.broadcast = BroadcastSender(self.store, settings, messenger,
                                                              BroadcastNotices(services))
        for transport in self.transports:
            messenger.add(transport)
            if isinstance(transport, NeedsState):
                transport.use_state(self.store.transport_state(transport.platform))
        bot = settings.bot
        self.inbox = Inbox(self.store, self.router.handle, workers=bot.workers,
                           rate_cap=RateCap(bot.rate_limit, bot.rate_window),
                           uncapped=frozenset(t.platform for t in self.transports if not t.traits.rate_capped),
                           resend=self.router.send_stored)
        # What the last process stored but did not handle (or answer) is queued first; the workers
        # begin once every transport can send (what arrives meanwhile queues up behind it).
        await self.inbox.start(work=False)
        started: list[Transport] = []
        try:
            for transport in self.transports:
                await transport.start(self.inbox)
                started.append(transport)
            self.inbox.work()
        except BaseException:
            for transport in reversed(started):
                await transport.stop()
            await self.inbox.close(timeout=0)
            await self.store.close()
            raise
        self.scheduler.start()
        self.scheduler.every("prune", timedelta(hours=6), self._prune)
        # Retention once a day of the clock: a day after the last run, which the database keeps, so
        # restarts more often than daily do not postpone it for ever; the first a day after the first
        # start (a test's clock decides when the day has passed).
        last = await self.store.privacy.last_purge()
        if last is None or last > utcnow():  # a new database (or a clock set back): the day starts now
            last = utcnow()
            await self.store.privacy.purged(last)
        self.scheduler.at("retention", last + timedelta(days=1), self._retention)
        await self.dispatch.resume()
        await self.reminders.resume()
        await self.broadcast.resume()
        await RelayTexts(self.services).resume()
        for transport in self.transports:
            if isinstance(transport, HasCommandMenus):
                try:
                    await transport.set_command_menus(await self.command_menus(transport.platform, catalogs))
                except Exception:
                    log.exception("publishing the command menu on %s failed", transport.platform)

    async def command_menus(self, platform: str, catalogs: Catalogs) -> list[CommandMenu]:
        """Per language the commands everybody may use, and per coordinator the longer list."""
        assert self.router is not None and self.store is not None
        public = self.router.available(audiences={EVERYONE, NEWCOMER, GUIDE})
        full = self.router.available(audiences={EVERYONE, NEWCOMER, GUIDE, COORDINATOR})

        def entries(specs, language):  # noqa: ANN001, ANN202
            i18n = catalogs.get(language)
            return tuple((spec.name, i18n.gettext(spec.description)) for spec in specs)

        menus = [CommandMenu(None, None, entries(public, catalogs.default))]
        menus += [CommandMenu(lang, None, entries(public, lang)) for lang in catalogs.languages]
        for entry in self.settings.roles.coordinators:
            coordinator_platform, _, user_id = entry.partition(":")
            if coordinator_platform != platform:
                continue
            person = await self.store.people.find(platform, user_id)
            chat_id = person.chat_id if person else user_id
            menus.append(CommandMenu(None, chat_id, entries(full, person.language if person else None)))
        return menus

    async def stop(self) -> None:
        """A clean stop: take no more updates; handle those taken and send their replies; let
        reminders and broadcasts being sent finish; then close the transports and the database."""
        for transport in self.transports:
            try:
                await transport.stop_receiving()
            except Exception:
                log.exception("stopping to receive on %s failed", transport.platform)
        if self.inbox is not None:
            await self.inbox.close(timeout=self.settings.bot.stop_timeout.total_seconds())
        # Reminders being sent finish first: stopping the scheduler cancels the jobs it runs.
        if self.reminders is not None:
            await self.reminders.stop()
        if self.broadcast is not None:
            await self.broadcast.stop()
        await self.scheduler.stop()
        if self.dispatch is not None:
            await self.dispatch.stop()
        for transport in reversed(self.transports):
            try:
                await transport.stop()
            except Exception:
                log.exception("stopping %s failed", transport.platform)
        if self.store is not None:
            await self.store.close()
            self.store = None

    def request_stop(self) -> None:
        self._stopping.set()

    async def _prune(self) -> None:
        """Forget old de-duplication ids and old button tokens (every 6 hours of the clock)."""
        if self.store is not None:
            await self.store.prune(utcnow(), keep=retention.event_keep(self.settings),
                                   keep_tokens=retention.token_keep(self.settings))

    async def _retention(self) -> None:
        """Apply the retention rules of [privacy] (every day of the clock): bot/services/retention.py."""
        if self.services is None or self.store is None:
            return
        now = utcnow()
        try:
            await retention.purge(self.services, now)
        finally:
            await self.store.privacy.purged(now)
            self.scheduler.at("retention", now + timedelta(days=1), self._retention)

    async def run(self) -> None:
        """Start, serve until a signal or until every transport is done, then stop cleanly."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self.request_stop)
            except (NotImplementedError, RuntimeError):
                pass
        await self.start()
        try:
            waiters = [asyncio.create_task(t.wait_done()) for t in self.transports]
            stopper = asyncio.create_task(self._stopping.wait())
            all_done = asyncio.gather(*waiters)
            await asyncio.wait([stopper, all_done], return_when=asyncio.FIRST_COMPLETED)
            for task in (stopper, all_done):
                task.cancel()
            # Collect the cancellations (else asyncio logs "exception was never retrieved").
            await asyncio.gather(stopper, all_done, return_exceptions=True)
        finally:
            await self.stop()
