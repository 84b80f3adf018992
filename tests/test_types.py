"""Command parsing shared by every transport."""

from __future__ import annotations

import pytest

from bot.core.types import parse_command


@pytest.mark.parametrize("text, prefixes, bot, expected", [
    ("/start", "/", None, ("start", ())),
    ("/Request tomorrow 9:30", "/", None, ("request", ("tomorrow", "9:30"))),
    ("/help@lotse_bot", "/", "lotse_bot", ("help", ())),
    ("/help@Lotse_Bot  a  b", "/", "lotse_bot", ("help", ("a", "b"))),
    ("/help@other_bot", "/", "lotse_bot", None),
    ("!request", "/!", None, ("request", ())),
    ("!request", "/", None, None),
    ("/", "/", None, None),
    ("/ start", "/", None, None),
    ("/start-now", "/", None, None),
    ("hello /start", "/", None, None),
    ("", "/", None, None),
])
def test_parse_command(text: str, prefixes: str, bot: str | None, expected: object) -> None:
    assert parse_command(text, prefixes, bot) == expected
