"""Privacy in the chat: the notice people agree to (Art. 13), `mydata` (Art. 15, 20) and
`deleteme` (Art. 17, 7(3)).

The notice is composed from [privacy] (who is responsible, whom to ask, where to complain, how
long things are kept) in the person's language; onboarding shows it (handlers/start.py) and asks
again whenever notice_version was raised.  `mydata` answers with a readable summary and the JSON
file of everything stored (bot/services/privacy.py); `deleteme` asks once and then erases —
withdrawing consent takes the same path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.context import Context
from bot.core.dialog import END, NO, YES, Dialog, Option, Step, _End
from bot.core.i18n import N_
from bot.core.payloads import Payload
from bot.core.types import Message
from bot.core.router import Router
from bot.core.types import Attachment
from bot.clock import utcnow
from bot.services import privacy
from bot.store.store import Person
from bot.vocabulary import GUIDE, NEWCOMER
from handlers import labels
from handlers.notify import Notifier

MSG_NOTICE_TITLE = N_("Privacy notice (version %(version)s)")
MSG_NOTICE_WHAT = N_("To find a volunteer who comes with you, Lotse stores your name on this app, your language and "
                     "what you tell it about your appointments: topic, day, place and note.")
MSG_NOTICE_HEALTH = N_("Topics and notes can say something about your health. You agree that Lotse uses them, "
                       "only to find and inform your guide.")
MSG_NOTICE_WHO = N_("Only the coordinators and the guide who comes with you see these details. %(platform)s "
                    "carries the messages.")
MSG_NOTICE_RIGHTS = N_("You can see your data (%(mydata)s) or delete it (%(deleteme)s) at any time. Withdrawing "
                       "your consent is as easy as giving it. You can complain to: %(authority)s.")
MSG_NOTICE_CONTROLLER = N_("Responsible: %(controller)s, %(contact)s.")
MSG_NOTICE_DPO = N_("Data protection officer: %(dpo)s.")
MSG_NOTICE_MORE = N_("More: %(url)s")
MSG_NOTICE_ASK = N_("Do you agree?")
MSG_NOTICE_CHANGED = N_("The privacy notice has changed. Please read it and answer before you go on.")
MSG_ERASED = N_("Your data has been deleted, and Lotse will not write to you again. If you send %(command)s, you "
                "start from the beginning.")

ROLES = {NEWCOMER: N_("newcomer"), GUIDE: N_("guide")}
CONSENT_ACTIONS = {"agreed": N_("You agreed to notice %(version)s on %(date)s."),
                   "declined": N_("You declined on %(date)s."),
                   "withdrawn": N_("You withdrew your consent on %(date)s.")}


def notice(ctx: Context) -> str:
    """The whole notice, in the person's language, with the operator's details."""
    p, days, months = ctx.settings.privacy, ctx.settings.privacy.text_days, ctx.settings.privacy.inactive_months
    from handlers.broadcast import platform_name

    lines = [ctx._(MSG_NOTICE_TITLE, version=p.notice_version), ctx._(MSG_NOTICE_WHAT), ctx._(MSG_NOTICE_HEALTH),
             ctx._(MSG_NOTICE_WHO, platform=platform_name(ctx, ctx.person.platform)),
             ctx.ngettext("Place and note are deleted %(count)s day after the appointment.",
                          "Place and note are deleted %(count)s days after the appointment.", days) + " "
             + ctx.ngettext("Everything else is deleted when you ask, or after %(count)s month without use.",
                            "Everything else is deleted when you ask, or after %(count)s months without use.", months),
             ctx.ngettext("Messages you and your guide write to each other through Lotse are deleted %(count)s day "
                          "after the appointment.",
                          "Messages you and your guide write to each other through Lotse are deleted %(count)s days "
                          "after the appointment.", max(1, ctx.settings.relay.close_after.days)),
             ctx._(MSG_NOTICE_RIGHTS, mydata=ctx.cmd("mydata"), deleteme=ctx.cmd("deleteme"), authority=p.authority)]
    if p.controller:
        lines.append(ctx._(MSG_NOTICE_CONTROLLER, controller=p.controller, contact=p.contact or "—"))
    if p.dpo:
        lines.append(ctx._(MSG_NOTICE_DPO, dpo=p.dpo))
    if p.notice_url:
        lines.append(ctx._(MSG_NOTICE_MORE, url=p.notice_url))
    lines.append(ctx._(MSG_NOTICE_ASK))
    return "\n".join(lines)


def erase_later(ctx: Context) -> None:
    """Tell the person (their last message from Lotse) and erase them once it has gone out."""
    person: Person = ctx.person
    ctx.reply(ctx._(MSG_ERASED, command=ctx.cmd("start")))
    services = ctx.services

    async def erase() -> None:
        await privacy.erase(services, person)

    ctx.later(erase)


# -- mydata -----------------------------------------------------------------------------------------
async def mydata(ctx: Context) -> None:
    data = await ctx.store.privacy.export(ctx.person.id)
    person = data.get("person") or {}
    i18n = ctx.i18n
    lines = [ctx._("Your data at Lotse:"),
             ctx._("Name: %(value)s", value=person.get("display_name") or ctx._(labels.NOTHING)),
             ctx._("Language: %(value)s", value=i18n.language_name(person["language"]) if person.get("language")
                   else ctx._(labels.NOTHING)),
             ctx._("Role: %(value)s", value=ctx._(ROLES[person["role"]]) if person.get("role") in ROLES
                   else ctx._(labels.NOTHING))]
    from bot.store.db import from_db_time

    for consent in data.get("consents", []):
        lines.append(ctx._(CONSENT_ACTIONS[consent["action"]], version=consent["version"] or "—",
                           date=i18n.datetime(from_db_time(consent["at"]), "short")))
    requests = data.get("requests", [])
    lines.append(ctx.ngettext("%(count)s request", "%(count)s requests", len(requests)))
    as_guide = data.get("appointments_as_guide", [])
    if data.get("guide_profile"):
        hours = sum(a["hours"] or 0 for a in as_guide)
        lines.append(ctx.ngettext("%(count)s appointment as a guide", "%(count)s appointments as a guide",
                                  len(as_guide)))
        lines.append(ctx._("Hours given: %(value)s", value=i18n.number(hours)))
    feedback = [a for a in data.get("appointments_as_newcomer", []) if a["feedback"] or a["feedback_comment"]]
    lines.append(ctx.ngettext("%(count)s feedback given", "%(count)s feedbacks given", len(feedback)))
    lines += ["", ctx._("The file holds everything Lotse stores about you, for you or another service to read "
                        "(JSON)."), ctx._("To delete it all, send %(command)s.", command=ctx.cmd("deleteme"))]
    content = await privacy.export(ctx.services, ctx.person)
    ctx.reply("\n".join(lines), attachment=Attachment("lotse-mydata.json", content, "application/json"))


# -- deleteme ---------------------------------------------------------------------------------------
DELETE, KEEP = "delete", "keep"


def _sure_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    return [[Option(DELETE, N_("Yes, delete everything"), typed=YES)], [Option(KEEP, N_("No, keep my data"), typed=NO)]]


async def _sure_answer(ctx: Context, value: Any, data: dict[str, Any]) -> _End:
    if value == DELETE:
        erase_later(ctx)
    else:
        ctx.reply(ctx._("Nothing was deleted."))
    return END


DELETEME = Dialog("deleteme", (
    Step("sure", N_("Delete all your data at Lotse? Your open requests and future appointments are cancelled, and "
                    "the people involved are told. This cannot be undone."),
         options=_sure_options, on_answer=_sure_answer),
))


async def deleteme(ctx: Context) -> None:
    await ctx.services.dialogs.start(ctx, DELETEME)


# -- retention: people without activity for long are asked first ---------------------------------
@dataclass(frozen=True)
class KeepData(Payload, action="keep-data"):
    keep: bool  # False: delete now


class RetentionTexts(Notifier):
    """What bot/services/retention.py sends to someone inactive for [privacy] inactive_months."""

    async def still_here(self, person: Person, erase_on: datetime) -> Message:
        i18n = self._i18n(person)
        text = i18n.gettext("You have not used Lotse for a long time. Do you want Lotse to keep your data? If you "
                            "do not answer, it is deleted on %(date)s.", date=i18n.date(erase_on, "long"))
        buttons = await self._buttons(person, [[(i18n.gettext("Keep my data"), KeepData(True))],
                                               [(i18n.gettext("Delete my data now"), KeepData(False))]])
        return self._message(person, text, buttons)


async def on_keep_data(ctx: Context, pressed: KeepData) -> None:
    ctx.answered = ctx.event.message_id
    if not pressed.keep:
        erase_later(ctx)
        return
    await ctx.store.privacy.kept(ctx.person.id, ctx.settings.privacy.notice_version, utcnow())
    ctx.reply(ctx._("Thank you. Lotse keeps your data."))


def register(router: Router) -> None:
    router.dialogs.register(DELETEME)
    router.button(KeepData, on_keep_data)
    router.command("mydata", mydata)
    router.command("deleteme", deleteme)
