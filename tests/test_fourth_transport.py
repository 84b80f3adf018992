"""A fourth platform (here a throwaway SMS gateway) needs its module, its registry entry, its config
section and its tests — nothing in bot/core, bot/services, handlers/ or bot/config.py changes.

Everything SMS-specific lives in this file: the section's dataclass, the transport (it records what
it sends, like a gateway's outbox), and its entry, registered for the length of one test.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import logsafe
from bot.app import App
from bot.cli import register_secrets
from bot.config import ConfigError, Settings, load_settings
from bot.core.transport import Receiver, Traits
from bot.core.types import Event, Message
from bot.transports import registry


@dataclasses.dataclass(frozen=True)
class SmsSettings:
    enabled: bool = False
    api_key: str = ""
    sender: str = "Lotse"


SMS_TRAITS = Traits("SMS", native_buttons=False, max_text=612, rate=2.0, per_chat_interval=5.0)


class SmsTransport:
    """Texts in and out; buttons as a numbered list, a reply with the number chooses."""

    platform = "sms"
    command_prefix = "/"

    def __init__(self, settings: SmsSettings, traits: Traits = SMS_TRAITS) -> None:
        self.settings = settings
        self.traits = traits
        self.sent: list[tuple[str, Message]] = []
        self._ids = itertools.count(1)
        self._receiver: Receiver | None = None
        self._menus: dict[str, list[str]] = {}  # chat → tokens of the last numbered list

    async def start(self, receiver: Receiver) -> None:
        self._receiver = receiver

    async def stop_receiving(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def wait_done(self) -> None:
        pass

    async def send(self, chat_id: str, message: Message) -> str | None:
        self.sent.append((chat_id, message))
        if message.buttons:
            self._menus[chat_id] = [b.token for b in message.flat_buttons]
        return str(next(self._ids))

    async def edit(self, chat_id: str, message_id: str, message: Message) -> None:
        await self.send(chat_id, message)

    async def text(self, number: str, body: str) -> list[Message]:
        """`number` texts `body`; returns what Lotse answered."""
        assert self._receiver is not None
        before = len(self.sent)
        menu = self._menus.get(number, [])
        base = dict(platform="sms", user_id=number, chat_id=number, event_id=f"sms-{next(self._ids)}")
        if body.isdigit() and 1 <= int(body) <= len(menu):
            event = Event(kind="button", token=menu[int(body) - 1], **base)
        elif body.startswith("/"):
            event = Event(kind="command", text=body, command=body[1:].split()[0], **base)
        else:
            event = Event(kind="text", text=body, **base)
        await self._receiver(event)
        return [m for chat, m in self.sent[before:] if chat == number]

    async def choose(self, number: str, label: str) -> list[Message]:
        """Reply with the number of the option `label` in the last list."""
        last = next(m for chat, m in reversed(self.sent) if chat == number and m.buttons)
        labels = [b.label for b in last.flat_buttons]
        assert label in labels, labels
        return await self.text(number, str(labels.index(label) + 1))


def _validate(section: SmsSettings) -> None:
    if section.enabled and not section.api_key:
        raise ConfigError("config: [sms] api_key: required when [sms] enabled = true (or set LOTSE_SMS_KEY)")


@pytest.fixture
def sms() -> Iterator[None]:
    unregister = registry.register(registry.Entry(
        "sms", SmsSettings, lambda settings, section: SmsTransport(section),
        env={"LOTSE_SMS_KEY": "api_key"}, secrets=lambda section: [section.api_key], validate=_validate))
    yield
    unregister()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lotse.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_its_section_secrets_and_checks_come_from_its_entry(sms: None, tmp_path: Path) -> None:
    path = write(tmp_path, '[sms]\nenabled = true\nsender = "Lotse Langen"\n'
                           '[roles]\ncoordinators = ["sms:+4915100000"]\n')
    with pytest.raises(ConfigError, match=r"\[sms\] api_key: required"):
        load_settings(path, environ={})
    settings = load_settings(path, environ={"LOTSE_SMS_KEY": "sk-secret-123"})
    assert settings.section("sms") == SmsSettings(enabled=True, api_key="sk-secret-123", sender="Lotse Langen")
    assert settings.is_coordinator("sms", "+4915100000")
    with pytest.raises(ConfigError, match=r"\[sms\] colour: unknown key"):
        load_settings(write(tmp_path, '[sms]\ncolour = "red"\n'), environ={})
    [transport] = registry.build_enabled(settings)
    assert isinstance(transport, SmsTransport) and transport.settings.sender == "Lotse Langen"
    register_secrets(settings)
    assert "sk-secret-123" not in logsafe.redact("calling the gateway with key sk-secret-123")


def test_unknown_platforms_are_refused_without_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[sms\]: unknown section"):
        load_settings(write(tmp_path, "[sms]\nenabled = true\n"), environ={})
    with pytest.raises(ConfigError, match="platform one of"):
        load_settings(write(tmp_path, '[roles]\ncoordinators = ["sms:+49151"]\n'), environ={})


async def test_people_on_it_are_served_and_broadcast_to_with_its_traits(sms: None, settings: Settings) -> None:
    """Hamid onboards by texting numbers; Frau Weber, coordinator on SMS, prepares a broadcast
    whose preview names the platform as the transport declares it; its lane keeps its rate."""
    transport = SmsTransport(SmsSettings(enabled=True, api_key="k"))
    settings = dataclasses.replace(settings, roles=dataclasses.replace(settings.roles, coordinators=("sms:+49100",)))
    app = App(settings, [transport])
    await app.start()
    try:
        for number, role in (("+49200", "I need someone to come with me"), ("+49100", None)):
            await transport.text(number, "/start")
            [notice] = await transport.choose(number, "English")
            assert notice.text.startswith("Privacy notice")
            *_, menu = await transport.choose(number, "I agree")
            assert menu.text == "What would you like to do?"
            if role:
                [topics] = await transport.choose(number, role)
                assert topics.text == "What is the appointment for?"
        [audience] = await transport.text("+49100", "/broadcast")
        assert audience.text == "Who should receive the notice?"
        await transport.choose("+49100", "All newcomers")
        await transport.choose("+49100", "Done")          # every language
        await transport.choose("+49100", "Done")          # every district
        await transport.text("+49100", "The office is closed on Friday.")
        [preview] = await transport.choose("+49100", "Show the preview")
        assert "SMS: 1" in preview.text.split("\n")
        assert app.dispatch is not None and app.broadcast is not None
        assert app.broadcast._rate("sms") == 2.0  # noqa: SLF001  the lane paces at the declared rate
        assert "sms" not in app.inbox.uncapped  # type: ignore[union-attr]  people on SMS are rate-capped
    finally:
        await app.stop()
