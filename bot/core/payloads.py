"""Typed button payloads: what a button outside a dialog means, one small frozen dataclass per
action (like aiogram's CallbackData), kept server-side behind the button's random token.

    @dataclass(frozen=True)
    class OfferAnswer(Payload, action="offer"):
        offer: int
        accept: bool

A button carries only its token; the token's row holds the owner, the action and the payload's
fields as JSON (bot/store/store.py Buttons).  `mint` stores them, `Payload.load` reads them back
into the dataclass the action was registered with, checking every field's type: a row that does
not fit (written by an older version, or by hand) loads as None and the press is refused as no
longer valid, like an unknown token.  A dialog's own buttons are not payloads: their values live
in the person's dialog state (bot/core/dialog.py).
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Sequence
from typing import Any, ClassVar

from bot.core.types import Button
from bot.store.store import Store

_KINDS: dict[str, type[Payload]] = {}
_SIMPLE = {int: (int,), float: (int, float), str: (str,), bool: (bool,)}


class Payload:
    """The base of every button payload; a subclass names its action: `class X(Payload, action="x")`."""

    action: ClassVar[str]

    def __init_subclass__(cls, /, action: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if action in _KINDS:
            raise ValueError(f"button action {action!r} defined twice")
        cls.action = action
        _KINDS[action] = cls

    def fields(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @staticmethod
    def load(action: str, stored: Any) -> Payload | None:
        """The payload of a stored token, or None if its action is unknown or its fields do not fit."""
        kind = _KINDS.get(action)
        if kind is None or not isinstance(stored, dict):
            return None
        hints, names = _shape(kind)
        if set(stored) != names or not all(_fits(stored[name], hints[name]) for name in names):
            return None
        return kind(**stored)


@functools.cache
def _shape(kind: type) -> tuple[dict[str, Any], frozenset[str]]:
    """A payload class's field types and names, resolved once (not at every press)."""
    return typing.get_type_hints(kind), frozenset(f.name for f in dataclasses.fields(kind))


def _fits(value: Any, hint: Any) -> bool:
    if hint in _SIMPLE:
        return isinstance(value, _SIMPLE[hint]) and (hint is bool or not isinstance(value, bool))
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return any(_fits(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    return False


Rows = Sequence[Sequence[tuple[str, Payload]]]


async def mint(store: Store, person_id: int, rows: Rows) -> tuple[tuple[Button, ...], ...]:
    """Rows of (label, payload) as Buttons only `person_id` can use, one new token each."""
    items = [(payload.action, payload.fields()) for row in rows for (_, payload) in row]
    tokens = iter(await store.buttons.mint(person_id, items))
    return tuple(tuple(Button(label, next(tokens)) for (label, _) in row) for row in rows)
