"""Reminders and follow-ups in words (bot/services/reminders.py decides when), and their buttons:

- before the appointment, to both sides; the newcomer's first reminder asks "still needed?" —
  "No" leads into the same confirmation as `cancel`;
- after it, the guide: did it take place? (yes → how long, in hours / the newcomer did not come /
  it was cancelled); a no-show or a late cancellation goes to every coordinator;
- after it, the newcomer: 👍 / 👎 / a comment (optional).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from babel.units import format_unit

from bot.core.context import Context
from bot.core.dialog import END, MSG_STALE_BUTTON, Dialog, Step, _End
from bot.core.i18n import G_, I18n, N_
from bot.core.payloads import Payload
from bot.core.router import Router
from bot.core.types import Message
from bot.services.coordinators import coordinator_people
from bot.clock import utcnow
from bot.store.reminders import Reminder
from bot.store.requests import Request
from bot.store.store import Person
from handlers.coordinator import name_of
from handlers.newcomer import cancel_one, limited
from handlers.notify import Notifier
from handlers.labels import what_when_where
from handlers.offers import meeting_point


@dataclass(frozen=True)
class StillNeeded(Payload, action="still-needed"):
    request: int
    keep: bool


@dataclass(frozen=True)
class Outcome(Payload, action="outcome"):
    assignment: int
    outcome: str  # a code of OUTCOMES


@dataclass(frozen=True)
class Hours(Payload, action="hours"):
    assignment: int
    hours: float


@dataclass(frozen=True)
class Feedback(Payload, action="feedback"):
    assignment: int
    feedback: str  # positive, negative, or comment (asks for the text)


OUTCOMES = (("done", N_("Yes, it took place")), ("no_show", N_("%(name)s did not come")),
            ("cancelled_late", N_("It was cancelled")))
COORDINATOR_NOTICE = {
    "no_show": G_("%(guide)s reports that %(newcomer)s did not come: %(request)s"),
    "cancelled_late": G_("%(guide)s reports that this appointment was cancelled at short notice: %(request)s"),
}


MSG_REMINDER_GUIDE = G_("Reminder: you are coming along with %(name)s.")
MSG_REMINDER_NEWCOMER = G_("Reminder: %(name)s will come with you.")


def hours_label(i18n: I18n, hours: float) -> str:
    """"1,5 Stunden" / "ساعتان": Babel's unit patterns know each language's plural forms."""
    return format_unit(int(hours) if float(hours).is_integer() else hours, "duration-hour", length="long",
                       locale=i18n.locale)


class ReminderTexts(Notifier):
    """The ReminderNotifier of bot.services.reminders: composes each message in its reader's
    language (the service sends it, to keep its row's state in step)."""

    async def reminder(self, person: Person, reminder: Reminder, request: Request, ask_still_needed: bool) -> Message:
        i18n = self._i18n(person)
        people = self.services.store.people
        if reminder.to_guide:
            other = await self.services.store.newcomer_of(request)  # named as the person filed for
            lines = [i18n.gendered(await self._gender(person), MSG_REMINDER_GUIDE, name=name_of(other))]
        else:
            other = await people.get(reminder.guide_id)
            lines = [i18n.gendered(await self._gender(other), MSG_REMINDER_NEWCOMER, name=name_of(other))]
        proposed = await self.services.store.relay.meeting_point(request.id)  # the guide's, if the place was left out
        lines += [what_when_where(i18n, request), meeting_point(i18n, request, other, proposed)]
        buttons: tuple = ()
        if ask_still_needed:
            lines.append(i18n.gettext("Do you still need this appointment?"))
            buttons = await self._buttons(person, [
                [(i18n.gettext("Yes, I still need it"), StillNeeded(request.id, True))],
                [(i18n.gettext("No, cancel it"), StillNeeded(request.id, False))]])
        return self._message(person, "\n".join(lines), buttons, key=f"reminder-{reminder.id}")

    async def followup(self, person: Person, reminder: Reminder, request: Request) -> Message:
        i18n = self._i18n(person)
        people = self.services.store.people
        if reminder.to_guide:
            newcomer = name_of(await self.services.store.newcomer_of(request))
            text = i18n.gettext("Did your appointment with %(name)s take place? %(request)s", name=newcomer,
                                request=what_when_where(i18n, request))
            rows = [[(i18n.gettext(label, name=newcomer), Outcome(reminder.assignment_id, code))]
                    for code, label in OUTCOMES]
            return self._message(person, text, await self._buttons(person, rows),
                                 key=f"reminder-{reminder.id}")
        guide = name_of(await people.get(reminder.guide_id))
        text = i18n.gettext("How was your appointment with %(name)s? %(request)s If you like, tell us – it helps "
                            "Lotse get better.", name=guide, request=what_when_where(i18n, request))
        assignment = reminder.assignment_id
        rows = [[(i18n.gettext("👍 Good"), Feedback(assignment, "positive")),
                 (i18n.gettext("👎 Not good"), Feedback(assignment, "negative"))],
                [(i18n.gettext("Write a comment"), Feedback(assignment, "comment"))]]
        return self._message(person, text, await self._buttons(person, rows),
                             key=f"reminder-{reminder.id}")


# -- buttons ------------------------------------------------------------------------------------
async def on_still_needed(ctx: Context, pressed: StillNeeded) -> None:
    request_id = pressed.request
    ctx.answered = ctx.event.message_id
    if pressed.keep:
        ctx.reply(ctx._("Thank you! Your appointment stays as it is."))
    else:
        await cancel_one(ctx, request_id)


async def on_outcome(ctx: Context, pressed: Outcome) -> None:
    assignment_id, outcome = pressed.assignment, pressed.outcome
    ctx.answered = ctx.event.message_id
    store = ctx.store
    if not await store.bookings.report_outcome(assignment_id, ctx.person.id, outcome, utcnow()):
        ctx.reply(ctx._("This appointment has been answered already. Thank you!"))
        return
    if outcome == "done":
        rows = [[(hours_label(ctx.i18n, hours), Hours(assignment_id, float(hours)))]
                for hours in ctx.settings.reminders.hours_choices]
        question = (N_("How long did it take, including the way there and back?") if ctx.settings.programme.counts_travel
                    else N_("How long did the appointment itself take, without the way there and back?"))
        ctx.reply(ctx._(question), await ctx.buttons(rows))
        return
    ctx.reply(ctx._("Thank you for telling us. A coordinator will have a look."))
    assignment = await store.bookings.assignment(assignment_id)
    request = await store.requests.get(assignment.request_id) if assignment else None
    if request is None:
        return
    newcomer = await store.newcomer_of(request)
    for coordinator in await coordinator_people(store, ctx.settings):
        i18n = ctx.i18n_for(coordinator)
        ctx.send_to(coordinator, ctx.message_for(coordinator, i18n.gendered(
            await store.guides.gender(ctx.person.id), COORDINATOR_NOTICE[outcome], guide=name_of(ctx.person),
            newcomer=name_of(newcomer),
            request=what_when_where(i18n, request))))


async def on_hours(ctx: Context, pressed: Hours) -> None:
    assignment_id, hours = pressed.assignment, pressed.hours
    ctx.answered = ctx.event.message_id
    if await ctx.store.bookings.report_hours(assignment_id, ctx.person.id, hours):
        ctx.reply(ctx._("Thank you! Recorded: %(hours)s.", hours=hours_label(ctx.i18n, hours)))
        assignment = await ctx.store.bookings.assignment(assignment_id)
        dispatch, guide = ctx.services.dispatch, ctx.person

        async def warn() -> None:  # the hours may have taken the guide near the programme's cap
            if assignment is not None and dispatch is not None:
                await dispatch.warn_caps(guide, assignment.starts_at)

        ctx.later(warn)
    else:
        ctx.reply(ctx._("This appointment has been answered already. Thank you!"))


async def on_feedback(ctx: Context, pressed: Feedback) -> None:
    assignment_id, feedback = pressed.assignment, pressed.feedback
    ctx.answered = ctx.event.message_id
    if feedback == "comment":
        await ctx.services.dialogs.start(ctx, FEEDBACK_DIALOG, {"assignment": assignment_id})
    elif await ctx.store.bookings.give_feedback(assignment_id, ctx.person.id, feedback):
        ctx.reply(ctx._("Thank you for your feedback!"))
    else:
        ctx.reply(ctx._(MSG_STALE_BUTTON))


def _comment_prompt(ctx: Context, data: dict[str, Any]) -> str:
    return ctx.ngettext("Please write your comment (at most %(count)s character).",
                        "Please write your comment (at most %(count)s characters).",
                        ctx.settings.requests.note_max_length)


def _comment_parse(ctx: Context, text: str, data: dict[str, Any]) -> str:
    return limited(ctx.settings.requests.note_max_length)(ctx, text, data)


async def _comment_answer(ctx: Context, value: Any, data: dict[str, Any]) -> _End:
    if await ctx.store.bookings.give_feedback(int(data["assignment"]), ctx.person.id, None, str(value)):
        ctx.reply(ctx._("Thank you for your feedback!"))
    else:
        ctx.reply(ctx._(MSG_STALE_BUTTON))
    return END


FEEDBACK_DIALOG = Dialog("feedback", (Step("comment", _comment_prompt, parse=_comment_parse,
                                           on_answer=_comment_answer),))


def register(router: Router) -> None:
    router.button(StillNeeded, on_still_needed)
    router.button(Outcome, on_outcome)
    router.button(Hours, on_hours)
    router.button(Feedback, on_feedback)
    router.dialogs.register(FEEDBACK_DIALOG)
