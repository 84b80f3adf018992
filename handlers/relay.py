"""The relay: after a match, newcomer and guide write to each other through Lotse, never seeing each
other's phone number, user name or account id.

- "Write to your guide" / "Write to Amira" (buttons on the match messages, and `write`) opens one
  step: type a message, or choose a phrase.  A phrase is read in the recipient's language; typed
  text goes as typed, labelled with the language it was probably written in (the sender's) when the
  two do not share one.  The recipient gets "Message from your guide Leila:" with Reply and Report.
- A guide whose newcomer left out the place proposes a meeting point; it is relayed, and the
  reminders carry it.
- The conversation is open from the match until [relay] close_after after the appointment
  (bot/store/relay.py OPEN_SQL); later, a polite note.  A reported message brings the coordinators
  the last messages, with Close, Suspend (the guide) and No action.
- A row is written (in the event's transaction) before the message leaves; the sender hears
  whether it arrived.  Texts are deleted when the conversation closes (bot/services/retention.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.clock import utcnow
from bot.core.authority import coordinator
from bot.core.context import Context
from bot.core.dialog import END, MSG_STALE_BUTTON, Dialog, Option, Step, rows
from bot.core.i18n import G_, I18n, N_
from bot.core.payloads import Payload
from bot.core.router import Router
from bot.core.transport import DeliveryError
from bot.services import guides as standing
from bot.core import text as free_text
from bot.core.types import Attachment
from bot.store.relay import Conversation, RelayMessage, SentFile
from bot.store.store import Person
from handlers import labels
from handlers.labels import what_when_where
from bot.services.coordinators import coordinator_people
from handlers.coordinator import name_of
from handlers.newcomer import limited
from handlers.notify import Notifier

log = logging.getLogger(__name__)

PHRASES = {  # the buttons of the writing step, read in the recipient's language
    "late": N_("I am running 10 minutes late."),
    "entrance": N_("I am at the entrance."),
    "where": N_("Where are you?"),
    "cancel": N_("I have to cancel."),
    "thanks": N_("Thank you!"),
}
MEET = "meet"  # the guide's meeting point: a phrase whose %(place)s is the text they typed
PHRASE_MSGIDS = {**PHRASES, MEET: N_("Let us meet here: %(place)s")}
MSG_FROM_GUIDE = G_("Message from your guide %(name)s:")
MSG_FROM = N_("Message from %(name)s:")
MSG_PROBABLY = N_("(probably written in %(language)s)")
MSG_CLOSED = N_("This conversation has closed: Lotse passes on messages only until %(time)s after the "
                "appointment. Thank you!")
MSG_WRITE_TO_GUIDE = N_("Write to your guide")
MSG_WRITE_TO = N_("Write to %(name)s")
MSG_PROPOSE = N_("Propose a meeting point")
PLACE_MAX = 200


@dataclass(frozen=True)
class Write(Payload, action="relay-write"):
    assignment: int


@dataclass(frozen=True)
class Report(Payload, action="relay-report"):
    message: int


@dataclass(frozen=True)
class Propose(Payload, action="relay-meet"):
    assignment: int


@dataclass(frozen=True)
class Decide(Payload, action="relay-decide"):
    assignment: int
    choice: str  # "close", "suspend" (the guide, and close), "none"


# -- who is who -----------------------------------------------------------------------------------
async def conversation(ctx_or_services: Any, assignment_id: int) -> Conversation | None:
    services = getattr(ctx_or_services, "services", ctx_or_services)
    return await services.store.relay.conversation(assignment_id, utcnow(), services.settings.relay.close_after)


async def party(services: Any, talk: Conversation, person_id: int) -> Person | None:
    """A side of the conversation as Lotse writes to them (the newcomer's side through
    Store.newcomer_of: a coordinator who filed for someone reads it headed with the name)."""
    if person_id == talk.newcomer_id:
        request = await services.store.requests.get(talk.request_id)
        return await services.store.newcomer_of(request) if request else None
    return await services.store.people.get(person_id)


# -- writing --------------------------------------------------------------------------------------
def refusal(ctx: Context, talk: Conversation | None, guide_only: bool = False) -> str | None:
    """Why this person cannot write in (or, `guide_only`, propose a meeting point for) `talk`:
    not a side of it (a stale or forged button), or it has closed; None when they can."""
    if talk is None or not talk.has(ctx.person.id) or (guide_only and talk.guide_id != ctx.person.id):
        return ctx._(MSG_STALE_BUTTON)
    return None if talk.open else closed_note(ctx)


async def _open_talk(ctx: Context, data: Any) -> str | None:
    """The writing dialog's authority, asked at its start and before the answer."""
    return refusal(ctx, await conversation(ctx, int(data["assignment"])))


