"""The optional end-to-end encryption (`lotse[e2e]`, vodozemac): onboarding in an encrypted DM."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any
from bot.config import PrivacySettings

import nio
from tests.conftest import make_settings
from tests.matrix_harness import matrix_world
from tests.synapse_server import SynapseServer

ENCRYPTION = {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}


class EncryptedPerson:
    """A test person whose client encrypts (its own nio client with a crypto store)."""

    def __init__(self, client: nio.AsyncClient) -> None:
        self.client = client
        self.received: list[Any] = []

    @classmethod
    async def create(cls, synapse: SynapseServer, store: Path) -> "EncryptedPerson":
        name, password = f"amira{secrets.token_hex(3)}", secrets.token_hex(8)
        await synapse.register(name, password)
        store.mkdir(parents=True)
        client = nio.AsyncClient(synapse.url, f"@{name}:localhost", store_path=str(store),
                                 config=nio.AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False))
        assert isinstance(await client.login(password, device_name="phone"), nio.LoginResponse)
        person = cls(client)
        await person.sync(0)
        return person

    async def sync(self, timeout_ms: int = 500) -> None:
        client = self.client
        response = await client.sync(timeout=timeout_ms, since=client.next_batch, full_state=client.next_batch is None)
        assert isinstance(response, nio.SyncResponse), response
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        for info in response.rooms.join.values():
            self.received += [e for e in info.timeline.events if getattr(e, "sender", "") != client.user_id]

    async def until(self, predicate: Any, timeout: float = 30) -> Any:
        async with asyncio.timeout(timeout):
            while True:
                for event in self.received:
                    if predicate(event):
                        self.received.remove(event)
                        return event
                await self.sync()

    async def say(self, room_id: str, text: str) -> None:
        await self.sync(0)
        response = await self.client.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": text},
                                               ignore_unverified_devices=True)
        assert isinstance(response, nio.RoomSendResponse), response


def notice(event: Any) -> bool:
    return isinstance(event, nio.RoomMessageNotice)


def poll(event: Any) -> bool:
    return isinstance(event, nio.UnknownEvent) and event.type == "org.matrix.msc3381.poll.start"


def poll_text(event: Any) -> str:
    return event.source["content"]["org.matrix.msc1767.text"]


async def test_onboarding_in_an_encrypted_dm(db_path: Path, synapse: SynapseServer, tmp_path: Path) -> None:
    async with matrix_world(make_settings(db_path), synapse, tmp_path, encryption=True) as world:
        amira = await EncryptedPerson.create(synapse, tmp_path / "amira-store")
        try:
            created = await amira.client.room_create(is_direct=True, invite=[world.bot_user_id],
                                                     preset=nio.RoomPreset.trusted_private_chat,
                                                     initial_state=[ENCRYPTION])
            assert isinstance(created, nio.RoomCreateResponse), created
            room = created.room_id
            async with asyncio.timeout(30):
                while room not in amira.client.rooms or world.bot_user_id not in amira.client.rooms[room].users:
                    await amira.sync()
            assert amira.client.rooms[room].encrypted
            await amira.say(room, "!start")
            welcome = await amira.until(poll)  # menus are polls, encrypted like messages
            assert welcome.decrypted and poll_text(welcome).startswith("Willkommen bei Lotse!")
            await amira.say(room, "3")  # العربية
            privacy = await amira.until(poll)
            assert privacy.decrypted and PrivacySettings().notice_version in poll_text(privacy)
            # a vote is encrypted too (nio moves m.relates_to into the clear, as the spec asks)
            response = await amira.client.room_send(room, "org.matrix.msc3381.poll.response", {
                "m.relates_to": {"rel_type": "m.reference", "event_id": privacy.event_id},
                "org.matrix.msc3381.poll.response": {"answers": ["1"]}}, ignore_unverified_devices=True)
            assert isinstance(response, nio.RoomSendResponse), response
            recorded = await amira.until(notice)  # the answer to the vote: consent recorded
            person = await world.app.store.people.find("matrix", amira.client.user_id)
            assert recorded.decrypted and person is not None and person.consented
            # the server only ever saw ciphertext from Lotse in this room
            raw = await synapse.request("GET", f"/_matrix/client/v3/rooms/{room}/messages?dir=b&limit=50",
                                        token=amira.client.access_token)
            from_bot = [e for e in raw["chunk"] if e["sender"] == world.bot_user_id
                        and (e["type"] in ("m.room.message", "m.room.encrypted") or "poll" in e["type"])]
            assert from_bot and all(e["type"] == "m.room.encrypted" for e in from_bot)
        finally:
            await amira.client.close()
    assert (tmp_path / "matrix" / "store").is_dir()  # the crypto store lives under session_dir
