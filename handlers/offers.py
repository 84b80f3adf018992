"""Offers and appointments in words: what guides, newcomers and coordinators read while dispatch
(bot/services/dispatch.py) finds a guide; the Accept/Decline and Assign buttons; the commands
`appointments` (guides) and `unmatched` (coordinators).

An offer shows what, when, how long, where (the town only) and the languages — never the
newcomer's name, address or note; the guide who accepts gets those.
"""

from __future__ import annotations

from dataclasses import dataclass

from babel.numbers import format_percent
from datetime import timedelta
from typing import Any

from bot.core.authority import coordinator
from bot.core.context import MSG_CHOICE_HINT, Context
from bot.core.dialog import MSG_NOTHING_CHANGED
from bot.core import payloads
from bot.core.i18n import G_, I18n, N_
from bot.core.payloads import Payload
from bot.core.router import Router
from bot.core.types import Attachment, Message
from bot.services.calendar import appointment_ics, attachment as calendar_attachment, cancellation_ics
from bot.services.matching import explain
from bot.clock import utcnow
from bot.store.bookings import Offer
from bot.store.requests import Request
from bot.store.store import Person
from handlers import labels
from handlers.labels import what_when_where
from handlers.authority import offer_answer, refusal_text
from handlers.coordinator import name_of
from handlers.notify import Notifier
from handlers.relay import MSG_PROPOSE, MSG_WRITE_TO, MSG_WRITE_TO_GUIDE, Propose, Write
from handlers.referral import MSG_MARK, MSG_NEEDS_INTERPRETER, MarkInterpreter, nobody_found_lines


@dataclass(frozen=True)
class OfferAnswer(Payload, action="offer"):
    offer: int
    accept: bool


@dataclass(frozen=True)
class DeclineReason(Payload, action="decline-reason"):
    offer: int
    reason: str  # a code of DECLINE_REASONS


@dataclass(frozen=True)
class Assign(Payload, action="assign"):
    """A coordinator assigns a guide by hand (any approved guide of the escalation card)."""
    request: int
    guide: int


@dataclass(frozen=True)
class AssignAnyway(Payload, action="assign-anyway"):
    """The answer to "assign anyway?" for a guide matching did not offer the request to."""
    request: int
    guide: int
    confirmed: bool  # True: the guide gets an offer; False: nothing happens


@dataclass(frozen=True)
class GuideCancel(Payload, action="guide-cancel"):
    assignment: int
    confirm: bool  # False: ask "Cancel this appointment?" first


DECLINE_REASONS = (("time", N_("No time then")), ("distance", N_("Too far away")), ("topic", N_("Not my topic")),
                   ("other", N_("Another reason")))
MSG_CANNOT_TAKE_ON = G_("%(name)s cannot take on this request now.")
MSG_OFFER = G_("Can you come along to an appointment?")
MSG_MATCHED = G_("Good news: %(name)s (%(languages)s) will come with you.")
MSG_ASSIGNED = G_("Thank you! You are coming with %(name)s.")
MSG_GUIDE_CANCELLED = G_("Your guide cannot come after all: %(request)s Lotse is looking for someone else and will "
                         "write to you.")
MSG_NOW_ACCOMPANIES = G_("%(name)s now accompanies this request.")
MSG_ASSIGN_ANYWAY = G_("Assign %(name)s anyway? They receive it as an offer to accept or decline.")
MSG_ASKED = G_("%(name)s was asked and will answer.")
MSG_DECLINED_BY_HAND = G_("%(name)s declined the appointment you assigned: %(request)s Send %(command)s to assign "
                          "someone else.")
MSG_GUIDE_WITHDREW = G_("%(name)s cancelled this appointment: %(request)s Lotse is asking other guides.")
MEET_BEFORE = timedelta(minutes=15)
SHOWN_IN_ESCALATION = 8  # guides listed (each with an Assign button), best first
CLOSED = {
    "taken": N_("Already taken – thank you!"),
    "expired": N_("This offer has expired. Thank you all the same!"),
    "withdrawn": N_("This appointment was cancelled. Thank you all the same!"),
    "already": N_("You have already accepted this appointment – thank you!"),
}


