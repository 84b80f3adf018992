"""A fake Telegram Bot API server for end-to-end tests of the Lotse bot.

The real ``python-telegram-bot`` (PTB 22.x) library runs unmodified against it::

    async with BotApiServer() as server:
        app = (ApplicationBuilder().token(server.token)
               .base_url(f"{server.url}/bot").base_file_url(f"{server.url}/file/bot").build())
        ...  # async with app: await app.start(); await app.updater.start_polling(poll_interval=0, timeout=1)

Wire format: routes ``/bot{token}/{method}`` (GET/POST, method names case-insensitive) take
parameters from the query string, url-encoded forms, JSON bodies and multipart uploads; answers
are ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N, "description": ...}``
exactly like Telegram (which is what PTB maps to its exceptions: 401/404 -> InvalidToken,
400 -> BadRequest, 403 -> Forbidden, 409 -> Conflict, ``parameters.retry_after`` -> RetryAfter,
anything else -> NetworkError). Only private chats exist; a chat id is the user id, and sending
to a user the server has never heard of answers "Bad Request: chat not found".

Test-side API (plain methods, call them from the event loop that runs the server):

* ``user(id, first_name="Test", language_code="en", username=None)`` -> :class:`TgUser`;
  registers/updates a user (``inject_message`` registers unknown ids automatically).
* ``inject_message(user_id, text, *, language_code=None, first_name=None) -> update_id``;
  commands ("/start", "/start@bot args") get a ``bot_command`` entity at offset 0.
  ``language_code``/``first_name`` also update the stored user.
* ``press_button(user_id, message_id, callback_data, *, strict=True) -> callback_query_id``;
  with ``strict`` the bot message must exist and carry a button with that callback_data.
* ``inject_update(update) -> update_id`` for anything else (``update_id`` is filled in).
* ``calls`` (every request, in arrival order, as :class:`Call`), ``sent(chat_id=None,
  method=None)`` (the same, filtered; getUpdates only when asked for by name),
  ``messages(chat_id)`` / ``texts(chat_id)`` (the bot's current messages with edits and
  deletions applied), ``answered_callbacks`` (callback_query_id -> answer params),
  ``commands(scope=None, language_code="")``, ``webhook``, ``count_429``.
* ``await wait_for(predicate, timeout=10)`` returns the predicate's first truthy result;
  ``await wait_for_messages(chat_id, count, timeout=10)``. Both wake on every server event and
  raise AssertionError listing the recorded calls on timeout.
* Faults: ``fail_next(method, status, description=None, retry_after=None, count=1,
  chat_id=None)`` (method "*" matches any), ``block_user(id)`` / ``unblock_user(id)`` (send* to
  that chat -> 403), ``flood_limit(per_second=30, per_chat_per_second=None)`` (sliding 1 s window
  over send* methods except sendChatAction; ``per_second=None`` disables the global limit),
  ``answer_late(method, seconds, count=1, chat_id=None)`` (the call is carried out, its answer
  held back — a client with a shorter read timeout sees a timeout for a message that did arrive),
  ``hold(method, chat_id=None, count=1) -> asyncio.Event`` (the next matching calls are carried
  out, their answers held back until the test sets the event: a test decides *when*, not how long).
* Telegram's own limits, opt-in: ``BotApiServer(telegram_limits=True)`` is ``flood_limit(30, 1)``
  from the start — 30 messages/s overall and 1/s per private chat, no bursts; above them
  ``429 {"ok": false, "error_code": 429, "description": "Too Many Requests: retry after N",
  "parameters": {"retry_after": N}}``.  The windows follow ``server.clock`` (``time.monotonic``
  unless a test replaces it).

getUpdates long-polls; a newer getUpdates terminates a waiting one with 409 Conflict, as
Telegram does (the older request receives the error).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import html
import inspect
import itertools
import json
import math
import mimetypes
import re
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http import HTTPStatus
from typing import Any, TypeVar

from aiohttp import web

JSONDict = dict[str, Any]
T = TypeVar("T")

DEFAULT_TOKEN = "123456:TEST-TOKEN"
CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
# Form values are JSON-decoded (PTB json.dumps every non-str value) except these free-text /
# file-reference parameters, which PTB sends verbatim.
TEXT_PARAMS = frozenset(
    "text caption data query description short_description name title url file_name parse_mode "
    "language_code inline_message_id callback_query_id secret_token emoji action username "
    "first_name last_name question explanation address phone_number vcard payload currency "
    "file_id document photo audio video voice animation video_note sticker thumbnail "
    "message_effect_id business_connection_id ip_address".split()
)
JSON_PARAMS = frozenset(
    "reply_markup commands scope allowed_updates entities caption_entities link_preview_options "
    "reply_parameters media results menu_button".split()
)
HTML_TAGS = frozenset(
    "b strong i em u ins s strike del span tg-spoiler a code pre blockquote tg-emoji".split()
)
COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
BOT_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


class ApiError(Exception):
    """Raised by method implementations; becomes a Telegram error response."""

    def __init__(self, status: int, description: str | None = None, retry_after: int | None = None):
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}"
                if status == 429
                else DEFAULT_DESCRIPTIONS.get(status, _phrase(status))
            )
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after

    def body(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class UploadedFile:
    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class Call:
    """One request as received. ``status``/``result``/``description`` are set once answered."""

    method: str
    params: JSONDict
    time: float  # time.monotonic() at arrival
    files: dict[str, UploadedFile] = field(default_factory=dict)
    status: int | None = None
    result: Any = None
    description: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def chat_id(self) -> int | str | None:
        return self.params.get("chat_id")

    def summary(self) -> str:
        shown = {k: v for k, v in self.params.items() if k != "chat_id"}
        for key in ("text", "caption"):
            if isinstance(shown.get(key), str) and len(shown[key]) > 60:
                shown[key] = shown[key][:57] + "..."
        state = self.status if self.status is not None else self.description or "pending"
        extra = f" ({self.description})" if self.status and not self.ok else ""
        return f"{self.time:.3f} {self.method} chat={self.chat_id} {shown} -> {state}{extra}"


@dataclass
class TgUser:
    id: int
    first_name: str = "Test"
    language_code: str | None = "en"
    username: str | None = None
    last_name: str | None = None

    def to_dict(self) -> JSONDict:
        data: JSONDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data

    def chat(self) -> JSONDict:
        data: JSONDict = {"id": self.id, "type": "private", "first_name": self.first_name}
        for key in ("last_name", "username"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data


@dataclass
class _Fault:
    method: str  # lower-case, or "*"
    error: ApiError
    remaining: int
    chat_id: int | str | None


class _HtmlChecker(HTMLParser):
    """Strips Telegram-HTML to plain text and rejects what Telegram rejects (roughly)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag not in HTML_TAGS:
            raise _bad(f'can\'t parse entities: Unsupported start tag "{tag}"')
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            raise _bad(f'can\'t parse entities: Can\'t find end tag corresponding to start tag "{tag}"')
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _render(text: str, parse_mode: str | None) -> str:
    if (parse_mode or "").lower() != "html":
        return text  # Markdown is stored verbatim
    checker = _HtmlChecker()
    checker.feed(text)
    checker.close()
    if checker.stack:
        raise _bad(f'can\'t parse entities: Can\'t find end tag corresponding to start tag '
                   f'"{checker.stack[-1]}"')
    return html.unescape("".join(checker.parts))


