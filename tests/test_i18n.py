"""Catalogs complete and current; plurals, right-to-left values and dates per person's locale."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.extract import extract_from_dir

from bot.catalogs import problems
from bot.core.i18n import LOCALES_DIR, Catalogs

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {"_": None, "gettext": None, "N_": None, "G_": None, "ngettext": (1, 2)}


def source_msgids() -> set[str]:
    found: set[str] = set()
    for folder in ("bot", "handlers"):
        for _, _, message, _, _ in extract_from_dir(ROOT / folder, method_map=[("**.py", "python")],
                                                    keywords=KEYWORDS):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_template_is_current_with_the_code() -> None:
    from babel.messages.pofile import read_po

    with open(LOCALES_DIR / "messages.pot", "rb") as fh:
        entries = [m for m in read_po(fh) if m.id]
    template = {m.id if isinstance(m.id, str) else m.id[0] for m in entries}
    assert source_msgids() == template, "run `make i18n` and translate"
    gendered = {(m.id, m.context) for m in entries if m.context}
    from bot.catalogs import gendered_msgids

    assert gendered == {(msgid, g) for msgid in gendered_msgids() for g in ("female", "male")}, \
        "run `make i18n`: every G_ text has its female and male forms"


def test_every_catalog_is_complete_with_matching_placeholders() -> None:
    assert problems() == []
    shipped = sorted(p.parts[-3] for p in LOCALES_DIR.glob("*/LC_MESSAGES/messages.po"))
    assert shipped == sorted(["de", "en", "ar", "fa", "prs", "ps", "ku", "tr", "ti", "so", "uk", "ru", "fr"])


def test_the_check_finds_what_is_missing_wrong_or_left_in_english(tmp_path: Path) -> None:
    """A copy of the catalogs, spoiled in each way the check must catch."""
    import shutil

    from babel.messages.pofile import read_po, write_po

    shutil.copytree(LOCALES_DIR, tmp_path / "locales")
    path = tmp_path / "locales" / "ru" / "LC_MESSAGES" / "messages.po"
    with open(path, "rb") as fh:
        catalog = read_po(fh, locale="ru")
    catalog.delete("Which language do you speak best?")
    catalog.get("Skip").string = "Skip"                                         # left in English
    catalog.get("Date: %(value)s").string = "Дата: %(valeur)s"                  # a placeholder renamed
    catalog.get("Thank you! You are coming with %(name)s.", context="female").string = ""
    plural = catalog.get(("%(count)s day", "%(count)s days"))
    plural.string = (plural.string[0], plural.string[1], "")                     # a plural form missing
    with open(path, "wb") as fh:
        write_po(fh, catalog, width=76)
    found = problems(tmp_path / "locales")
    assert "ru: missing 'Which language do you speak best?'" in found
    assert "ru: left in English 'Skip'" in found
    assert any(p.startswith("ru: placeholders differ in 'Date: %(value)s'") for p in found)
    assert "ru: untranslated 'Thank you! You are coming with %(name)s.'" in found
    assert "ru: untranslated '%(count)s day'" in found
    assert all(p.startswith("ru: ") for p in found), found


def catalogs() -> Catalogs:
    return Catalogs(("de", "en", "ar"), "de", ZoneInfo("Europe/Berlin"))


def test_arabic_has_six_plural_forms() -> None:
    ar = catalogs().get("ar")
    forms = {n: ar.ngettext("You can use this %(count)s command:", "You can use these %(count)s commands:", n)
             for n in (0, 1, 2, 3, 11, 100)}
    assert len(set(f.replace(str(n), "#") for n, f in forms.items())) == 6, forms
    # the number, isolated in right-to-left text; Arabic says "one" and "two" in the word itself
    assert all(f"\u2068{n}\u2069" in text for n, text in forms.items() if n not in (1, 2))


def test_german_plural_and_english_fallback() -> None:
    cats = catalogs()
    de = cats.get("de")
    one = de.ngettext("You can use this %(count)s command:", "You can use these %(count)s commands:", 1)
    many = de.ngettext("You can use this %(count)s command:", "You can use these %(count)s commands:", 5)
    assert one != many and "1" in one and "5" in many
    assert cats.get("en").gettext("Not a msgid %(x)s", x=1) == "Not a msgid 1"


def test_language_hints_map_to_configured_languages() -> None:
    cats = catalogs()
    assert cats.supported("de-DE") == "de"
    assert cats.supported("ar_SY") == "ar"
    assert cats.supported("uk") is None
    assert cats.supported(None) is None
    assert cats.get(None).language == "de"  # the default
    assert cats.get("uk").language == "de"


def test_dates_in_the_person_locale_and_the_configured_zone() -> None:
    cats = catalogs()
    winter = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)   # 09:30 in Berlin (CET)
    summer = datetime(2026, 7, 1, 7, 30, tzinfo=UTC)    # 09:30 in Berlin (CEST)
    assert cats.get("de").time(winter) == "09:30"
    assert cats.get("de").time(summer) == "09:30"
    assert cats.get("en").time(winter) in ("9:30\u202fAM", "9:30 AM")
    assert cats.get("de").date(winter, "full") == "Dienstag, 1. Dezember 2026"
    assert "ديسمبر" in cats.get("ar").date(winter, "long")
    assert cats.get("ar").rtl and not cats.get("de").rtl


def test_region_sets_date_and_time_conventions() -> None:
    winter = datetime(2026, 12, 3, 13, 5, tzinfo=UTC)
    germany = Catalogs(("de", "en", "ar"), "de", ZoneInfo("Europe/Berlin"), region="DE")
    nowhere = Catalogs(("de", "en", "ar"), "de", ZoneInfo("Europe/Berlin"))
    assert germany.get("en").date(winter, "short") == "03/12/2026"  # day first, as people here write
    assert germany.get("en").time(winter) == "14:05"
    assert nowhere.get("en").date(winter, "short") == "12/3/26"
    assert germany.get("ar").locale.language == "ar" and germany.get("ar").rtl  # no ar_DE in the CLDR: plain ar
    assert germany.get("en").language == "en"  # texts still come from the "en" catalog