def meeting_point(i18n: I18n, request: Request, other: Person | None, proposed: str | None = None) -> str:
    """Where and when to meet: the request's place, else the meeting point the guide proposed, else the town."""
    meet = i18n.local(request.starts_at - MEET_BEFORE)
    return i18n.gettext("Please meet %(name)s on %(date)s at %(time)s at %(place)s.", name=name_of(other),
                        date=i18n.date(meet.date(), "full"), time=i18n.time(meet),
                        place=request.place or proposed or request.district)


def reasons(i18n: I18n, evaluation: Any) -> str:
    """A guide's matching explanation as one line of the escalation card."""
    return "; ".join(reason(i18n, msgid, values) for msgid, values in explain(evaluation))


def not_offered(i18n: I18n, name: str, evaluation: Any) -> str:
    return i18n.gettext("%(name)s – not offered: %(reasons)s", name=name, reasons=reasons(i18n, evaluation))


async def assign_rows(store: Any, i18n: I18n, request: Request, shown: list[Any]) -> list:
    """The escalation card's buttons: Assign for each guide listed, and "Needs an interpreter"."""
    rows = [[(i18n.gettext("Assign %(name)s", name=name_of(await store.people.get(e.guide_id))),
              Assign(request.id, e.guide_id))] for e in shown]
    if not request.interpreter:
        rows.append([(i18n.gettext(MSG_MARK), MarkInterpreter(request.id))])
    return rows


def reason(i18n: I18n, msgid: str, values: dict[str, Any]) -> str:
    """One line of a matching explanation, its raw values (codes, minutes, dates) made readable."""
    shown: dict[str, Any] = {}
    for key, value in values.items():
        if key == "language":
            shown[key] = labels.language(i18n, value)
        elif key == "languages":
            shown[key] = labels.languages(i18n, list(value))
        elif key == "weekday":
            shown[key] = labels.weekday(i18n, value)
        elif key in ("start_minute", "end_minute"):
            shown[key] = labels.clock(i18n, value)
        elif key in ("paused_from", "paused_until"):
            shown[key] = i18n.date(value) if value else i18n.gettext(labels.NOTHING)
        elif key in ("busy_from", "busy_until"):
            shown[key] = i18n.datetime(value, "short")
        elif key == "topic":
            shown[key] = labels.topic(i18n, value)
        elif key == "gender":
            shown[key] = i18n.gettext(labels.PREFERRED_GENDERS.get(value, labels.NOTHING))
        elif key == "state":
            shown[key] = i18n.gettext(labels.GUIDE_STATES.get(value, labels.NOTHING))
        elif isinstance(value, float):
            shown[key] = i18n.number(value)
        else:
            shown[key] = value
    return i18n.gettext(msgid, **shown)


MSG_CONTACT_PHONE = N_("Contact: %(phone)s")
MSG_CONTACT_COORDINATOR = N_("Contact: through the coordinator %(name)s")


