"""Matrix, on matrix-nio 0.26: direct messages with people, buttons as numbered lists.

- Login: an access token from the config, or a password once — the device id and token are then
  kept in `[matrix] session_dir`/session.json (mode 0600) and reused, so no new device appears at
  every start.  A refused token or password stops the start with one line.
- Sync: the sync token is kept in the database (transport_state).  The very first start skips
  the backlog; later starts continue from the stored token, so nothing is replayed and nothing
  missed; events are de-duplicated by event id in the router anyway.  Sync errors back off
  exponentially with jitter, capped.
- Direct messages: invites to DMs are accepted; a person's chat is their DM room.  To reach a
  Matrix user first (a chat id that is a user id) Lotse opens a DM itself and remembers it.
- Commands: `!request` and `/request`.  Bot messages are m.notice with plain body and an HTML
  formatted_body, all text escaped.
- Buttons: listed as "1️⃣ label", with the keycap reactions added to the message; a reply with
  the number, or tapping a reaction, presses the button.  The last menu per room is kept in the
  database, so this works across restarts.  Edits are m.replace; attachments are uploaded and sent
  as m.file.
- Rate limits: nio honours M_LIMIT_EXCEEDED's retry_after_ms, at most `max_limit_exceeded` times;
  after that the send fails with DeliveryError (never retried forever).
"""

from __future__ import annotations

import asyncio
import html
import io
import json
import logging
import os
import random
import time
from pathlib import Path
from typing import Any

from nio import (AsyncClient, AsyncClientConfig, InviteMemberEvent, JoinError, LoginError,
                 ReactionEvent, RoomCreateError, RoomMessageText, RoomPreset, RoomSendError, SyncError,
                 SyncResponse, UploadError, WhoamiError)

from bot import logsafe
from bot.transports.registry import MatrixSettings
from bot.core.transport import DeliveryError, Dispatch, RecipientUnreachable, StartupError, Traits
from bot.core.types import Event, Message, parse_command
from bot.store.store import TransportState

log = logging.getLogger(__name__)

KEYCAPS = ["1\ufe0f\u20e3", "2\ufe0f\u20e3", "3\ufe0f\u20e3", "4\ufe0f\u20e3", "5\ufe0f\u20e3",
           "6\ufe0f\u20e3", "7\ufe0f\u20e3", "8\ufe0f\u20e3", "9\ufe0f\u20e3", "\U0001f51f"]
STALE = "-"  # a token no button ever has: the router answers "no longer valid"


def keycap_number(key: str) -> int | None:
    """1️⃣ → 1 … 🔟 → 10 (also without the emoji variation selector)."""
    normalized = key.replace("\ufe0f", "")
    for number, cap in enumerate(KEYCAPS, start=1):
        if cap.replace("\ufe0f", "") == normalized:
            return number
    return None


def strip_reply_fallback(body: str) -> str:
    """A reply's body starts with the quoted original ("> <@bot:hs> …" lines, then a blank line)."""
    lines = body.split("\n")
    if not lines or not lines[0].startswith("> "):
        return body
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    return "\n".join(lines).strip()


def render(message: Message) -> tuple[str, str]:
    """Plain body and HTML formatted_body of a message; buttons as a numbered list."""
    buttons = message.flat_buttons
    plain = [message.text]
    rich = [html.escape(message.text).replace("\n", "<br>")]
    if buttons:
        plain.append("")
        plain += [f"{KEYCAPS[i] if i < len(KEYCAPS) else f'{i + 1}.'} {b.label}" for i, b in enumerate(buttons)]
        rich.append("<ol>" + "".join(f"<li>{html.escape(b.label)}</li>" for b in buttons) + "</ol>")
        if message.choice_hint:
            plain.append(message.choice_hint)
            rich.append(f"<p>{html.escape(message.choice_hint)}</p>")
    return "\n".join(plain), "".join(rich)


# What the rest of Lotse knows of Matrix.  A Message with a key is sent under a transaction id made
# from it: the homeserver answers a repeat (e.g. after a crash) with the first event — see
# Messenger.recognising_repeats.  The rate is [broadcast] matrix_rate, set by the registry.
MAX_TEXT = 16_000  # well under Synapse's 64 KiB per event, HTML body included
TRAITS = Traits("Matrix", native_buttons=False, recognises_repeats=True, max_text=MAX_TEXT, rate=10.0)


