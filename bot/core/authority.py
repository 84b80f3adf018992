"""Authority at every step: what a dialog or a button needs of the person who uses it.

A command's audience is checked when it is invoked (router `_command`).  A dialog and a button
live longer than that: a dialog is persisted and survives a restart with new settings, a button
token waits in a chat for days.  So each declares the authority it needs when it is registered
(`Dialog(..., authority=…)`, `router.button(action, handler, authority=…)`), and the dialog engine
and the router ask it again at every step, before the step's handler runs:

- a dialog: when it starts and at every answer (typed or tapped) — a refused step ends the dialog
  and nothing of it is saved;
- a button: on every press — a refused press changes nothing (the button stays, so a paused guide
  who resumes can still use it).

An Authority is `async (ctx, data) -> str | None`: None allows, a text (already in the person's
language) refuses.  `data` is the dialog's answers so far, or the button's payload.  The rules of a
guide's standing are in bot/services/authority.py; the final acting step in a service asks them
again in the transaction that acts.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot.core.context import Context
from bot.core.i18n import N_

log = logging.getLogger(__name__)

Authority = Callable[[Context, Mapping[str, Any]], Awaitable["str | None"]]

MSG_ONLY_COORDINATORS = N_("Only coordinators can do this.")


async def coordinator(ctx: Context, data: Mapping[str, Any]) -> str | None:
    """A coordinator now: listed in [roles] coordinators of the settings Lotse runs with."""
    return None if ctx.is_coordinator else ctx._(MSG_ONLY_COORDINATORS)


async def refused(ctx: Context, authority: Authority | None, data: Mapping[str, Any], what: str) -> str | None:
    """Ask `authority` (None: anyone may); a refusal is logged with `what` was refused."""
    if authority is None:
        return None
    refusal = await authority(ctx, data)
    if refusal is not None:
        log.warning("refused %s to %s:%s (%s)", what, ctx.person.platform, ctx.person.platform_user_id,
                    getattr(authority, "__name__", "authority"))
    return refusal
