"""End-to-end tests of the fake Bot API server against the real python-telegram-bot library."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

try:
    from tests.botapi_server import BotApiServer
except ImportError:  # tests/ without __init__.py: pytest puts tests/ itself on sys.path
    from botapi_server import BotApiServer  # type: ignore[no-redef]

USER = 42
OTHER_USER = 43


@pytest.fixture(autouse=True)
def _timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's future RetryAfter.retry_after type (avoids PTBDeprecationWarning)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest_asyncio.fixture
async def server() -> AsyncIterator[BotApiServer]:
    async with BotApiServer() as srv:
        yield srv


def build_app(server: BotApiServer, token: str | None = None) -> Application:
    return (
        ApplicationBuilder()
        .token(token or server.token)
        .base_url(f"{server.url}/bot")
        .base_file_url(f"{server.url}/file/bot")
        .build()
    )


@contextlib.asynccontextmanager
async def running_bot(server: BotApiServer, *handlers: BaseHandler) -> AsyncIterator[Application]:
    """Run a real PTB Application (polling) in the current event loop; fail on handler errors."""
    app = build_app(server)
    for handler in handlers:
        app.add_handler(handler)
    errors: list[BaseException] = []

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        errors.append(context.error)  # type: ignore[arg-type]

    app.add_error_handler(on_error)
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)  # type: ignore[union-attr]
        try:
            yield app
        finally:
            await app.updater.stop()  # type: ignore[union-attr]
            await app.stop()
    assert not errors, f"handler errors: {errors!r}"


# ---------------------------------------------------------------- bot handlers used by the tests
async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    await update.message.reply_text(f"echo: {update.message.text}")


async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton("Alpha", callback_data="pick:a")],
         [InlineKeyboardButton("Beta", callback_data="pick:b")]]
    )
    await update.message.reply_text("Choose:", reply_markup=keyboard)


def make_pick_handler(seen: list[Any]) -> CallbackQueryHandler:
    async def pick(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        seen.append((query.data, query.message, query.from_user.language_code))
        await query.answer("ok")
        await query.edit_message_text(f"picked {query.data}")

    return CallbackQueryHandler(pick, pattern=r"^pick:")


def retry_seconds(error: RetryAfter) -> float:
    value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


# ---------------------------------------------------------------- tests
async def test_message_is_echoed(server: BotApiServer) -> None:
    async with running_bot(server, MessageHandler(filters.TEXT & ~filters.COMMAND, echo)):
        update_id = server.inject_message(USER, "hello there")
        messages = await server.wait_for_messages(USER, 1)

    assert update_id == 1
    assert [m["text"] for m in messages] == ["echo: hello there"]
    assert messages[0]["from"]["is_bot"] is True
    assert messages[0]["chat"] == {"id": USER, "type": "private", "first_name": f"User{USER}"}
    assert isinstance(messages[0]["date"], int)
    (call,) = server.sent(USER, "sendMessage")
    assert call.ok and call.params["text"] == "echo: hello there" and call.params["chat_id"] == USER
    order = [c.method for c in server.calls]
    assert order[:2] == ["getMe", "deleteWebhook"] and "getUpdates" in order
    times = [c.time for c in server.calls]
    assert times == sorted(times)


async def test_inline_keyboard_round_trip(server: BotApiServer) -> None:
    seen: list[Any] = []
    server.user(USER, first_name="Ada", language_code="de")
    async with running_bot(server, CommandHandler("menu", menu), make_pick_handler(seen)):
        server.inject_message(USER, "/menu")
        (sent,) = await server.wait_for_messages(USER, 1)
        buttons = [b["callback_data"] for row in sent["reply_markup"]["inline_keyboard"] for b in row]
        assert buttons == ["pick:a", "pick:b"]

        with pytest.raises(AssertionError, match="no button 'pick:z'"):
            server.press_button(USER, sent["message_id"], "pick:z")
        query_id = server.press_button(USER, sent["message_id"], "pick:b")
        edited = await server.wait_for(
            lambda: next((m for m in server.messages(USER) if m["text"] == "picked pick:b"), None)
        )
        await server.wait_for(lambda: query_id in server.answered_callbacks, what="answer")

    assert edited["message_id"] == sent["message_id"] and "edit_date" in edited
    assert "reply_markup" not in edited  # editMessageText without markup drops the keyboard
    assert server.answered_callbacks[query_id]["text"] == "ok"
    data, message, language = seen[0]
    assert data == "pick:b" and language == "de"
    assert isinstance(message, Message) and message.text == "Choose:"
    assert message.reply_markup is not None


async def test_command_addressed_to_bot_with_arguments(server: BotApiServer) -> None:
    received: list[list[str]] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        received.append(list(context.args or []))
        await update.effective_message.reply_text("started")  # type: ignore[union-attr]

    handlers = (CommandHandler("start", start), MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    async with running_bot(server, *handlers):
        server.inject_message(USER, "/start@lotse_test_bot hello world")
        server.inject_message(USER, "/start@some_other_bot ignored")  # not for us: PTB skips it
        server.inject_message(USER, "done")
        messages = await server.wait_for_messages(USER, 2)

    assert received == [["hello", "world"]]
    assert [m["text"] for m in messages] == ["started", "echo: done"]


async def test_forbidden_and_retry_after_reach_ptb(server: BotApiServer) -> None:
    server.user(USER)
    server.user(OTHER_USER)
    async with build_app(server) as app:
        server.fail_next("sendMessage", 429, retry_after=7)
        with pytest.raises(RetryAfter) as caught:
            await app.bot.send_message(USER, "one")
        assert retry_seconds(caught.value) == 7

        server.block_user(USER)
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await app.bot.send_message(USER, "two")
        await app.bot.send_message(OTHER_USER, "other chat still works")
        server.unblock_user(USER)

        server.fail_next("SENDMESSAGE", 403, chat_id=OTHER_USER)
        await app.bot.send_message(USER, "three")
        with pytest.raises(Forbidden):
            await app.bot.send_message(OTHER_USER, "four")

    assert [(c.params["text"], c.status) for c in server.sent(method="sendMessage")] == [
        ("one", 429), ("two", 403), ("other chat still works", 200), ("three", 200), ("four", 403)
    ]
    assert server.count_429 == 1
    assert server.texts(USER) == ["three"]


@pytest.mark.parametrize("status", [500, 502])
async def test_server_errors_are_network_errors(server: BotApiServer, status: int) -> None:
    server.user(USER)
    server.fail_next("sendMessage", status, count=2)
    async with build_app(server) as app:
        for _ in range(2):
            with pytest.raises(NetworkError) as caught:
                await app.bot.send_message(USER, "hi")
            assert type(caught.value) is NetworkError
        await app.bot.send_message(USER, "hi")  # count exhausted
    assert [c.status for c in server.sent(USER)] == [status, status, 200]


async def test_send_document_is_multipart_with_filename_and_bytes(server: BotApiServer) -> None:
    payload = b"name,score\nada,3\n"
    server.user(USER)
    async with build_app(server) as app:
        message = await app.bot.send_document(
            USER, document=payload, filename="report.csv", caption="Your report"
        )
        assert message.document is not None
        assert message.document.file_name == "report.csv"
        assert message.document.file_size == len(payload)
        downloaded = await (await app.bot.get_file(message.document.file_id)).download_as_bytearray()

    (call,) = server.sent(USER, "sendDocument")
    upload = call.files["document"]
    assert (upload.filename, upload.data) == ("report.csv", payload)
    assert call.params["caption"] == "Your report"
    (stored,) = server.messages(USER)
    assert stored["document"]["file_name"] == "report.csv"
    assert stored["document"]["mime_type"] == "text/csv"
    assert stored["caption"] == "Your report"
    assert bytes(downloaded) == payload


async def test_set_my_commands_with_language_code(server: BotApiServer) -> None:
    commands = [BotCommand("start", "Los geht's"), BotCommand("help", "Hilfe")]
    async with build_app(server) as app:
        assert await app.bot.set_my_commands(
            commands, scope=BotCommandScopeAllPrivateChats(), language_code="de"
        )
        fetched = await app.bot.get_my_commands(
            scope=BotCommandScopeAllPrivateChats(), language_code="de"
        )
        assert await app.bot.get_my_commands() == ()
        with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
            await app.bot.set_my_commands([BotCommand("Start", "uppercase is invalid")])

    assert tuple(fetched) == tuple(commands)
    call = server.sent(method="setMyCommands")[0]
    assert call.params["language_code"] == "de"
    assert call.params["scope"] == {"type": "all_private_chats"}
    assert call.params["commands"] == [
        {"command": "start", "description": "Los geht's"},
        {"command": "help", "description": "Hilfe"},
    ]
    assert server.commands({"type": "all_private_chats"}, "de")[1]["command"] == "help"


async def test_wrong_token_is_invalid_token(server: BotApiServer) -> None:
    app = build_app(server, token="999999:WRONG")
    try:
        with pytest.raises(InvalidToken):
            await app.initialize()
    finally:
        await app.bot.shutdown()  # the HTTP clients were opened before getMe failed
    (call,) = server.calls
    assert (call.method, call.status, call.description) == ("getMe", 401, "Unauthorized")


async def test_flood_limit_answers_429(server: BotApiServer) -> None:
    server.user(USER)
    server.user(OTHER_USER)
    server.flood_limit(per_second=5)
    async with build_app(server) as app:
        results = await asyncio.gather(
            *(app.bot.send_message(USER, f"m{i}") for i in range(8)), return_exceptions=True
        )
        limited = [r for r in results if isinstance(r, RetryAfter)]
        assert len(limited) == 3 and server.count_429 == 3
        assert all(isinstance(r, Message | RetryAfter) for r in results)

        server.flood_limit(per_second=None, per_chat_per_second=2)
        await app.bot.send_message(OTHER_USER, "a")
        await app.bot.send_message(OTHER_USER, "b")
        with pytest.raises(RetryAfter):
            await app.bot.send_message(OTHER_USER, "c")
        await app.bot.send_chat_action(OTHER_USER, "typing")  # not rate limited
        await app.bot.send_message(USER, "per-chat limit is per chat")

    assert server.count_429 == 4
    assert len(server.texts(USER)) == 6


async def test_edit_errors_match_telegram(server: BotApiServer) -> None:
    server.user(USER)
    async with build_app(server) as app:
        message = await app.bot.send_message(USER, "<b>bold</b> &amp; plain", parse_mode="HTML")
        assert message.text == "bold & plain"
        edited = await app.bot.edit_message_text("new", chat_id=USER, message_id=message.message_id)
        assert isinstance(edited, Message) and edited.text == "new"
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await app.bot.edit_message_text("new", chat_id=USER, message_id=message.message_id)
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await app.bot.edit_message_text("x", chat_id=USER, message_id=999)
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="go")]])
        edited = await app.bot.edit_message_reply_markup(USER, message.message_id, reply_markup=markup)
        assert isinstance(edited, Message) and edited.reply_markup == markup
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await app.bot.send_message(USER, "<blink>x</blink>", parse_mode="HTML")

    assert server.messages(USER)[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "go"


async def test_raw_wire_format_and_long_poll_conflict(server: BotApiServer) -> None:
    base = f"{server.url}/bot{server.token}"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/GETME") as resp:
            me = await resp.json()
        assert me["ok"] and me["result"]["is_bot"] and me["result"]["username"] == "lotse_test_bot"
        async with http.post(f"{base}/noSuchMethod", json={}) as resp:
            assert resp.status == 404
            assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}

        first = asyncio.ensure_future(http.post(f"{base}/getUpdates", json={"timeout": 5}))
        await server.wait_for(lambda: len(server.sent(method="getUpdates")) == 1)
        second = asyncio.ensure_future(http.post(f"{base}/getUpdates", data={"timeout": "5"}))
        async with await first as resp:
            assert resp.status == 409
            assert "terminated by other getUpdates request" in (await resp.json())["description"]
        update_id = server.inject_message(USER, "/start")
        async with await second as resp:
            updates = (await resp.json())["result"]
        assert [u["update_id"] for u in updates] == [update_id]
        assert updates[0]["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]

        query = {"offset": str(update_id + 1), "timeout": "0"}
        async with http.get(f"{base}/getUpdates", params=query) as resp:
            assert (await resp.json())["result"] == []
    assert server.sent(method="getUpdates")[1].params["timeout"] == 5  # form value decoded


async def test_wait_for_timeout_lists_calls(server: BotApiServer) -> None:
    server.user(USER)
    async with build_app(server) as app:
        await app.bot.send_message(USER, "something else")
    with pytest.raises(AssertionError, match=r"(?s)2 bot message.*sendMessage.*something else"):
        await server.wait_for_messages(USER, 2, timeout=0.2)


async def test_telegram_limits_are_opt_in_and_answer_429_like_telegram() -> None:
    """BotApiServer(telegram_limits=True): 30 messages/s overall, 1/s per private chat, on the
    server's clock (moved by hand here); the 429 body is Telegram's.  Off by default."""
    now = [1000.0]
    async with BotApiServer(telegram_limits=True) as server:
        server.clock = lambda: now[0]
        base = f"{server.url}/bot{server.token}"
        for chat in range(1, 33):
            server.user(chat)
        async with aiohttp.ClientSession() as http:
            async def send(chat: int, text: str = "hi") -> tuple[int, dict[str, Any]]:
                async with http.post(f"{base}/sendMessage", json={"chat_id": chat, "text": text}) as resp:
                    return resp.status, await resp.json()

            # one per chat to 30 chats in the same instant: all delivered; the 31st chat is over 30/s
            assert [(await send(chat))[0] for chat in range(1, 31)] == [200] * 30
            status, body = await send(31)
            assert (status, body) == (429, {"ok": False, "error_code": 429,
                                            "description": "Too Many Requests: retry after 1",
                                            "parameters": {"retry_after": 1}})
            now[0] += 0.5
            assert (await send(31))[0] == 429  # the window is one second
            now[0] += 0.5
            assert (await send(31))[0] == 200
            # 1 message/s per private chat, however quiet the rest is
            now[0] += 5
            assert (await send(32, "one"))[0] == 200
            now[0] += 0.25
            status, body = await send(32, "two")
            assert status == 429 and body["parameters"] == {"retry_after": 1}
            assert (await send(1))[0] == 200  # another chat is not held up
            async with http.post(f"{base}/sendChatAction", json={"chat_id": 32, "action": "typing"}) as resp:
                assert resp.status == 200  # not a message: not limited
            now[0] += 0.75
            assert (await send(32, "two"))[0] == 200
        assert server.count_429 == 3
        assert server.texts(32) == ["one", "two"]

    async with BotApiServer() as server:  # the default: no limits
        server.user(USER)
        async with build_app(server) as app:
            await asyncio.gather(*(app.bot.send_message(USER, f"m{i}") for i in range(40)))
        assert server.count_429 == 0 and len(server.texts(USER)) == 40


async def test_hold_answers_until_the_test_says_so(server: BotApiServer) -> None:
    server.user(USER)
    server.user(OTHER_USER)
    gate = server.hold("sendMessage", chat_id=USER)
    async with build_app(server) as app:
        held = asyncio.ensure_future(app.bot.send_message(USER, "held"))
        await server.wait_for(lambda: server.texts(USER) == ["held"], what="the held message stored")
        await app.bot.send_message(OTHER_USER, "other chat")  # not held
        assert not held.done()
        gate.set()
        assert (await held).text == "held"
        await app.bot.send_message(USER, "only the first was held")