class OfferTexts(Notifier):
    """The Notifier of bot.services.dispatch: every message in its recipient's language."""

    async def request_facts(self, i18n: I18n, request: Request, contact: bool = False) -> list[str]:
        """What a guide or coordinator must know beyond what, when, where: that an interpreter is
        needed, and (`contact`, for the guide who takes it on) how to reach someone a coordinator
        filed for."""
        lines = [i18n.gettext(MSG_NEEDS_INTERPRETER)] if request.interpreter else []
        if contact and request.on_behalf:
            if request.behalf_phone:
                lines.append(i18n.gettext(MSG_CONTACT_PHONE, phone=request.behalf_phone))
            else:
                filer = await self.services.store.people.get(request.person_id)
                lines.append(i18n.gettext(MSG_CONTACT_COORDINATOR, name=name_of(filer)))
        return lines

    async def offer(self, guide: Person, offer_id: int, request: Request) -> Message:
        """The offer message (dispatch sends it and keeps its state)."""
        i18n = self._i18n(guide)
        text = "\n".join([i18n.gendered(await self._gender(guide), MSG_OFFER), what_when_where(i18n, request),
                          i18n.gettext("Languages: %(value)s", value=labels.languages(i18n, request.languages)),
                          *await self.request_facts(i18n, request)])
        buttons = await self._buttons(guide, [[(i18n.gettext("Accept"), OfferAnswer(offer_id, True)),
                                               (i18n.gettext("Decline"), OfferAnswer(offer_id, False))]])
        return self._message(guide, text, buttons, key=f"offer-{offer_id}")

    async def offer_closed(self, guide: Person, offer: Offer, request: Request, why: str) -> None:
        if offer.message_id is None:
            return
        i18n = self._i18n(guide)
        text = "\n".join([what_when_where(i18n, request), i18n.gettext(CLOSED[why])])
        await self.services.messenger.edit(guide, offer.message_id, Message(text))

    async def matched(self, newcomer: Person, guide: Person, request: Request) -> None:
        i18n = self._i18n(newcomer)
        lines = [i18n.gendered(await self._gender(guide), MSG_MATCHED, name=name_of(guide),
                               languages=labels.languages(i18n, await self._guide_languages(guide))),
                 meeting_point(i18n, request, guide)]
        rows = await self._talk_rows(i18n, request, [(i18n.gettext(MSG_WRITE_TO_GUIDE), Write)])
        await self._send(newcomer, "\n".join(lines), await self._buttons(newcomer, rows),
                         attachment=self.calendar_file(i18n, request, guide, lines))

    async def _talk_rows(self, i18n: I18n, request: Request, wanted: list) -> list:
        """Buttons about the booked appointment (the relay's: write, propose a meeting point)."""
        booked = await self.services.store.bookings.active_assignment(request.id)
        return [] if booked is None else [[(label, kind(booked.id))] for label, kind in wanted]

    async def _guide_languages(self, guide: Person) -> tuple[str, ...]:
        found = await self.services.store.guides.get(guide.id)
        return found.profile.languages if found else ()

    async def assigned(self, guide: Person, newcomer: Person, request: Request) -> None:
        i18n = self._i18n(guide)
        lines = [i18n.gendered(await self._gender(guide), MSG_ASSIGNED, name=name_of(newcomer)),
                 what_when_where(i18n, request), meeting_point(i18n, request, newcomer),
                 i18n.gettext("Languages: %(value)s", value=labels.languages(i18n, request.languages)),
                 *await self.request_facts(i18n, request, contact=True)]
        if request.note:
            lines.append(i18n.gettext("Note: %(value)s", value=request.note))
        details = list(lines)
        lines.append(i18n.gettext("Send %(command)s to see your appointments or to cancel.",
                                  command=self._cmd(guide, "appointments")))
        wanted = [(i18n.gettext(MSG_WRITE_TO, name=name_of(newcomer)), Write)]
        if not request.place:  # the newcomer left it out: the guide proposes where to meet
            lines.append(i18n.gettext("No meeting place was given. Please propose one."))
            wanted.append((i18n.gettext(MSG_PROPOSE), Propose))
        rows = await self._talk_rows(i18n, request, wanted)
        await self._send(guide, "\n".join(lines), await self._buttons(guide, rows),
                         attachment=self.calendar_file(i18n, request, newcomer, details))

    def _summary(self, i18n: I18n, request: Request, other: Person | None) -> str:
        return i18n.gettext("%(topic)s with %(name)s (Lotse)", topic=labels.topic(i18n, request.topic),
                            name=name_of(other))

    def cancelled_file(self, i18n: I18n, request: Request, other: Person | None) -> Attachment:
        """The calendar entry sent with the match, cancelled (same UID, a later SEQUENCE)."""
        content = cancellation_ics(f"request-{request.id}@lotse", request.starts_at, request.ends_at,
                                   self.services.settings.zone, summary=self._summary(i18n, request, other),
                                   stamp=utcnow())
        return calendar_attachment(content, "appointment-cancelled.ics")

    def calendar_file(self, i18n: I18n, request: Request, other: Person, lines: list[str]) -> Attachment:
        """The appointment as an .ics file for the phone's calendar, in the reader's language.  One
        UID per request: a file sent again after a new guide was found updates the entry."""
        content = appointment_ics(
            f"request-{request.id}@lotse", request.starts_at, request.ends_at, self.services.settings.zone,
            summary=self._summary(i18n, request, other),
            location=request.place or request.district, description="\n".join(lines), stamp=utcnow())
        return calendar_attachment(content)

    async def escalation_text(self, i18n: I18n, request: Request, ranked: list[Any]) -> tuple[str, list[Any]]:
        """The card and the guides it lists: the approved ones, best first (the eligible with their
        points, the others with why they were not offered); a suspended, rejected or pending guide
        cannot be assigned and is left out."""
        people = self.services.store.people
        newcomer = await self.services.store.newcomer_of(request)
        nothing = i18n.gettext(labels.NOTHING)
        lines = [i18n.gettext("Nobody has taken this request yet:"), what_when_where(i18n, request),
                 i18n.gettext("Name: %(value)s", value=name_of(newcomer)),
                 i18n.gettext("Place: %(value)s", value=request.place or nothing),
                 i18n.gettext("Note: %(value)s", value=request.note or nothing),
                 i18n.gettext("Languages: %(value)s", value=labels.languages(i18n, request.languages)),
                 *await self.request_facts(i18n, request), ""]
        shown = [e for e in ranked if e.candidate.state == "approved"][:SHOWN_IN_ESCALATION]
        for evaluation in shown:
            name = name_of(await people.get(evaluation.guide_id))
            if evaluation.eligible:
                lines.append(i18n.gettext("%(name)s – %(points)s points: %(reasons)s", name=name,
                                          points=i18n.number(round(evaluation.score, 1)),
                                          reasons=reasons(i18n, evaluation)))
            else:
                lines.append(not_offered(i18n, name, evaluation))
        if not shown:
            lines.append(i18n.gettext("No guide is registered for this yet."))
        return "\n".join(lines), shown

    async def escalated(self, coordinators: list[Person], request: Request, ranked: list[Any]) -> None:
        for recipient in coordinators:
            i18n = self._i18n(recipient)
            text, shown = await self.escalation_text(i18n, request, ranked)
            rows = await assign_rows(self.services.store, i18n, request, shown)
            await self._send(recipient, text, await self._buttons(recipient, rows))

    async def declined_by_hand(self, coordinator: Person, guide: Person, request: Request) -> None:
        i18n = self._i18n(coordinator)
        await self._send(coordinator, i18n.gendered(await self._gender(guide), MSG_DECLINED_BY_HAND,
                                                    name=name_of(guide), request=what_when_where(i18n, request),
                                                    command=self._cmd(coordinator, "unmatched")))

    async def cap_warning(self, guide: Person, coordinators: list[Person], account: Any, level: float) -> None:
        """The guide reached `level` of the programme's yearly cap: they and the coordinators are told."""
        i18n = self._i18n(guide)
        values = {"percent": format_percent(level, locale=i18n.locale), "hours": i18n.number(account.hours),
                  "cap": i18n.number(account.caps.yearly)}
        await self._send(guide, i18n.gettext(
            "You have reached %(percent)s of this year's hours in the programme: %(hours)s of %(cap)s. Lotse offers "
            "you requests only up to the limit.", **values))
        for recipient in coordinators:
            i18n = self._i18n(recipient)
            await self._send(recipient, i18n.gettext(
                "%(name)s has reached %(percent)s of this year's hours in the programme: %(hours)s of %(cap)s.",
                name=name_of(guide), percent=format_percent(level, locale=i18n.locale),
                hours=i18n.number(account.hours), cap=i18n.number(account.caps.yearly)))

    async def still_searching(self, newcomer: Person, request: Request, refer: bool) -> None:
        """`refer`: also the language mediators ([referral]), as one more way to get help."""
        i18n = self._i18n(newcomer)
        lines = [i18n.gettext("Lotse is still looking for a guide for your appointment: %(request)s A coordinator "
                              "has been told and will help.", request=what_when_where(i18n, request))]
        if refer:
            lines += nobody_found_lines(i18n, self.services.settings.referral)
        await self._send(newcomer, "\n".join(lines))

    async def cancelled_by_newcomer(self, guide: Person, newcomer: Person, request: Request) -> None:
        i18n = self._i18n(guide)
        await self._send(guide, i18n.gettext(
            "%(name)s cancelled this appointment; you do not need to go. Thank you! %(request)s",
            name=name_of(newcomer), request=what_when_where(i18n, request)),
            attachment=self.cancelled_file(i18n, request, newcomer))

    async def cancelled_by_guide(self, newcomer: Person, guide: Person, request: Request) -> None:
        i18n = self._i18n(newcomer)
        await self._send(newcomer, i18n.gendered(await self._gender(guide), MSG_GUIDE_CANCELLED,
                                                 request=what_when_where(i18n, request)),
                         attachment=self.cancelled_file(i18n, request, guide))

    async def guide_withdrew(self, coordinators: list[Person], guide: Person, request: Request) -> None:
        gender = await self._gender(guide)
        for recipient in coordinators:
            i18n = self._i18n(recipient)
            await self._send(recipient, i18n.gendered(gender, MSG_GUIDE_WITHDREW, name=name_of(guide),
                                                      request=what_when_where(i18n, request)))