def closed_note(ctx: Context) -> str:
    return ctx._(MSG_CLOSED, time=labels.minutes_label(ctx, ctx.settings.relay.close_after))


def _prompt_values(ctx: Context, data: dict[str, Any]) -> dict[str, object]:
    return {"name": data.get("to", "?")}


def _phrase_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    # a dict, so that no typed text can be taken for a phrase
    return rows([Option({"phrase": code}, msgid) for code, msgid in PHRASES.items()], 2)


def _parse(ctx: Context, text: str, data: dict[str, Any]) -> str:
    return limited(ctx.settings.relay.max_length)(ctx, text, data)


async def _written(ctx: Context, value: Any, data: dict[str, Any]) -> Any:
    talk = await conversation(ctx, int(data["assignment"]))
    assert talk is not None  # the dialog's authority checked it a moment ago
    phrase, body = (value["phrase"], None) if isinstance(value, dict) else (None, value)
    await relay(ctx, talk, phrase, body)
    return END


async def relay(ctx: Context, talk: Conversation, phrase: str | None, body: str | None,
                file: SentFile | None = None) -> None:
    """Store the message in this event's transaction; deliver it once that committed."""
    message_id = await ctx.store.relay.add(talk, ctx.person.id, phrase, body, ctx.person.language, utcnow(), file)
    services = ctx.services

    async def deliver() -> None:
        await RelayTexts(services).deliver(message_id)

    ctx.later(deliver)


WRITE = Dialog("relay", (
    Step("message", N_("Your message to %(name)s – type it, or choose one of these:"), values=_prompt_values,
         options=_phrase_options, parse=_parse, on_answer=_written),
), authority=_open_talk)


async def start_writing(ctx: Context, talk: Conversation) -> None:
    other = await party(ctx.services, talk, talk.other(ctx.person.id))
    await ctx.services.dialogs.start(ctx, WRITE, {"assignment": talk.assignment_id, "to": name_of(other)})


async def on_write(ctx: Context, pressed: Write) -> None:
    talk = await conversation(ctx, pressed.assignment)
    refused = refusal(ctx, talk)
    if refused is not None:
        ctx.reply(refused)
        return
    assert talk is not None
    await start_writing(ctx, talk)


async def write(ctx: Context) -> None:
    talks = await ctx.store.relay.open_of(ctx.person.id, utcnow(), ctx.settings.relay.close_after)
    if not talks:
        ctx.reply(ctx._("You have no appointment to write about right now. Once a guide comes with you (or you "
                        "with someone), you can write to each other here."))
        return
    if len(talks) == 1:
        await start_writing(ctx, talks[0])
        return
    choices = []
    for talk in talks:
        other = await party(ctx.services, talk, talk.other(ctx.person.id))
        day = labels.day(ctx, ctx.i18n.local(talk.starts_at).date())
        choices.append([(ctx._("%(name)s – %(day)s", name=name_of(other), day=day), Write(talk.assignment_id))])
    ctx.reply(ctx._("To whom do you want to write?"), await ctx.buttons(choices))


async def on_file(ctx: Context) -> None:
    """A photo or file: passed on while the person is writing to their guide (or newcomer), else
    they are told how.  Only its platform reference is stored; delivery fetches it."""
    event, state = ctx.event, ctx.dialog
    if state is None or state.dialog != WRITE.name:
        ctx.reply(ctx._("Lotse passes on photos and files only between you and your guide: tap “%(button)s” under "
                        "the last message about the appointment, or send %(command)s, then the photo.",
                        button=ctx._(MSG_WRITE_TO_GUIDE), command=ctx.cmd("write")))
        return
    refusal = await _open_talk(ctx, state.data)
    if refusal is not None:
        ctx.reply(refusal)
        return
    limit = ctx.settings.relay.max_file_bytes
    if limit == 0 or event.file_size > limit:
        ctx.reply(ctx._("This file is too large to pass on: at most %(size)s.",
                        size=labels.megabytes(ctx, limit)) if limit else ctx._("Lotse does not pass on files here."))
        return
    talk = await conversation(ctx, int(state.data["assignment"]))
    assert talk is not None
    caption = free_text.multiline(event.text)[:ctx.settings.relay.max_length]
    async with ctx.store.transaction():
        await relay(ctx, talk, None, caption, SentFile(event.file, event.file_name[:100], event.file_type[:100],
                                                       event.platform))
        await ctx.services.dialogs.cancel(ctx)


