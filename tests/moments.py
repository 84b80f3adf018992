"""The people of /work/shared/SCENARIOS.md for the "moments that must go right" (tests/test_moments_*.py):
Kreis Offenbach, its guides with their languages, districts and weekly hours, the newcomers'
requests — the same cast on every transport.

Guides are registered and approved through the store and bot/services/guides.py (their
registration dialog has tests of its own); what happens after that runs through the real app.
Every text a person should read is looked up in their language through Lotse's catalogs
(locales/<lang>/LC_MESSAGES/messages.po), never guessed here.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.clock import utcnow
from bot.config import PrivacySettings, Settings
from bot.core.i18n import Catalogs, I18n
from bot.services import guides as standing
from bot.store import Store
from bot.store.guides import ALL_DISTRICTS, Profile, Slot
from bot.store.requests import NewRequest

# Kreis Offenbach, Europe/Berlin (the defaults of [area] and [bot]).
KREIS_OFFENBACH = ("Dietzenbach", "Dreieich", "Langen", "Mühlheim", "Neu-Isenburg", "Rodgau", "Seligenstadt")

MON, TUE, WED, THU, FRI, SAT = range(6)


def hours(weekday: int, start: int, end: int) -> Slot:
    return Slot(weekday, start * 60, end * 60)


# -- the guides (SCENARIOS.md "Guides") ---------------------------------------------------------
LEILA = Profile(("ar", "fr", "de"), ("Dreieich", "Neu-Isenburg"), ("doctor", "school"),
                (hours(TUE, 9, 12), hours(FRI, 9, 12), hours(WED, 15, 18)), 3, "female")
MEHMET = Profile(("tr", "ku", "de"), ("Dietzenbach", "Rodgau"), ("immigration", "jobcentre", "authority"),
                 tuple(hours(day, 8, 13) for day in (MON, TUE, WED, THU)), 3, "male")
NASRIN = Profile(("fa", "prs", "de", "en"), (ALL_DISTRICTS,),
                 ("doctor", "immigration", "jobcentre", "school", "housing", "authority", "other"),
                 tuple(hours(day, 8, 12) for day in (MON, TUE, WED, THU, FRI)), 3, "female")
YONAS = Profile(("ti", "am", "en", "de"), ("Rodgau",), ("housing", "authority", "other"),
                (*(hours(day, 18, 21) for day in (MON, TUE, WED, THU, FRI)), hours(SAT, 9, 17)), 3, "male")
# Two more of the Kreis' guides, for Olena (Ukrainian, Russian) at the immigration office in Dietzenbach.
OKSANA = Profile(("uk", "ru", "de"), ("Dietzenbach",), ("immigration",), (hours(THU, 13, 17),), 3, "female")
SERGEJ = Profile(("ru", "de"), ("Dietzenbach", "Rodgau"), ("immigration",), (hours(THU, 12, 18),), 3, "male")
# And one who speaks Dari in Langen on Thursday afternoons: the only wave Hamid's request gets.
FARID = Profile(("prs", "fa", "de"), ("Langen",), ("jobcentre",), (hours(THU, 13, 17),), 3, "male")

# -- the moments' dates (the test clock starts at Wednesday 25 November 2026, 10:00 in Berlin) ---
# Amira: paediatrician in Dreieich, Tuesday 1 December, 9:30 (Leila: Tuesdays 9–12).
AMIRA_APPOINTMENT = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
AMIRA_DAY_BEFORE = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)       # Monday 9:30: 24 hours before
AMIRA_TWO_HOURS_BEFORE = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)  # Tuesday 7:30
# Olena: immigration office in Dietzenbach, Thursday 3 December, 14:00.
OLENA_APPOINTMENT = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
# Hamid: job centre in Langen, Thursday 3 December, 14:00; his letter came late: he asks on
# Tuesday 1 December at 12:00, 50 hours ahead.
HAMID_ASKS = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)
HAMID_APPOINTMENT = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
# Tesfay: housing office in Rodgau, Saturday 5 December, 10:00, with Yonas (Saturdays).
TESFAY_APPOINTMENT = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
TESFAY_DAY_BEFORE = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
SATURDAY_0759 = datetime(2026, 12, 5, 6, 59, tzinfo=UTC)
SATURDAY_0800 = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)            # 2 hours before: the update's moment
SATURDAY_0805 = datetime(2026, 12, 5, 7, 5, tzinfo=UTC)


async def member(store: Store, platform: str, user_id: str, name: str, language: str, role: str) -> int:
    """Someone who chose `language`, agreed to the privacy notice and chose `role`."""
    person = await store.people.get_or_create(platform, user_id, user_id)
    await store.people.set_language(person.id, language)
    await store.people.record_consent(person.id, PrivacySettings().notice_version, utcnow(), name)
    await store.people.set_role(person.id, role)
    return person.id


async def approved_guide(store: Store, platform: str, user_id: str, name: str, language: str,
                         profile: Profile) -> int:
    """A guide who registered with `profile` and whom a coordinator approved."""
    guide_id = await member(store, platform, user_id, name, language, "guide")
    await store.guides.save_profile(guide_id, profile, utcnow())
    assert await standing.approve(store, guide_id, None, utcnow())
    return guide_id


async def file_request(store: Store, newcomer_id: int, request: NewRequest) -> int:
    """A request as the newcomer's confirmed form stores it (the caller kicks dispatch)."""
    return await store.requests.create(newcomer_id, request, utcnow())


