"""Guides: registration (`guide`), weekly availability (`availability`), `pause` and `resume`.

guide → languages → districts (or all) → topics → weekly slots (a small editor: add a weekday and a
time range, remove one, done) → weekly maximum → optional gender → summary: confirm / change one
field and come back / discard.  Confirming saves the profile; a new (or rejected, re-registering)
guide is announced to the coordinators and waits for approval, an approved one stays approved.
A registered guide's `guide` shows their profile and state and opens the same dialog, prefilled.

The weekday step also offers Monday to Friday at once, and the time step copies the times of a
weekday that has some ("Same as Tuesday").

`availability` reuses the slot editor's steps; `pause` takes "until I resume" or a period of days
(local dates, inclusive), then asks about each appointment already booked in that time: keep it, or
cancel it the way `appointments` does (bot/services/dispatch.py guide_cancelled); `resume` ends a
pause and lets dispatch offer the guide the requests still waiting that they fit.  Slots live in
the dialog data as [weekday, start minute, end minute] lists (JSON), weekday 0 = Monday, local minutes.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.core.context import Context
from bot.core.dialog import END, DialogEngine, Dialog, Invalid, Option, Step, _End, rows
from bot.core.i18n import N_
from bot.core.router import Router
from bot.core.when import ParseError, parse_date, parse_time_range
from bot.clock import utcnow
from bot.store.guides import ALL_DISTRICTS, Guide, Profile, Slot
from bot.vocabulary import GUIDE, PLEDGE, POLICE_CERTIFICATE, TRAINING
from handlers import labels, spoken
from handlers.authority import MSG_NOT_A_GUIDE, guide_edit, guide_profile
from handlers.coordinator import announce_registration
from handlers.labels import what_when_where

SLOTS_ONLY = "_slots_only"    # data key: the slot editor alone (`availability`): its Done ends the dialog
OUTCOME = "_outcome"          # data key: what on_finish does (save, discard, keep)
SAVE, DISCARD, KEEP = "save", "discard", "keep"

TIME_RANGES = ((8 * 60, 12 * 60), (12 * 60, 16 * 60), (16 * 60, 20 * 60))
WEEKLY_MAX = (1, 2, 3, 4, 5)
BACK = "back"

REQUIREMENTS = {  # what [guides] require asks of a guide, one list item each
    TRAINING: N_("• the basic training for guides"),
    PLEDGE: N_("• the signed confidentiality pledge"),
    POLICE_CERTIFICATE: N_("• a police certificate of good conduct"),
}
MSG_DONE_NEEDS_SLOT = N_("Please add at least one time first.")
MSG_RANGE = N_("%(start)s–%(end)s")
MSG_BACK = N_("Back")
MSG_EXAMPLE_RANGE = N_("Please type a time range like 9-13 or 9:00-12:30.")
MSG_WORKDAYS = N_("%(first)s–%(last)s")      # the weekday step's shortcut: "Mon–Fri" (abbreviated day names)
MSG_SAME_AS = N_("Same as %(weekday)s")     # the time step's shortcut: copy another weekday's times
MON_FRI = "mon-fri"                          # the weekday step's value for Monday to Friday
WORKDAYS = (0, 1, 2, 3, 4)
SAME_AS = "same_as"                          # key of a "Same as …" option's value


def _today(ctx: Context) -> date:
    return ctx.i18n.local(utcnow()).date()


# -- data ↔ profile ---------------------------------------------------------------------------
def _slots(data: dict[str, Any]) -> list[Slot]:
    return sorted((Slot(*s) for s in data.get("slot_list", [])), key=Slot.as_list)


def _ordered(values: list[str], order: tuple[str, ...]) -> tuple[str, ...]:
    """Chosen values in the order of the settings (the order of the buttons), not of the taps."""
    return tuple(sorted(dict.fromkeys(values), key=lambda v: (order.index(v) if v in order else len(order), v)))


def _profile(ctx: Context, data: dict[str, Any]) -> Profile:
    return Profile(
        languages=(data["languages"][0], *_ordered(data["languages"][1:], ctx.settings.area.languages)),
        districts=_ordered(data["districts"], ctx.settings.area.districts),
        topics=_ordered(data["topics"], ctx.settings.requests.topics),
        slots=tuple(_slots(data)),
        weekly_max=int(data["weekly_max"]),
        gender=data.get("gender"),
    )


def _data_of(profile: Profile) -> dict[str, Any]:
    return {
        "best_language": profile.languages[0] if profile.languages else None,
        "languages": list(profile.languages),
        "districts": list(profile.districts),
        "topics": list(profile.topics),
        "slot_list": [s.as_list() for s in profile.slots],
        "weekly_max": profile.weekly_max,
        "gender": profile.gender,
    }


def _add_slot(slots: list[list[int]], weekday: int, start: int, end: int) -> list[list[int]]:
    """Add a slot; one that overlaps or touches another on the same weekday merges with it."""
    merged = [weekday, start, end]
    kept = []
    for s in slots:
        if s[0] == weekday and s[1] <= merged[2] and merged[1] <= s[2]:
            merged = [weekday, min(s[1], merged[1]), max(s[2], merged[2])]
        else:
            kept.append(list(s))
    return sorted(kept + [merged])


# -- languages, districts, topics ---------------------------------------------------------------
def _districts_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    options = [Option(name, name, translate=False) for name in ctx.settings.area.districts]
    return [*rows(options, 2), [Option(ALL_DISTRICTS, N_("All districts"))]]


async def _districts_answer(ctx: Context, value: Any, data: dict[str, Any]) -> Step | None:
    if ALL_DISTRICTS in value:
        data["districts"] = [ALL_DISTRICTS]  # "All districts" wins over single ones
    return None


def _topics_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    return [[Option(code, labels.TOPICS.get(code, code))] for code in ctx.settings.requests.topics]


# -- the slot editor (registration and `availability`) -------------------------------------------
ADD, REMOVE, DONE = "add", "remove", "done"


def _slots_prompt(ctx: Context, data: dict[str, Any]) -> str:
    slots = _slots(data)
    lines = [ctx._("When are you available each week?")]
    if slots:
        lines.append(labels.slots(ctx, slots))
    else:
        lines.append(ctx._("No times yet."))
    lines.append("")
    if data.get(SLOTS_ONLY):
        lines.append(ctx._("Add or remove times. Your changes are saved when you press Done."))
    else:
        lines.append(ctx._("Add a time, remove one, or press Done when the list is complete."))
    return "\n".join(lines)


def _slots_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    rows = [[Option(ADD, N_("Add a time"))]]
    if data.get("slot_list"):
        rows.append([Option(REMOVE, N_("Remove a time"))])
    rows.append([Option(DONE, N_("Done"))])
    return rows


async def _slots_answer(ctx: Context, value: Any, data: dict[str, Any]) -> Step | None:
    if value == ADD:
        return SLOT_DAY
    if value == REMOVE:
        return SLOT_REMOVE if data.get("slot_list") else SLOTS
    if not data.get("slot_list"):
        ctx.reply(ctx._(MSG_DONE_NEEDS_SLOT))
        return SLOTS
    # None: the step's next, or back to the summary after "change"; END for `availability`.
    return END if data.get(SLOTS_ONLY) else None


def _workdays_label(ctx: Context) -> str:
    return ctx._(MSG_WORKDAYS, first=labels.weekday(ctx, WORKDAYS[0], "abbreviated"),
                 last=labels.weekday(ctx, WORKDAYS[-1], "abbreviated"))


def _day_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    days = [Option(day, labels.weekday(ctx, day), translate=False) for day in range(7)]
    return [*rows(days, 2), [Option(MON_FRI, _workdays_label(ctx), translate=False)], [Option(BACK, MSG_BACK)]]


async def _day_answer(ctx: Context, value: Any, data: dict[str, Any]) -> Step | None:
    return SLOTS if value == BACK else SLOT_TIME


def _chosen_days(data: dict[str, Any]) -> tuple[int, ...]:
    """The weekdays the time step adds to: the one chosen, or Monday to Friday."""
    return WORKDAYS if data["slot_day"] == MON_FRI else (int(data["slot_day"]),)


def _slot_weekday(ctx: Context, data: dict[str, Any]) -> dict[str, object]:
    if data["slot_day"] == MON_FRI:
        return {"weekday": _workdays_label(ctx)}
    return {"weekday": labels.weekday(ctx, data["slot_day"])}


def _time_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    ranges = [Option([start, end], ctx._(MSG_RANGE, start=labels.clock(ctx, start), end=labels.clock(ctx, end)),
                     translate=False) for start, end in TIME_RANGES]
    chosen = _chosen_days(data)
    # Another weekday's times, copied: every day that has some (for Monday to Friday, one of them too).
    sources = sorted({s.weekday for s in _slots(data)} - (set(chosen) if len(chosen) == 1 else set()))
    same = [Option({SAME_AS: day}, ctx._(MSG_SAME_AS, weekday=labels.weekday(ctx, day)), translate=False)
            for day in sources]
    return [ranges, *rows(same, 2), [Option(BACK, MSG_BACK)]]


def _parse_time_range(ctx: Context, text: str, data: dict[str, Any]) -> list[int]:
    try:
        start, end = parse_time_range(text, ctx.i18n.locale)
    except ParseError as problem:
        if problem.reason == "range":
            raise Invalid("\n".join([ctx._("The end of the time must be after its start."),
                                     ctx._(MSG_EXAMPLE_RANGE)])) from None
        raise Invalid("\n".join([ctx._("I could not read this time."), ctx._(MSG_EXAMPLE_RANGE)])) from None
    return [start, end]


async def _time_answer(ctx: Context, value: Any, data: dict[str, Any]) -> Step | None:
    if value == BACK:
        return SLOTS
    if isinstance(value, dict):  # "Same as …": that day's times
        times = [(s.start_minute, s.end_minute) for s in _slots(data) if s.weekday == value[SAME_AS]]
    else:
        times = [tuple(value)]
    slot_list = data.get("slot_list", [])
    for day in _chosen_days(data):
        for start, end in times:
            slot_list = _add_slot(slot_list, day, start, end)
    data["slot_list"] = slot_list
    return SLOTS


def _remove_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    return [*([Option(s.as_list(), labels.slot(ctx, s), translate=False)] for s in _slots(data)),
            [Option(BACK, MSG_BACK)]]


async def _remove_answer(ctx: Context, value: Any, data: dict[str, Any]) -> Step | None:
    if value != BACK:
        data["slot_list"] = [s for s in data.get("slot_list", []) if list(s) != list(value)]
    return SLOTS


# -- weekly maximum, gender ---------------------------------------------------------------------
def _weekly_max_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    return [[Option(n, ctx.i18n.number(n), translate=False) for n in WEEKLY_MAX]]


def _gender_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    return [[Option(code, msgid)] for code, msgid in labels.GENDERS.items()]


# -- summary, change, discard -------------------------------------------------------------------
CONFIRM, CHANGE = "confirm", "change"


def _state_lines(ctx: Context, state: str, paused_from: date | None, paused_until: date | None) -> list[str]:
    """A guide's approval state and, if they are or will be paused, since and until when."""
    lines = [ctx._("State: %(state)s", state=ctx._(labels.GUIDE_STATES[state]))]
    if paused_from is not None and (paused_until is None or paused_until >= _today(ctx)):
        if paused_until is None:
            lines.append(ctx._("Paused from %(start)s until you send %(command)s.",
                               start=ctx.i18n.date(paused_from), command=ctx.cmd("resume")))
        else:
            lines.append(ctx._("Paused from %(start)s to %(end)s.", start=ctx.i18n.date(paused_from),
                               end=ctx.i18n.date(paused_until)))
    return lines


