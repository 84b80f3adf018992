"""Free text from people and platforms, made safe to store and to show to someone else.

One rule for every entry point (display names, request notes and places, typed-back command
names), so a name cannot smuggle in a right-to-left override and a note cannot carry a
terminal escape.
"""

from __future__ import annotations

ELLIPSIS = "…"


def shorten(text: str, limit: int = 32) -> str:
    """`text` as it may be echoed back: at most `limit` characters, then "…"."""
    return text if len(text) <= limit else text[:limit] + ELLIPSIS
