"""Onboarding and the basics every person has: start, language, help.

start → language (the platform's hint first) → privacy notice, agree / decline → not-for-
emergencies note → menu.  Before consent nothing but ids, the chosen language and the dialog
state is stored; declining keeps only the fact and time of declining.
"""

from __future__ import annotations

from typing import Any

from bot.core.context import Context
from bot.core.dialog import END, NO, YES, Dialog, Option, Step, _End, rows
from bot.core.i18n import N_
from bot.core.router import Router
from bot.core import text as free_text
from bot.clock import utcnow
from bot.vocabulary import GUIDE, NEWCOMER



# -- language -------------------------------------------------------------------------------
def _language_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    languages = list(ctx.settings.bot.languages)
    hint = ctx.services.catalogs.supported(ctx.event.language_hint)
    current = ctx.person.language
    first = current or hint
    if first in languages:
        languages.remove(first)
        languages.insert(0, first)
    return rows([Option(lang, ctx.i18n.language_name(lang), translate=False) for lang in languages], 2)


async def _set_language(ctx: Context, value: Any, data: dict[str, Any]) -> Step | None:
    await ctx.store.people.set_language(ctx.person.id, value)
    ctx.use_language(value)
    return None


# -- consent --------------------------------------------------------------------------------
AGREE, DECLINE = "agree", "decline"


def _privacy_prompt(ctx: Context, data: dict[str, Any]) -> str:
    """The notice; when it changed since the person agreed, saying so first."""
    from handlers import privacy

    return "\n".join(([ctx._(privacy.MSG_NOTICE_CHANGED), ""] if data.get(REASK) else []) + [privacy.notice(ctx)])


def _consent_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    return [[Option(AGREE, N_("I agree"), typed=YES)], [Option(DECLINE, N_("I do not agree"), typed=NO)]]


async def _consent_answer(ctx: Context, value: Any, data: dict[str, Any]) -> Step | _End | None:
    from handlers import privacy

    now, version = utcnow(), ctx.settings.privacy.notice_version
    if value == DECLINE and ctx.person.consented:  # withdrawing consent: the same path as deleteme
        await ctx.store.privacy.record(ctx.person.id, version, "withdrawn", now)
        privacy.erase_later(ctx)
        return END
    if value == DECLINE:
        await ctx.store.people.record_decline(ctx.person.id, now)
        await ctx.store.privacy.record(ctx.person.id, version, "declined", now)
        ctx.reply(ctx._("Understood. Lotse has not kept anything about you except that you "
                        "declined. If you change your mind, send %(start)s.", start=ctx.cmd("start")))
        return END
    await ctx.store.people.record_consent(ctx.person.id, version, now, free_text.name(ctx.event.display_name))
    await ctx.store.privacy.record(ctx.person.id, version, "agreed", now)
    ctx.reply(ctx._("Thank you. Your consent was recorded on %(date)s.", date=ctx.i18n.datetime(now, "short")))
    if data.get(REASK):
        return END  # back to what they were doing: no emergency note, no menu
    ctx.reply(ctx._("Important: Lotse is not an emergency service and may take days to answer. "
                    "In an emergency call 112."))
    return None


# -- menu -----------------------------------------------------------------------------------
def _menu_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    return [[Option(NEWCOMER, N_("I need someone to come with me"))],
            [Option(GUIDE, N_("I want to volunteer as a guide"))]]


async def _menu_answer(ctx: Context, value: Any, data: dict[str, Any]) -> Step | _End:
    await ctx.store.people.set_role(ctx.person.id, value)
    ctx.use_role(value)
    return END


async def _after_menu(ctx: Context, data: dict[str, Any]) -> None:
    """The menu's choice starts its dialog right away: a request, or the guide registration."""
    from handlers import guide, newcomer  # the menu leads into their dialogs

    if data.get("menu") == NEWCOMER:
        await newcomer.request(ctx)
    elif data.get("menu") == GUIDE:
        await guide.guide(ctx)


REASK = "reask"  # data key: the notice changed since the person agreed
CONSENT_STEP = Step("consent", _privacy_prompt, options=_consent_options, on_answer=_consent_answer)
LANGUAGE_STEP = Step("language", N_("Welcome to Lotse! Volunteers here come with you to appointments.\n"
                                    "Please choose your language."),
                     options=_language_options, on_answer=_set_language)