# -- buttons ------------------------------------------------------------------------------------
async def on_offer(ctx: Context, pressed: OfferAnswer) -> None:
    offer_id, accept = pressed.offer, pressed.accept
    dispatch = ctx.services.dispatch
    person, message_id = ctx.person, ctx.event.message_id
    i18n = ctx.i18n

    async def answer() -> None:
        outcome = await (dispatch.accept(person, offer_id) if accept else dispatch.decline(person, offer_id))
        messenger = ctx.services.messenger
        if outcome.code == "declined" and message_id is not None:
            buttons = await payloads.mint(ctx.store, person.id, [[(i18n.gettext(label), DeclineReason(offer_id, code))]
                                                                 for code, label in DECLINE_REASONS])
            await messenger.edit(person, message_id, Message("\n".join([
                what_when_where(i18n, outcome.request),
                i18n.gettext("You declined. Thank you for letting us know – Lotse asks someone else."),
                i18n.gettext("If you like, tell us why (optional):")]), buttons,
                choice_hint=i18n.gettext(MSG_CHOICE_HINT)))
        elif outcome.code in ("taken", "expired", "already") and message_id is not None and outcome.request is not None:
            await messenger.edit(person, message_id, Message("\n".join([
                what_when_where(i18n, outcome.request), i18n.gettext(CLOSED[outcome.code])])))
        elif outcome.code == "accepted" and message_id is not None:
            await messenger.clear_buttons(person, message_id)
        elif outcome.code == "gone":
            await messenger.send(person, Message(i18n.gettext(
                "This button is no longer valid. Please use the latest message.")))
        elif outcome.code == "refused":  # lost the standing between the press and the booking
            await messenger.send(person, Message(refusal_text(ctx, outcome.reason or "")))

    ctx.later(answer)


