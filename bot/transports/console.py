"""The terminal transport: several simulated people in one process, no token, no network.

Input, one line at a time (from a keyboard or a pipe):
  @name text   speak as console user `name` (and make `name` the current user)
  @name        only switch to `name`
  N            press button N of the current user's last message (when it has buttons)
  anything     speak as the current user ("/help" and "!help" are commands)
Output: `[to name] text`, then each button on its own line as `  [N] label`.

Each line is handled to the end (all answers printed) before the next one is read; at the end
of input the transport reports done and `lotse console` exits.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import threading
from pathlib import Path
from typing import TextIO

from bot.core.i18n import N_
from bot.core.transport import Receiver, Traits
from bot.core.types import Attachment, Event, Message, parse_command
from bot.transports import numbered

DEFAULT_USER = "you"
BUTTON_LINE = "  [{number}] {label}"


def _language_from_environment() -> str | None:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value and value not in ("C", "POSIX") and not value.startswith("C."):
            return value.split(".")[0]
    return None


# The operator at their own terminal (and piped demos) is not rate-capped; no broadcast pacing.
TRAITS = Traits(N_("Terminal"), translate_name=True, native_buttons=False, max_text=100_000, rate_capped=False)


class ConsoleTransport:
    platform = "console"
    command_prefix = "/"
    traits = TRAITS

    def __init__(self, stdin: TextIO | None = None, stdout: TextIO | None = None,
                 user: str = DEFAULT_USER, language_hint: str | None = None,
                 files: Path = Path("data") / "console-files") -> None:
        self._in = stdin or sys.stdin
        self.files = files  # attachments are written here (only the owner may read them) and their path shown
        self._out = stdout or sys.stdout
        self.current = user
        self.language_hint = language_hint if language_hint is not None else _language_from_environment()
        self._last_buttons: dict[str, list[str]] = {}
        self._ids = itertools.count(1)
        self._done = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self, receiver: Receiver) -> None:
        self._task = asyncio.create_task(self._run(receiver), name="console-input")

    async def stop_receiving(self) -> None:
        """Read no more lines (a line being handled is finished by the inbox)."""
        if self._task and not self._task.done():
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def stop(self) -> None:
        await self.stop_receiving()
        self._done.set()

    async def wait_done(self) -> None:
        await self._done.wait()

    # -- input ------------------------------------------------------------------------------------
    def _reader(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
        try:
            for line in self._in:
                loop.call_soon_threadsafe(queue.put_nowait, line)
        except (ValueError, OSError):
            pass  # stdin closed under us
        finally:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, None)
            except RuntimeError:
                pass  # loop already closed

    async def _run(self, receiver: Receiver) -> None:
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        # A daemon thread, so a blocked read of a keyboard never keeps the process alive.
        threading.Thread(target=self._reader, args=(asyncio.get_running_loop(), queue),
                         name="console-stdin", daemon=True).start()
        try:
            while (line := await queue.get()) is not None:
                event = self.parse_line(line.rstrip("\r\n"))
                if event is not None:
                    await receiver(event)
        except asyncio.CancelledError:
            pass
        finally:
            self._done.set()

    def parse_line(self, line: str) -> Event | None:
        text = line.strip()
        if text.startswith("@"):
            name, _, text = text[1:].partition(" ")
            if name:
                self.current = name
            text = text.strip()
        if not text:
            return None
        user = self.current
        base = dict(platform=self.platform, user_id=user, chat_id=user, language_hint=self.language_hint,
                    display_name=user, command_prefix=self.command_prefix)
        token = numbered.chosen_token(text, self._last_buttons.get(user, []))
        if token is not None:
            return Event(kind="button", token=token, **base)
        parsed = parse_command(text, "/!")
        if parsed:
            return Event(kind="command", text=text, command=parsed[0], args=parsed[1], **base)
        return Event(kind="text", text=text, **base)

    # -- output -----------------------------------------------------------------------------------
    def _save(self, chat_id: str, attachment: Attachment) -> Path:
        """The file as the person receives it: written with mode 0600 under `files`/<person>/."""
        folder = self.files / "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in chat_id)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / Path(attachment.filename).name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(attachment.content)
        return path

    def _print(self, chat_id: str, message: Message, marker: str = "") -> None:
        lines = [f"[to {chat_id}] {marker}{message.text}"]
        lines += numbered.option_lines(message.flat_buttons, BUTTON_LINE)
        if message.attachment is not None:
            lines.append(f"  📎 {self._save(chat_id, message.attachment)}")
        try:
            self._out.write("\n".join(lines) + "\n")
            self._out.flush()
        except BrokenPipeError:
            # The reader went away (e.g. `| head`): stop quietly instead of a traceback.
            if self._out is sys.stdout:
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            if self._task is not None:
                self._task.cancel()
            self._done.set()

    async def send(self, chat_id: str, message: Message) -> str | None:
        self._last_buttons[chat_id] = [b.token for b in message.flat_buttons]
        self._print(chat_id, message)
        return str(next(self._ids))

    async def edit(self, chat_id: str, message_id: str, message: Message) -> None:
        self._last_buttons[chat_id] = [b.token for b in message.flat_buttons]
        self._print(chat_id, message, marker="✎ ")