MENU_STEP = Step("menu", N_("What would you like to do?"), options=_menu_options, on_answer=_menu_answer)

ONBOARDING = Dialog("onboarding", (
    LANGUAGE_STEP,
    CONSENT_STEP,
    MENU_STEP,
), on_finish=_after_menu)
MENU = Dialog("menu", (MENU_STEP,), on_finish=_after_menu)


# -- language command -----------------------------------------------------------------------
async def _language_changed(ctx: Context, data: dict[str, Any]) -> None:
    ctx.reply(ctx._("From now on Lotse writes to you in %(language)s.",
                    language=ctx.i18n.language_name(ctx.i18n.language)))


CHANGE_LANGUAGE = Dialog(
    "language",
    (Step("language", N_("Which language should Lotse use?"), options=_language_options, on_answer=_set_language),),
    on_finish=_language_changed,
)


# -- commands -------------------------------------------------------------------------------
async def start(ctx: Context) -> None:
    await ctx.services.dialogs.start(ctx, MENU if ctx.person.consented else ONBOARDING)


async def language(ctx: Context) -> None:
    await ctx.services.dialogs.start(ctx, CHANGE_LANGUAGE)


async def help_(ctx: Context, router: Router) -> None:
    commands = router.available(ctx)
    lines = [ctx.ngettext("You can use this %(count)s command:", "You can use these %(count)s commands:",
                          len(commands))]
    for spec in commands:
        lines.append(ctx._("%(command)s – %(description)s", command=ctx.cmd(spec.name),
                           description=ctx._(spec.description)))
    lines.append(ctx._("Lotse is not an emergency service. In an emergency call 112."))
    ctx.reply("\n".join(lines))


async def before_consent(ctx: Context) -> bool:
    """Nothing but onboarding, language, help and the person's data rights before they agreed to
    the current privacy notice: someone who agreed to an older version is asked again, and nothing
    else happens (no command, no button) before they answer."""
    person, version = ctx.person, ctx.settings.privacy.notice_version
    if person.consented and person.consent_version == version:
        return False
    event = ctx.event
    if event.kind == "command" and event.command in ("start", "language", "help", "mydata", "deleteme"):
        return event.command == "start" and person.consented and await _reask(ctx)
    answering = ctx.dialog is not None and ctx.dialog.dialog in (ONBOARDING.name, CHANGE_LANGUAGE.name, "deleteme")
    if event.kind in ("text", "button") and (answering or (ctx.dialog is not None and not person.consented)):
        return False  # answering the onboarding, language or deleteme dialog
    if person.consented:
        return await _reask(ctx)
    if ctx.person.declined_at is not None and event.kind == "text":
        ctx.reply(ctx._("Without your agreement to the privacy notice Lotse cannot help you. "
                        "If you change your mind, send %(start)s.", start=ctx.cmd("start")))
        return True
    await ctx.services.dialogs.start(ctx, ONBOARDING)
    return True


async def _reask(ctx: Context) -> bool:
    await ctx.services.dialogs.start(ctx, ONBOARDING, {REASK: True}, at=CONSENT_STEP)
    return True


async def not_understood(ctx: Context, router: Router | None = None) -> None:
    """Free text outside any dialog never dead-ends: a newcomer who names a topic ("I need help at
    the doctor") gets the request with it chosen, anyone else who is not a guide the menu with a
    hint; guides and coordinators the list of what they can do."""
    from handlers import newcomer

    text = ctx.event.text or ""
    is_staff = ctx.person.role == GUIDE or ctx.is_coordinator
    if not is_staff and await newcomer.request_from_text(ctx, text):
        return
    if is_staff and router is not None:
        ctx.reply(ctx._("Sorry, I did not understand that."))
        await help_(ctx, router)
        return
    ctx.reply(ctx._("Sorry, I did not understand that. Send %(help)s to see what I can do.",
                    help=ctx.cmd("help")))
    if not is_staff:
        await ctx.services.dialogs.start(ctx, MENU)


def register(router: Router) -> None:
    for dialog in (ONBOARDING, MENU, CHANGE_LANGUAGE):
        router.dialogs.register(dialog)
    router.command("start", start)
    router.command("language", language)

    async def _help(ctx: Context) -> None:
        await help_(ctx, router)

    router.command("help", _help)
    router.guard(before_consent)
    async def _not_understood(ctx: Context) -> None:
        await not_understood(ctx, router)

    router.fallback(_not_understood)
