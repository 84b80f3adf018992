"""The authorities guides' dialogs and buttons declare (bot/core/authority.py), and how a refusal
reads.  The rules themselves are bot/services/authority.py; coordinators' dialogs and buttons use
bot.core.authority.coordinator.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from bot.core.context import Context
from bot.core.i18n import N_
from bot.services.authority import EDIT, TAKE_ON, standing

MSG_NOT_A_GUIDE = N_("You are not registered as a guide yet. To register, send %(command)s.")
MSG_NOT_APPROVED = N_("Only approved guides can do this.")
MSG_REJECTED = N_("Your registration as a guide was not approved. A coordinator will contact you if there are "
                  "questions.")
MSG_SUSPENDED = N_("Your work as a guide is suspended. Please contact a coordinator.")
MSG_PAUSED = N_("You are paused and cannot accept new requests. Send %(command)s to end your pause.")


def refusal_text(ctx: Context, reason: str) -> str:
    """A guide's standing (bot.services.authority.standing) in their words."""
    if reason == "not_a_guide":
        return ctx._(MSG_NOT_A_GUIDE, command=ctx.cmd("guide"))
    if reason == "rejected":
        return ctx._(MSG_REJECTED)
    if reason == "suspended":
        return ctx._(MSG_SUSPENDED)
    if reason == "paused":
        return ctx._(MSG_PAUSED, command=ctx.cmd("resume"))
    return ctx._(MSG_NOT_APPROVED)


async def guide_edit(ctx: Context, data: Mapping[str, Any]) -> str | None:
    """Availability and pause: a registered guide, not rejected, not suspended."""
    reason = standing(await ctx.store.guides.get(ctx.person.id), EDIT)
    return None if reason is None else refusal_text(ctx, reason)


async def guide_profile(ctx: Context, data: Mapping[str, Any]) -> str | None:
    """Registration and profile changes: anyone may register, and a rejected guide may register
    again — but a suspended guide may not, and a guide rejected while the dialog ran cannot finish
    it (that would undo the rejection); the state the dialog began with is in data["_guide"]."""
    guide = await ctx.store.guides.get(ctx.person.id)
    if guide is None:
        return None
    began = (data.get("_guide") or [None])[0]
    if guide.state == "suspended" or (guide.state == "rejected" and began != "rejected"):
        return refusal_text(ctx, guide.state)
    return None


async def offer_answer(ctx: Context, data: Mapping[str, Any]) -> str | None:
    """Accept on an offer: an approved guide, not paused on the appointment's day.  Decline is
    always possible (dispatch.accept asks the same rule again in the booking transaction)."""
    if not data.get("accept"):
        return None
    offer = await ctx.store.bookings.offer(int(data["offer"]))
    request = await ctx.store.requests.get(offer.request_id) if offer else None
    if offer is None or offer.guide_id != ctx.person.id or request is None:
        return None  # not theirs or gone: dispatch says so
    day: date = ctx.i18n.local(request.starts_at).date()
    reason = standing(await ctx.store.guides.get(ctx.person.id), TAKE_ON, day)
    return None if reason is None else refusal_text(ctx, reason)