def _guide_state_lines(ctx: Context, guide: Guide) -> list[str]:
    return _state_lines(ctx, guide.state, guide.paused_from, guide.paused_until)


def _profile_prompt(ctx: Context, data: dict[str, Any]) -> str:
    """What a registered guide sees first: their profile as saved, and the question to change it."""
    state, paused_from, paused_until = data["_guide"]
    lines = _state_lines(ctx, state, paused_from and date.fromisoformat(paused_from),
                         paused_until and date.fromisoformat(paused_until))
    return "\n".join([ctx._("You are registered as a guide."), *lines, "",
                      labels.profile(ctx, _profile(ctx, data)), "", ctx._("Do you want to change something?")])


def _profile_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    return [[Option(CHANGE, N_("Change something"))], [Option(KEEP, N_("Leave it as it is"))]]


async def _profile_answer(ctx: Context, value: Any, data: dict[str, Any]) -> Step | _End:
    if value == KEEP:
        data[OUTCOME] = KEEP
        return END
    return CHANGE_STEP


def _summary_prompt(ctx: Context, data: dict[str, Any]) -> str:
    return "\n".join([ctx._("Please check your details:"), "", labels.profile(ctx, _profile(ctx, data))])


def _summary_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    return [[Option(CONFIRM, N_("Confirm"))], [Option(CHANGE, N_("Change something"))],
            [Option(DISCARD, N_("Discard"))]]