# -- delivering -----------------------------------------------------------------------------------
def said(i18n: I18n, message: RelayMessage) -> str:
    """What a message says, in the reader's language where it is a phrase (a file by its name)."""
    if message.file_ref is not None:
        return " ".join(filter(None, [f"📎 {message.file_name or ''}".strip(), message.body]))
    if message.phrase is None:
        return message.body or "—"
    return i18n.gettext(PHRASE_MSGIDS.get(message.phrase, message.phrase), place=message.body or "—")


class RelayTexts(Notifier):
    def text(self, i18n: I18n, message: RelayMessage, sender: Person, sender_is_guide: bool,
             sender_gender: str | None, reader: Person) -> str:
        """The relayed message as `reader` reads it: header, then the phrase or the typed text."""
        header = (i18n.gendered(sender_gender, MSG_FROM_GUIDE, name=name_of(sender)) if sender_is_guide
                  else i18n.gettext(MSG_FROM, name=name_of(sender)))
        if message.phrase is not None:
            return "\n".join([header, said(i18n, message)])
        lines = [header, message.body] if message.body else [header]
        if message.body and message.language and message.language != reader.language:
            lines.append(i18n.gettext(MSG_PROBABLY, language=labels.language(i18n, message.language)))
        return "\n".join(lines)

    async def deliver(self, message_id: int) -> None:
        """Send one relayed message; tell the sender whether it arrived."""
        store = self.services.store
        message = await store.relay.message(message_id)
        talk = await conversation(self.services, message.assignment_id) if message else None
        if message is None or talk is None:
            return
        sender = await party(self.services, talk, message.sender_id)
        reader = await party(self.services, talk, message.recipient_id)
        if sender is None or reader is None:
            return
        i18n = self._i18n(reader)
        gender = await self._gender(sender) if message.sender_id == talk.guide_id else None
        text = self.text(i18n, message, sender, message.sender_id == talk.guide_id, gender, reader)
        buttons = await self._buttons(reader, [[(i18n.gettext("Reply"), Write(talk.assignment_id)),
                                                (i18n.gettext("Report"), Report(message.id))]])
        own = self._i18n(sender)
        if not await store.relay.sending(message.id):
            return  # delivered (or being delivered) already
        attachment = None
        if message.file_ref is not None:
            try:
                content = await self.services.messenger.fetch(message.file_platform or "", message.file_ref,
                                                              self.services.settings.relay.max_file_bytes)
            except DeliveryError as exc:
                log.info("relay: fetching file of message %s failed: %s", message.id, exc)
                await store.relay.finish(message.id, "failed", utcnow())
                await self._send(sender, own.gettext("Your file could not be passed on. Please try again, or send "
                                                     "a smaller photo."))
                return
            attachment = Attachment(message.file_name or "file", content, message.file_type or
                                    "application/octet-stream")
        try:
            await self.services.messenger.deliver(reader, self._message(reader, text, buttons, attachment,
                                                                        key=f"relay-{message.id}"))
        except DeliveryError:
            await store.relay.finish(message.id, "failed", utcnow())
            await self._send(sender, own.gettext("Your message could not be delivered: %(name)s cannot be reached "
                                                 "through Lotse right now. Please try again later or ask a "
                                                 "coordinator.", name=name_of(reader)))
            return
        await store.relay.finish(message.id, "sent", utcnow())
        await self._send(sender, own.gettext("Passed on to %(name)s.", name=name_of(reader)))

    async def resume(self) -> None:
        """At start: deliver what a stop left stored but not sent (see Relay.recover)."""
        pending, uncertain = await self.services.store.relay.recover(self.services.messenger.recognising_repeats())
        if uncertain:
            log.warning("relay: %s message(s) were cut off by a restart and are not sent again", uncertain)
        for message_id in pending:
            await self.deliver(message_id)


# -- meeting point --------------------------------------------------------------------------------
async def _guide_of_open_talk(ctx: Context, data: Any) -> str | None:
    return refusal(ctx, await conversation(ctx, int(data["assignment"])), guide_only=True)


