"""Reusable end-to-end scenario helpers: Lotse with its real Matrix transport (matrix-nio)
against a real Synapse (tests/synapse_server.py).

    async with matrix_world(settings, synapse, tmp_path) as world:
        hamid = await world.person("hamid")
        [welcome] = await hamid.send("!start")
        await hamid.press(1)                    # a reply with the number
        await hamid.press(1, by="vote")         # or a vote on the poll (MSC3381)

Each later capability adds its own scenario with these helpers (see tests/test_matrix_e2e.py).
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.app import App
from bot.config import Duration, Settings
from bot.transports.registry import MatrixSettings
from bot.core.transport import Transport
import nio

from bot.transports.matrix import POLL_END, POLL_START, TEXT, MatrixTransport
from tests.synapse_server import MatrixUser, SynapseServer


class Said:
    """Something the bot said: an m.room.message, or a poll (nio's UnknownEvent) read like one —
    `body` is then the poll's fallback text (the text and the numbered list)."""

    def __init__(self, event: Any) -> None:
        self.event = event
        self.source: dict[str, Any] = event.source
        self.event_id: str = event.event_id
        self.sender: str = event.sender

    @property
    def poll(self) -> dict[str, Any] | None:
        return self.source.get("content", {}).get(POLL_START) if self.source.get("type") == POLL_START else None

    @property
    def body(self) -> str:
        return self.event.body if self.poll is None else self.source["content"][TEXT]

    def __repr__(self) -> str:
        return f"<Said {'poll' if self.poll is not None else 'message'} {self.body!r}>"


def said(event: Any) -> bool:
    """A message or a poll (what a person reads), not a poll end, vote or reaction."""
    return isinstance(event, nio.RoomMessage) or (isinstance(event, nio.UnknownEvent) and event.type == POLL_START)


def said_bodies(user: MatrixUser, room_id: str) -> list[str]:
    """The bodies of everything said in a room since the user's login (messages and polls)."""
    return [Said(e).body for e in user.events.get(room_id, []) if said(e)]


def options(message: Any) -> list[str]:
    """The button labels: a poll's answers, or the "1. label" lines of a numbered list."""
    poll = message.poll if isinstance(message, Said) else None
    if poll is not None:
        return [answer[TEXT] for answer in poll["answers"]]
    found: list[str] = []
    for line in message.body.split("\n"):
        match = re.fullmatch(r"(\d+)\. (.*)", line)
        if match and int(match[1]) == len(found) + 1:
            found.append(match[2])
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

    async def _expect(self, expect: int) -> list[Said]:
        got = [Said(await self.user.wait_for_event(
            self.room, lambda e: said(e) and e.sender != self.id, timeout=20, what="a message or a poll from the bot"))
            for _ in range(expect)]
        self.received += got
        return got

    async def poll_end(self, poll_id: str) -> Any:
        """The bot's poll.end event of the poll `poll_id`."""
        return await self.user.wait_for_event(
            self.room, lambda e: isinstance(e, nio.UnknownEvent) and e.type == POLL_END and e.sender != self.id
            and e.source["content"].get("m.relates_to", {}).get("event_id") == poll_id,
            timeout=20, what=f"the end of poll {poll_id}")

    async def vote(self, poll: Said, answer_id: str, stable: bool = False) -> str:
        """Vote on a poll as Element does (org.matrix.msc3381.poll.response), or with the stable
        m.poll.response as MSC3381 writes it (m.selections)."""
        relates = {"rel_type": "m.reference", "event_id": poll.event_id}
        if stable:
            return await self.user.send(self.room, {"m.relates_to": relates, "m.selections": [answer_id]},
                                        "m.poll.response")
        return await self.user.send(self.room, {"m.relates_to": relates, "org.matrix.msc3381.poll.response":
                                                {"answers": [answer_id]}}, "org.matrix.msc3381.poll.response")

    async def send(self, text: str, expect: int = 1) -> list[Any]:
        await self.user.say(self.room, text)
        return await self._expect(expect)

    def last_menu(self) -> Any:
        menus = [m for m in self.received if options(m)]
        assert menus, f"no bot message with options for {self.id}: {[m.body for m in self.received]}"
        return menus[-1]

    async def press(self, choice: int | str, by: str = "reply", expect: int = 1) -> list[Said]:
        """Choose an option of the latest menu: by number or label — a vote on its poll, a reply
        with the number, or the number as plain text."""
        menu = self.last_menu()
        number = choice if isinstance(choice, int) else options(menu).index(choice) + 1
        if by == "vote":
            assert menu.poll is not None, f"the latest menu is no poll: {menu!r}"
            await self.vote(menu, menu.poll["answers"][number - 1]["id"])
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
                    session_dir: Path, encryption: bool = False, polls: bool = True) -> Settings:
    return settings.with_section("matrix", MatrixSettings(
        enabled=True, homeserver=synapse.url, user_id=user_id, password=password,
        session_dir=session_dir, sync_timeout=Duration(seconds=2), encryption=encryption, polls=polls))


@asynccontextmanager
async def matrix_world(settings: Settings, synapse: SynapseServer, tmp_path: Path,
                       account: tuple[str, str] | None = None,
                       also: Sequence[Transport] = (), encryption: bool = False,
                       polls: bool = True) -> AsyncIterator[MatrixWorld]:
    """Start Lotse on Matrix (plus any other transports given); stop it and close test users after."""
    user_id, password = account or await bot_account(synapse)
    settings = matrix_settings(settings, synapse, user_id, password, tmp_path / "matrix", encryption, polls)
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
