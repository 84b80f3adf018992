"""The two types every transport speaks: an Event coming in, a Message going out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EventKind = Literal["text", "command", "button", "file"]


@dataclass(frozen=True)
class Event:
    """Something a person did, on any platform.

    `user_id` names the person on their platform, `chat_id` where to answer them.  For a
    command, `command` is the lower-case name without prefix and `args` the words after it; for
    a button press, `token` is the opaque token the button carried and `message_id` the message
    it was on.  For a photo or file, `file` is the platform's reference to fetch it with
    (FetchesFiles), with its name, type and size as the platform told them, and `text` its caption.
    `event_id` (when the platform has one) de-duplicates redeliveries.
    """

    platform: str
    user_id: str
    chat_id: str
    kind: EventKind
    text: str = ""
    command: str = ""
    args: tuple[str, ...] = ()
    token: str = ""
    message_id: str | None = None
    language_hint: str | None = None
    display_name: str | None = None
    event_id: str | None = None
    command_prefix: str = "/"
    throttled: bool = False  # the first event over the person's rate cap: answer "slow down" only
    file: str = ""
    file_name: str = ""
    file_type: str = ""
    file_size: int = 0


@dataclass(frozen=True)
class Button:
    label: str
    token: str


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Message:
    """Plain text (transports escape it for their markup), rows of buttons, an optional file."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    attachment: Attachment | None = None
    # How to choose without real buttons ("Reply with a number…"), in the person's language; set
    # by the core for messages with buttons, shown by transports that render buttons as a list.
    choice_hint: str = ""
    # Sending again with the same key after a crash: a transport whose platform can recognise the
    # repeat (e.g. by transaction id) delivers it once; others send it again.
    key: str | None = None

    @property
    def flat_buttons(self) -> list[Button]:
        return [button for row in self.buttons for button in row]


def parse_command(text: str, prefixes: str = "/", bot_username: str | None = None) -> tuple[str, tuple[str, ...]] | None:
    """"/request@lotse_bot  a b" → ("request", ("a", "b")); None when `text` is no command."""
    if not text or text[0] not in prefixes or len(text) < 2 or text[1].isspace():
        return None
    head, *rest = text[1:].split(maxsplit=1)
    name, _, target = head.partition("@")
    if target and bot_username and target.lower() != bot_username.lower():
        return None
    if not name or not all(c.isalnum() or c == "_" for c in name):
        return None
    args = tuple(rest[0].split()) if rest else ()
    return name.lower(), args