class MatrixTransport:
    platform = "matrix"
    command_prefix = "!"

    def __init__(self, settings: MatrixSettings, *, max_limit_exceeded: int = 3, backoff: float = 1.0,
                 backoff_cap: float = 60.0, traits: Traits = TRAITS) -> None:
        self.settings = settings
        self.traits = traits
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self.client_config = AsyncClientConfig(
            max_limit_exceeded=max_limit_exceeded, max_timeouts=2, store_sync_tokens=False,
            encryption_enabled=settings.encryption,
        )
        self.client: AsyncClient | None = None
        self.state: TransportState | None = None
        self._dispatch: Dispatch | None = None
        self._since: str | None = None
        self._backlog_before = 0
        self._task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._done = asyncio.Event()

    def use_state(self, state: TransportState) -> None:
        self.state = state

    @property
    def session_file(self) -> Path:
        return self.settings.session_dir / "session.json"

    # -- lifecycle --------------------------------------------------------------------------------
    async def start(self, dispatch: Dispatch) -> None:
        assert self.state is not None, "use_state() before start()"
        self._dispatch = dispatch
        self.settings.session_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        store_path = self.settings.session_dir / "store"
        if self.settings.encryption:
            store_path.mkdir(exist_ok=True, mode=0o700)
        self.client = AsyncClient(self.settings.homeserver, self.settings.user_id,
                                  store_path=str(store_path), config=self.client_config)
        try:
            await self._login()
            await self._first_sync()
        except BaseException:
            await self.client.close()
            self.client = None
            raise
        self._task = asyncio.create_task(self._sync_loop(), name="matrix-sync")

    async def stop_receiving(self) -> None:
        """End the sync loop: what was recorded is handled; the sync token saved so far stands."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass

    async def stop(self) -> None:
        await self.stop_receiving()
        for background in list(self._background):
            background.cancel()
        if self.client is not None:
            await self.client.close()
            self.client = None
        self._done.set()

    async def wait_done(self) -> None:
        await self._done.wait()

    async def _login(self) -> None:
        client, settings = self.client, self.settings
        assert client is not None
        where = settings.homeserver
        try:
            if settings.access_token:
                self._restore(settings.access_token, None)
                who = await client.whoami()
                if isinstance(who, WhoamiError):
                    raise StartupError(f"matrix: {where} refused the access token for {settings.user_id} "
                                       "(check [matrix] access_token or LOTSE_MATRIX_ACCESS_TOKEN)")
                client.restore_login(settings.user_id, who.device_id or "", settings.access_token)
            else:
                session = self._read_session()
                if session is not None:
                    self._restore(session["access_token"], session["device_id"])
                    who = await client.whoami()
                    if isinstance(who, WhoamiError):
                        log.warning("matrix: stored session no longer valid (%s); logging in again", who.message)
                        session = None
                if session is None:
                    response = await client.login(settings.password, device_name=settings.device_name)
                    if isinstance(response, LoginError):
                        raise StartupError(f"matrix: {where} refused the login of {settings.user_id}: "
                                           f"{response.message} (check [matrix] password or LOTSE_MATRIX_PASSWORD)")
                    self._write_session(response.device_id, response.access_token)
        except StartupError:
            raise
        except Exception as exc:  # connection refused, DNS, TLS …
            raise StartupError(f"matrix: cannot reach {where}: {exc}") from None
        if client.olm is not None and client.should_upload_keys:
            await client.keys_upload()

    def _restore(self, access_token: str, device_id: str | None) -> None:
        assert self.client is not None
        logsafe.add_secret(access_token)  # a stored session's token is as secret as a configured one
        self.client.user_id = self.settings.user_id
        self.client.access_token = access_token
        if device_id:
            self.client.restore_login(self.settings.user_id, device_id, access_token)

    def _read_session(self) -> dict[str, str] | None:
        try:
            session = json.loads(self.session_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if session.get("user_id") != self.settings.user_id or session.get("homeserver") != self.settings.homeserver:
            return None
        return session

    def _write_session(self, device_id: str, access_token: str) -> None:
        logsafe.add_secret(access_token)
        data = json.dumps({"homeserver": self.settings.homeserver, "user_id": self.settings.user_id,
                           "device_id": device_id, "access_token": access_token})
        fd = os.open(self.session_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(data)
        os.chmod(self.session_file, 0o600)

    # -- syncing ----------------------------------------------------------------------------------
    async def _first_sync(self) -> None:
        """Room state for everything; the backlog is skipped on the very first start only."""
        assert self.client is not None and self.state is not None
        self._since = await self.state.get("since")
        if self._since is None:
            # Everything sent before Lotse's very first start is backlog — also in rooms whose
            # invite is accepted only now (joining shows their history).
            # Compared with the homeserver's own timestamps (platform time, not Lotse's domain
            # time), so the machine's clock and not bot.clock.
            await self.state.set("backlog_before_ms", int(time.time() * 1000))
        self._backlog_before = await self.state.get("backlog_before_ms", 0)
        response = await self.client.sync(timeout=0, since=self._since, full_state=True, set_presence="offline")
        if isinstance(response, SyncError):
            raise StartupError(f"matrix: first sync with {self.settings.homeserver} failed: {response.message}")
        await self._handle(response, backlog=self._since is None)

    async def _sync_loop(self) -> None:
        assert self.client is not None
        delay = self.backoff
        timeout_ms = int(self.settings.sync_timeout.total_seconds() * 1000)
        while True:
            try:
                response = await self.client.sync(timeout=timeout_ms, since=self._since, set_presence="offline")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the homeserver is down or unreachable
                response = SyncError(str(exc))
            if isinstance(response, SyncError):
                if response.status_code == "M_UNKNOWN_TOKEN":
                    log.error("matrix: the homeserver no longer accepts Lotse's access token; stopping")
                    self._done.set()
                    return
                wait = min(self.backoff_cap, delay) * random.uniform(0.8, 1.2)
                log.warning("matrix: sync failed (%s); retrying in %.1f s", response.message, wait)
                await asyncio.sleep(wait)
                delay = min(self.backoff_cap, delay * 2)
                continue
            delay = self.backoff
            try:
                await self._handle(response, backlog=False)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("matrix: handling a sync batch failed")

    async def _handle(self, response: SyncResponse, backlog: bool) -> None:
        assert self.client is not None and self.state is not None
        client = self.client
        for room_id, info in response.rooms.invite.items():
            if self._is_dm_invite(info.invite_state):
                joined = await client.join(room_id)
                if isinstance(joined, JoinError):
                    log.warning("matrix: joining %s failed: %s", room_id, joined.message)
        if client.olm is not None:
            if client.should_upload_keys:
                await client.keys_upload()
            if client.should_query_keys:
                await client.keys_query()
            if client.should_claim_keys:
                await client.keys_claim(client.get_users_for_key_claiming())
        events: list[Event] = []
        if not backlog:
            for room_id, info in response.rooms.join.items():
                for item in info.timeline.events:
                    event = await self.to_event(room_id, item)
                    if event is not None:
                        events.append(event)
        if events:
            assert self._dispatch is not None
            await self._dispatch.record(events)  # stored before the sync token moves past them
        self._since = response.next_batch
        await self.state.set("since", self._since)

    def _is_dm_invite(self, invite_state: list[Any]) -> bool:
        for item in invite_state:
            if isinstance(item, InviteMemberEvent) and item.state_key == self.settings.user_id:
                if item.content.get("is_direct"):
                    return True
        members = {i.state_key for i in invite_state if isinstance(i, InviteMemberEvent)}
        return len(members) <= 2

    def _is_dm(self, room_id: str) -> bool:
        assert self.client is not None
        room = self.client.rooms.get(room_id)
        return room is not None and room.member_count <= 2

    async def to_event(self, room_id: str, item: Any) -> Event | None:
        """One timeline event → Event; None for what Lotse does not serve."""
        assert self.client is not None and self.state is not None
        if getattr(item, "sender", None) in (None, self.settings.user_id) or not self._is_dm(room_id):
            return None
        if getattr(item, "server_timestamp", 0) < self._backlog_before:
            return None
        room = self.client.rooms.get(room_id)
        base: dict[str, Any] = dict(
            platform=self.platform, user_id=item.sender, chat_id=room_id,
            display_name=room.user_name(item.sender) if room else None,
            event_id=item.event_id, command_prefix=self.command_prefix,
        )
        if isinstance(item, ReactionEvent):
            number = keycap_number(item.key)
            if number is None:
                return None
            return Event(kind="button", token=await self._menu_token(room_id, number, item.reacts_to),
                         message_id=item.reacts_to, **base)
        if not isinstance(item, RoomMessageText):
            return None
        await self._remember_dm(item.sender, room_id)
        relates = item.source.get("content", {}).get("m.relates_to", {})
        reply_to = relates.get("m.in_reply_to", {}).get("event_id")
        body = strip_reply_fallback(item.body) if reply_to else item.body.strip()
        if body.isdigit():
            menu = await self.state.get(f"menu:{room_id}")
            if menu is not None and 1 <= int(body) <= len(menu["tokens"]):
                return Event(kind="button", token=await self._menu_token(room_id, int(body), reply_to),
                             message_id=reply_to or menu["event_id"], **base)
        parsed = parse_command(body, "!/")
        if parsed is not None:
            return Event(kind="command", text=body, command=parsed[0], args=parsed[1], **base)
        return Event(kind="text", text=body, **base)

    async def _menu_token(self, room_id: str, number: int, target: str | None) -> str:
        """The token of button `number` of the room's last menu (stale if aimed at another message)."""
        assert self.state is not None
        menu = await self.state.get(f"menu:{room_id}")
        if menu is None or (target is not None and target != menu["event_id"]):
            return STALE
        tokens = menu["tokens"]
        return tokens[number - 1] if 1 <= number <= len(tokens) else STALE

    async def _remember_dm(self, user_id: str, room_id: str) -> None:
        assert self.state is not None
        if await self.state.get(f"dm:{user_id}") != room_id:
            await self.state.set(f"dm:{user_id}", room_id)

    async def _room_for(self, chat_id: str) -> str:
        """A room id as is; for a user id, their DM room (opened now if there is none)."""
        assert self.client is not None and self.state is not None
        if not chat_id.startswith("@"):
            return chat_id
        known = await self.state.get(f"dm:{chat_id}")
        if known and known in self.client.rooms:
            return known
        created = await self.client.room_create(is_direct=True, invite=[chat_id],
                                                preset=RoomPreset.trusted_private_chat)
        if isinstance(created, RoomCreateError):
            raise DeliveryError(f"matrix: opening a DM with {chat_id} failed: {created.message}")
        await self.state.set(f"dm:{chat_id}", created.room_id)
        return created.room_id

    # -- outgoing ---------------------------------------------------------------------------------
    async def _send(self, room_id: str, content: dict[str, Any], what: str, event_type: str = "m.room.message",
                    tx_id: str | None = None) -> str:
        assert self.client is not None, "transport not started"
        response = await self.client.room_send(room_id, event_type, content, tx_id=tx_id,
                                               ignore_unverified_devices=True)
        if isinstance(response, RoomSendError):
            code = response.status_code or ""
            if code == "M_FORBIDDEN":
                raise RecipientUnreachable(f"matrix {what} to {room_id}: {response.message}")
            raise DeliveryError(f"matrix {what} to {room_id}: {code} {response.message}")
        return response.event_id

    async def send(self, chat_id: str, message: Message) -> str | None:
        assert self.client is not None and self.state is not None, "transport not started"
        room_id = await self._room_for(chat_id)
        body, formatted = render(message)
        # A message with a key keeps one transaction id across restarts: the homeserver answers a
        # repeat with the first event instead of posting it twice.
        event_id = await self._send(room_id, {"msgtype": "m.notice", "body": body,
                                              "format": "org.matrix.custom.html", "formatted_body": formatted},
                                    "message", tx_id=f"lotse-{message.key}" if message.key else None)
        buttons = message.flat_buttons
        if buttons:
            await self.state.set(f"menu:{room_id}", {"event_id": event_id, "tokens": [b.token for b in buttons]})
            task = asyncio.create_task(self._add_keycaps(room_id, event_id, len(buttons)))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        if message.attachment is not None:
            await self._send_file(room_id, message)
        return event_id

    async def _add_keycaps(self, room_id: str, event_id: str, count: int) -> None:
        for key in KEYCAPS[:count]:
            try:
                await self._send(room_id, {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id,
                                                            "key": key}}, "reaction", "m.reaction")
            except DeliveryError as exc:
                log.info("matrix: keycap reaction failed: %s", exc)
                return

    async def _send_file(self, room_id: str, message: Message) -> None:
        assert self.client is not None and message.attachment is not None
        attachment = message.attachment
        uploaded, _ = await self.client.upload(io.BytesIO(attachment.content), content_type=attachment.mime_type,
                                               filename=attachment.filename, filesize=len(attachment.content))
        if isinstance(uploaded, UploadError):
            raise DeliveryError(f"matrix upload of {attachment.filename}: {uploaded.message}")
        await self._send(room_id, {"msgtype": "m.file", "body": attachment.filename, "url": uploaded.content_uri,
                                   "info": {"mimetype": attachment.mime_type, "size": len(attachment.content)}},
                         "file", tx_id=f"lotse-{message.key}-file" if message.key else None)

    async def edit(self, chat_id: str, message_id: str, message: Message) -> None:
        assert self.client is not None and self.state is not None, "transport not started"
        room_id = await self._room_for(chat_id)
        body, formatted = render(message)
        new_content = {"msgtype": "m.notice", "body": body, "format": "org.matrix.custom.html",
                       "formatted_body": formatted}
        await self._send(room_id, {**new_content, "body": f"* {body}", "m.new_content": new_content,
                                   "m.relates_to": {"rel_type": "m.replace", "event_id": message_id}}, "edit")
        menu = await self.state.get(f"menu:{room_id}")
        if menu is not None and menu["event_id"] == message_id:
            await self.state.set(f"menu:{room_id}", {"event_id": message_id,
                                                     "tokens": [b.token for b in message.flat_buttons]})