async def _summary_answer(ctx: Context, value: Any, data: dict[str, Any]) -> Step | _End:
    if value == CHANGE:
        return CHANGE_STEP
    data[OUTCOME] = SAVE if value == CONFIRM else DISCARD
    return END


def _change_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    fields = ((BEST_LANGUAGE, N_("Languages")), (DISTRICTS, N_("Districts")), (TOPICS, N_("Topics")),
              (SLOTS, N_("Weekly availability")), (WEEKLY_MAX_STEP, N_("Appointments per week")),
              (GENDER, N_("Gender")))
    return [*([Option(step.name, msgid)] for step, msgid in fields), [Option(BACK, MSG_BACK)]]


async def _change_answer(ctx: Context, value: Any, data: dict[str, Any]) -> Step:
    if value == BACK:
        return SUMMARY
    return DialogEngine.jump(data, REGISTRATION.own(value), SUMMARY)


async def _registration_finished(ctx: Context, data: dict[str, Any]) -> None:
    outcome = data.get(OUTCOME)
    existing = await ctx.store.guides.get(ctx.person.id)
    if outcome == KEEP:
        ctx.reply(ctx._("Nothing was changed."))
        return
    if outcome != SAVE:
        ctx.reply(ctx._("Nothing was changed.") if existing else ctx._("Your registration was discarded. "
                                                                      "Nothing was saved."))
        return
    new = await ctx.store.guides.save_profile(ctx.person.id, _profile(ctx, data), utcnow())
    await ctx.store.people.set_role(ctx.person.id, GUIDE)
    ctx.use_role(GUIDE)
    if not new:
        guide = await ctx.store.guides.get(ctx.person.id)
        assert guide is not None
        ctx.reply("\n".join([ctx._("Your profile was saved."), *_guide_state_lines(ctx, guide)]))
        return
    await announce_registration(ctx, ctx.person)
    lines = [ctx._("Thank you for registering as a guide!"), ctx._("What happens next:"),
             ctx._("A coordinator checks your registration.")]
    needed = [ctx._(REQUIREMENTS[v]) for v in REQUIREMENTS if v in ctx.settings.guides.require]
    if needed:
        lines.append(ctx._("Before Lotse offers you requests, you need:"))
        lines.extend(needed)
    lines.append(ctx._("When a coordinator has approved you, you will get a message here."))
    lines.append(ctx._("Until then you can change your details with %(command)s.", command=ctx.cmd("guide")))
    ctx.reply("\n".join(lines))


