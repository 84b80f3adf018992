"""Reusable end-to-end scenario helpers: Lotse with its real Matrix transport (matrix-nio)
against a real Synapse (tests/synapse_server.py).

    async with matrix_world(settings, synapse, tmp_path) as world:
        hamid = await world.person("hamid")
        [welcome] = await hamid.send("!start")
        await hamid.press(1)                    # a reply with the number
        await hamid.press(1, by="reaction")     # or tapping the keycap reaction

Each later capability adds its own scenario with these helpers (see tests/test_matrix_e2e.py).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.app import App
from bot.config import Duration, Settings
from bot.transports.registry import MatrixSettings
from bot.core.transport import Transport
from bot.transports.matrix import KEYCAPS, MatrixTransport
from tests.synapse_server import MatrixUser, SynapseServer


def options(message: Any) -> list[str]:
    """The button labels of a bot notice ("1️⃣ English" lines)."""
    found = []
    for line in message.body.split("\n"):
        for cap in KEYCAPS:
            if line.startswith(cap + " "):
                found.append(line[len(cap) + 1:])
    return found


class MxPerson:
    def __init__(self, world: "MatrixWorld", user: MatrixUser, room_id: str) -> None:
        self.world = world
        self.user = user
        self.room = room_id
        self.received: list[Any] = []

    @property
    def id(self) -> str:
        return self.user.user_id

    async def _expect(self, expect: int) -> list[Any]:
        got = [await self.user.wait_for_message(self.room, timeout=20) for _ in range(expect)]
        self.received += got
        return got

    async def send(self, text: str, expect: int = 1) -> list[Any]:
        await self.user.say(self.room, text)
        return await self._expect(expect)

    def last_menu(self) -> Any:
        menus = [m for m in self.received if options(m)]
        assert menus, f"no bot message with options for {self.id}: {[m.body for m in self.received]}"
        return menus[-1]

    async def press(self, choice: int | str, by: str = "reply", expect: int = 1) -> list[Any]:
        """Choose an option of the latest menu: by number or label, as a reply or a reaction."""
        menu = self.last_menu()
        number = choice if isinstance(choice, int) else options(menu).index(choice) + 1
        if by == "reaction":
            await self.user.react(self.room, menu.event_id, KEYCAPS[number - 1])
        elif by == "reply":
            await self.user.reply(self.room, menu.event_id, str(number))
        else:
            await self.user.say(self.room, str(number))
        return await self._expect(expect)

    async def onboard(self, language: str = "English", role: int = 1) -> None:
        """Onboard and leave the dialog the menu choice leads into (request / registration)."""
        await self.send("!start")
        await self.press(language)
        await self.press(1, expect=3)
        await self.press(role, expect=1 if role == 1 else 2)
        person = await self.world.app.store.people.find("matrix", self.id)
        await self.world.app.store.dialogs.clear(person.id)


@dataclasses.dataclass
class MatrixWorld:
    synapse: SynapseServer
    settings: Settings
    app: App
    transport: MatrixTransport
    bot_user_id: str
    users: list[MatrixUser]

    async def person(self, name: str) -> MxPerson:
        """A new Matrix user who opens a DM with the bot (and waits until the bot joined)."""
        user = await MatrixUser.create(self.synapse, f"{name}{uuid.uuid4().hex[:6]}")
        self.users.append(user)
        room = await user.dm(self.bot_user_id)
        await user.wait_for_join(room, self.bot_user_id, timeout=20)
        return MxPerson(self, user, room)


async def bot_account(synapse: SynapseServer) -> tuple[str, str]:
    """A fresh bot account with Synapse's rate limits lifted (as operators are told to do)."""
    password = uuid.uuid4().hex
    user_id, token = await synapse.register(f"lotse{uuid.uuid4().hex[:8]}", password, admin=True)
    await synapse.override_ratelimit(token, user_id)
    return user_id, password


def matrix_settings(settings: Settings, synapse: SynapseServer, user_id: str, password: str,
                    session_dir: Path, encryption: bool = False) -> Settings:
    return settings.with_section("matrix", MatrixSettings(
        enabled=True, homeserver=synapse.url, user_id=user_id, password=password,
        session_dir=session_dir, sync_timeout=Duration(seconds=2), encryption=encryption))


@asynccontextmanager
async def matrix_world(settings: Settings, synapse: SynapseServer, tmp_path: Path,
                       account: tuple[str, str] | None = None,
                       also: Sequence[Transport] = (), encryption: bool = False) -> AsyncIterator[MatrixWorld]:
    """Start Lotse on Matrix (plus any other transports given); stop it and close test users after."""
    user_id, password = account or await bot_account(synapse)
    settings = matrix_settings(settings, synapse, user_id, password, tmp_path / "matrix", encryption)
    transport = MatrixTransport(settings.section("matrix"), backoff=0.2, backoff_cap=2.0)
    app = App(settings, [transport, *also])
    await app.start()
    world = MatrixWorld(synapse, settings, app, transport, user_id, [])
    try:
        yield world
    finally:
        await app.stop()
        for user in world.users:
            await user.close()