def amira_request() -> NewRequest:
    return NewRequest("doctor", AMIRA_APPOINTMENT, 60, "Dreieich", "Kinderarztpraxis Dr. Sommer, Hauptstraße 12",
                      "female", None, ("ar", "de"))


def olena_request() -> NewRequest:
    return NewRequest("immigration", OLENA_APPOINTMENT, 60, "Dietzenbach", "Ausländerbehörde, Werner-Hilpert-Str. 1",
                      None, "Residence permit renewal", ("uk", "ru"))


def hamid_request() -> NewRequest:
    return NewRequest("jobcentre", HAMID_APPOINTMENT, 60, "Langen", "Jobcenter Langen, Zimmer 12", None, None,
                      ("prs",))


def tesfay_request() -> NewRequest:
    return NewRequest("housing", TESFAY_APPOINTMENT, 60, "Rodgau", "Wohnungsamt Rodgau", None, None, ("ti", "en"))


# -- what people read, in their language -------------------------------------------------------
_catalogs: dict[str, I18n] = {}


def i18n(settings: Settings, language: str) -> I18n:
    """Lotse's catalog for `language` (locales/<language>/LC_MESSAGES/messages.po)."""
    if language not in _catalogs:
        _catalogs[language] = Catalogs(settings.bot.languages, settings.bot.default_language,
                                       settings.zone, region=settings.bot.region).get(language)
    return _catalogs[language]


def tr(settings: Settings, language: str, msgid: str, **values: Any) -> str:
    return i18n(settings, language).gettext(msgid, **values)


def language_name(settings: Settings, reader: str, code: str) -> str:
    """The name of language `code` as a `reader` reads it (the catalog's CLDR names)."""
    from bot.core.i18n import babel_locale

    lang = i18n(settings, reader)
    name = lang.locale.languages.get(babel_locale(code)) or I18n.language_name(code)
    return name[:1].upper() + name[1:]


def head(template: str) -> str:
    """The fixed words of a translated template before its first placeholder."""
    return re.split(r"%\(\w+\)s", template, maxsplit=1)[0]


async def rows(store: Store, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await store.db.fetchall(sql, args)]


# -- the terminal: the console transport as `lotse console` runs it ------------------------------
class _Lines:
    """stdin of the console transport: the lines a test types, one at a time, until closed."""

    def __init__(self) -> None:
        self._queue: queue.Queue[str | None] = queue.Queue()

    def type(self, line: str) -> None:
        self._queue.put(line + "\n")

    def close(self) -> None:
        self._queue.put(None)

    def __iter__(self):  # noqa: ANN204
        while (line := self._queue.get()) is not None:
            yield line


class _Screen:
    """stdout of the console transport: every block it printed ("[to name] text" + button lines)."""

    def __init__(self) -> None:
        self.blocks: list[str] = []

    def write(self, text: str) -> int:
        self.blocks.append(text)
        return len(text)

    def flush(self) -> None:
        pass


@dataclass
class Said:
    """One block the terminal printed for a person: the text and the numbered options."""

    to: str
    text: str
    options: list[str]
    edited: bool


_BLOCK = re.compile(r"\[to ([^\]]+)\] (✎ )?(.*)", re.S)


def parse_block(block: str) -> Said:
    match = _BLOCK.fullmatch(block.rstrip("\n"))
    assert match, block
    lines = match[3].split("\n")
    options = [m[1] for line in lines if (m := re.fullmatch(r"  \[\d+\] (.*)", line))]
    text = "\n".join(line for line in lines if not re.fullmatch(r"  (\[\d+\] .*|📎 .*)", line))
    return Said(match[1], text, options, bool(match[2]))