async def on_decline_reason(ctx: Context, pressed: DeclineReason) -> None:
    await ctx.store.bookings.set_decline_reason(pressed.offer, pressed.reason)
    ctx.answered = ctx.event.message_id
    ctx.reply(ctx._("Thank you, that helps us."))


async def on_assign(ctx: Context, pressed: Assign) -> None:
    """An eligible guide is booked at once; for one matching did not offer the request to, the
    coordinator first reads why and confirms (on_assign_anyway)."""
    request_id, guide_id = pressed.request, pressed.guide
    person, i18n, dispatch = ctx.person, ctx.i18n, ctx.services.dispatch
    evaluation = await dispatch.judge(request_id, guide_id)
    if evaluation is not None and not evaluation.eligible and await dispatch.refusal(request_id, guide_id) is None:
        guide = await ctx.store.people.get(guide_id)
        buttons = await ctx.buttons([[(ctx._("Assign anyway"), AssignAnyway(request_id, guide_id, True)),
                                      (ctx._("Cancel"), AssignAnyway(request_id, guide_id, False))]])
        ctx.reply("\n".join([not_offered(i18n, name_of(guide), evaluation),
                             i18n.gendered(await ctx.store.guides.gender(guide_id), MSG_ASSIGN_ANYWAY,
                                           name=name_of(guide))]), buttons)
        return

    async def assign() -> None:
        outcome = await ctx.services.dispatch.assign_by_hand(person, request_id, guide_id)
        guide = await ctx.store.people.get(guide_id)
        if outcome.code == "refused":  # suspended, paused or not approved since the list was made
            text = "\n".join([i18n.gendered(await ctx.store.guides.gender(guide_id), MSG_CANNOT_TAKE_ON,
                                             name=name_of(guide)),
                              i18n.gettext(MSG_NOTHING_CHANGED)])
        elif outcome.code == "accepted":
            text = i18n.gendered(await ctx.store.guides.gender(guide_id), MSG_NOW_ACCOMPANIES, name=name_of(guide))
        else:
            text = i18n.gettext("This request has a guide already.")
        await ctx.services.messenger.send(person, Message(text))

    ctx.later(assign)