async def _place_given(ctx: Context, value: Any, data: dict[str, Any]) -> Any:
    talk = await conversation(ctx, int(data["assignment"]))
    assert talk is not None
    if not await ctx.store.relay.set_meeting_point(talk.assignment_id, ctx.person.id, value):
        ctx.reply(closed_note(ctx))
        return END
    await relay(ctx, talk, MEET, value)
    return END


MEETING = Dialog("meeting-point", (
    Step("place", N_("Where do you want to meet %(name)s? For example: at the main entrance of the town hall. "
                     "Lotse passes it on and adds it to the reminders."), values=_prompt_values,
         parse=limited(PLACE_MAX, lines=False), on_answer=_place_given),
), authority=_guide_of_open_talk)


async def on_propose(ctx: Context, pressed: Propose) -> None:
    talk = await conversation(ctx, pressed.assignment)
    refused = refusal(ctx, talk, guide_only=True)
    if refused is not None:
        ctx.reply(refused)
        return
    assert talk is not None
    other = await party(ctx.services, talk, talk.newcomer_id)
    await ctx.services.dialogs.start(ctx, MEETING, {"assignment": talk.assignment_id, "to": name_of(other)})


# -- reports --------------------------------------------------------------------------------------
async def on_report(ctx: Context, pressed: Report) -> None:
    store, now = ctx.store, utcnow()
    message = await store.relay.message(pressed.message)
    if message is None or not await store.relay.report(message.id, ctx.person.id, now):
        ctx.reply(ctx._("This message was reported already, or it is no longer kept."))
        return
    ctx.reply(ctx._("Thank you for telling us. A coordinator will look at this conversation."))
    talk = await conversation(ctx, message.assignment_id)
    request = await store.requests.get(talk.request_id) if talk else None
    if talk is None or request is None:
        return
    last = await store.relay.last(talk.assignment_id, ctx.settings.relay.shown_in_report)
    names = {pid: name_of(await party(ctx.services, talk, pid)) for pid in (talk.guide_id, talk.newcomer_id)}
    guide_wrote = message.sender_id == talk.guide_id
    for recipient in await coordinator_people(store, ctx.settings):
        i18n = ctx.i18n_for(recipient)
        lines = [i18n.gettext("%(name)s reported a message from %(other)s about this appointment:",
                              name=name_of(ctx.person), other=names[message.sender_id]),
                 what_when_where(i18n, request), i18n.gettext("The last messages:")]
        for item in last:
            lines.append(i18n.gettext("%(time)s %(name)s: %(text)s", time=i18n.datetime(item.created_at, "short"),
                                      name=names.get(item.sender_id, "?"), text=said(i18n, item)))
        choices = [[(i18n.gettext("Close the conversation"), Decide(talk.assignment_id, "close"))]]
        if guide_wrote:
            choices.append([(i18n.gettext("Suspend %(name)s and close", name=names[talk.guide_id]),
                             Decide(talk.assignment_id, "suspend"))])
        choices.append([(i18n.gettext("No action needed"), Decide(talk.assignment_id, "none"))])
        ctx.send_to(recipient, ctx.message_for(recipient, "\n".join(lines), await ctx.buttons(choices, recipient)))


async def on_decide(ctx: Context, pressed: Decide) -> None:
    store, now = ctx.store, utcnow()
    ctx.answered = ctx.event.message_id
    talk = await conversation(ctx, pressed.assignment)
    if talk is None or not await store.relay.decide(talk.assignment_id, now):
        ctx.reply(ctx._("Another coordinator has decided on this already."))
        return
    if pressed.choice == "none":
        ctx.reply(ctx._("Noted: no action. The conversation stays open."))
        return
    if pressed.choice == "suspend":
        await standing.suspend(store, talk.guide_id, ctx.person.id, now)
    await store.relay.close(talk.assignment_id, now)
    ctx.reply(ctx._("The conversation is closed.") if pressed.choice == "close"
              else ctx._("The guide is suspended and the conversation is closed."))
    for person_id in (talk.guide_id, talk.newcomer_id):
        person = await party(ctx.services, talk, person_id)
        if person is not None:
            ctx.send_to(person, ctx.message_for(person, ctx.i18n_for(person).gettext(
                "A coordinator has closed this conversation. Lotse passes on no more messages in it.")))


def register(router: Router) -> None:
    router.dialogs.register(WRITE)
    router.dialogs.register(MEETING)
    router.button(Write, on_write)
    router.button(Propose, on_propose)
    router.button(Report, on_report)
    router.button(Decide, on_decide, authority=coordinator)
    router.command("write", write)
    router.files(on_file)