BEST_LANGUAGE, LANGUAGES = spoken.steps(
    N_("Which language do you speak best?"),
    N_("Which other languages do you speak well enough to help? Choose all that apply, then press Done."))
DISTRICTS = Step("districts", N_("In which districts can you accompany people? Choose all that apply, then press "
                                 "Done."),
                 options=_districts_options, multi=True, min_choices=1, on_answer=_districts_answer)
TOPICS = Step("topics", N_("Which kinds of appointments are you comfortable with? Choose all that apply, then press "
                           "Done."), options=_topics_options, multi=True, min_choices=1)
WEEKLY_MAX_STEP = Step("weekly_max", N_("How many appointments a week can you take on at most?"),
                       options=_weekly_max_options)
# The slot editor (registration and `availability`); in the registration, Done goes on to the step after SLOTS.
SLOTS = Step("slots", _slots_prompt, options=_slots_options, on_answer=_slots_answer)
SLOT_DAY = Step("slot_day", N_("On which day of the week?"), options=_day_options, on_answer=_day_answer)
SLOT_TIME = Step("slot_time", (N_("%(weekday)s: from when until when are you available?"),
                               N_("Choose below or type a time range, for example 9-13 or 9:00-12:30.")),
                 values=_slot_weekday, options=_time_options, parse=_parse_time_range, on_answer=_time_answer)
