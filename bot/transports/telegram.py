"""Telegram, on python-telegram-bot 22.x, running inside Lotse's own asyncio loop.

Updates become Events (text, commands also as /cmd@botname, button presses — always answered —,
the user's language_code as hint, update_id for de-duplication); Messages become sendMessage /
sendDocument / editMessageText calls with HTML parse mode, every text escaped, buttons as an
inline keyboard.  Only private chats are served.

Errors: 403 (blocked) and "chat not found" → RecipientUnreachable; 429 waits retry_after and
tries again; network errors and 5xx retry with exponential backoff and jitter, then give up with
DeliveryError; "message is not modified" on edits is ignored.  A token the server refuses stops
the start with StartupError (one line).
"""

from __future__ import annotations

import asyncio
import html
import logging
import os
import random
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

# Opt in to PTB's coming behaviour (RetryAfter.retry_after as a timedelta) and its silence.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from telegram import (  # noqa: E402
    BotCommand, BotCommandScopeChat, BotCommandScopeDefault, InlineKeyboardButton,
    InlineKeyboardMarkup, InputFile, Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application, ApplicationBuilder, ExtBot
from telegram.request import HTTPXRequest

from bot.transports.registry import TelegramSettings
from bot.core.transport import (CommandMenu, Traits, DeliveryError, DeliveryUncertain, Receiver, RateLimited,
                                RecipientUnreachable, StartupError, TemporaryFailure)
from bot.core.types import Event, Message, parse_command

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_TEXT = 4096
MAX_CAPTION = 1024
# What the rest of Lotse knows of Telegram (rates: [telegram] rate and per_chat_interval, set by
# the registry when it builds the transport).
TRAITS = Traits("Telegram", max_text=MAX_TEXT, rate=29.0, per_chat_interval=1.0)


def render_html(text: str) -> str:
    """Message text is plain text: escape it all, so "<b>Ali & Co</b>" shows literally."""
    return html.escape(text, quote=False)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split an over-long text at line breaks (or hard, if one line is too long)."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    chunks.append(current)
    return chunks


def _seconds(retry_after: int | timedelta) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else float(retry_after)


class _DurableQueue(asyncio.Queue):  # type: ignore[type-arg]
    """PTB's update queue, made durable.  PTB's updater awaits put() for every update it fetched
    and confirms the getUpdates offset (or answers the webhook request) only after put() returned;
    put() stores the update in Lotse's inbox, so nothing is confirmed to Telegram before it is on
    disk.  When polling, `_DurableBot` stored the whole batch already, before the updater saw it
    (then put() only answers button presses).  Updates are never queued here (Lotse's inbox
    handles them, not PTB's dispatcher); only PTB's own stop signal passes through."""

    def __init__(self, record: Callable[[Update], Awaitable[None]]) -> None:
        super().__init__()
        self._record_update = record

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            await self._record_update(item)
        else:
            await super().put(item)


