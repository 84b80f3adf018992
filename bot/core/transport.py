"""The Transport protocol: the only thing the core knows about a platform."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from bot.core.types import Event, Message

class Receiver(Protocol):
    """Where a transport hands what people did (bot.core.inbox.Inbox)."""

    async def __call__(self, event: Event) -> None:
        """Store `event`, handle it, and return when it was handled (the terminal, tests)."""

    async def record(self, events: Sequence[Event]) -> list[asyncio.Future[None]]:
        """Store `events` durably and return at once (handling follows): only after this returns
        may a transport acknowledge them to its platform."""




class StartupError(Exception):
    """A transport cannot start (e.g. the platform refused the token): one line for the operator."""


class DeliveryError(Exception):
    """A message could not be delivered (after the transport's own retries)."""


class RecipientUnreachable(DeliveryError):
    """The person cannot be reached at all (e.g. blocked the bot): do not retry."""


class DeliveryUncertain(DeliveryError):
    """The message may or may not have arrived (the platform did not answer in time)."""


class TemporaryFailure(DeliveryError):
    """Trying again later may work (network error, server error)."""


class RateLimited(TemporaryFailure):
    """The platform asks to send nothing for `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Traits:
    """What a transport's platform is like, declared by the transport (bot/transports/) and read
    by the core and the services, which never name a platform themselves."""

    display_name: str                # as people read it (previews, statistics)
    translate_name: bool = False     # display_name is a msgid (a word such as "Terminal"), not a brand name
    native_buttons: bool = True      # False: buttons are shown as a numbered list to reply to
    recognises_repeats: bool = False  # a Message sent again with the same key arrives once
    max_text: int = 4096             # the longest text one message may carry
    rate: float | None = None        # broadcasts: messages per second over all chats (None: no limit)
    per_chat_interval: float = 0.0   # broadcasts: seconds between two messages to one chat
    rate_capped: bool = True         # people on it are held to [bot] rate_limit (not the terminal)


@runtime_checkable
class Transport(Protocol):
    platform: str
    command_prefix: str
    traits: Traits

    async def start(self, receiver: Receiver) -> None:
        """Begin receiving; every incoming event goes to `receiver` (the inbox)."""

    async def stop_receiving(self) -> None:
        """Take no more updates (the first step of a clean stop); sending still works."""

    async def stop(self) -> None:
        """Stop receiving and release resources."""

    async def wait_done(self) -> None:
        """Return when the transport has nothing more to do (the terminal: end of input).

        Network transports never finish on their own; they return only after stop().
        """

    async def send(self, chat_id: str, message: Message) -> str | None:
        """Deliver `message`; return the platform's message id (for later edits) if any."""

    async def edit(self, chat_id: str, message_id: str, message: Message) -> None:
        """Replace a sent message's text and buttons."""


@dataclass(frozen=True)
class CommandMenu:
    """The commands a platform shows in its menu: for one language (None: everyone else) and
    either every private chat (chat_id None) or one chat (a coordinator's longer list)."""

    language: str | None
    chat_id: str | None
    commands: tuple[tuple[str, str], ...]  # (name, translated description)


@runtime_checkable
class HasCommandMenus(Protocol):
    async def set_command_menus(self, menus: list[CommandMenu]) -> None:
        """Publish command menus (platforms without menus do not implement this)."""


@runtime_checkable
class NeedsState(Protocol):
    def use_state(self, state: Any) -> None:
        """Receive a key/value store for state that must survive restarts (e.g. a sync token)."""


@runtime_checkable
class SendsOnce(Protocol):
    async def send_once(self, chat_id: str, text: str) -> str | None:
        """One attempt to send a plain text, with no waiting or retrying of its own: raises
        RateLimited, TemporaryFailure (surely not sent), DeliveryUncertain (perhaps sent: a timeout),
        RecipientUnreachable or DeliveryError, so the caller (the broadcast sender) owns the pace and
        the retry policy.  Returns the message id."""


@runtime_checkable
class FetchesFiles(Protocol):
    async def fetch(self, ref: str, limit: int) -> bytes:
        """The bytes of a file a person sent (Event.file); DeliveryError if it cannot be had or is
        larger than `limit` bytes.  Platforms people cannot send files on do not implement this."""


@runtime_checkable
class ClearsButtons(Protocol):
    async def clear_buttons(self, chat_id: str, message_id: str) -> None:
        """Remove the buttons under a sent message (after one of them was used)."""
