"""Coordinators' notices (`broadcast`): audience → languages → districts → text → versions per
language → preview with the exact number of recipients per platform → send.

On "send" the broadcast and its outbox (one row per recipient) are written in the dialog's
transaction; bot.services.broadcast sends them under the platforms' limits and keeps the
coordinator's progress message current.  BroadcastNotices phrases what recipients and the
coordinator read, each in their own language.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.core.authority import coordinator
from bot.core.context import Context, Services
from bot.core.dialog import END, Dialog, Invalid, Option, Step, _End, rows
from bot.core.i18n import N_, I18n
from bot.core.router import Router
from bot.core import text as free_text
from bot.clock import utcnow
from bot.store.outbox import Audience
from bot.store.store import Person
from handlers import labels

log = logging.getLogger(__name__)

AUDIENCES = {
    "guides": N_("All guides"),
    "newcomers": N_("All newcomers"),
    "everyone": N_("Everyone"),
}
PREVIEW, SEND, CANCEL = "preview", "send", "cancel"


# -- steps ----------------------------------------------------------------------------------------
def _audience_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    return [[Option(kind, label)] for kind, label in AUDIENCES.items()]


def _languages_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    return rows([Option(code, labels.language(ctx, code), translate=False) for code in ctx.settings.area.languages],
                2)


def _districts_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    return rows([Option(name, name, translate=False) for name in ctx.settings.area.districts], 2)


def _max_length(ctx: Context, data: dict[str, Any]) -> dict[str, object]:
    return {"count": ctx.i18n.number(ctx.settings.broadcast.max_length)}


def _parse_text(ctx: Context, text: str, data: dict[str, Any]) -> str:
    text = free_text.multiline(text)
    limit = ctx.settings.broadcast.max_length
    if not text:
        raise Invalid(ctx._("The notice is empty. Please type the text."))
    if len(text) > limit:
        raise Invalid(ctx.ngettext("This is %(length)s characters long; at most %(limit)s is possible. "
                                   "Please shorten it.",
                                   "This is %(length)s characters long; at most %(limit)s are possible. "
                                   "Please shorten it.", limit, length=ctx.i18n.number(len(text)),
                                   limit=ctx.i18n.number(limit)))
    return text


def _versions_prompt(ctx: Context, data: dict[str, Any]) -> str:
    versions = data.get("translations", {})
    if versions:
        return ctx._("Versions so far: %(languages)s. Add another language, or look at the preview.",
                     languages=ctx.i18n.join([I18n.language_name(code) for code in versions]))
    return ctx._("Add a version in another language? People who read Lotse in that language get it instead of "
                 "the text above.")


def _versions_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    languages = [[Option(code, I18n.language_name(code), translate=False)] for code in ctx.settings.bot.languages]
    return [*languages, [Option(PREVIEW, N_("Show the preview"))]]


def _audience(data: dict[str, Any]) -> Audience:
    return Audience(data["audience"], tuple(data.get("languages") or ()), tuple(data.get("districts") or ()))


async def _version_chosen(ctx: Context, value: Any, data: dict[str, Any]) -> Step:
    if value != PREVIEW:
        data["editing"] = value
        return VERSION_TEXT
    data["counts"] = await ctx.store.broadcasts.count(_audience(data))
    return PREVIEW_STEP


def _editing(ctx: Context, data: dict[str, Any]) -> dict[str, object]:
    return {"language": I18n.language_name(data["editing"])}


async def _version_typed(ctx: Context, value: Any, data: dict[str, Any]) -> Step:
    data.setdefault("translations", {})[data.pop("editing")] = value
    data.pop(VERSION_TEXT.name, None)
    return VERSIONS


def platform_name(ctx: Context, platform: str) -> str:
    """The platform as people read it, as its transport declares it (translated where it is a
    word, like "Terminal", not a brand)."""
    traits = ctx.services.messenger.traits(platform)
    if traits is None:
        return platform
    return ctx._(traits.display_name) if traits.translate_name else traits.display_name


def _preview_prompt(ctx: Context, data: dict[str, Any]) -> str:
    counts: dict[str, int] = data["counts"]
    total = sum(counts.values())
    audience = _audience(data)
    lines = [ctx._("Preview of your notice"),
             ctx._("To: %(audience)s", audience=ctx._(AUDIENCES[audience.kind])),
             ctx._("Languages: %(value)s", value=labels.languages(ctx, audience.languages)
                   if audience.languages else ctx._("all")),
             ctx._("Districts: %(value)s", value=ctx.i18n.join(list(audience.districts)) if audience.districts else ctx._("all"))]
    for platform, count in counts.items():
        lines.append(ctx._("%(platform)s: %(count)s", platform=platform_name(ctx, platform),
                           count=ctx.i18n.number(count)))
    lines.append(ctx.ngettext("%(count)s recipient in total", "%(count)s recipients in total", total))
    lines += ["", data["text"]]
    for code, text in data.get("translations", {}).items():
        lines += ["", ctx._("Version in %(language)s:", language=I18n.language_name(code)), text]
    lines += ["", ctx._("Send it now?") if total else ctx._("Nobody matches this audience.")]
    return "\n".join(lines)


def _preview_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    total = sum(data["counts"].values())
    if not total:
        return [[Option(CANCEL, N_("Cancel"))]]
    return [[Option(SEND, ctx.ngettext("Send to %(count)s person", "Send to %(count)s people", total),
                    translate=False)], [Option(CANCEL, N_("Cancel"))]]


async def _decided(ctx: Context, value: Any, data: dict[str, Any]) -> _End:
    if value != SEND:
        ctx.reply(ctx._("The notice was not sent."))
        data["cancelled"] = True
    return END


async def _send(ctx: Context, data: dict[str, Any]) -> None:
    if data.get("cancelled"):
        return
    texts = {"": data["text"], **data.get("translations", {})}
    broadcast_id = await ctx.store.broadcasts.create(ctx.person.id, _audience(data), texts, utcnow())
    log.info("broadcast %s queued by person %s", broadcast_id, ctx.person.id)
    sender = ctx.services.broadcast

    async def start() -> None:
        await sender.started(broadcast_id)

    ctx.later(start)


VERSIONS = Step("versions", _versions_prompt, options=_versions_options, on_answer=_version_chosen)
VERSION_TEXT = Step("version_text", N_("Please type the version in %(language)s."), values=_editing,
                    parse=_parse_text, on_answer=_version_typed)
PREVIEW_STEP = Step("preview", _preview_prompt, options=_preview_options, on_answer=_decided)
BROADCAST = Dialog("broadcast", (
    Step("audience", N_("Who should receive the notice?"), options=_audience_options),
    Step("languages", N_("Only people who speak certain languages? Choose them, or tap Done to reach every "
                         "language."), options=_languages_options, multi=True),
    Step("districts", N_("Only certain districts? Choose them, or tap Done to reach every district."),
         options=_districts_options, multi=True),
    Step("text", N_("Please type the notice (at most %(count)s characters). Everyone gets this text unless you add "
                    "a version in their language next."), values=_max_length, parse=_parse_text),
    VERSIONS, VERSION_TEXT, PREVIEW_STEP,
), on_finish=_send, authority=coordinator)


async def broadcast(ctx: Context) -> None:
    await ctx.services.dialogs.start(ctx, BROADCAST)


# -- what recipients and the coordinator read -------------------------------------------------------
class BroadcastNotices:
    """The BroadcastTexts of bot.services.broadcast."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def _i18n(self, person: Person) -> I18n:
        return self.services.catalogs.get(person.language)

    def notice(self, recipient: Person, text: str) -> str:
        return self._i18n(recipient).gettext("Notice from the Lotse coordinators:\n\n%(text)s", text=text)

    def progress(self, coordinator: Person, broadcast_id: int, tally: dict[str, int], done: bool) -> str:
        i18n = self._i18n(coordinator)
        sent = tally.get("sent", 0)
        failed = sum(tally.get(state, 0) for state in ("failed", "unreachable", "skipped"))
        uncertain = tally.get("uncertain", 0)  # not known to have failed: counted apart, as in the report
        remaining = tally.get("pending", 0) + tally.get("claimed", 0) + tally.get("sending", 0)
        head = (i18n.gettext("Notice %(number)s: finished.", number=broadcast_id) if done
                else i18n.gettext("Notice %(number)s is being sent.", number=broadcast_id))
        numbers = {"sent": i18n.number(sent), "failed": i18n.number(failed), "remaining": i18n.number(remaining)}
        if uncertain:
            line = i18n.gettext("Sent: %(sent)s · Failed: %(failed)s · May not have arrived: %(uncertain)s · "
                                "Remaining: %(remaining)s", uncertain=i18n.number(uncertain), **numbers)
        else:
            line = i18n.gettext("Sent: %(sent)s · Failed: %(failed)s · Remaining: %(remaining)s", **numbers)
        return "\n".join([head, line])

    def report(self, coordinator: Person, broadcast_id: int, tally: dict[str, int]) -> str:
        i18n = self._i18n(coordinator)
        lines = [i18n.gettext("Report on notice %(number)s:", number=broadcast_id),
                 i18n.ngettext("Delivered to %(count)s person.", "Delivered to %(count)s people.",
                               tally.get("sent", 0))]
        count = tally.get
        if count("unreachable"):
            lines.append(i18n.ngettext("%(count)s person could not be reached: they blocked Lotse or left.",
                                       "%(count)s people could not be reached: they blocked Lotse or left.",
                                       count("unreachable")))
        if count("failed"):
            lines.append(i18n.ngettext("%(count)s message could not be sent, even after several tries.",
                                       "%(count)s messages could not be sent, even after several tries.",
                                       count("failed")))
        if count("skipped"):
            lines.append(i18n.ngettext("%(count)s person was left out: they withdrew their consent meanwhile.",
                                       "%(count)s people were left out: they withdrew their consent meanwhile.",
                                       count("skipped")))
        if count("uncertain"):
            lines.append(i18n.ngettext(
                "%(count)s message may not have arrived (Lotse restarted, or the platform did not answer in "
                "time); it was not sent again, so that nobody gets it twice.",
                "%(count)s messages may not have arrived (Lotse restarted, or the platform did not answer in "
                "time); they were not sent again, so that nobody gets them twice.", count("uncertain")))
        return "\n".join(lines)


def register(router: Router) -> None:
    router.dialogs.register(BROADCAST)
    router.command("broadcast", broadcast)
