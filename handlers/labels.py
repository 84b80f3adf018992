"""How domain values read in a person's language: topics, genders, states, languages, weekdays,
time slots, durations.  One place, used by every dialog and by coordinators' messages."""

from __future__ import annotations

from datetime import date, time, timedelta

from babel.dates import format_skeleton
from babel.units import format_unit

from bot.core.context import Context
from bot.core.i18n import I18n, N_, babel_locale
from bot.store.guides import ALL_DISTRICTS, Profile, Slot
from bot.store.requests import Request

TOPICS = {
    "doctor": N_("Doctor or hospital"),
    "immigration": N_("Immigration office"),
    "jobcentre": N_("Job centre"),
    "school": N_("School or day care"),
    "housing": N_("Housing"),
    "authority": N_("Other authority"),
    "other": N_("Something else"),
}

# Words people write when they mean a topic, for recognising free text ("I need help at the doctor").
# Each catalog translates the whole line into words of its language, separated by spaces; a word
# matches the start of a typed word ("hospital" matches "hospitals").  The English words always count.
TOPIC_WORDS = {
    "doctor": N_("doctor hospital clinic practice dentist pediatrician midwife pregnancy vaccination sick"),
    "immigration": N_("immigration foreigners residence permit visa passport asylum BAMF"),
    "jobcentre": N_("jobcentre jobcenter job centre employment agency work benefits"),
    "school": N_("school kindergarten daycare teacher parents evening"),
    "housing": N_("housing flat apartment landlord rent"),
    "authority": N_("authority office town hall registration court"),
}

PREFERRED_GENDERS = {"female": N_("A woman"), "male": N_("A man"), None: N_("No preference")}
GENDERS = {"female": N_("Woman"), "male": N_("Man"), "diverse": N_("Diverse"), None: N_("I prefer not to say")}

REQUEST_STATES = {
    "open": N_("searching for a guide"),
    "matched": N_("a guide comes with you"),
    "cancelled": N_("cancelled"),
    "done": N_("done"),
}
GUIDE_STATES = {
    "pending": N_("waiting for approval"),
    "approved": N_("approved"),
    "rejected": N_("not approved"),
    "suspended": N_("suspended"),
}
NOTHING = N_("—")


def i18n_of(x: Context | I18n) -> I18n:
    return x.i18n if isinstance(x, Context) else x


def topic(x: Context | I18n, code: str) -> str:
    return i18n_of(x).gettext(TOPICS.get(code, code))


def language(x: Context | I18n, code: str) -> str:
    """A spoken language's name in the reader's language ("Arabisch" for a German reader)."""
    i18n = i18n_of(x)
    name = i18n.locale.languages.get(babel_locale(code)) or I18n.language_name(code)
    return name[:1].upper() + name[1:]


def languages(x: Context | I18n, codes: tuple[str, ...] | list[str]) -> str:
    return i18n_of(x).join([language(x, c) for c in codes]) or i18n_of(x).gettext(NOTHING)


def districts(x: Context | I18n, names: tuple[str, ...] | list[str]) -> str:
    if ALL_DISTRICTS in names:
        return i18n_of(x).gettext("All districts")
    return i18n_of(x).join(list(names)) or i18n_of(x).gettext(NOTHING)


def weekday(x: Context | I18n, index: int, width: str = "wide") -> str:
    return i18n_of(x).locale.days["format"][width][index]


def clock(x: Context | I18n, minutes: int) -> str:
    if minutes >= 24 * 60:
        minutes = 24 * 60 - 1  # "until midnight" reads as 23:59
    return i18n_of(x).time(time(minutes // 60, minutes % 60))


def slot(x: Context | I18n, s: Slot) -> str:
    return i18n_of(x).gettext("%(weekday)s %(start)s–%(end)s", weekday=weekday(x, s.weekday),
                              start=clock(x, s.start_minute), end=clock(x, s.end_minute))


def slots(x: Context | I18n, items: list[Slot] | tuple[Slot, ...]) -> str:
    return "\n".join(slot(x, s) for s in sorted(items, key=Slot.as_list)) or i18n_of(x).gettext(NOTHING)


def duration(x: Context | I18n, minutes: int) -> str:
    i18n = i18n_of(x)
    if minutes % 60 == 0:
        return i18n.ngettext("%(count)s hour", "%(count)s hours", minutes // 60)
    return i18n.ngettext("%(count)s minute", "%(count)s minutes", minutes)


def day(x: Context | I18n, value: date) -> str:
    """A date with its weekday, short: "Di., 1. Dez." / "Tue, Dec 1"."""
    i18n = i18n_of(x)
    return format_skeleton("MMMEd", value, locale=i18n.locale)


def minutes_label(x: Context | I18n, delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours >= 48 and hours % 24 == 0:
        return i18n_of(x).ngettext("%(count)s day", "%(count)s days", hours // 24)
    return i18n_of(x).ngettext("%(count)s hour", "%(count)s hours", hours)


def gender(x: Context | I18n, code: str | None) -> str:
    return i18n_of(x).gettext(GENDERS.get(code, GENDERS[None]))


def profile(x: Context | I18n, p: Profile) -> str:
    """A guide's profile, one line per field (used in the guide's summary and for coordinators)."""
    i18n = i18n_of(x)
    return "\n".join([
        i18n.gettext("Languages: %(value)s", value=languages(i18n, p.languages)),
        i18n.gettext("Districts: %(value)s", value=districts(i18n, p.districts)),
        i18n.gettext("Topics: %(value)s", value=i18n.join([topic(i18n, t) for t in p.topics]) or i18n.gettext(NOTHING)),
        i18n.gettext("Available:\n%(value)s", value=slots(i18n, p.slots)),
        i18n.ngettext("At most %(count)s appointment a week", "At most %(count)s appointments a week", p.weekly_max),
        i18n.gettext("Gender: %(value)s", value=gender(i18n, p.gender)),
    ])


def megabytes(x: Context | I18n, size: int) -> str:
    """A file size limit, "5 MB" in the reader's conventions (Babel's unit names)."""
    value = round(size / 1_000_000, 1)
    return format_unit(int(value) if value.is_integer() else value, "digital-megabyte", length="short",
                       locale=i18n_of(x).locale)


def what_when_where(x: Context | I18n, request: Request) -> str:
    """A request in one line: topic, day, time, length and town (offers, cards, reminders, lists)."""
    i18n = i18n_of(x)
    local = i18n.local(request.starts_at)
    return i18n.gettext("%(topic)s on %(date)s at %(time)s, about %(duration)s, in %(town)s.",
                        topic=topic(i18n, request.topic), date=i18n.date(local.date(), "full"),
                        time=i18n.time(local), duration=duration(i18n, request.duration_minutes),
                        town=request.district)