class Terminal:
    """Lotse with its console transport in this process, on Lotse's one clock (the test's): the
    tests type lines as at `lotse console` ("@name text" speaks as name, a number presses a
    button) and read what was printed to each person."""

    _ids = itertools.count(1)

    def __init__(self, settings: Settings, files: Path) -> None:
        from bot.app import App
        from bot.transports.console import ConsoleTransport

        self.settings = settings
        self.keyboard = _Lines()
        self.screen = _Screen()
        self.transport = ConsoleTransport(self.keyboard, self.screen, language_hint="", files=files)  # type: ignore[arg-type]
        self.app = App(settings, [self.transport])

    async def __aenter__(self) -> "Terminal":
        await self.app.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def stop(self) -> None:
        self.keyboard.close()
        await self.app.stop()

    @property
    def store(self) -> Store:
        assert self.app.store is not None
        return self.app.store

    def said(self, to: str | None = None) -> list[Said]:
        said = [parse_block(b) for b in self.screen.blocks]
        return [s for s in said if to is None or s.to == to]

    async def wait_for(self, condition: Callable[[], Any], what: str, timeout: float = 20) -> Any:
        async with asyncio.timeout(timeout):
            while not (found := condition()):
                await asyncio.sleep(0.01)
        assert found, what
        return found

    async def type(self, line: str, expect: int = 1) -> list[Said]:
        """Type one line; wait until `expect` more blocks were printed (any person) and return the new ones."""
        before = len(self.screen.blocks)
        self.keyboard.type(line)
        await self.wait_for(lambda: len(self.screen.blocks) >= before + expect, f"{expect} answers to {line!r}")
        await self.app.inbox.idle()
        await self.app.dispatch.idle()
        return [parse_block(b) for b in self.screen.blocks[before:]]

    async def settle(self) -> None:
        """Run the jobs the clock made due (offer expiries, reminders) and the waves they started."""
        await self.app.scheduler.settle()
        await self.app.dispatch.idle()
        await self.app.scheduler.settle()


# -- the sentences of the moments, as each person reads them --------------------------------------
MSG_MATCHED = "Good news: %(name)s (%(languages)s) will come with you."
MSG_MEET = "Please meet %(name)s on %(date)s at %(time)s at %(place)s."
MSG_REMINDER_NEWCOMER = "Reminder: %(name)s will come with you."
MSG_REMINDER_GUIDE = "Reminder: you are coming along with %(name)s."
MSG_TAKEN = "Already taken – thank you!"
MSG_ASSIGNED = "Thank you! You are coming with %(name)s."


def good_news_for_amira(settings: Settings) -> str:
    """What Amira must read in Arabic once Leila accepted: Leila, her languages (Arabic and French
    first), and the meeting 15 minutes before 9:30 — at 9:15 — in front of the practice."""
    ar = i18n(settings, "ar")
    names = ar.join([language_name(settings, "ar", code) for code in LEILA.languages])
    meet = datetime(2026, 12, 1, 8, 15, tzinfo=UTC)  # 9:15 in Berlin
    return "\n".join([
        ar.gendered("female", MSG_MATCHED, name="Leila", languages=names),
        ar.gettext(MSG_MEET, name="Leila", date=ar.date(ar.local(meet).date(), "full"), time=ar.time(ar.local(meet)),
                   place=amira_request().place)])


def good_news_line(settings: Settings, reader: str, guide: str, gender: str, profile: Profile) -> str:
    """The first line a newcomer reads once `guide` accepted: the guide and all their languages."""
    lang = i18n(settings, reader)
    names = lang.join([language_name(settings, reader, code) for code in profile.languages])
    return lang.gendered(gender, MSG_MATCHED, name=guide, languages=names)


def reminder_heads(settings: Settings) -> tuple[str, str]:
    """The first line of the reminders: Amira's (Arabic, about Leila), Leila's (German, about Amira)."""
    return (i18n(settings, "ar").gendered("female", MSG_REMINDER_NEWCOMER, name="Leila"),
            i18n(settings, "de").gendered("female", MSG_REMINDER_GUIDE, name="Amira"))


def ics_start(content: bytes) -> str:
    from icalendar import Calendar

    [event] = Calendar.from_ical(content).walk("VEVENT")
    return event.decoded("DTSTART").isoformat()