SLOT_REMOVE = Step("slot_remove", N_("Which time do you want to remove?"), options=_remove_options,
                   on_answer=_remove_answer)
GENDER = Step("gender", (N_("What is your gender? This is optional."),
                         N_("Lotse uses it only when a newcomer asks for a guide of a particular gender.")),
              options=_gender_options)
SUMMARY = Step("summary", _summary_prompt, options=_summary_options, on_answer=_summary_answer)
CHANGE_STEP = Step("change", N_("What do you want to change?"), options=_change_options, on_answer=_change_answer)
PROFILE = Step("profile", _profile_prompt, options=_profile_options, on_answer=_profile_answer)

SLOT_EDITOR = (SLOTS, SLOT_DAY, SLOT_TIME, SLOT_REMOVE)

REGISTRATION = Dialog(GUIDE, (
    BEST_LANGUAGE, LANGUAGES, DISTRICTS, TOPICS, SLOTS, WEEKLY_MAX_STEP, GENDER, SUMMARY,  # in this order
    CHANGE_STEP, PROFILE, SLOT_DAY, SLOT_TIME, SLOT_REMOVE,                 # reached by their answers only
), on_finish=_registration_finished, authority=guide_profile)


# -- availability -------------------------------------------------------------------------------
async def _availability_saved(ctx: Context, data: dict[str, Any]) -> None:
    slots = _slots(data)
    await ctx.store.guides.set_slots(ctx.person.id, slots)
    ctx.reply("\n".join([ctx._("Your weekly availability was saved:"), labels.slots(ctx, slots)]))


AVAILABILITY = Dialog("availability", SLOT_EDITOR,
                      on_finish=_availability_saved, authority=guide_edit)


# -- pause --------------------------------------------------------------------------------------
OPEN, PERIOD, TODAY = "open", "period", "today"
CANCEL = "cancel"
BOOKED = "_booked"        # data key: the appointments in the pause, [{"assignment": id, "text": what/when/where}]
DECISIONS = "_decisions"  # data key: KEEP or CANCEL for each of BOOKED answered so far, in its order


def _pause_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    return [[Option(OPEN, N_("Until I resume"))], [Option(PERIOD, N_("For a period"))]]


async def _pause_answer(ctx: Context, value: Any, data: dict[str, Any]) -> Step | _End:
    if value != OPEN:
        return PAUSE_FROM
    data["pause_from"] = _today(ctx).isoformat()
    return await _ask_about_booked(ctx, data)


def _date_example(ctx: Context) -> str:
    return ctx.i18n.date(_today(ctx), "short")


def _example(ctx: Context, data: dict[str, Any]) -> dict[str, object]:
    return {"example": _date_example(ctx)}


def _from_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    return [[Option(TODAY, N_("Today"))]]


def _read_date(ctx: Context, text: str, reference: date) -> date:
    try:
        return parse_date(text, ctx.i18n.locale, reference)
    except ParseError as problem:
        if problem.reason == "no_such_date":
            raise Invalid(ctx._("There is no such date. Please type it like %(example)s.",
                                example=_date_example(ctx))) from None
        raise Invalid(ctx._("I could not read this date. Please type it like %(example)s.",
                            example=_date_example(ctx))) from None


