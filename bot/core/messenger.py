"""Sends Messages to people through whichever transport serves their platform."""

from __future__ import annotations

import logging

from bot.core.transport import ClearsButtons, FetchesFiles, DeliveryError, RecipientUnreachable, Traits, Transport
from bot.core.types import Message
from bot.store import Store
from bot.clock import utcnow
from bot.store.store import Person

log = logging.getLogger(__name__)


class Messenger:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.transports: dict[str, Transport] = {}

    def add(self, transport: Transport) -> None:
        self.transports[transport.platform] = transport

    def recognising_repeats(self) -> set[str]:
        """Platforms whose transport delivers a Message sent again with the same key only once."""
        return {p for p, t in self.transports.items() if t.traits.recognises_repeats}

    def traits(self, platform: str) -> Traits | None:
        transport = self.transports.get(platform)
        return transport.traits if transport is not None else None

    def command(self, person: Person, name: str) -> str:
        """A command as `person` types it on their platform ("/help", "!help"): the one place
        that knows each transport's prefix."""
        transport = self.transports.get(person.platform)
        return f"{transport.command_prefix if transport else '/'}{name}"

    async def send(self, person: Person, message: Message) -> str | None:
        """Deliver to `person`; a person who blocked the bot is marked unreachable, not retried.

        Returns the message id, or None when it could not be delivered.
        """
        try:
            return await self.deliver(person, message)
        except DeliveryError as exc:
            log.warning("delivery to person %s failed: %s", person.id, exc)
        return None

    async def deliver(self, person: Person, message: Message) -> str | None:
        """Like send(), but a failure raises: RecipientUnreachable (also marked on the person) or
        DeliveryError (worth another try later).  For senders that keep their own state."""
        transport = self.transports.get(person.platform)
        if transport is None:
            raise DeliveryError(f"no transport for platform {person.platform}")
        try:
            return await transport.send(person.chat_id, message)
        except RecipientUnreachable:
            log.info("person %s is unreachable on %s", person.id, person.platform)
            await self.store.people.mark_unreachable(person.id, utcnow())
            raise

    async def edit(self, person: Person, message_id: str, message: Message) -> None:
        transport = self.transports.get(person.platform)
        if transport is None:
            return
        try:
            await transport.edit(person.chat_id, message_id, message)
        except DeliveryError as exc:
            log.info("edit for person %s failed: %s", person.id, exc)

    async def fetch(self, platform: str, ref: str, limit: int) -> bytes:
        """A file a person sent on `platform` (Event.file); DeliveryError if it cannot be had."""
        transport = self.transports.get(platform)
        if not isinstance(transport, FetchesFiles):
            raise DeliveryError(f"{platform} cannot fetch files")
        return await transport.fetch(ref, limit)

    async def clear_buttons(self, person: Person, message_id: str) -> None:
        """Take the buttons off a message whose choice was made (where the platform can)."""
        transport = self.transports.get(person.platform)
        if not isinstance(transport, ClearsButtons):
            return
        try:
            await transport.clear_buttons(person.chat_id, message_id)
        except DeliveryError as exc:
            log.info("clearing buttons for person %s failed: %s", person.id, exc)
