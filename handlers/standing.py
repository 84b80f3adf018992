"""Coordinators: a guide's standing after approval, and requests that wait for a guide.

- `guides` lists the approved and the suspended guides, a button each.  A press asks "Suspend X?"
  or "Reactivate X?"; Yes moves the guide through bot/services/guides.py, tells the guide, and
  tells the coordinator the outcome — "nothing was changed" when another coordinator was first.
  A suspended guide's upcoming appointments stay; the coordinator reads how many there are and
  decides about them (e.g. with `unmatched` once the guide cancels, or by talking to the guide).
- `reoffer` lists the requests nobody has taken (escalated, still open and ahead), a button each;
  a press starts a new wave for it after the commit (bot/services/dispatch.py `kick`), offered to
  eligible guides not asked before — e.g. one approved or reactivated since.

Every button declares the coordinator authority: a person who is no coordinator any more (removed
from [roles], Lotse restarted) is refused at the press, and nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import utcnow
from bot.core.authority import coordinator
from bot.core.context import Context
from bot.core.dialog import MSG_NOTHING_CHANGED
from bot.core.i18n import N_
from bot.core.payloads import Payload
from bot.core.router import Router
from bot.services import guides as standing
from handlers import labels
from handlers.authority import MSG_SUSPENDED
from handlers.coordinator import name_of
from handlers.labels import what_when_where

MSG_PICK_GUIDE = N_("Whose work as a guide do you want to suspend or reactivate?")
MSG_NO_GUIDES = N_("There are no approved or suspended guides.")
MSG_GUIDE_AND_STATE = N_("%(name)s (%(state)s)")
MSG_ASK_SUSPEND = N_("Suspend %(name)s?")
MSG_ASK_REACTIVATE = N_("Reactivate %(name)s?")
MSG_IS_SUSPENDED = N_("%(name)s is suspended and is offered no requests until a coordinator reactivates them. "
                      "They were told.")
MSG_IS_REACTIVATED = N_("%(name)s is approved again and will be offered requests. They were told.")
MSG_YOU_ARE_REACTIVATED = N_("Your work as a guide is active again. Lotse will offer you requests that fit your "
                             "languages, districts and times.")
MSG_RACE = N_("Another coordinator decided this in the meantime. Nothing was changed.")
MSG_NOTHING_WAITS = N_("Every request has a guide or is still being offered.")
MSG_OFFER_AGAIN = N_("Offer again")
MSG_OFFERED_AGAIN = N_("Offered again.")
MSG_NOT_WAITING = N_("This request is not waiting for a guide any more.")


@dataclass(frozen=True)
class StandingPick(Payload, action="standing-pick"):
    """A guide picked from the `guides` list: ask whether to suspend (or reactivate) them."""
    guide: int
    suspend: bool  # False: reactivate


@dataclass(frozen=True)
class StandingAnswer(Payload, action="standing-answer"):
    """Yes or No to "Suspend X?" / "Reactivate X?"."""
    guide: int
    suspend: bool
    yes: bool


@dataclass(frozen=True)
class Reoffer(Payload, action="reoffer"):
    """Start a new wave for a request nobody has taken."""
    request: int


# -- suspend and reactivate -----------------------------------------------------------------------
async def guides(ctx: Context) -> None:
    listed = await ctx.store.guides.in_states(("approved", "suspended"))
    if not listed:
        ctx.reply(ctx._(MSG_NO_GUIDES))
        return
    rows = []
    for guide_id, state in listed:
        name = name_of(await ctx.store.people.get(guide_id))
        label = ctx._(MSG_GUIDE_AND_STATE, name=name, state=ctx._(labels.GUIDE_STATES[state]))
        rows.append([(label, StandingPick(guide_id, state == "approved"))])
    ctx.reply(ctx._(MSG_PICK_GUIDE), await ctx.buttons(rows))


async def on_pick(ctx: Context, pressed: StandingPick) -> None:
    name = name_of(await ctx.store.people.get(pressed.guide))
    buttons = await ctx.buttons([[(ctx._("Yes"), StandingAnswer(pressed.guide, pressed.suspend, True)),
                                  (ctx._("No"), StandingAnswer(pressed.guide, pressed.suspend, False))]])
    ctx.reply(ctx._(MSG_ASK_SUSPEND if pressed.suspend else MSG_ASK_REACTIVATE, name=name), buttons)


async def on_answer(ctx: Context, pressed: StandingAnswer) -> None:
    ctx.answered = ctx.event.message_id
    if not pressed.yes:
        ctx.reply(ctx._(MSG_NOTHING_CHANGED))
        return
    move = standing.suspend if pressed.suspend else standing.reactivate
    if not await move(ctx.store, pressed.guide, ctx.person.id, utcnow()):
        ctx.reply(ctx._(MSG_RACE))
        return
    guide = await ctx.store.people.get(pressed.guide)
    assert guide is not None
    name, i18n = name_of(guide), ctx.i18n_for(guide)
    if pressed.suspend:
        told = [ctx._(MSG_IS_SUSPENDED, name=name)]
        upcoming = len(await ctx.store.bookings.upcoming_of_guide(pressed.guide, utcnow()))
        if upcoming:
            told.append(ctx.ngettext(
                "%(name)s still has %(count)s upcoming appointment. It stays as it is – please decide whether "
                "someone else should go.",
                "%(name)s still has %(count)s upcoming appointments. They stay as they are – please decide "
                "whether someone else should go.", upcoming, name=name))
        ctx.reply("\n".join(told))
        ctx.send_to(guide, ctx.message_for(guide, i18n.gettext(MSG_SUSPENDED)))
    else:
        ctx.reply(ctx._(MSG_IS_REACTIVATED, name=name))
        ctx.send_to(guide, ctx.message_for(guide, i18n.gettext(MSG_YOU_ARE_REACTIVATED)))


# -- offer a waiting request again ----------------------------------------------------------------
async def reoffer(ctx: Context) -> None:
    waiting = await ctx.store.bookings.unmatched(utcnow())
    if not waiting:
        ctx.reply(ctx._(MSG_NOTHING_WAITS))
        return
    for request_id in waiting:
        request = await ctx.store.requests.get(request_id)
        if request is None:
            continue
        ctx.reply(what_when_where(ctx.i18n, request), await ctx.buttons([[(ctx._(MSG_OFFER_AGAIN),
                                                                          Reoffer(request_id))]]))


async def on_reoffer(ctx: Context, pressed: Reoffer) -> None:
    request = await ctx.store.requests.get(pressed.request)
    ctx.answered = ctx.event.message_id
    if request is None or request.state != "open" or request.starts_at <= utcnow():
        ctx.reply("\n".join([ctx._(MSG_NOT_WAITING), ctx._(MSG_NOTHING_CHANGED)]))
        return
    dispatch, request_id = ctx.services.dispatch, pressed.request

    async def offer() -> None:
        dispatch.kick(request_id)

    ctx.later(offer)
    ctx.reply(ctx._(MSG_OFFERED_AGAIN))


def register(router: Router) -> None:
    router.button(StandingPick, on_pick, authority=coordinator)
    router.button(StandingAnswer, on_answer, authority=coordinator)
    router.button(Reoffer, on_reoffer, authority=coordinator)
    router.command("guides", guides)
    router.command("reoffer", reoffer)