def _parse_from(ctx: Context, text: str, data: dict[str, Any]) -> str:
    today = _today(ctx)
    day = _read_date(ctx, text, today)
    if day < today:
        raise Invalid(ctx._("This date is in the past. Please type today's date or a later one."))
    return day.isoformat()


async def _from_answer(ctx: Context, value: Any, data: dict[str, Any]) -> Step | None:
    if value == TODAY:
        data["pause_from"] = _today(ctx).isoformat()
    return None


def _parse_until(ctx: Context, text: str, data: dict[str, Any]) -> str:
    start = date.fromisoformat(data["pause_from"])
    day = _read_date(ctx, text, start)  # "6.1." after a start on 20.12. is the January after it
    if day < start:
        raise Invalid(ctx._("The pause cannot end before it starts (%(start)s). Please type a later date.",
                            start=ctx.i18n.date(start)))
    return day.isoformat()


async def _until_answer(ctx: Context, value: Any, data: dict[str, Any]) -> Step | _End:
    return await _ask_about_booked(ctx, data)


def _pause_range(data: dict[str, Any]) -> tuple[date, date | None]:
    """The pause's first and last day (local dates; no last day: until the guide resumes)."""
    until = data.get("pause_until") if data.get("pause") != OPEN else None
    return date.fromisoformat(data["pause_from"]), until and date.fromisoformat(until)


async def _ask_about_booked(ctx: Context, data: dict[str, Any]) -> Step | _End:
    """The appointments the guide is booked for in the pause (starting on its first day or later and,
    for a period, on its last day or earlier, in local time): one question each, keep or cancel;
    none: the pause is saved at once."""
    start, until = _pause_range(data)
    booked = []
    for item in await ctx.store.bookings.upcoming_of_guide(ctx.person.id, utcnow()):
        day = ctx.i18n.local(item.starts_at).date()
        request = await ctx.store.requests.get(item.request_id)
        if request is None or day < start or (until is not None and day > until):
            continue
        booked.append({"assignment": item.id, "text": what_when_where(ctx.i18n, request)})
    data[BOOKED], data[DECISIONS] = booked, []
    return PAUSE_BOOKED if booked else END


def _booked_prompt(ctx: Context, data: dict[str, Any]) -> str:
    booked, at = data[BOOKED], len(data[DECISIONS])
    return "\n".join([ctx._("You are booked for this appointment during your pause (%(number)s of %(total)s):",
                             number=ctx.i18n.number(at + 1), total=ctx.i18n.number(len(booked))),
                      booked[at]["text"], "",
                      ctx._("Do you keep it, or cancel it? If you cancel it, the newcomer is told and Lotse looks "
                            "for another guide.")])


def _booked_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    return [[Option(KEEP, N_("Keep it"))], [Option(CANCEL, N_("Cancel it"))]]


async def _booked_answer(ctx: Context, value: Any, data: dict[str, Any]) -> Step | _End:
    data[DECISIONS] = [*data[DECISIONS], value]
    return PAUSE_BOOKED if len(data[DECISIONS]) < len(data[BOOKED]) else END


