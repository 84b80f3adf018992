"""Buttons as a numbered list, for the transports without native buttons (console, Matrix).

One place for both directions: showing a Message's buttons as "1. label" lines (plain text and
HTML), and reading a typed number back as the button it names.  Each transport keeps only its
own look of a line (the console prints "  [1] label", Matrix "1. label") and its own idea of which
list a number refers to (the console: the person's last message; Matrix: the room's last menu).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from bot.core.types import Button, Message

PLAIN = "{number}. {label}"


def option_lines(buttons: Sequence[Button], line: str = PLAIN) -> list[str]:
    """One line per button, numbered from 1 in reading order (rows left to right, top to bottom)."""
    return [line.format(number=number, label=button.label) for number, button in enumerate(buttons, start=1)]


def plain(message: Message, line: str = PLAIN) -> str:
    """The text, a blank line, the numbered options and the hint how to choose (when there are buttons)."""
    buttons = message.flat_buttons
    if not buttons:
        return message.text
    parts = [message.text, "", *option_lines(buttons, line)]
    if message.choice_hint:
        parts.append(message.choice_hint)
    return "\n".join(parts)


def rich(message: Message) -> str:
    """The same as HTML (text escaped, line breaks kept, options as an ordered list)."""
    parts = [html.escape(message.text).replace("\n", "<br>")]
    buttons = message.flat_buttons
    if buttons:
        parts.append("<ol>" + "".join(f"<li>{html.escape(b.label)}</li>" for b in buttons) + "</ol>")
        if message.choice_hint:
            parts.append(f"<p>{html.escape(message.choice_hint)}</p>")
    return "".join(parts)


def chosen_number(text: str, count: int) -> int | None:
    """The option a typed answer names ("2", " 2 ", also "٢" in Arabic-Indic digits), or None.

    None for anything else — a number out of range, "2 5", "²" — so it stays ordinary text."""
    text = text.strip()
    if not text.isdecimal():  # isdigit() would let "²" through, which int() refuses
        return None
    number = int(text)
    return number if 1 <= number <= count else None


def chosen_token(text: str, tokens: Sequence[str]) -> str | None:
    """The token of the button a typed number names, or None."""
    number = chosen_number(text, len(tokens))
    return None if number is None else tokens[number - 1]
