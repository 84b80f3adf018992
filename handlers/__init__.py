"""The conversations, written once for every platform.  One module per audience.

Handlers see only bot.core (Event, Message, Context, dialogs) and bot.services — never a
transport or a platform library.
"""

from __future__ import annotations

from bot.core.router import Router
from handlers import start
from handlers.catalog import COMMANDS

__all__ = ["COMMANDS", "register_all"]


def register_all(router: Router) -> None:
    start.register(router)
