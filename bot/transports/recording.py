"""An in-process transport that records what was sent and lets code speak as people.

Used by the transcript tests and handy for demos: `say`, `command` and `press` build Events
exactly as a platform transport would and await the whole handling, so a test reads what the
bot answered right after each step.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import secrets
from dataclasses import dataclass

from bot.core.transport import DeliveryError, Receiver, RecipientUnreachable, Traits
from bot.core.types import Event, Message, parse_command


@dataclass
class Sent:
    chat_id: str
    message_id: str
    message: Message
    edited: bool = False


class RecordingTransport:
    command_prefix = "/"

    def __init__(self, platform: str = "test", traits: Traits | None = None) -> None:
        self.platform = platform
        self.traits = traits or Traits(platform.capitalize())  # tests may replace it
        self.sent: list[Sent] = []
        self.cleared: list[tuple[str, str]] = []  # (chat, message id) whose buttons were removed
        self.blocked: set[str] = set()
        self.unavailable: set[str] = set()  # chats whose delivery fails for now (a network outage)
        self.files: dict[str, bytes] = {}  # what people sent (Event.file → bytes), for fetch()
        self._hints: dict[str, str | None] = {}  # like a platform's per-user language_code
        self._receiver: Receiver | None = None
        self._ids = itertools.count(1)
        self._events = itertools.count(1)
        self._event_prefix = secrets.token_hex(4)  # event ids stay unique across restarts
        self._done = asyncio.Event()

    # -- Transport ------------------------------------------------------------------------------
    async def start(self, receiver: Receiver) -> None:
        self._receiver = receiver

    async def stop_receiving(self) -> None:
        pass

    async def stop(self) -> None:
        self._done.set()

    async def wait_done(self) -> None:
        await self._done.wait()

    async def send(self, chat_id: str, message: Message) -> str | None:
        if chat_id in self.blocked:
            raise RecipientUnreachable(f"{chat_id} blocked the bot")
        if chat_id in self.unavailable:
            raise DeliveryError(f"{chat_id}: the platform is not answering")
        message_id = str(next(self._ids))
        self.sent.append(Sent(chat_id, message_id, message))
        return message_id

    async def edit(self, chat_id: str, message_id: str, message: Message) -> None:
        self.sent.append(Sent(chat_id, message_id, message, edited=True))

    async def clear_buttons(self, chat_id: str, message_id: str) -> None:
        self.cleared.append((chat_id, message_id))

    async def fetch(self, ref: str, limit: int) -> bytes:
        if ref not in self.files or len(self.files[ref]) > limit:
            raise DeliveryError(f"no file {ref} (or over {limit} bytes)")
        return self.files[ref]

    # -- speaking as a person -------------------------------------------------------------------
    async def say(self, user: str, text: str, *, language: str | None = None, name: str | None = None,
                  event_id: str | None = None) -> list[Message]:
        parsed = parse_command(text, self.command_prefix)
        if parsed:
            kind, command, args = "command", parsed[0], parsed[1]
        else:
            kind, command, args = "text", "", ()
        return await self._deliver(Event(
            self.platform, user, user, kind, text=text, command=command, args=args,
            language_hint=language, display_name=name or user.capitalize(),
            event_id=event_id or f"{self._event_prefix}-{next(self._events)}", command_prefix=self.command_prefix,
        ))

    async def send_file(self, user: str, name: str, content: bytes, mime_type: str, caption: str = "",
                        size: int | None = None) -> list[Message]:
        """The person sends a photo or file (`size`: what the platform claims, default its length)."""
        ref = f"file-{next(self._events)}"
        self.files[ref] = content
        return await self._deliver(Event(
            self.platform, user, user, "file", text=caption, file=ref, file_name=name, file_type=mime_type,
            file_size=len(content) if size is None else size, display_name=user.capitalize(),
            event_id=f"{self._event_prefix}-{next(self._events)}", command_prefix=self.command_prefix))

    async def press(self, user: str, choice: int | str, *, language: str | None = None,
                    name: str | None = None) -> list[Message]:
        """Press a button of the person's latest message with buttons: by 1-based number or label."""
        last = self.last_with_buttons(user)
        if last is None:
            raise AssertionError(f"{user} has no message with buttons")
        buttons = last.message.flat_buttons
        if isinstance(choice, int):
            button = buttons[choice - 1]
        else:
            matches = [b for b in buttons if b.label == choice]
            if not matches:
                raise AssertionError(f"no button {choice!r}; buttons: {[b.label for b in buttons]}")
            button = matches[0]
        return await self.press_token(user, button.token, message_id=last.message_id, language=language, name=name)

    async def press_token(self, user: str, token: str, *, message_id: str | None = None,
                          language: str | None = None, name: str | None = None) -> list[Message]:
        return await self._deliver(Event(
            self.platform, user, user, "button", token=token, message_id=message_id,
            language_hint=language, display_name=name or user.capitalize(), event_id=f"{self._event_prefix}-{next(self._events)}", command_prefix=self.command_prefix,
        ))

    async def _deliver(self, event: Event) -> list[Message]:
        assert self._receiver is not None, "transport not started"
        if event.language_hint is None:
            event = dataclasses.replace(event, language_hint=self._hints.get(event.user_id))
        else:
            self._hints[event.user_id] = event.language_hint
        before = len(self.sent)
        await self._receiver(event)
        return [s.message for s in self.sent[before:] if s.chat_id == event.chat_id]

    # -- reading --------------------------------------------------------------------------------
    def messages(self, user: str) -> list[Message]:
        return [s.message for s in self.sent if s.chat_id == user and not s.edited]

    def current(self, user: str) -> list[Sent]:
        """The person's messages as they look now: edits applied, buttons cleared where cleared."""
        latest: dict[str, Sent] = {}
        for sent in self.sent:
            if sent.chat_id == user:
                latest[sent.message_id] = sent
        cleared = {m for chat, m in self.cleared if chat == user}
        return [Sent(s.chat_id, s.message_id, dataclasses.replace(s.message, buttons=()), s.edited)
                if s.message_id in cleared else s for s in latest.values()]

    def last_with_buttons(self, user: str) -> Sent | None:
        for sent in reversed(self.current(user)):
            if sent.message.buttons:
                return sent
        return None
