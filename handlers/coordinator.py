"""Coordinators: approve or reject guides (`pending`, `approve`, and buttons on every new
registration).  Approval asks for the vetting dates `[guides] require` names.

Only coordinators get here: the router refuses the commands to anyone else, decision buttons are
minted for one coordinator each, and the decision buttons and dialog declare the coordinator
authority, so a person who is no coordinator any more (removed from [roles], Lotse restarted) is
refused at every step — also in the middle of the vetting dates — and logged.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.core.authority import coordinator
from bot.core.context import Context
from bot.core.dialog import END, NO, YES, Dialog, Invalid, Option, Step, _End
from bot.core.i18n import G_, N_
from bot.core.payloads import Payload
from bot.core.router import Router
from bot.core.when import ParseError, normalize_digits, parse_date
from bot.services import guides as standing
from bot.services.coordinators import coordinator_people
from bot.clock import utcnow
from bot.store.store import Person
from bot.vocabulary import POLICE_CERTIFICATE, PLEDGE, TRAINING, VETTING
from handlers import labels
from handlers.newcomer import SKIP, limited

log = logging.getLogger(__name__)

VETTING_QUESTIONS = {
    TRAINING: N_("On which date did %(name)s complete the basic training?"),
    PLEDGE: N_("On which date did %(name)s sign the confidentiality pledge?"),
    POLICE_CERTIFICATE: N_("Which date does the police certificate of %(name)s carry?"),
}
MSG_TYPE_DATE = N_("Please type the date, for example %(example)s.")
MSG_REGISTERED = G_("%(name)s registered as a guide and waits for your approval.")
MSG_APPROVE = G_("Approve %(name)s as a guide?")
MSG_APPROVED = G_("%(name)s is now an approved guide.")
MSG_REASON_GIVEN = N_("Reason: %(reason)s")
MSG_YOU_ARE_APPROVED = G_("Good news: you are approved as a guide! Lotse will offer you requests that fit your "
                          "languages, districts and times. Send %(command)s to see or change when you are available.")


@dataclass(frozen=True)
class Decision(Payload, action="guide-decision"):
    """Approve or reject a pending guide (leads into the decision dialog)."""
    guide: int
    approve: bool


def name_of(person: Person | None) -> str:
    return (person.display_name if person and person.display_name else None) or "?"


async def announce_registration(ctx: Context, guide: Person) -> None:
    """Tell every coordinator about a new registration, with the profile and approve/reject buttons."""
    profile = await ctx.store.guides.get(guide.id)
    assert profile is not None
    for recipient in await coordinator_people(ctx.store, ctx.settings):
        i18n = ctx.i18n_for(recipient)
        text = i18n.gendered(profile.profile.gender, MSG_REGISTERED, name=name_of(guide))
        buttons = await ctx.buttons([[(i18n.gettext("Approve"), Decision(guide.id, True)),
                                      (i18n.gettext("Reject"), Decision(guide.id, False))]], person=recipient)
        ctx.send_to(recipient, ctx.message_for(recipient, f"{text}\n\n{labels.profile(i18n, profile.profile)}",
                                               buttons))


async def on_decision_button(ctx: Context, pressed: Decision) -> None:
    await start_decision(ctx, pressed.guide, pressed.approve)


async def start_decision(ctx: Context, guide_id: int, approve: bool) -> None:
    guide = await ctx.store.guides.get(guide_id)
    person = await ctx.store.people.get(guide_id)
    if guide is None or person is None or guide.state != "pending":
        state = ctx._(labels.GUIDE_STATES[guide.state]) if guide else ctx._(labels.NOTHING)
        ctx.reply(ctx._("This was decided already: %(name)s is %(state)s.", name=name_of(person), state=state))
        return
    await ctx.services.dialogs.start(ctx, DECIDE, {"guide": guide_id, "name": name_of(person), "approve": approve,
                                                   "gender": guide.profile.gender})


# -- the decision dialog ----------------------------------------------------------------------
def _after(ctx: Context, current: str | None) -> Step | _End:
    """The next vetting question after `current` (None: the first), or END."""
    order = [kind for kind in VETTING if kind in ctx.settings.guides.require]
    rest = order[order.index(current) + 1:] if current in order else (order if current is None else [])
    return VETTING_STEPS[rest[0]] if rest else END


def _confirm_prompt(ctx: Context, data: dict[str, Any]) -> str:
    if data["approve"]:
        return ctx.i18n.gendered(data.get("gender"), MSG_APPROVE, name=data["name"])
    return ctx._("Reject the registration of %(name)s? They will be told.", name=data["name"])


def _confirm_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    return [[Option(True, N_("Yes"), typed=YES), Option(False, N_("No"), typed=NO)]]


async def _confirmed(ctx: Context, value: Any, data: dict[str, Any]) -> Step | _End:
    if not value:
        ctx.reply(ctx._("Nothing was changed."))
        data["cancelled"] = True
        return END
    return _after(ctx, None) if data["approve"] else REASON


def _reason_prompt(ctx: Context, data: dict[str, Any]) -> str:
    return ctx.ngettext(
        "Why is %(name)s not approved? They will read your answer. At most %(count)s character – or skip this.",
        "Why is %(name)s not approved? They will read your answer. At most %(count)s characters – or skip this.",
        ctx.settings.requests.note_max_length, name=data["name"])


def _reason_parse(ctx: Context, text: str, data: dict[str, Any]) -> str:
    return limited(ctx.settings.requests.note_max_length)(ctx, text, data)


def _skip_option(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    return [[Option(None, SKIP)]]


# A rejection's reason: free text, limited like a request's note; the guide reads it.
REASON = Step("reason", _reason_prompt, options=_skip_option, parse=_reason_parse, next=END)


def _name_and_example(ctx: Context, data: dict[str, Any]) -> dict[str, object]:
    return {"name": data["name"], "example": ctx.i18n.date(ctx.i18n.local(utcnow()).date(), "short")}


def parse_past_date(ctx: Context, text: str, data: dict[str, Any]) -> str:
    today = ctx.i18n.local(utcnow()).date()
    try:
        day = parse_date(text, ctx.i18n.locale, today)
    except ParseError:
        raise Invalid(ctx._("I could not read this date. Please type it like %(example)s.",
                            example=ctx.i18n.date(today, "short"))) from None
    year_typed = len(re.findall(r"\d+", normalize_digits(text))) >= 3
    if day > today and not year_typed:  # "3.11." typed in late November means the 3rd of November that was
        try:
            day = day.replace(year=day.year - 1)
        except ValueError:
            pass
    if day > today:
        raise Invalid(ctx._("This date is in the future. Please type the date it happened."))
    return day.isoformat()


def _vetting_step(kind: str) -> Step:
    async def answered(ctx: Context, value: Any, data: dict[str, Any]) -> Step | _End:
        return _after(ctx, kind)
    return Step(kind, (VETTING_QUESTIONS[kind], MSG_TYPE_DATE), values=_name_and_example, parse=parse_past_date,
                on_answer=answered)


VETTING_STEPS = {kind: _vetting_step(kind) for kind in VETTING}


async def _decided(ctx: Context, data: dict[str, Any]) -> None:
    if data.get("cancelled"):
        return
    guide_id, approve = int(data["guide"]), bool(data["approve"])
    vetting = {k: date.fromisoformat(data[k]) for k in VETTING if data.get(k)}
    if approve:
        changed = await standing.approve(ctx.store, guide_id, ctx.person.id, utcnow(), vetting)
    else:
        changed = await standing.reject(ctx.store, guide_id, ctx.person.id, utcnow(), data.get("reason") or None)
    if not changed:
        ctx.reply(ctx._("Another coordinator decided this in the meantime. Nothing was changed."))
        return
    guide = await ctx.store.people.get(guide_id)
    assert guide is not None
    i18n = ctx.i18n_for(guide)
    if approve:
        ctx.reply(ctx.i18n.gendered(data.get("gender"), MSG_APPROVED, name=data["name"]))
        ctx.send_to(guide, ctx.message_for(guide, i18n.gendered(
            data.get("gender"), MSG_YOU_ARE_APPROVED, command=ctx.cmd("availability", guide))))
    else:
        ctx.reply(ctx._("The registration of %(name)s was rejected.", name=data["name"]))
        told = [i18n.gettext("Your registration as a guide was not approved. A coordinator will contact you if "
                             "there are questions.")]
        if data.get("reason"):
            told.append(i18n.gettext(MSG_REASON_GIVEN, reason=data["reason"]))
        ctx.send_to(guide, ctx.message_for(guide, "\n".join(told)))


DECIDE = Dialog("decide_guide", (
    Step("confirm", _confirm_prompt, options=_confirm_options, on_answer=_confirmed),
    *VETTING_STEPS.values(),
    REASON,
), on_finish=_decided, authority=coordinator)


# -- commands -----------------------------------------------------------------------------------
async def pending(ctx: Context) -> None:
    waiting = await ctx.store.guides.pending()
    if not waiting:
        ctx.reply(ctx._("Nobody is waiting for approval."))
        return
    ctx.reply(ctx.ngettext("%(count)s guide is waiting for approval:", "%(count)s guides are waiting for approval:",
                           len(waiting)))
    for guide_id in waiting:
        person = await ctx.store.people.get(guide_id)
        guide = await ctx.store.guides.get(guide_id)
        assert person is not None and guide is not None
        buttons = await ctx.buttons([[(ctx._("Approve"), Decision(guide_id, True)),
                                      (ctx._("Reject"), Decision(guide_id, False))]])
        ctx.reply(f"{name_of(person)}\n{labels.profile(ctx, guide.profile)}", buttons)


async def approve(ctx: Context) -> None:
    waiting = await ctx.store.guides.pending()
    if not waiting:
        ctx.reply(ctx._("Nobody is waiting for approval."))
        return
    people = [await ctx.store.people.get(guide_id) for guide_id in waiting]
    buttons = await ctx.buttons([[(name_of(p), Decision(p.id, True))] for p in people if p is not None])
    ctx.reply(ctx._("Whom do you want to approve?"), buttons)


def register(router: Router) -> None:
    router.dialogs.register(DECIDE)
    router.button(Decision, on_decision_button, authority=coordinator)
    router.command("pending", pending)
    router.command("approve", approve)
