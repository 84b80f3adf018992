"""Persistence: one aiosqlite connection, numbered SQL migrations, small repositories.

Nothing in here imports anything above bot/store.
"""

from bot.store.db import Database
from bot.store.store import Store

__all__ = ["Database", "Store"]
