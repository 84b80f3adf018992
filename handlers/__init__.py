"""The conversations, written once for every platform.  One module per audience.

Handlers see only bot.core (Event, Message, Context, dialogs), bot.services and bot.store —
never a transport or a platform library.
"""

from __future__ import annotations

from bot.core.router import Router
from handlers import (broadcast, coordinator, guide, hours, newcomer, offers, privacy, referral, relay,
                      reminders, standing, start, stats)
from handlers.catalog import COMMANDS

__all__ = ["COMMANDS", "register_all"]


def register_all(router: Router) -> None:
    for module in (start, newcomer, guide, coordinator, standing, offers, reminders, broadcast, stats, privacy, referral,
                   relay, hours):
        module.register(router)
