"""Newcomers: `request` (the request dialog), `myrequests`, `cancel`.

request: topic → date (buttons for the next days, or typed "3.12.") → time (a few buttons, or
typed "9:30") → duration → district → place (optional) → languages spoken (multiple choice, the
UI language preselected) → preferred gender of the guide (optional) → note (optional, limited)
→ summary: confirm / change something / discard.  Wrong input re-asks only that step.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from bot.core.context import Context
from bot.core.authority import coordinator
from bot.core.dialog import END, NO, RETURN, YES, Dialog, DialogEngine, Invalid, Option, Step, rows
from bot.core.i18n import N_
from bot.core.router import Router
from bot.core import text as free_text
from bot.core.text import fold
from bot.core.when import ParseError, parse_date, parse_duration, parse_time
from bot.clock import utcnow
from bot.store.requests import NewRequest, Request
from bot.vocabulary import NEWCOMER
from handlers import labels, referral, spoken

MAX_TIME_BUTTONS = 6  # typed "8" … "17" must read as times, not as button numbers
PLACE_MAX = 200
SKIP = N_("Skip")


# -- time rules -------------------------------------------------------------------------------
def _today(ctx: Context) -> date:
    return ctx.i18n.local(utcnow()).date()


def _starts_at(ctx: Context, day: date, minutes: int) -> datetime:
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=ctx.i18n.zone)


def _earliest(ctx: Context) -> datetime:
    return utcnow() + ctx.settings.requests.min_lead_time


def _times(ctx: Context, day: date) -> list[int]:
    """Start times (minutes) offered as buttons on `day`: whole hours in service hours, not too soon."""
    start, end = ctx.settings.requests.hours
    hours = [m for m in range(start + (-start % 60), end - 59, 60) if _starts_at(ctx, day, m) >= _earliest(ctx)]
    if len(hours) > MAX_TIME_BUTTONS:
        step = (len(hours) - 1) / (MAX_TIME_BUTTONS - 1)
        hours = [hours[round(i * step)] for i in range(MAX_TIME_BUTTONS)]
    return hours


def _bookable(ctx: Context, day: date) -> bool:
    rules = ctx.settings.requests
    return day.weekday() in rules.weekdays and _starts_at(ctx, day, rules.hours[1] - 30) >= _earliest(ctx)


def _too_soon(ctx: Context) -> str:
    return ctx._("This is too soon: a guide needs at least %(time)s notice. For an emergency call 112.",
                 time=labels.minutes_label(ctx, ctx.settings.requests.min_lead_time))


# -- steps --------------------------------------------------------------------------------------
def _topic_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    return [[Option(code, labels.TOPICS[code])] for code in ctx.settings.requests.topics]


def _date_example(ctx: Context, data: dict[str, Any]) -> dict[str, object]:
    return {"example": ctx.i18n.date(_today(ctx) + timedelta(days=7), "short")}


def _date_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    days: list[date] = []
    day = _today(ctx)
    while len(days) < ctx.settings.requests.date_buttons and day <= _today(ctx) + timedelta(days=31):
        if _bookable(ctx, day):
            days.append(day)
        day += timedelta(days=1)
    options = [Option(d.isoformat(), labels.day(ctx, d), translate=False) for d in days]
    return rows(options, 2)


def _parse_date(ctx: Context, text: str, data: dict[str, Any]) -> str:
    today, rules = _today(ctx), ctx.settings.requests
    try:
        day = parse_date(text, ctx.i18n.locale, today)
    except ParseError:
        raise Invalid(ctx._("I could not read this date. Please type it like %(example)s.",
                            example=ctx.i18n.date(today + timedelta(days=7), "short"))) from None
    if day < today:
        raise Invalid(ctx._("This date is in the past. Please choose a day from today on."))
    if day > today + rules.max_lead_time:
        raise Invalid(ctx.ngettext("Lotse can arrange appointments up to %(count)s day ahead.",
                                   "Lotse can arrange appointments up to %(count)s days ahead.",
                                   rules.max_lead_time.days))
    if day.weekday() not in rules.weekdays:
        raise Invalid(ctx._("There is no service on %(weekday)s. Service days are: %(days)s.",
                            weekday=labels.weekday(ctx, day.weekday()),
                            days=ctx.i18n.join([labels.weekday(ctx, d) for d in sorted(rules.weekdays)])))
    if not _bookable(ctx, day):
        raise Invalid(_too_soon(ctx))
    return day.isoformat()


def _time_example(ctx: Context, data: dict[str, Any]) -> dict[str, object]:
    return {"example": labels.clock(ctx, 9 * 60 + 30)}


def _time_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    options = [Option(m, labels.clock(ctx, m), translate=False) for m in _times(ctx, date.fromisoformat(data["date"]))]
    return rows(options, 3)


def _parse_time(ctx: Context, text: str, data: dict[str, Any]) -> int:
    start, end = ctx.settings.requests.hours
    try:
        minutes = parse_time(text, ctx.i18n.locale)
    except ParseError:
        raise Invalid(ctx._("I could not read this time. Please type it like %(example)s.",
                            example=labels.clock(ctx, 9 * 60 + 30))) from None
    if not start <= minutes < end:
        raise Invalid(ctx._("Appointments can start between %(start)s and %(end)s.",
                            start=labels.clock(ctx, start), end=labels.clock(ctx, end)))
    if _starts_at(ctx, date.fromisoformat(data["date"]), minutes) < _earliest(ctx):
        raise Invalid(_too_soon(ctx))
    return minutes


def _duration_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    minutes = [int(d.total_seconds() // 60) for d in ctx.settings.requests.durations]
    options = [Option(m, labels.duration(ctx, m), translate=False) for m in minutes]
    return rows(options, 3)


def _district_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    return rows([Option(name, name, translate=False) for name in ctx.settings.area.districts], 2)


def _skip_option(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    return [[Option(None, SKIP)]]


def limited(limit: int, lines: bool = True):  # noqa: ANN202
    """Free text (control characters and bidi overrides removed, see bot/core/text.py) of at most
    `limit` characters; on one line unless `lines`."""
    def parse(ctx: Context, text: str, data: dict[str, Any]) -> str:
        text = free_text.multiline(text) if lines else free_text.line(text)
        if len(text) > limit:
            raise Invalid(ctx.ngettext("Please write at most %(count)s character.",
                                       "Please write at most %(count)s characters.", limit))
        return text
    return parse


def _gender_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    return [[Option(code, label)] for code, label in labels.PREFERRED_GENDERS.items()]


def _note_prompt(ctx: Context, data: dict[str, Any]) -> str:
    return ctx.ngettext(
        "Anything the guide should know? Please write no health details. At most %(count)s character – or skip this.",
        "Anything the guide should know? Please write no health details. At most %(count)s characters – or skip this.",
        ctx.settings.requests.note_max_length)


def _note_parse(ctx: Context, text: str, data: dict[str, Any]) -> str:
    return limited(ctx.settings.requests.note_max_length)(ctx, text, data)


def summary_lines(ctx: Context, data: dict[str, Any]) -> list[str]:
    nothing = ctx._(labels.NOTHING)
    day = date.fromisoformat(data["date"])
    behalf = [ctx._("For: %(value)s", value=data[BEHALF_NAME.name]),
              ctx._("Contact: %(value)s", value=data.get(BEHALF_CONTACT.name) or ctx._(THROUGH_ME))
              ] if BEHALF_NAME.name in data else []
    interpreter = [ctx._("Professional interpreter: %(value)s",
                         value=ctx._(NEEDED if data[INTERPRETER.name] else NOT_NEEDED))
                   ] if INTERPRETER.name in data else []
    return [
        *behalf,
        ctx._("Topic: %(value)s", value=labels.topic(ctx, data["topic"])),
        ctx._("Date: %(value)s", value=ctx.i18n.date(day, "full")),
        ctx._("Time: %(value)s", value=labels.clock(ctx, data["time"])),
        ctx._("Duration: %(value)s", value=labels.duration(ctx, data["duration"])),
        ctx._("Town: %(value)s", value=data["district"]),
        ctx._("Place: %(value)s", value=data.get("place") or nothing),
        ctx._("Languages: %(value)s", value=labels.languages(ctx, data["languages"])),
        ctx._("Guide: %(value)s", value=ctx._(labels.PREFERRED_GENDERS[data.get("gender")])),
        ctx._("Note: %(value)s", value=data.get("note") or nothing),
        *interpreter,
    ]


def _summary_prompt(ctx: Context, data: dict[str, Any]) -> str:
    return "\n".join([ctx._("Please check your request:"), *summary_lines(ctx, data)])


CONFIRM, CHANGE, DISCARD = "confirm", "change", "discard"


def _summary_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    return [[Option(CONFIRM, N_("Send request"))], [Option(CHANGE, N_("Change something"))],
            [Option(DISCARD, N_("Discard"))]]


async def _summary_answer(ctx: Context, value: Any, data: dict[str, Any]) -> Step | None:
    if value == CHANGE:
        return CHANGE_STEP
    if value == DISCARD:
        ctx.reply(ctx._("Your request was discarded. Send %(command)s to start again.", command=ctx.cmd("request")))
        return END
    starts_at = _starts_at(ctx, date.fromisoformat(data["date"]), data["time"])
    if starts_at < _earliest(ctx):  # time passed while the person was filling in the form
        ctx.reply(_too_soon(ctx))
        return DialogEngine.jump(data, DATE, SUMMARY)
    behalf = data.get(BEHALF_NAME.name)
    if behalf is None and await _over_cap(ctx):  # a coordinator files for many people
        return END
    request = NewRequest(
        topic=data["topic"], starts_at=starts_at, duration_minutes=data["duration"], district=data["district"],
        place=data.get("place"), preferred_gender=data.get("gender"), note=data.get("note"),
        languages=tuple(data["languages"]), behalf_name=behalf, behalf_phone=data.get(BEHALF_CONTACT.name),
        interpreter=bool(data.get(INTERPRETER.name)),
    )
    request_id = await ctx.store.requests.create(ctx.person.id, request, utcnow())
    if behalf is not None:
        ctx.reply(ctx._("Thank you! The request for %(name)s was received. Lotse is now looking for a guide and "
                        "writes to you here whatever it would write to them.", name=behalf))
    else:
        if ctx.person.role is None:
            await ctx.store.people.set_role(ctx.person.id, NEWCOMER)
        ctx.reply(ctx._("Thank you! Your request was received. Lotse is now looking for a guide and will write to "
                        "you here. Send %(command)s to see your requests.", command=ctx.cmd("myrequests")))
    if request.interpreter and await ctx.store.requests.mark_referred(request_id, utcnow()):
        ctx.reply(referral.interpreter_text(ctx.i18n, ctx.settings.referral))
    for listener in ctx.services.request_listeners:
        await listener(ctx, request_id)
    return END


def _change_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    return rows([Option(step.name, label) for step, label in _fields(data)], 3)


async def _change_answer(ctx: Context, value: Any, data: dict[str, Any]) -> Step | None:
    if value == DATE.name:  # a new date may make the time impossible: ask both again
        data["_then"] = TIME.name
    step = next(step for step, _ in _fields(data) if step.name == value)
    return DialogEngine.jump(data, step, SUMMARY)  # the running dialog's step of that name follows


def _asks_interpreter(ctx: Context, topic: str) -> bool:
    return topic in ctx.settings.referral.ask_topics


async def _topic_answer(ctx: Context, value: Any, data: dict[str, Any]) -> Step | None:
    if _asks_interpreter(ctx, value):
        return INTERPRETER  # the step after it: the date (or back to the summary after a change)
    data.pop(INTERPRETER.name, None)
    return None if RETURN in data else DATE


async def _date_answer(ctx: Context, value: Any, data: dict[str, Any]) -> Step | None:
    if data.pop("_then", None) == TIME.name:
        return TIME  # the jump back to the summary happens after the time
    return None


def _interpreter_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    return [[Option(True, N_("Yes, an interpreter is needed"), typed=YES)],
            [Option(False, N_("No, a guide is enough"), typed=NO)]]


NEEDED, NOT_NEEDED = N_("needed"), N_("not needed")
TOPIC = Step("topic", N_("What is the appointment for?"), options=_topic_options, on_answer=_topic_answer)
INTERPRETER = Step("interpreter", N_("Guides come along but do not interpret. Is a professional interpreter needed, "
                                     "for example for a diagnosis?"),
                   options=_interpreter_options)  # then the date, or back to the summary
DATE = Step("date", N_("On which day is the appointment? Choose a day or type the date, for example %(example)s."),
            values=_date_example, options=_date_options, parse=_parse_date, on_answer=_date_answer)
TIME = Step("time", N_("At what time does it start? Choose or type the time, for example %(example)s."),
            values=_time_example, options=_time_options, parse=_parse_time)
def _parse_duration(ctx: Context, text: str, data: dict[str, Any]) -> int:
    """A typed duration ("2" is two hours, "90 min", "1,5"): a quarter of an hour to eight hours."""
    try:
        minutes = parse_duration(text)
    except ParseError:
        raise Invalid(ctx._("I could not read this duration. Please type it like %(example)s.",
                            example=ctx.i18n.number(1.5))) from None
    if not 15 <= minutes <= 8 * 60 or minutes % 15:
        raise Invalid(ctx._("An appointment can take from %(shortest)s to %(longest)s, in quarter hours.",
                            shortest=labels.duration(ctx, 15), longest=labels.duration(ctx, 8 * 60)))
    return minutes


DURATION = Step("duration", N_("About how long will it take?"), options=_duration_options, parse=_parse_duration)
DISTRICT = Step("district", N_("In which town is the appointment?"), options=_district_options)
PLACE = Step("place", N_("Where exactly? Type the address or the name of the practice or office – or skip this."),
             options=_skip_option, parse=limited(PLACE_MAX, lines=False))
BEST_LANGUAGE, LANGUAGES = spoken.steps(N_("Which language do you speak best?"),
                                        N_("Do you speak any other languages? Choose all that fit, then tap Done."))
GENDER = Step("gender", N_("Would you prefer a guide who is a woman or a man? Lotse will try, but it may take "
                           "longer."), options=_gender_options)
NOTE = Step("note", _note_prompt, options=_skip_option, parse=_note_parse)
SUMMARY = Step("summary", _summary_prompt, options=_summary_options, on_answer=_summary_answer)
CHANGE_STEP = Step("change", N_("What do you want to change?"), options=_change_options, on_answer=_change_answer)
REQUEST = Dialog("request", (TOPIC, INTERPRETER, DATE, TIME, DURATION, DISTRICT, PLACE, BEST_LANGUAGE, LANGUAGES,
                             GENDER, NOTE, SUMMARY, CHANGE_STEP))


# -- a request a coordinator files on someone's behalf (`requestfor`) -----------------------------
# The same form, with the person's name and how the guide reaches them first, and the questions
# about them asked in the third person.  The request is the coordinator's (requests.person_id):
# whatever Lotse would write to the newcomer reaches the coordinator, headed with the name.
THROUGH_ME = N_("Through me")
PHONE_EXAMPLE = "0151 23456789"


def _named(ctx: Context, data: dict[str, Any]) -> dict[str, object]:
    return {"name": data.get(BEHALF_NAME.name, "?")}


def _contact_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    return [[Option(None, THROUGH_ME)]]


def _parse_phone(ctx: Context, text: str, data: dict[str, Any]) -> str:
    phone = free_text.line(text)
    if sum(c.isdigit() for c in phone) < 5 or len(phone) > 30 or any(not (c.isdigit() or c in "+-/() ") for c in phone):
        raise Invalid(ctx._("Please type a phone number like %(example)s – or choose “%(button)s”.",
                            example=PHONE_EXAMPLE, button=ctx._(THROUGH_ME)))
    return phone


BEHALF_NAME = Step("behalf_name", N_("For whom is the request? Please type their name."),
                   parse=limited(80, lines=False))
BEHALF_CONTACT = Step("behalf_contact", N_("How can the guide reach %(name)s? Type a phone number – or choose "
                                           "“Through me” if the guide should reach them through you."),
                      values=_named, options=_contact_options, parse=_parse_phone)
BEHALF_BEST, BEHALF_LANGUAGES = spoken.steps(
    N_("Which language does %(name)s speak best?"),
    N_("Does %(name)s speak any other languages? Choose all that fit, then tap Done."), values=_named)
BEHALF_GENDER = Step("gender", N_("Would %(name)s prefer a guide who is a woman or a man? Lotse will try, but it may "
                                  "take longer."), values=_named, options=_gender_options)
BEHALF = Dialog("requestfor", (BEHALF_NAME, BEHALF_CONTACT, TOPIC, INTERPRETER, DATE, TIME, DURATION, DISTRICT, PLACE,
                               BEHALF_BEST, BEHALF_LANGUAGES, BEHALF_GENDER, NOTE, SUMMARY, CHANGE_STEP),
                authority=coordinator)


def _fields(data: dict[str, Any]) -> tuple[tuple[Step, str], ...]:
    """The answers one can change from the summary, with their labels."""
    behalf = ((BEHALF_NAME, N_("Name")), (BEHALF_CONTACT, N_("Contact"))) if BEHALF_NAME.name in data else ()
    return (*behalf, (TOPIC, N_("Topic")), (DATE, N_("Date")), (TIME, N_("Time")), (DURATION, N_("Duration")),
            (DISTRICT, N_("Town")), (PLACE, N_("Place")), (BEST_LANGUAGE, N_("Languages")), (GENDER, N_("Guide")),
            (NOTE, N_("Note")))


ARTICLES = ("بال", "وال", "لل", "ال")
GENERAL_TOPIC = "authority"  # the catch-all: another topic found as well wins  # Arabic article prefixes: "الطبيب" is "طبيب"


def topic_in(ctx: Context, text: str) -> str | None:
    """The topic a free text speaks of, by the words of the person's language and English: the one
    with the most words found, None if none or a tie."""
    spaced = fold(text)
    for mark in ",.'’!?;:":  # "l'hôpital" is "hôpital"
        spaced = spaced.replace(mark, " ")
    words = [w for w in spaced.split() if len(w) >= 3]
    words += [w[len(p):] for w in words for p in ARTICLES if w.startswith(p) and len(w) - len(p) >= 3]
    found: dict[str, int] = {}
    for code, msgid in labels.TOPIC_WORDS.items():
        if code not in ctx.settings.requests.topics:
            continue
        keys = {fold(k) for k in (ctx._(msgid).split() + msgid.split()) if len(k) >= 3}
        hits = sum(1 for w in words if any(w.startswith(k) for k in keys))
        if hits:
            found[code] = hits
    if len(found) > 1:
        found.pop(GENERAL_TOPIC, None)  # "immigration office" is the immigration office, not "another authority"
    best = sorted(found.items(), key=lambda item: -item[1])
    return best[0][0] if best and (len(best) == 1 or best[0][1] > best[1][1]) else None


async def request_from_text(ctx: Context, text: str) -> bool:
    """Free text that names a topic starts the request with that topic chosen; False if none."""
    topic = topic_in(ctx, text)
    if topic is None or await _over_cap(ctx):
        return topic is not None
    ctx.reply(ctx._("You need someone to come with you: %(topic)s. Let us arrange it.",
                    topic=labels.topic(ctx, topic)))
    await ctx.services.dialogs.start(ctx, REQUEST, {TOPIC.name: topic},
                                     at=INTERPRETER if _asks_interpreter(ctx, topic) else DATE)
    return True


async def _over_cap(ctx: Context) -> bool:
    limit = ctx.settings.requests.max_open_per_person
    if await ctx.store.requests.count_open(ctx.person.id, utcnow()) < limit:
        return False
    ctx.reply(ctx.ngettext(
        "You already have %(count)s open request, the most one person can have. Send %(command)s to cancel one.",
        "You already have %(count)s open requests, the most one person can have. Send %(command)s to cancel one.",
        limit, command=ctx.cmd("cancel")))
    return True


async def request(ctx: Context) -> None:
    if await _over_cap(ctx):
        return
    await ctx.services.dialogs.start(ctx, REQUEST)


async def requestfor(ctx: Context) -> None:
    await ctx.services.dialogs.start(ctx, BEHALF)


# -- myrequests and cancel ----------------------------------------------------------------------
def describe(ctx: Context, item: Request) -> str:
    local = ctx.i18n.local(item.starts_at)
    text = ctx._("%(topic)s – %(day)s, %(time)s, %(town)s", topic=labels.topic(ctx, item.topic),
                 day=labels.day(ctx, local.date()), time=ctx.i18n.time(local), town=item.district)
    return ctx._("%(request)s – for %(name)s", request=text, name=item.behalf_name or "?") if item.on_behalf else text


async def myrequests(ctx: Context) -> None:
    items = await ctx.store.requests.of_person(ctx.person.id)
    if not items:
        ctx.reply(ctx._("You have no requests yet. Send %(command)s to ask for someone to come with you.",
                        command=ctx.cmd("request")))
        return
    lines = [ctx._("Your requests:")]
    lines += [ctx._("%(request)s: %(state)s", request=describe(ctx, item), state=ctx._(labels.REQUEST_STATES[item.state]))
              for item in items]
    ctx.reply("\n".join(lines))


def _which_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    return [[Option(item_id, text, translate=False)] for item_id, text in data["choices"]]


def _chosen_request(ctx: Context, data: dict[str, Any]) -> dict[str, object]:
    return {"request": dict((item_id, text) for item_id, text in data["choices"])[data["which"]]}


def _sure_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    return [[Option(True, N_("Yes, cancel it"), typed=YES)], [Option(False, N_("No, keep it"), typed=NO)]]


async def _sure_answer(ctx: Context, value: Any, data: dict[str, Any]) -> Step | None:
    if not value:
        ctx.reply(ctx._("Your request stays as it is."))
    elif await ctx.store.requests.cancel(int(data["which"]), ctx.person.id, utcnow()):
        ctx.reply(ctx._("Your request was cancelled."))
        request = await ctx.store.requests.get(int(data["which"]))
        dispatch = ctx.services.dispatch

        async def withdraw() -> None:  # offers withdrawn, an assigned guide told — after the commit
            if request is not None and dispatch is not None:
                await dispatch.request_cancelled(request)

        ctx.later(withdraw)
    else:
        ctx.reply(ctx._("This request cannot be cancelled any more."))
    return END


SURE = Step("sure", N_("Cancel this request?\n%(request)s"), values=_chosen_request, options=_sure_options,
            on_answer=_sure_answer)
CANCEL = Dialog("cancel", (
    Step("which", N_("Which request do you want to cancel?"), options=_which_options),
    SURE,
))


async def cancel(ctx: Context) -> None:
    items = await ctx.store.requests.cancellable(ctx.person.id, utcnow())
    if not items:
        ctx.reply(ctx._("You have no open requests to cancel."))
        return
    await ctx.services.dialogs.start(ctx, CANCEL, {"choices": [[item.id, describe(ctx, item)] for item in items]})


async def cancel_one(ctx: Context, request_id: int) -> None:
    """`cancel` for one known request (e.g. from a reminder): straight to "Cancel this request?"."""
    items = [item for item in await ctx.store.requests.cancellable(ctx.person.id, utcnow()) if item.id == request_id]
    if not items:
        ctx.reply(ctx._("This request cannot be cancelled any more."))
        return
    await ctx.services.dialogs.start(ctx, CANCEL, {"choices": [[items[0].id, describe(ctx, items[0])]],
                                                   "which": items[0].id}, at=SURE)


def register(router: Router) -> None:
    router.dialogs.register(REQUEST)
    router.dialogs.register(BEHALF)
    router.dialogs.register(CANCEL)
    router.command("request", request)
    router.command("requestfor", requestfor)
    router.command("myrequests", myrequests)
    router.command("cancel", cancel)
