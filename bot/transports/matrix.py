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
- Buttons become a poll (MSC3381, unstable `org.matrix.msc3381.poll.start`, which Element Web and
  Element X render and let people tap): the question is the message's text, the answers are the
  button labels, and the fallback text (for clients without polls) is the text with the numbered
  list and "Reply with the number…".  A vote (`org.matrix.msc3381.poll.response`, also the stable
  `m.poll.response`) or a reply with the number presses the button.  A typed number answers the
  room's latest menu — the last message with buttons, kept in the database so it holds across
  restarts; a number aimed (as a reply) at an older message comes to the router as a token no
  button has, and the person is told it is no longer valid.  A vote presses a button of the poll
  voted on, as long as Lotse remembers it open (the last OPEN_POLLS_KEPT per room): two offers in
  a row can both be answered, and whether an older button still counts is the router's question
  (a dialog's earlier step does not; an offer does).  Older polls are not ended when a newer menu
  follows (that would cost a send per step); a poll is ended
  (`org.matrix.msc3381.poll.end`) once it is answered.  The end's fallback text names the chosen
  answer with the label the person read, so it needs no words of its own in any language.
- `[matrix] polls = false` sends every choice as a numbered m.notice instead (for apps that show
  neither polls nor their fallback text).
- Up to 20 buttons make a poll (MSC3381's limit; the 13 languages and "Done" of the language
  picker fit); a longer list goes out as a plain numbered list (m.notice) and is answered by number.
- Multiple choice (languages, districts: options toggled with ✓, then "Done"): every tap makes the
  dialog edit its message, and a poll cannot be edited into another poll once voted on, so the
  edit sends the updated list as a new poll and ends the previous one.  Typing "2 5" toggles
  several at once, as on every platform.
- Edits of other messages are m.replace; an edit of a poll (an offer taken meanwhile) ends the
  poll and sends the new text as a new message.  Attachments are uploaded and sent as m.file.
- No reactions: earlier versions put keycap reactions (1️⃣ 2️⃣ …) under every menu; they nearly
  doubled a dialog step's round trip and ran into Synapse's default rate limit, and a poll is
  what people can tap now.
- Rate limits: nio honours M_LIMIT_EXCEEDED's retry_after_ms, at most `max_limit_exceeded` times;
  after that the send fails with DeliveryError (never retried forever).
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import random
import time
from pathlib import Path
from typing import Any

from nio import (AsyncClient, AsyncClientConfig, DownloadError, InviteMemberEvent, JoinError, LoginError,
                 RoomCreateError, RoomMessageFile, RoomMessageImage, RoomMessageText, RoomPreset, RoomSendError, SyncError, SyncResponse, UnknownEvent, UploadError,
                 WhoamiError)

from bot import logsafe
from bot.transports.registry import MatrixSettings
from bot.core.transport import DeliveryError, Receiver, RecipientUnreachable, StartupError, Traits
from bot.core.types import Event, Message, parse_command
from bot.store.store import TransportState
from bot.transports import numbered

log = logging.getLogger(__name__)

STALE = "-"  # a token no button ever has: the router answers "no longer valid"

# MSC3381 polls.  Sent with the unstable names (what Element sends and renders); the stable names
# are accepted on input too.  nio has no classes for them: they arrive as UnknownEvent.
POLL_START = "org.matrix.msc3381.poll.start"
POLL_RESPONSE = ("org.matrix.msc3381.poll.response", "m.poll.response")
POLL_END = "org.matrix.msc3381.poll.end"
POLL_DISCLOSED = "org.matrix.msc3381.poll.disclosed"
TEXT = "org.matrix.msc1767.text"
MAX_ANSWERS = 20     # MSC3381: a poll has at most 20 answers; a longer list is a numbered m.notice
OPEN_POLLS_KEPT = 20  # per room: the open polls Lotse remembers (to end them once answered)


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
    return numbered.plain(message), numbered.rich(message)


def fits_a_poll(message: Message) -> bool:
    return 1 <= len(message.flat_buttons) <= MAX_ANSWERS


def poll_content(message: Message) -> dict[str, Any]:
    """An MSC3381 poll.start: one answer per button (ids "1", "2", … as in the numbered list)."""
    answers = [{"id": str(number), TEXT: button.label}
               for number, button in enumerate(message.flat_buttons, start=1)]
    return {POLL_START: {"kind": POLL_DISCLOSED, "max_selections": 1, "question": {TEXT: message.text},
                         "answers": answers},
            TEXT: numbered.plain(message)}


def poll_vote(content: dict[str, Any]) -> tuple[str | None, str | None]:
    """(poll event id, the first answer id) of a poll.response — unstable or stable shape."""
    relates = content.get("m.relates_to") or {}
    poll_id = relates.get("event_id") if relates.get("rel_type") == "m.reference" else None
    answers: Any = None
    for name in POLL_RESPONSE:
        block = content.get(name)
        if isinstance(block, dict):
            answers = block.get("answers")
            break
    if answers is None:
        answers = content.get("m.selections")  # the stable event as MSC3381 writes it
    answer = answers[0] if isinstance(answers, list) and answers and isinstance(answers[0], str) else None
    return (poll_id if isinstance(poll_id, str) else None), answer


# What the rest of Lotse knows of Matrix.  A Message with a key is sent under a transaction id made
# from it: the homeserver answers a repeat (e.g. after a crash) with the first event — see
# Messenger.recognising_repeats.  The rate is [matrix] rate, set by the registry.
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
        self._receiver: Receiver | None = None
        self._since: str | None = None
        self._backlog_before = 0
        self._task: asyncio.Task[None] | None = None
        # What was chosen on an open poll (poll id → answer label), for the end's fallback text;
        # only in memory: after a restart the end falls back to the question.
        self._chosen: dict[str, str] = {}
        self._done = asyncio.Event()

    def use_state(self, state: TransportState) -> None:
        self.state = state

    @property
    def session_file(self) -> Path:
        return self.settings.session_dir / "session.json"

    # -- lifecycle --------------------------------------------------------------------------------
    async def start(self, receiver: Receiver) -> None:
        assert self.state is not None, "use_state() before start()"
        self._receiver = receiver
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
            assert self._receiver is not None
            await self._receiver.record(events)  # stored before the sync token moves past them
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
        if isinstance(item, UnknownEvent):
            if item.type not in POLL_RESPONSE:
                return None
            poll_id, answer = poll_vote(item.source.get("content") or {})
            if poll_id is None or answer is None:
                return None  # not a vote (or an "unvote": an empty list of answers)
            number = int(answer) if answer.isdecimal() else 0
            return Event(kind="button", token=await self._menu_token(room_id, number, poll_id, vote=True),
                         message_id=poll_id, **base)
        if isinstance(item, (RoomMessageImage, RoomMessageFile)):  # unencrypted media: an mxc:// url
            await self._remember_dm(item.sender, room_id)
            info = item.source.get("content", {}).get("info") or {}
            return Event(kind="file", file=item.url, file_name=item.body or "file",
                         file_type=info.get("mimetype") or "application/octet-stream",
                         file_size=int(info.get("size") or 0), **base)
        if not isinstance(item, RoomMessageText):
            return None
        await self._remember_dm(item.sender, room_id)
        relates = item.source.get("content", {}).get("m.relates_to", {})
        reply_to = relates.get("m.in_reply_to", {}).get("event_id")
        body = strip_reply_fallback(item.body) if reply_to else item.body.strip()
        menu = await self.state.get(f"menu:{room_id}") if body.isdecimal() else None
        number = numbered.chosen_number(body, len(menu["tokens"])) if menu is not None else None
        if number is not None:
            return Event(kind="button", token=await self._menu_token(room_id, number, reply_to, menu),
                         message_id=reply_to or menu["event_id"], **base)
        parsed = parse_command(body, "!/")
        if parsed is not None:
            return Event(kind="command", text=body, command=parsed[0], args=parsed[1], **base)
        return Event(kind="text", text=body, **base)

    async def _menu_token(self, room_id: str, number: int, target: str | None,
                          menu: dict[str, Any] | None = None, vote: bool = False) -> str:
        """The token of button `number` of the room's last menu, or of the open poll voted on;
        stale if aimed at any other message."""
        assert self.state is not None
        if menu is None:
            menu = await self.state.get(f"menu:{room_id}")
        if menu is None:
            return STALE
        chosen = target or menu["event_id"]
        poll = menu.get("polls", {}).get(chosen)
        if chosen == menu["event_id"]:
            tokens = menu["tokens"]
        elif vote and poll is not None and "tokens" in poll:
            tokens = poll["tokens"]
        else:
            return STALE
        if not 1 <= number <= len(tokens):
            return STALE
        if poll is not None:  # remembered for the poll end's fallback text
            self._chosen.pop(chosen, None)
            self._chosen[chosen] = poll["answers"][number - 1]
            while len(self._chosen) > OPEN_POLLS_KEPT:
                self._chosen.pop(next(iter(self._chosen)))
        return tokens[number - 1]

    async def fetch(self, ref: str, limit: int) -> bytes:
        """A photo or file a person sent (its mxc:// url), from the homeserver's media repository."""
        assert self.client is not None
        got = await self.client.download(mxc=ref)
        if isinstance(got, DownloadError):
            raise DeliveryError(f"matrix download: {got.message}")
        body = got.body if isinstance(got.body, bytes) else bytes(got.body)
        if len(body) > limit:
            raise DeliveryError(f"matrix file of {len(body)} bytes is over {limit}")
        return body

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
        menu = await self.state.get(f"menu:{room_id}")
        # A message with a key keeps one transaction id across restarts: the homeserver answers a
        # repeat with the first event instead of posting it twice.
        event_id = await self._post(room_id, message, tx_id=f"lotse-{message.key}" if message.key else None)
        if message.flat_buttons:
            await self._save_menu(room_id, menu, event_id, message)
        if message.attachment is not None:
            await self._send_file(room_id, message)
        return event_id

    def _as_poll(self, message: Message) -> bool:
        return self.settings.polls and fits_a_poll(message)

    async def _post(self, room_id: str, message: Message, tx_id: str | None = None) -> str:
        """A message with buttons as a poll (up to MAX_ANSWERS), anything else as m.notice."""
        if self._as_poll(message):
            return await self._send(room_id, poll_content(message), "poll", POLL_START, tx_id=tx_id)
        body, formatted = render(message)
        return await self._send(room_id, {"msgtype": "m.notice", "body": body, "format": "org.matrix.custom.html",
                                          "formatted_body": formatted}, "message", tx_id=tx_id)

    async def _save_menu(self, room_id: str, menu: dict[str, Any] | None, event_id: str, message: Message,
                         ended: str | None = None) -> None:
        """`event_id` (with `message`'s buttons) is the room's latest menu now; remember its poll
        as open, and forget the poll `ended`."""
        assert self.state is not None
        polls: dict[str, Any] = dict((menu or {}).get("polls", {}))
        polls.pop(ended or "", None)
        if self._as_poll(message):
            polls[event_id] = {"question": message.text.split("\n", 1)[0],
                               "answers": [b.label for b in message.flat_buttons],
                               "tokens": [b.token for b in message.flat_buttons]}
        while len(polls) > OPEN_POLLS_KEPT:
            polls.pop(next(iter(polls)))
        await self.state.set(f"menu:{room_id}", {"event_id": event_id, "tokens": [b.token for b in message.flat_buttons],
                                                 "polls": polls})

    async def _end_poll(self, room_id: str, poll_id: str, poll: dict[str, Any]) -> None:
        """End an open poll.  Its fallback text is the chosen answer's label (or the question): no
        words of its own, so nothing here needs the person's language."""
        chosen = self._chosen.pop(poll_id, None)
        text = (chosen if chosen.startswith("✓") else f"✓ {chosen}") if chosen else poll["question"]
        await self._send(room_id, {"m.relates_to": {"rel_type": "m.reference", "event_id": poll_id},
                                   POLL_END: {}, TEXT: text}, "poll end", POLL_END)

    async def clear_buttons(self, chat_id: str, message_id: str) -> None:
        """A choice was made on `message_id`: end its poll (a numbered m.notice has nothing to clear)."""
        assert self.state is not None, "transport not started"
        room_id = await self._room_for(chat_id)
        menu = await self.state.get(f"menu:{room_id}")
        poll = (menu or {}).get("polls", {}).get(message_id)
        if menu is None or poll is None:
            return
        await self._end_poll(room_id, message_id, poll)
        polls = {k: v for k, v in menu["polls"].items() if k != message_id}
        await self.state.set(f"menu:{room_id}", {**menu, "polls": polls})

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
        menu = await self.state.get(f"menu:{room_id}")
        poll = (menu or {}).get("polls", {}).get(message_id)
        if poll is not None:
            # A poll cannot become another poll or plain text in place: the new version is a new
            # message (a toggled multiple choice, an offer taken meanwhile) and the old poll ends.
            event_id = await self._post(room_id, message)
            await self._end_poll(room_id, message_id, poll)
            if message.flat_buttons or (menu or {}).get("event_id") == message_id:
                await self._save_menu(room_id, menu, event_id, message, ended=message_id)
            else:
                polls = {k: v for k, v in menu["polls"].items() if k != message_id}
                await self.state.set(f"menu:{room_id}", {**menu, "polls": polls})
            return
        body, formatted = render(message)
        new_content = {"msgtype": "m.notice", "body": body, "format": "org.matrix.custom.html",
                       "formatted_body": formatted}
        await self._send(room_id, {**new_content, "body": f"* {body}", "m.new_content": new_content,
                                   "m.relates_to": {"rel_type": "m.replace", "event_id": message_id}}, "edit")
        if menu is not None and menu["event_id"] == message_id:
            await self.state.set(f"menu:{room_id}", {**menu, "tokens": [b.token for b in message.flat_buttons]})