async def _paused(ctx: Context, data: dict[str, Any]) -> None:
    start, until = _pause_range(data)
    await ctx.store.guides.pause(ctx.person.id, start, until)
    if until is None:
        lines = [ctx._("You are paused from %(start)s until you send %(command)s. Lotse offers you no requests "
                       "until then.", start=ctx.i18n.date(start), command=ctx.cmd("resume"))]
    else:
        lines = [ctx._("You are paused from %(start)s to %(end)s. Lotse offers you no requests on these days; "
                       "afterwards you get offers again automatically.",
                       start=ctx.i18n.date(start), end=ctx.i18n.date(until))]
    decided = list(zip(data.get(BOOKED, []), data.get(DECISIONS, [])))
    cancelled = [item["assignment"] for item, decision in decided if decision == CANCEL]
    kept = len(decided) - len(cancelled)
    if kept:
        lines.append(ctx.ngettext("You keep %(count)s appointment in this time.",
                                  "You keep %(count)s appointments in this time.", kept))
    if cancelled:
        lines.append(ctx.ngettext("You cancelled %(count)s appointment; the newcomer is told and Lotse looks for "
                                  "another guide.",
                                  "You cancelled %(count)s appointments; the newcomers are told and Lotse looks "
                                  "for other guides.", len(cancelled)))
    ctx.reply("\n".join(lines))
    if cancelled:
        person, dispatch = ctx.person, ctx.services.dispatch

        async def cancel() -> None:  # the same way as a cancellation from `appointments`
            for assignment_id in cancelled:
                await dispatch.guide_cancelled(person, assignment_id)

        ctx.later(cancel)


# One step, asked once for each appointment booked in the pause (its answers collect in DECISIONS).
PAUSE_BOOKED = Step("pause_booked", _booked_prompt, options=_booked_options, on_answer=_booked_answer)
PAUSE_FROM = Step("pause_from", N_("From which day on? Choose Today or type a date like %(example)s."),
                  values=_example, options=_from_options, parse=_parse_from, on_answer=_from_answer)
PAUSE = Dialog("pause", (
    Step("pause", (N_("While you pause, Lotse offers you no requests."), N_("How long do you want to pause?")),
         options=_pause_options, on_answer=_pause_answer),
    PAUSE_FROM,
    Step("pause_until", N_("Until which day (inclusive)? Please type a date like %(example)s."), values=_example,
         parse=_parse_until, on_answer=_until_answer),
    PAUSE_BOOKED,                                                    # reached by the answers before it only
), on_finish=_paused, authority=guide_edit)


# -- commands -----------------------------------------------------------------------------------
async def _registered(ctx: Context) -> Guide | None:
    """The person's guide profile, or None after telling them how to register."""
    guide = await ctx.store.guides.get(ctx.person.id)
    if guide is None:
        ctx.reply(ctx._(MSG_NOT_A_GUIDE, command=ctx.cmd("guide")))
    return guide


async def guide(ctx: Context) -> None:
    existing = await ctx.store.guides.get(ctx.person.id)
    if existing is None:
        ctx.reply(ctx._("Thank you for volunteering! A few questions about you follow; you can change every "
                        "answer before you confirm."))
        await ctx.services.dialogs.start(ctx, REGISTRATION)
        return
    paused = [d.isoformat() if d else None for d in (existing.paused_from, existing.paused_until)]
    data = {**_data_of(existing.profile), "_guide": [existing.state, *paused]}
    await ctx.services.dialogs.start(ctx, REGISTRATION, data, at=PROFILE)


async def availability(ctx: Context) -> None:
    existing = await _registered(ctx)
    if existing is None:
        return
    data = {"slot_list": [s.as_list() for s in existing.profile.slots], SLOTS_ONLY: True}
    await ctx.services.dialogs.start(ctx, AVAILABILITY, data)


async def pause(ctx: Context) -> None:
    existing = await _registered(ctx)
    if existing is None:
        return
    await ctx.services.dialogs.start(ctx, PAUSE)


async def resume(ctx: Context) -> None:
    existing = await _registered(ctx)
    if existing is None:
        return
    if await ctx.store.guides.resume(ctx.person.id):
        ctx.reply(ctx._("Welcome back! Your pause has ended and Lotse offers you requests again."))
        guide_id, dispatch = ctx.person.id, ctx.services.dispatch

        async def offer_waiting() -> None:  # after the commit: matching must see the pause ended
            await dispatch.guide_returned(guide_id)

        ctx.later(offer_waiting)
    else:
        ctx.reply(ctx._("You are not paused, so there is nothing to resume."))


def register(router: Router) -> None:
    for dialog in (REGISTRATION, AVAILABILITY, PAUSE):
        router.dialogs.register(dialog)
    router.command("guide", guide)
    router.command("availability", availability)
    router.command("pause", pause)
    router.command("resume", resume)