async def on_assign_anyway(ctx: Context, pressed: AssignAnyway) -> None:
    request_id, guide_id = pressed.request, pressed.guide
    ctx.answered = ctx.event.message_id
    if not pressed.confirmed:
        ctx.reply(ctx._(MSG_NOTHING_CHANGED))
        return
    person, i18n = ctx.person, ctx.i18n

    async def ask() -> None:
        outcome = await ctx.services.dispatch.offer_by_hand(person, request_id, guide_id)
        guide = await ctx.store.people.get(guide_id)
        gender = await ctx.store.guides.gender(guide_id)
        if outcome.code == "refused":  # paused, suspended or not approved
            text = "\n".join([i18n.gendered(gender, MSG_CANNOT_TAKE_ON, name=name_of(guide)),
                              i18n.gettext(MSG_NOTHING_CHANGED)])
        elif outcome.code == "asked":
            text = i18n.gendered(gender, MSG_ASKED, name=name_of(guide))
        else:
            text = i18n.gettext("This request has a guide already.")
        await ctx.services.messenger.send(person, Message(text))

    ctx.later(ask)


async def on_guide_cancel(ctx: Context, pressed: GuideCancel) -> None:
    assignment_id, confirmed = pressed.assignment, pressed.confirm
    if not confirmed:
        buttons = await ctx.buttons([[(ctx._("Yes, I cannot come"), GuideCancel(assignment_id, True))]])
        ctx.reply(ctx._("Cancel this appointment? The newcomer is told and Lotse looks for someone else."), buttons)
        return
    person, i18n = ctx.person, ctx.i18n

    async def cancel() -> None:
        request = await ctx.services.dispatch.guide_cancelled(person, assignment_id)
        text = (i18n.gettext("You cancelled. Thank you for telling us in time.") if request else
                i18n.gettext("This appointment is not yours or was cancelled already."))
        await ctx.services.messenger.send(person, Message(text))

    ctx.later(cancel)


# -- commands -----------------------------------------------------------------------------------
async def appointments(ctx: Context) -> None:
    items = await ctx.store.bookings.upcoming_of_guide(ctx.person.id, utcnow())
    if not items:
        ctx.reply(ctx._("You have no upcoming appointments."))
        return
    for item in items:
        request = await ctx.store.requests.get(item.request_id)
        newcomer = await ctx.store.newcomer_of(request) if request else None
        if request is None:
            continue
        buttons = await ctx.buttons([[(ctx._("Cancel"), GuideCancel(item.id, False))]])
        ctx.reply("\n".join([ctx._("With %(name)s:", name=name_of(newcomer)), what_when_where(ctx.i18n, request),
                             ctx._("Place: %(value)s", value=request.place or ctx._(labels.NOTHING))]), buttons)


async def unmatched(ctx: Context) -> None:
    waiting = await ctx.store.bookings.unmatched(utcnow())
    if not waiting:
        ctx.reply(ctx._("Every request has a guide or is still being offered."))
        return
    texts = OfferTexts(ctx.services)
    for request_id in waiting:
        request = await ctx.store.requests.get(request_id)
        need = await ctx.store.matching.need(request_id)
        ranked = await ctx.services.dispatch.ranking(need, prefilter=False)
        text, shown = await texts.escalation_text(ctx.i18n, request, ranked)
        ctx.reply(text, await ctx.buttons(await assign_rows(ctx.store, ctx.i18n, request, shown)))


async def announce_request(ctx: Context, request_id: int) -> None:
    """A confirmed request's first wave is written in the newcomer's transaction (request and
    offers commit together) and sent after the commit, once the newcomer has their answer."""
    dispatch = ctx.services.dispatch
    wave = await dispatch.plan_wave(request_id)
    if wave is not None:
        ctx.later(lambda: dispatch.send_wave(wave, newcomer_told=True))


def register(router: Router) -> None:
    router.button(OfferAnswer, on_offer, authority=offer_answer)
    router.button(Assign, on_assign, authority=coordinator)
    router.button(AssignAnyway, on_assign_anyway, authority=coordinator)
    router.button(GuideCancel, on_guide_cancel)  # no authority: cancelling stays possible (bot/services/authority.py)
    router.button(DeclineReason, on_decline_reason)
    router.command("appointments", appointments)
    router.command("unmatched", unmatched)
    router.services.request_listeners.append(announce_request)