class _DurableBot(ExtBot):  # type: ignore[type-arg]
    """PTB's bot, whose get_updates stores the batch it fetched in Lotse's inbox (one transaction)
    before the updater sees it, rather than one transaction per update in put().  Storing more than
    gets confirmed is harmless (a repeat is recognised by its update id); a failure to store is
    raised as a NetworkError, so PTB's polling loop asks again with the same offset."""

    __slots__ = ("_record_batch",)

    def __init__(self, record_batch: Callable[[tuple[Update, ...]], Awaitable[None]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        with self._unfrozen():
            self._record_batch = record_batch

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        updates = await super().get_updates(*args, **kwargs)
        if updates:
            await self._record_batch(updates)
        return updates


class TelegramTransport:
    platform = "telegram"
    command_prefix = "/"

    def __init__(self, settings: TelegramSettings, *, max_attempts: int = 5, backoff: float = 0.5,
                 backoff_cap: float = 30.0, read_timeout: float = 5.0, traits: Traits = TRAITS) -> None:
        self.settings = settings
        self.traits = traits
        self.read_timeout = read_timeout  # PTB's default; tests shorten it
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self.app: Application | None = None
        self.username: str | None = None
        self._receiver: Receiver | None = None
        self._done = asyncio.Event()
        self._answers: set[asyncio.Task[Any]] = set()
        self._stored: set[int] = set()  # update ids _record_batch stored, not yet passed to put()

    # -- lifecycle --------------------------------------------------------------------------------
    async def start(self, receiver: Receiver) -> None:
        self._receiver = receiver
        base = self.settings.base_url.rstrip("/")
        bot = _DurableBot(
            self._record_batch, token=self.settings.token,
            base_url=f"{base}/bot", base_file_url=f"{base}/file/bot",
            request=HTTPXRequest(connection_pool_size=max(8, self.settings.concurrent_updates + 4),
                                 read_timeout=self.read_timeout),
            get_updates_request=HTTPXRequest(
                connection_pool_size=1, read_timeout=self.settings.poll_timeout.total_seconds() + 10))
        app = (ApplicationBuilder()
               .bot(bot)
               .update_queue(_DurableQueue(self._record))
               .job_queue(None)  # Lotse has its own scheduler (bot/services/scheduler.py)
               .build())
        try:
            await app.initialize()
        except InvalidToken:
            await app.shutdown()
            raise StartupError(f"telegram: {self.settings.base_url} refused the bot token "
                               "(check [telegram] token or LOTSE_TELEGRAM_TOKEN)") from None
        except NetworkError as exc:
            await app.shutdown()
            raise StartupError(f"telegram: cannot reach {self.settings.base_url}: {exc}") from None
        self.app = app
        self.username = app.bot.username
        await app.start()
        assert app.updater is not None
        if self.settings.webhook_url:
            url = self.settings.webhook_url
            await app.updater.start_webhook(
                listen=self.settings.webhook_listen, port=self.settings.webhook_port,
                url_path=url.split("/", 3)[3] if url.count("/") >= 3 else "",
                webhook_url=url, secret_token=self.settings.webhook_secret or None,
                allowed_updates=["message", "callback_query"],
            )
        else:
            await app.updater.start_polling(
                poll_interval=0.0, timeout=int(self.settings.poll_timeout.total_seconds()),
                allowed_updates=["message", "callback_query"],
            )
        log.info("telegram: serving as @%s", self.username)

    async def stop_receiving(self) -> None:
        """Stop polling (PTB confirms the offset of what was recorded) or serving the webhook."""
        app = self.app
        if app is not None and app.updater is not None and app.updater.running:
            await app.updater.stop()

    async def stop(self) -> None:
        await self.stop_receiving()
        if self._answers:
            await asyncio.gather(*self._answers, return_exceptions=True)
        app, self.app = self.app, None
        if app is not None:
            if app.running:
                await app.stop()
            await app.shutdown()
        self._done.set()

    async def wait_done(self) -> None:
        await self._done.wait()

    # -- incoming ---------------------------------------------------------------------------------
    def to_event(self, update: Update) -> Event | None:
        """Translate one update; None for what Lotse does not serve (groups, channels, edits)."""
        if update.callback_query is not None:
            query = update.callback_query
            chat = query.message.chat if query.message is not None else None
            if chat is None or chat.type != ChatType.PRIVATE or not query.data:
                return None
            return Event(
                self.platform, str(query.from_user.id), str(chat.id), "button",
                token=query.data,
                message_id=str(query.message.message_id) if query.message is not None else None,
                language_hint=query.from_user.language_code, display_name=query.from_user.first_name,
                event_id=str(update.update_id), command_prefix=self.command_prefix,
            )
        message = update.message
        if message is None or message.chat.type != ChatType.PRIVATE or message.from_user is None:
            return None
        user = message.from_user
        text = message.text or ""
        base: dict[str, Any] = dict(
            platform=self.platform, user_id=str(user.id), chat_id=str(message.chat.id),
            language_hint=user.language_code, display_name=user.first_name,
            event_id=str(update.update_id), command_prefix=self.command_prefix,
        )
        if text.startswith("/"):
            parsed = parse_command(text, "/", self.username)
            if parsed is not None:
                return Event(kind="command", text=text, command=parsed[0], args=parsed[1], **base)
        if message.photo:  # the largest size Telegram made of it
            photo = message.photo[-1]
            return Event(kind="file", text=message.caption or "", file=photo.file_id, file_name="photo.jpg",
                         file_type="image/jpeg", file_size=photo.file_size or 0, **base)
        if message.document is not None:
            doc = message.document
            return Event(kind="file", text=message.caption or "", file=doc.file_id,
                         file_name=doc.file_name or "file", file_type=doc.mime_type or "application/octet-stream",
                         file_size=doc.file_size or 0, **base)
        return Event(kind="text", text=text, **base)

    async def fetch(self, ref: str, limit: int) -> bytes:
        """A photo or document a person sent (getFile, then the download)."""
        assert self.app is not None, "transport not started"
        bot = self.app.bot
        found = await self._call("getFile", lambda: bot.get_file(ref))
        if found.file_size and found.file_size > limit:
            raise DeliveryError(f"telegram file of {found.file_size} bytes is over {limit}")
        data = bytes(await self._call("download", lambda: found.download_as_bytearray()))
        if len(data) > limit:
            raise DeliveryError(f"telegram file of {len(data)} bytes is over {limit}")
        return data

    async def _record_batch(self, updates: tuple[Update, ...]) -> None:
        """A batch getUpdates returned: stored in Lotse's inbox in one transaction, before PTB's
        updater sees it (and so before it may confirm it to Telegram).  Not while the updater stops:
        it ignores what it fetches then, and Telegram sends it again."""
        app = self.app
        if self._receiver is None or app is None or app.updater is None or not app.updater.running:
            return
        events = [event for event in map(self.to_event, updates) if event is not None]
        if events:
            try:
                await self._receiver.record(events)
            except Exception as exc:
                log.error("telegram: storing updates %s..%s failed (%s); they are fetched again",
                          updates[0].update_id, updates[-1].update_id, exc)
                raise NetworkError(f"storing updates {updates[0].update_id}.. failed") from exc
        self._stored.update(update.update_id for update in updates)

    async def _record(self, update: Update) -> None:
        """One update from PTB's updater: stored in Lotse's inbox before PTB may confirm it to
        Telegram (unless `_record_batch` stored it already).  A failure to store is raised as a
        NetworkError, so PTB's polling loop tries the same updates again instead of confirming them."""
        if self._receiver is None:
            return
        if update.update_id in self._stored:
            self._stored.discard(update.update_id)
        else:
            event = self.to_event(update)
            if event is not None:
                try:
                    await self._receiver.record([event])
                except Exception as exc:
                    log.error("telegram: storing update %s failed (%s); it is fetched again", update.update_id, exc)
                    raise NetworkError(f"storing update {update.update_id} failed") from exc
        if update.callback_query is not None:
            # Always answer, so the person's app stops its spinner (handling follows from the inbox).
            task = asyncio.create_task(self._answer_callback(update.callback_query.id))
            self._answers.add(task)
            task.add_done_callback(self._answers.discard)

    async def _answer_callback(self, query_id: str) -> None:
        assert self.app is not None
        try:
            await self.app.bot.answer_callback_query(query_id)
        except TelegramError as exc:  # an expired query: nothing a person can do about it
            log.info("telegram: answering callback %s failed: %s", query_id, exc)

    # -- outgoing ---------------------------------------------------------------------------------
    @staticmethod
    def keyboard(message: Message) -> InlineKeyboardMarkup | None:
        if not message.buttons:
            return None
        return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.token) for b in row]
                                     for row in message.buttons])

    async def _call(self, what: str, make: Callable[[], Awaitable[T]], retry: bool = True,
                    once: bool = False) -> T:
        """Run one Bot API call with Lotse's error policy (see the module docstring).  Without
        `retry`: one attempt, 429 raised as RateLimited, a timeout as DeliveryUncertain (the message may
        have arrived) and other network errors/5xx as TemporaryFailure.  With `once` (a message with
        a key, whose sender keeps its own state): retried like any other, except after a timeout,
        which is raised as DeliveryUncertain instead of risking a second copy."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return await make()
            except Forbidden as exc:
                raise RecipientUnreachable(f"telegram {what}: {exc.message}") from exc
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                if not retry:
                    raise RateLimited(f"telegram {what}: rate limited for {wait:.0f} s", wait) from exc
                if attempt >= self.max_attempts:
                    raise DeliveryError(f"telegram {what}: still rate limited after {attempt} attempts") from exc
                log.warning("telegram %s: rate limited, waiting %.1f s", what, wait)
                await asyncio.sleep(wait)
            except BadRequest as exc:
                if "chat not found" in exc.message.lower():
                    raise RecipientUnreachable(f"telegram {what}: {exc.message}") from exc
                raise DeliveryError(f"telegram {what}: {exc.message}") from exc
            except (NetworkError, OSError) as exc:  # timeouts, connection errors, 5xx
                if (once or not retry) and isinstance(exc, TimedOut):
                    raise DeliveryUncertain(f"telegram {what}: {exc}") from exc
                if not retry:
                    raise TemporaryFailure(f"telegram {what}: {exc}") from exc
                if attempt >= self.max_attempts:
                    raise DeliveryError(f"telegram {what}: {exc} (gave up after {attempt} attempts)") from exc
                delay = min(self.backoff_cap, self.backoff * 2 ** (attempt - 1))
                delay *= random.uniform(0.5, 1.5)
                log.warning("telegram %s: %s; retrying in %.2f s", what, exc, delay)
                await asyncio.sleep(delay)

    async def send(self, chat_id: str, message: Message) -> str | None:
        assert self.app is not None, "transport not started"
        bot = self.app.bot
        markup = self.keyboard(message)
        once = message.key is not None  # its sender keeps state: a timeout must not become a second copy
        if message.attachment is not None and len(message.text) <= MAX_CAPTION:
            attachment = message.attachment
            sent = await self._call("sendDocument", lambda: bot.send_document(
                chat_id=chat_id, document=InputFile(attachment.content, filename=attachment.filename),
                caption=render_html(message.text) or None, parse_mode=ParseMode.HTML, reply_markup=markup),
                once=once)
            return str(sent.message_id)
        chunks = split_text(message.text)
        last_id: str | None = None
        for index, chunk in enumerate(chunks):
            is_last = index == len(chunks) - 1
            sent = await self._call("sendMessage", lambda chunk=chunk, is_last=is_last: bot.send_message(
                chat_id=chat_id, text=render_html(chunk), parse_mode=ParseMode.HTML,
                reply_markup=markup if is_last else None), once=once)
            last_id = str(sent.message_id)
        if message.attachment is not None:
            attachment = message.attachment
            sent = await self._call("sendDocument", lambda: bot.send_document(
                chat_id=chat_id, document=InputFile(attachment.content, filename=attachment.filename)))
        return last_id

    async def send_once(self, chat_id: str, text: str) -> str | None:
        """One sendMessage, no waiting (the broadcast sender paces and retries; see SendsOnce)."""
        assert self.app is not None, "transport not started"
        bot = self.app.bot
        sent = await self._call("sendMessage", lambda: bot.send_message(
            chat_id=chat_id, text=render_html(text[:MAX_TEXT]), parse_mode=ParseMode.HTML), retry=False)
        return str(sent.message_id)

    async def edit(self, chat_id: str, message_id: str, message: Message) -> None:
        assert self.app is not None, "transport not started"
        bot = self.app.bot
        try:
            await self._call("editMessageText", lambda: bot.edit_message_text(
                chat_id=chat_id, message_id=int(message_id), text=render_html(message.text[:MAX_TEXT]),
                parse_mode=ParseMode.HTML, reply_markup=self.keyboard(message)))
        except DeliveryError as exc:
            if "not modified" not in str(exc).lower():
                raise

    async def clear_buttons(self, chat_id: str, message_id: str) -> None:
        assert self.app is not None, "transport not started"
        bot = self.app.bot
        try:
            await self._call("editMessageReplyMarkup", lambda: bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=int(message_id), reply_markup=None))
        except DeliveryError as exc:
            if "not modified" not in str(exc).lower():
                raise

    async def set_command_menus(self, menus: list[CommandMenu]) -> None:
        assert self.app is not None, "transport not started"
        bot = self.app.bot
        for menu in menus:
            commands = [BotCommand(name, description[:256]) for name, description in menu.commands]
            scope = BotCommandScopeChat(int(menu.chat_id)) if menu.chat_id else BotCommandScopeDefault()
            await self._call("setMyCommands", lambda commands=commands, scope=scope, menu=menu: bot.set_my_commands(
                commands, scope=scope, language_code=menu.language))
