"""Reusable end-to-end scenario helpers: Lotse with its real Telegram transport (PTB over HTTP)
against tests/botapi_server.py.

    async with telegram_world(settings) as world:
        amira = world.person(1001, "Amira", "ar")
        [welcome] = await amira.send("/start")
        await amira.press("العربية")

Each later capability adds its own scenario with these helpers (see tests/test_telegram_e2e.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bot.app import App
from bot.config import Duration, PrivacySettings, Settings
from bot.transports import registry
from bot.store import Store
from bot.clock import utcnow
from bot.store.outbox import Audience
from bot.transports.telegram import TelegramTransport
from tests.botapi_server import BotApiServer


def labels(message: dict[str, Any]) -> list[str]:
    return [b["text"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


class TgPerson:
    def __init__(self, world: "TelegramWorld", user_id: int, first_name: str, language: str | None) -> None:
        self.world = world
        self.id = user_id
        world.server.user(user_id, first_name=first_name, language_code=language)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.world.server.messages(self.id)

    async def _expect(self, before: int, expect: int) -> list[dict[str, Any]]:
        messages = await self.world.server.wait_for_messages(self.id, before + expect)
        return messages[before:]

    async def send(self, text: str, expect: int = 1) -> list[dict[str, Any]]:
        """Type `text`; wait for `expect` new bot messages and return them."""
        before = len(self.messages)
        self.world.server.inject_message(self.id, text)
        return await self._expect(before, expect)

    async def press(self, label: str | int, expect: int = 1) -> list[dict[str, Any]]:
        """Tap a button (by label or 1-based number) of the latest bot message that has buttons."""
        with_buttons = [m for m in self.messages if labels(m)]
        assert with_buttons, f"no message with buttons for {self.id}: {self.world.server.texts(self.id)}"
        message = with_buttons[-1]
        buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row]
        button = buttons[label - 1] if isinstance(label, int) else next(
            (b for b in buttons if b["text"] == label), None)
        assert button is not None, f"no button {label!r} in {labels(message)}"
        return await self.press_data(message["message_id"], button["callback_data"], expect)

    async def press_data(self, message_id: int, data: str, expect: int = 1, strict: bool = True) -> list[dict[str, Any]]:
        before = len(self.messages)
        query_id = self.world.server.press_button(self.id, message_id, data, strict=strict)
        result = await self._expect(before, expect)
        await self.world.server.wait_for(lambda: query_id in self.world.server.answered_callbacks,
                                         what=f"answer to callback {query_id}")
        return result

    async def onboard(self, language_label: str = "English", agree: str | int = "I agree", role: int = 1) -> None:
        await self.send("/start")
        await self.press(language_label)
        await self.press(agree, expect=3)
        await self.press(role)


@dataclasses.dataclass
class TelegramWorld:
    server: BotApiServer
    settings: Settings
    app: App
    transport: TelegramTransport

    def person(self, user_id: int, first_name: str, language: str | None = "en") -> TgPerson:
        return TgPerson(self, user_id, first_name, language)


def telegram_settings(settings: Settings, server: BotApiServer) -> Settings:
    """`settings` served over `server` (the section's other keys, e.g. its rate, kept)."""
    return settings.with_section("telegram", dataclasses.replace(
        settings.section("telegram"), enabled=True, token=server.token, base_url=server.url,
        poll_timeout=Duration(seconds=1), concurrent_updates=8,
    ))


def build_telegram(settings: Settings, **options: float) -> TelegramTransport:
    """The Telegram transport as `lotse run` builds it from `settings` (the registry: its rates from
    [telegram]), with the tests' shorter waits."""
    transport = registry.get("telegram").build(settings, settings.section("telegram"))
    assert isinstance(transport, TelegramTransport)
    for name, value in options.items():
        assert hasattr(transport, name), name
        setattr(transport, name, value)
    return transport


@asynccontextmanager
async def telegram_world(settings: Settings, server: BotApiServer | None = None,
                         read_timeout: float = 5.0) -> AsyncIterator[TelegramWorld]:
    """Start (or reuse) a Bot API server and a Lotse serving it; stop both afterwards."""
    own_server = server is None
    server = server or await BotApiServer().start()
    try:
        settings = telegram_settings(settings, server)
        transport = build_telegram(settings, backoff=0.05, read_timeout=read_timeout)
        app = App(settings, [transport])
        await app.start()
        try:
            yield TelegramWorld(server, settings, app, transport)
        finally:
            await app.stop()
    finally:
        if own_server:
            await server.stop()


async def queued_broadcast(store: Store, user_ids: list[int], coordinator: int, text: str) -> int:
    """Telegram newcomers who agreed to the privacy notice, and a coordinator's broadcast to them,
    queued as after "Send" (for a Lotse started later, or one that is told with `started`)."""
    for user_id in [coordinator, *user_ids]:
        person = await store.people.get_or_create("telegram", str(user_id), str(user_id))
        await store.people.set_language(person.id, "en")
        await store.people.record_consent(person.id, PrivacySettings().notice_version, utcnow(), f"User{user_id}")
        if user_id != coordinator:
            await store.people.set_role(person.id, "newcomer")
    sender = await store.people.find("telegram", str(coordinator))
    assert sender is not None
    return await store.broadcasts.create(sender.id, Audience("newcomers"), {"": text}, utcnow())
