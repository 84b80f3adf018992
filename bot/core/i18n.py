"""Translations and locale formatting, chosen per event (never a process-wide locale).

Catalogs are read from locales/<lang>/LC_MESSAGES/messages.po with Babel and compiled in memory at
start, so a fresh clone needs no separate compile step.  Messages use English msgids with named
placeholders: ``_("Hello %(name)s", name=...)``; counts go through ``ngettext`` with ``count``.

A text about (or to) a guide whose gender Lotse knows is marked ``G_`` and read with
``gendered(gender, msgid, …)``: `make i18n` gives each such msgid a "female" and a "male" context
(msgctxt) besides its neutral form, for the languages whose words change with it; an unknown gender,
or a context a catalog leaves as it is, reads the neutral form.

A UI language Babel has no locale for borrows one for its dates and numbers (`BABEL_LOCALES`: Dari
is written like Persian as spoken in Afghanistan) and is named in its own script (`OWN_NAMES`).
"""

from __future__ import annotations

import io
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, localedata
from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import Translations

LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"
DOMAIN = "messages"

# Characters that isolate a left-to-right value (a time, a number, a name) inside right-to-left
# text, so "10:00" stays "10:00" in Arabic or Dari sentences.
_FSI, _PDI = "\u2068", "\u2069"


BABEL_LOCALES = {"prs": "fa_AF"}  # UI language → the Babel locale of its dates, numbers and plural rules
OWN_NAMES = {"prs": "دری"}        # UI language → its name in its own script, where Babel has none
GENDERS = ("female", "male")     # the msgctxt of a gendered text; anything else reads the neutral form


def babel_locale(language: str) -> str:
    return BABEL_LOCALES.get(language, language)


def N_(msgid: str) -> str:
    """Mark a string for extraction; it is translated later, when a locale is known."""
    return msgid


def G_(msgid: str) -> str:
    """Mark a text about (or to) a guide for extraction with its gender forms (read it with
    `I18n.gendered`)."""
    return msgid


class I18n:
    """Everything locale-specific for one person: gettext, plurals, dates in the configured zone."""

    def __init__(self, language: str, translations: Translations, zone: ZoneInfo, region: str = "") -> None:
        self.language = language
        # Formats follow the region where the CLDR has it (en_DE: 03/12/2026, 09:30).
        base = babel_locale(language)
        regional = f"{base}_{region}" if region and "_" not in base else ""
        self.locale = Locale.parse(regional if regional and localedata.exists(regional) else base)
        self.zone = zone
        self._t = translations

    @property
    def rtl(self) -> bool:
        return self.locale.text_direction == "rtl"

    def _format(self, text: str, values: dict[str, object]) -> str:
        if not values:
            return text
        if self.rtl:
            values = {k: f"{_FSI}{v}{_PDI}" for k, v in values.items()}
        return text % values

    def gettext(self, msgid: str, **values: object) -> str:
        return self._format(self._t.gettext(msgid), values)

    _ = gettext

    def gendered(self, gender: str | None, msgid: str, **values: object) -> str:
        """`msgid` (marked G_) as it reads about or to a woman or a man; the neutral form when the
        gender is unknown or the catalog has no gender form for it."""
        if gender in GENDERS:
            text = self._t.pgettext(gender, msgid)
            if text != msgid or self.language == "en":
                return self._format(text, values)
        return self.gettext(msgid, **values)

    def join(self, items: list[str] | tuple[str, ...]) -> str:
        """A list in running text: "، " between items in Arabic script, ", " elsewhere.  (Babel's
        list patterns fail for most of Lotse's locales in Babel 2.19, so this stays hand-written.)"""
        return ("، " if self.rtl else ", ").join(items)

    def ngettext(self, singular: str, plural: str, count: int, **values: object) -> str:
        return self._format(self._t.ngettext(singular, plural, count), {"count": self.number(count), **values})

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def date(self, value: date | datetime, format: str = "medium") -> str:
        if isinstance(value, datetime):
            value = self.local(value).date()
        return format_date(value, format=format, locale=self.locale)

    def month(self, year: int, number: int) -> str:
        """A month as it stands alone ("März 2026", "март 2026": the nominative where it differs)."""
        return format_date(date(year, number, 1), format="LLLL y", locale=self.locale)

    def euro(self, amount: float) -> str:
        """An amount of money in euros, the reader's way ("17,50 €", "€17.50")."""
        return format_currency(amount, "EUR", locale=self.locale)

    def time(self, value: time | datetime, format: str = "short") -> str:
        if isinstance(value, datetime):
            value = self.local(value)
        return format_time(value, format=format, locale=self.locale)

    def datetime(self, value: datetime, format: str = "medium") -> str:
        return format_datetime(value, format=format, tzinfo=self.zone, locale=self.locale)

    def number(self, value: float | int) -> str:
        return format_decimal(value, locale=self.locale)

    @staticmethod
    def language_name(code: str) -> str:
        """A language's name in that language ("Deutsch", "العربية"), for language buttons."""
        if code in OWN_NAMES:
            return OWN_NAMES[code]
        name = Locale.parse(babel_locale(code)).get_display_name(babel_locale(code)) or code
        name = name.split(" (")[0] if code != babel_locale(code) else name
        return name[:1].upper() + name[1:]


def load_translations(language: str, locales_dir: Path = LOCALES_DIR) -> Translations:
    po_path = locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_path.exists():
        return Translations()  # English msgids as they are
    with open(po_path, "rb") as fh:
        catalog = read_po(fh, locale=babel_locale(language))
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


class Catalogs:
    """The configured languages' translations, loaded once."""

    def __init__(self, languages: tuple[str, ...], default: str, zone: ZoneInfo,
                 locales_dir: Path = LOCALES_DIR, region: str = "") -> None:
        self.languages = languages
        self.default = default
        self.zone = zone
        self._by_lang = {lang: I18n(lang, load_translations(lang, locales_dir), zone, region) for lang in languages}

    def supported(self, hint: str | None) -> str | None:
        """Map a platform hint ("de-DE", "ar_SY", "pt-br") to a configured language, or None."""
        if not hint:
            return None
        hint = hint.replace("_", "-").lower()
        if hint in self.languages:
            return hint
        base = hint.split("-")[0]
        return base if base in self.languages else None

    def get(self, language: str | None) -> I18n:
        return self._by_lang.get(language or "", self._by_lang[self.default])