class BotApiServer:
    """See the module docstring."""

    RATE_LIMITED_EXCLUDE = frozenset({"sendchataction"})

    def __init__(self, token: str = DEFAULT_TOKEN, username: str = "lotse_test_bot",
                 first_name: str = "Lotse Test", *, telegram_limits: bool = False) -> None:
        self.token = token
        self.bot_user: JSONDict = {"id": int(token.split(":")[0]), "is_bot": True,
                                   "first_name": first_name, "username": username}
        self.url = ""
        self.calls: list[Call] = []
        self.answered_callbacks: dict[str, JSONDict] = {}
        self.webhook: JSONDict | None = None
        self.count_429 = 0
        self._users: dict[int, TgUser] = {}
        self._updates: list[JSONDict] = []
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(4_000_000_000_000_000_001)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._chats: dict[int, dict[int, JSONDict]] = {}  # chat -> message_id -> message
        self._open_callbacks: dict[str, JSONDict] = {}
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._files: dict[str, tuple[JSONDict, bytes]] = {}
        self._faults: list[_Fault] = []
        self._late: list[tuple[str, float, int | str | None]] = []  # (method, delay, chat) still to apply
        self._blocked: set[int] = set()
        self._rate: tuple[int | None, int | None] = (30, 1) if telegram_limits else (None, None)
        self.clock: Callable[[], float] = time.monotonic  # the rate windows' clock
        self._holds: list[tuple[str, int | str | None, asyncio.Event]] = []
        self._sends: deque[float] = deque()
        self._chat_sends: dict[Any, deque[float]] = {}
        self._allowed_updates: set[str] | None = None
        self._poll_generation = 0
        self._closing = False
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._methods: dict[str, tuple[str, Callable[[Call], Any]]] = {
            name.lower(): (name, getattr(self, f"_m_{name}"))
            for name in ("getMe deleteWebhook setWebhook getWebhookInfo getUpdates sendMessage "
                         "editMessageText editMessageCaption editMessageReplyMarkup deleteMessage "
                         "sendDocument getFile answerCallbackQuery setMyCommands getMyCommands "
                         "deleteMyCommands sendChatAction close logOut").split()
        }

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> BotApiServer:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._closing = False
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True,
                                     shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        self._closing = True
        self._notify()  # release long polls so shutdown does not wait for them
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ test-side API
    def user(self, id: int, first_name: str = "Test", language_code: str | None = "en",
             username: str | None = None, last_name: str | None = None) -> TgUser:
        self._users[id] = TgUser(id, first_name, language_code, username, last_name)
        return self._users[id]

    def inject_update(self, update: JSONDict) -> int:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **update})
        self._notify()
        return update_id

    def inject_message(self, user_id: int, text: str, *, language_code: str | None = None,
                       first_name: str | None = None) -> int:
        user = self._users.get(user_id) or self.user(user_id, first_name=f"User{user_id}")
        if language_code is not None:
            user.language_code = language_code
        if first_name is not None:
            user.first_name = first_name
        message = self._store(user_id, user.to_dict(), text=text)
        if match := COMMAND_RE.match(text):
            message["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": _utf16_len(match.group())}]
        return self.inject_update({"message": message})

    def inject_photo(self, user_id: int, data: bytes, caption: str | None = None) -> int:
        """The person sends a photo (as the Telegram app does: sizes of it, the largest last); the
        bot can getFile and download it."""
        user = self._users.get(user_id) or self.user(user_id)
        file_id = f"AgACAgIAAx{uuid.uuid4().hex}"
        photo = {"file_id": file_id, "file_unique_id": f"AQAD{uuid.uuid4().hex[:12]}", "width": 1280,
                 "height": 960, "file_size": len(data)}
        self._files[file_id] = (photo, data)
        thumb = {**photo, "file_id": f"AgACAgIAAx{uuid.uuid4().hex}", "width": 90, "height": 67, "file_size": 900}
        self._files[thumb["file_id"]] = (thumb, data[:900])
        message = self._store(user_id, user.to_dict(), photo=[thumb, photo], caption=caption)
        return self.inject_update({"message": message})

    def press_button(self, user_id: int, message_id: int, callback_data: str, *,
                     strict: bool = True) -> str:
        user = self._users.get(user_id) or self.user(user_id)
        message = self._chats.get(user_id, {}).get(message_id)
        if strict:
            if message is None or message["from"]["id"] != self.bot_user["id"]:
                raise AssertionError(f"no bot message {message_id} in chat {user_id}; "
                                     f"current: {self.texts(user_id)}")
            buttons = [b.get("callback_data") for row in
                       message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]
            if callback_data not in buttons:
                raise AssertionError(f"message {message_id} has no button {callback_data!r}; "
                                     f"buttons: {buttons}")
        query_id = str(next(self._callback_ids))
        query: JSONDict = {
            "id": query_id, "from": user.to_dict(), "chat_instance": str(-7_000_000_000 - user_id),
            "data": callback_data,
            "message": copy.deepcopy(message) if message else
            {"message_id": message_id, "chat": user.chat(), "date": 0},  # InaccessibleMessage
        }
        self._open_callbacks[query_id] = query
        self.inject_update({"callback_query": query})
        return query_id

    def sent(self, chat_id: int | str | None = None, method: str | None = None) -> list[Call]:
        return [c for c in self.calls
                if (c.method.lower() == method.lower() if method else c.method != "getUpdates")
                and (chat_id is None or c.chat_id == chat_id)]

    def messages(self, chat_id: int) -> list[JSONDict]:
        return [copy.deepcopy(m) for m in self._chats.get(chat_id, {}).values()
                if m["from"]["id"] == self.bot_user["id"]]

    def texts(self, chat_id: int) -> list[str | None]:
        return [m.get("text", m.get("caption")) for m in self.messages(chat_id)]

    def commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        return list(self._commands.get((self._scope_key(scope), language_code), []))

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 10.0,
                       what: str | None = None) -> T:
        result = await self._wait(predicate, timeout)
        if not result:
            calls = "\n".join("  " + c.summary() for c in self.sent()[-40:]) or "  (none)"
            raise AssertionError(f"timed out after {timeout}s waiting for "
                                 f"{what or getattr(predicate, '__name__', 'predicate')}; "
                                 f"calls so far:\n{calls}")
        return result

    async def wait_for_messages(self, chat_id: int, count: int,
                                timeout: float = 10.0) -> list[JSONDict]:
        await self.wait_for(lambda: len(self.messages(chat_id)) >= count, timeout,
                            f"{count} bot message(s) in chat {chat_id}")
        return self.messages(chat_id)

    def fail_next(self, method: str, status: int, description: str | None = None,
                  retry_after: int | None = None, count: int = 1,
                  chat_id: int | str | None = None) -> None:
        self._faults.append(_Fault(method.lower(), ApiError(status, description, retry_after),
                                   count, chat_id))

    def answer_late(self, method: str, seconds: float, count: int = 1, chat_id: int | str | None = None) -> None:
        self._late.extend([(method.lower(), seconds, chat_id)] * count)

    def hold(self, method: str, chat_id: int | str | None = None, count: int = 1) -> asyncio.Event:
        """The next `count` calls of `method` (to `chat_id`, if given) are carried out, but their
        answers wait until the returned event is set."""
        gate = asyncio.Event()
        self._holds.extend([(method.lower(), chat_id, gate)] * count)
        return gate

    def block_user(self, user_id: int) -> None:
        self._blocked.add(user_id)

    def unblock_user(self, user_id: int) -> None:
        self._blocked.discard(user_id)

    def flood_limit(self, per_second: int | None = 30,
                    per_chat_per_second: int | None = None) -> None:
        self._rate = (per_second, per_chat_per_second)
        self._sends.clear()
        self._chat_sends.clear()

    # ------------------------------------------------------------------ plumbing
    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait(self, predicate: Callable[[], T], timeout: float) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._changed
            result = predicate()
            remaining = deadline - loop.time()
            if result or remaining <= 0 or self._closing:
                return result
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def _handle(self, request: web.Request) -> web.Response:
        name = request.match_info["method"]
        canonical, impl = self._methods.get(name.lower(), (name, None))
        call = Call(canonical, {}, time.monotonic())
        self.calls.append(call)
        try:
            try:
                call.params, call.files = await self._read_params(request)
            except ValueError as bad_body:
                raise _bad(f"can't parse request: {bad_body}") from None
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            if impl is None:
                raise ApiError(404, "Not Found")
            self._check_faults(call)
            result = impl(call)
            if inspect.isawaitable(result):
                result = await result
            call.status, call.result = 200, result
            body: JSONDict = {"ok": True, "result": result}
            late = next((entry for entry in self._late if entry[0] == canonical.lower()
                         and entry[2] in (None, call.chat_id)), None)
            if late is not None:
                self._late.remove(late)
                self._notify()
                await asyncio.sleep(late[1])
            held = next((entry for entry in self._holds if entry[0] == canonical.lower()
                         and entry[1] in (None, call.chat_id)), None)
            if held is not None:
                self._holds.remove(held)
                self._notify()
                await held[2].wait()
        except asyncio.CancelledError:  # client went away (e.g. PTB cancelled its long poll)
            call.description = "cancelled"
            raise
        except Exception as exc:  # every failure becomes a Telegram error body
            err = exc if isinstance(exc, ApiError) else ApiError(500, f"Internal Server Error: {exc!r}")
            call.status, call.description, body = err.status, err.description, err.body()
            self.count_429 += int(err.status == 429)
        finally:
            self._notify()
        return web.json_response(body, status=call.status)

    async def _read_params(self, request: web.Request) -> tuple[JSONDict, dict[str, UploadedFile]]:
        raw: JSONDict = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.can_read_body and request.content_type == "application/json":
            body = await request.json()
            params = {**raw, **(body if isinstance(body, dict) else {})}
            for key in JSON_PARAMS & params.keys():
                if isinstance(params[key], str):
                    params[key] = json.loads(params[key])
        else:
            if request.can_read_body:
                for key, value in (await request.post()).items():
                    if isinstance(value, web.FileField):
                        files[key] = UploadedFile(key, value.filename, value.content_type,
                                                  value.file.read())
                    else:
                        raw[key] = value if isinstance(value, str) else bytes(value).decode()
            params = {k: v if k in TEXT_PARAMS else self._decode(v) for k, v in raw.items()}
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                params[key] = files.get(value[len("attach://"):], value)
        for key, upload in files.items():
            params.setdefault(key, upload)
        for key in ("chat_id", "user_id", "message_id"):
            number = params.get(key)
            if isinstance(number, str) and number.lstrip("-").isdigit():
                params[key] = int(number)
        return params, files

    @staticmethod
    def _decode(value: str) -> Any:
        try:
            return json.loads(value)
        except ValueError:
            return value

    def _check_faults(self, call: Call) -> None:
        method = call.method.lower()
        for fault in self._faults:
            if fault.method in (method, "*") and fault.chat_id in (None, call.chat_id):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                raise fault.error
        if not method.startswith("send"):
            return
        if call.chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if method in self.RATE_LIMITED_EXCLUDE:
            return
        now = self.clock()
        windows = [(self._sends, self._rate[0])]
        if self._rate[1] is not None:
            windows.append((self._chat_sends.setdefault(call.chat_id, deque()), self._rate[1]))
        for sends, limit in windows:
            while sends and now - sends[0] >= 1.0:
                sends.popleft()
            if limit is not None and len(sends) >= limit:
                raise ApiError(429, retry_after=max(1, math.ceil(1.0 - (now - sends[0]))))
        for sends, _ in windows:
            sends.append(now)

    def _store(self, chat_id: int, sender: JSONDict, **content: Any) -> JSONDict:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        message = {"message_id": next(counter), "from": sender,
                   "chat": self._users[chat_id].chat(), "date": int(time.time()),
                   **{k: v for k, v in content.items() if v is not None}}
        self._chats.setdefault(chat_id, {})[message["message_id"]] = message
        return message

    def _chat_id(self, call: Call) -> int:
        chat_id = call.params.get("chat_id")
        if chat_id is None:
            raise _bad("chat_id is empty")
        if chat_id not in self._users:
            raise _bad("chat not found")
        return int(chat_id)

    @staticmethod
    def _markup(params: JSONDict) -> JSONDict | None:
        """Inline keyboards are echoed back in messages; other keyboards are not (like Telegram)."""
        markup = params.get("reply_markup")
        if not isinstance(markup, dict) or not markup.get("inline_keyboard"):
            return None
        for row in markup["inline_keyboard"]:
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise _bad("BUTTON_DATA_INVALID")
        return markup

    def _bot_message(self, call: Call, verb: str = "edit") -> JSONDict:
        chat = self._chats.get(call.params.get("chat_id"), {})  # type: ignore[arg-type]
        message = chat.get(call.params.get("message_id"))  # type: ignore[arg-type]
        if message is None:
            raise _bad(f"message to {verb} not found")
        if message["from"]["id"] != self.bot_user["id"]:
            raise _bad(f"message can't be {verb.rstrip('e')}ed")
        return message

    def _edit(self, call: Call, field_name: str | None) -> JSONDict:
        message = self._bot_message(call)
        changes: JSONDict = {"reply_markup": self._markup(call.params)}
        if field_name is not None:
            if field_name == "text" and "text" not in message:
                raise _bad("there is no text in the message to edit")
            value = call.params.get(field_name)
            if field_name == "text" and not value:
                raise _bad("message text is empty")
            changes[field_name] = _render(value, call.params.get("parse_mode")) if value else None
        if all(message.get(k) == v for k, v in changes.items()):
            raise ApiError(400, NOT_MODIFIED)
        for key, value in changes.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    @staticmethod
    def _scope_key(scope: JSONDict | None) -> str:
        return json.dumps(scope or {"type": "default"}, sort_keys=True)

    # ------------------------------------------------------------------ Bot API methods
    def _m_getMe(self, call: Call) -> JSONDict:
        return {**self.bot_user, "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    def _m_setWebhook(self, call: Call) -> bool:
        self.webhook = dict(call.params)
        return True

    def _m_deleteWebhook(self, call: Call) -> bool:
        self.webhook = None
        if call.params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _m_getWebhookInfo(self, call: Call) -> JSONDict:
        return {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}

    async def _m_getUpdates(self, call: Call) -> list[JSONDict]:
        params = call.params
        offset = params.get("offset")
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        if "allowed_updates" in params:
            self._allowed_updates = set(params["allowed_updates"] or ()) or None
        if isinstance(offset, int) and offset < 0:
            del self._updates[:offset]
        elif isinstance(offset, int):
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # terminates an older waiting getUpdates with 409

        def deliverable() -> list[JSONDict]:
            allowed = self._allowed_updates
            return [u for u in self._updates if allowed is None or (u.keys() - {"update_id"}) & allowed]

        await self._wait(lambda: generation != self._poll_generation or deliverable(),
                         float(params.get("timeout") or 0))
        if generation != self._poll_generation:
            raise ApiError(409, CONFLICT)
        return copy.deepcopy(deliverable()[:limit])

    def _m_sendMessage(self, call: Call) -> JSONDict:
        chat_id = self._chat_id(call)
        text = call.params.get("text")
        if not text:
            raise _bad("message text is empty")
        text = _render(text, call.params.get("parse_mode"))
        if _utf16_len(text) > 4096:
            raise _bad("message is too long")
        return self._store(chat_id, self.bot_user, text=text,
                           entities=call.params.get("entities"),
                           reply_markup=self._markup(call.params))

    def _m_sendDocument(self, call: Call) -> JSONDict:
        chat_id = self._chat_id(call)
        upload = call.params.get("document")
        if isinstance(upload, UploadedFile):
            name = upload.filename or "document"
            file_id = f"BQACAgIAAx{uuid.uuid4().hex}"
            document = {"file_id": file_id, "file_unique_id": f"AgAD{uuid.uuid4().hex[:12]}",
                        "file_name": name, "file_size": len(upload.data),
                        "mime_type": (upload.content_type if upload.content_type not in
                                      (None, "application/octet-stream") else
                                      mimetypes.guess_type(name)[0]) or "application/octet-stream"}
            self._files[file_id] = (document, upload.data)
        elif isinstance(upload, str) and upload in self._files:
            document = self._files[upload][0]
        elif isinstance(upload, str) and upload.startswith(("http://", "https://")):
            name = upload.rstrip("/").rsplit("/", 1)[-1] or "document"
            document = {"file_id": f"BQACAgIAAx{uuid.uuid4().hex}", "file_name": name,
                        "file_unique_id": f"AgAD{uuid.uuid4().hex[:12]}",
                        "mime_type": mimetypes.guess_type(name)[0] or "application/octet-stream"}
        elif upload:
            raise _bad("wrong file identifier/HTTP URL specified")
        else:
            raise _bad("there is no document in the request")
        caption = call.params.get("caption")
        return self._store(chat_id, self.bot_user, document=dict(document),
                           caption=_render(caption, call.params.get("parse_mode")) if caption else None,
                           reply_markup=self._markup(call.params))

    def _m_getFile(self, call: Call) -> JSONDict:
        if call.params.get("file_id") not in self._files:
            raise _bad("invalid file_id")
        document, data = self._files[call.params["file_id"]]
        return {"file_id": document["file_id"], "file_unique_id": document["file_unique_id"],
                "file_size": len(data), "file_path": f"documents/{document['file_id']}"}

    async def _download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        if request.match_info["token"] != self.token or file_id not in self._files:
            raise web.HTTPNotFound()
        return web.Response(body=self._files[file_id][1])

    def _m_editMessageText(self, call: Call) -> JSONDict:
        return self._edit(call, "text")

    def _m_editMessageCaption(self, call: Call) -> JSONDict:
        return self._edit(call, "caption")

    def _m_editMessageReplyMarkup(self, call: Call) -> JSONDict:
        return self._edit(call, None)

    def _m_deleteMessage(self, call: Call) -> bool:
        message = self._bot_message(call, "delete")
        del self._chats[message["chat"]["id"]][message["message_id"]]
        return True

    def _m_answerCallbackQuery(self, call: Call) -> bool:
        query_id = str(call.params.get("callback_query_id"))
        if query_id not in self._open_callbacks:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        del self._open_callbacks[query_id]
        self.answered_callbacks[query_id] = dict(call.params)
        return True

    def _m_setMyCommands(self, call: Call) -> bool:
        commands = call.params.get("commands")
        if not isinstance(commands, list):
            raise _bad("parameter \"commands\" is required")
        for command in commands:
            if not BOT_COMMAND_RE.fullmatch(str(command.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise _bad("command description is empty or too long")
        key = (self._scope_key(call.params.get("scope")), call.params.get("language_code") or "")
        self._commands[key] = [{"command": c["command"], "description": c["description"]}
                               for c in commands]
        return True

    def _m_getMyCommands(self, call: Call) -> list[JSONDict]:
        return self.commands(call.params.get("scope"), call.params.get("language_code") or "")

    def _m_deleteMyCommands(self, call: Call) -> bool:
        key = (self._scope_key(call.params.get("scope")), call.params.get("language_code") or "")
        self._commands.pop(key, None)
        return True

    def _m_sendChatAction(self, call: Call) -> bool:
        self._chat_id(call)
        if not call.params.get("action"):
            raise _bad("wrong parameter action in request")
        return True

    def _m_close(self, call: Call) -> bool:
        return True

    def _m_logOut(self, call: Call) -> bool:
        return True


__all__ = ["DEFAULT_TOKEN", "ApiError", "BotApiServer", "Call", "TgUser", "UploadedFile"]
