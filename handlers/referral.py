"""Referral to professional interpreters ([referral] in the config).

Guides are volunteers, not interpreters, and authorities sometimes use them as free ones.  A request
can be marked as needing a professional interpreter — by the newcomer's answer in the request form
or by a coordinator (`interpreter`) — and then the newcomer is sent the local language-mediator pool
in their language, once; so are newcomers whose request found nobody in time (dispatch's
escalation), as one more way to get help.  The not-for-emergencies note stays in both.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import utcnow
from bot.config import ReferralSettings
from bot.core.authority import coordinator
from bot.core.context import Context
from bot.core.i18n import I18n, N_
from bot.core.payloads import Payload
from bot.core.router import Router
from handlers.labels import what_when_where

MSG_NOT_INTERPRETERS = N_("Guides come along but are volunteers, not interpreters. For a diagnosis, a treatment or "
                          "a court hearing you may need a professional interpreter.")
MSG_ASK_OFFICE = N_("Please ask the practice or office whether they can arrange one.")
MSG_ALSO_POOL = N_("You can also ask the language mediators for help:")
MSG_POOL = N_("Language mediators: %(name)s")
MSG_PHONE = N_("Phone: %(value)s")
MSG_HOURS = N_("Office hours: %(value)s")
MSG_WEB = N_("Web: %(value)s")
MSG_EMERGENCY = N_("Lotse is not an emergency service. In an emergency call 112.")
MSG_NEEDS_INTERPRETER = N_("A professional interpreter is needed. The guide comes along but does not interpret.")
MSG_MARK = N_("Needs an interpreter")


@dataclass(frozen=True)
class MarkInterpreter(Payload, action="interpreter"):
    request: int


def _pool(i18n: I18n, pool: ReferralSettings) -> list[str]:
    lines = [i18n.gettext(MSG_POOL, name=pool.name)]
    lines += [i18n.gettext(msgid, value=value)
              for msgid, value in ((MSG_PHONE, pool.phone), (MSG_HOURS, pool.hours), (MSG_WEB, pool.url)) if value]
    return lines


def interpreter_text(i18n: I18n, pool: ReferralSettings) -> str:
    """For a request that needs an interpreter: guides do not interpret; where to find one."""
    lines = [i18n.gettext(MSG_NOT_INTERPRETERS)]
    lines += _pool(i18n, pool) if pool.name else [i18n.gettext(MSG_ASK_OFFICE)]
    return "\n".join([*lines, i18n.gettext(MSG_EMERGENCY)])


def nobody_found_lines(i18n: I18n, pool: ReferralSettings) -> list[str]:
    """For a request nobody took in time: the pool as another way to get help (nothing if none)."""
    if not pool.name:
        return []
    return [i18n.gettext(MSG_ALSO_POOL), *_pool(i18n, pool), i18n.gettext(MSG_EMERGENCY)]


# -- coordinators: `interpreter` ----------------------------------------------------------------
async def interpreter(ctx: Context) -> None:
    """Every upcoming request not yet marked, each with a button that marks it."""
    requests = [r for r in await ctx.store.requests.upcoming(utcnow()) if not r.interpreter]
    if not requests:
        ctx.reply(ctx._("There are no upcoming requests to mark."))
        return
    ctx.reply(ctx._("Which request needs a professional interpreter?"))
    for request in requests:
        ctx.reply(what_when_where(ctx, request), await ctx.buttons([[(ctx._(MSG_MARK), MarkInterpreter(request.id))]]))



async def on_mark(ctx: Context, pressed: MarkInterpreter) -> None:
    store = ctx.store
    ctx.answered = ctx.event.message_id
    request = await store.requests.get(pressed.request)
    if request is None or request.state not in ("open", "matched") or request.starts_at <= utcnow():
        ctx.reply(ctx._("This request is no longer open."))
        return
    if not await store.requests.mark_interpreter(request.id):
        ctx.reply(ctx._("This request is already marked as needing an interpreter."))
        return
    newcomer = await store.newcomer_of(request)
    told = newcomer is not None and await store.requests.mark_referred(request.id, utcnow())
    if told:
        ctx.send_to(newcomer, ctx.message_for(newcomer, interpreter_text(ctx.i18n_for(newcomer), ctx.settings.referral)))
    assignment = await store.bookings.active_assignment(request.id)
    guide = await store.people.get(assignment.guide_id) if assignment is not None else None
    if guide is not None:
        i18n = ctx.i18n_for(guide)
        ctx.send_to(guide, ctx.message_for(guide, "\n".join([what_when_where(i18n, request), i18n.gettext(MSG_NEEDS_INTERPRETER)])))
    ctx.reply(ctx._("Marked. The newcomer was sent where to find a professional interpreter.") if told
              else ctx._("Marked."))


def register(router: Router) -> None:
    router.button(MarkInterpreter, on_mark, authority=coordinator)
    router.command("interpreter", interpreter)
