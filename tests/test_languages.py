"""Every UI language, as a newcomer reads it: onboarding and a whole request, the date and time
typed in that language's digits — the right script, values isolated in right-to-left text, and no
line left in English.  And the gender forms of the texts about a guide."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.config import Settings
from bot.core.i18n import I18n, load_translations
from tests.conftest import Running, make_settings

LANGUAGES = ("de", "en", "ar", "fa", "prs", "ps", "ku", "tr", "ti", "so", "uk", "ru", "fr")
SCRIPT = {"ar": "ARABIC", "fa": "ARABIC", "prs": "ARABIC", "ps": "ARABIC", "uk": "CYRILLIC", "ru": "CYRILLIC",
          "ti": "ETHIOPIC"}  # every other language: LATIN
DIGITS = {"ar": "٠١٢٣٤٥٦٧٨٩", "fa": "۰۱۲۳۴۵۶۷۸۹", "prs": "۰۱۲۳۴۵۶۷۸۹", "ps": "۰۱۲۳۴۵۶۷۸۹"}
DAY = date(2026, 12, 1)  # Tuesday; the test clock stands on Wednesday 25 November
PLACE = "Bahnhofstraße 5"
FSI, PDI = "\u2068", "\u2069"


def in_digits(text: str, language: str) -> str:
    digits = DIGITS.get(language)
    return text if digits is None else "".join(digits[int(c)] if c.isdigit() else c for c in text)


def i18n(language: str) -> I18n:
    from zoneinfo import ZoneInfo

    return I18n(language, load_translations(language), ZoneInfo("Europe/Berlin"), "DE")


@pytest.fixture
def settings(db_path: Path) -> Settings:
    base = make_settings(db_path)
    return dataclasses.replace(base, bot=dataclasses.replace(base.bot, languages=LANGUAGES, default_language="de"))


@pytest.fixture
async def lotse(settings: Settings, clock) -> AsyncIterator[Running]:  # noqa: ANN001
    running = await Running(settings).start()
    yield running
    await running.app.stop()


async def request_in(lotse: Running, user: str, language: str) -> list[str]:
    """Onboarding and a request in `language`, every choice by its position, the date and time
    typed in the language's digits; the texts the newcomer read."""
    bot = lotse.transport
    await bot.say(user, "/start", language=language, name="Amira")
    await bot.press(user, I18n.language_name(language))
    await bot.press(user, 1)                                  # I agree
    await bot.press(user, 1)                                  # I need someone to come with me
    await bot.press(user, 1)                                  # doctor
    typed_day = in_digits(i18n(language).date(DAY, "short"), language)
    [time_step] = await bot.say(user, typed_day)
    assert len(time_step.flat_buttons) > 1, f"{language}: the date {typed_day!r} was not read: {time_step.text}"
    [duration] = await bot.say(user, in_digits("10:30", language))
    assert len(duration.flat_buttons) > 1, f"{language}: the time was not read: {duration.text}"
    await bot.press(user, 2)                                  # 1 hour
    await bot.press(user, 1)                                  # Dietzenbach
    await bot.say(user, PLACE)
    await bot.press(user, 3)                                  # best language: the third of [area] languages (Dari)
    others = bot.last_with_buttons(user).message
    await bot.press(user, len(others.flat_buttons))           # Done
    await bot.press(user, 3)                                  # no preference
    await bot.press(user, 1)                                  # no note
    await bot.press(user, 1)                                  # send
    return [m.text for m in bot.messages(user)]


def script_of(text: str) -> set[str]:
    return {unicodedata.name(ch).split()[0] for ch in text if ch.isalpha()}


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
async def test_a_whole_request_in_each_language(lotse: Running, language: str) -> None:
    english = await request_in(lotse, "reference", "en")
    read = await request_in(lotse, f"amira-{language}", language)
    assert len(read) == len(english)
    values = {"Lotse", "Amira", "Dietzenbach", PLACE}
    for theirs, ours in zip(read, english):
        for line_theirs, line_ours in zip(theirs.splitlines(), ours.splitlines()):
            words = set(re.findall(r"[A-Za-z]{3,}", line_ours)) - {w for v in values for w in v.split()}
            if words and not line_ours.startswith("/"):
                assert line_theirs != line_ours, f"{language}: left in English: {line_ours!r}"
        expected = SCRIPT.get(language, "LATIN")
        assert expected in script_of(theirs), f"{language}: not in {expected} script: {theirs!r}"
    newcomer = await lotse.store.people.find("test", f"amira-{language}")
    [request] = await lotse.store.requests.of_person(newcomer.id)
    assert request.starts_at == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)   # 10:30 in Berlin
    assert request.place == PLACE and request.languages == ("prs",)
    summary = next(text for text in read if PLACE in text)
    if i18n(language).rtl:  # times, places and names are isolated in right-to-left text
        assert f"{FSI}{PLACE}{PDI}" in summary
        assert f"{FSI}{i18n(language).time(datetime(2026, 12, 1, 9, 30, tzinfo=UTC))}{PDI}" in summary
    else:
        assert FSI not in summary


# -- gender: the texts about (or to) a guide agree with the guide's gender, in languages that inflect
@pytest.mark.parametrize("language, female, male", [
    ("ar", "سترافقك", "سيرافقك"),          # "will accompany you", feminine / masculine verb
    ("ru", None, None),                     # checked against the catalog's own two forms below
])
async def test_a_newcomer_reads_about_a_woman_or_a_man_guide_in_the_right_forms(
        lotse: Running, language: str, female: str | None, male: str | None) -> None:
    from tests.test_dispatch import guide, person, request, settle

    read: dict[str, str] = {}
    for gender in ("female", "male"):
        guide_user, newcomer_user = f"guide-{gender}", f"newcomer-{gender}"
        await guide(lotse, guide_user, languages=("ar", "ru"), gender=gender)
        newcomer_id = await person(lotse, newcomer_user, language, "newcomer")
        await request(lotse, newcomer_user, gender=gender, languages=("ar", "ru"))
        [offer] = [m for m in lotse.transport.messages(guide_user) if m.buttons]
        await lotse.transport.press(guide_user, 1)                      # Accept
        await settle(lotse)
        [news] = [m.text for m in lotse.transport.messages(newcomer_user)
                  if f"{FSI}{guide_user.capitalize()}{PDI}" in m.text or guide_user.capitalize() in m.text][-1:]
        read[gender] = news.splitlines()[0].replace(guide_user.capitalize(), "NAME")
        expected = i18n(language).gendered(gender, "Good news: %(name)s (%(languages)s) will come with you.",
                                           name="NAME",
                                           languages=i18n(language).join([
                                               i18n(language).locale.languages["ar"].capitalize(),
                                               i18n(language).locale.languages["ru"].capitalize()]))
        assert read[gender] == expected and newcomer_id
    assert read["female"] != read["male"], f"{language}: a woman and a man guide read the same"
    neutral = i18n(language).gettext("Good news: %(name)s (%(languages)s) will come with you.", name="NAME",
                                     languages=i18n(language).join([i18n(language).locale.languages["ar"].capitalize(),
                                                                    i18n(language).locale.languages["ru"].capitalize()]))
    assert neutral not in (read["female"], read["male"])
    if female is not None:
        assert female in read["female"] and male in read["male"]
