"""Forgiving, locale-aware parsing of typed dates, times and time ranges.

Newcomers type appointment dates and times on phone keyboards in many scripts; guides type their
weekly hours.  Everything here is pure (no clock, no I/O): "today" comes from the caller.  Input
that cannot be read with certainty raises :class:`ParseError`, whose ``reason`` lets the caller
answer with a localized re-ask; nothing is guessed when two readings are possible.

Day/month order follows Babel's short date pattern (``locale.date_formats["short"]``):
de ``dd.MM.yy`` and ar ``d\u200f/M\u200f/y`` (with right-to-left marks, four-digit year) read day
first, en ``M/d/yy`` (US English) month first, fa/ps ``y/M/d`` year first.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from functools import lru_cache

from babel import Locale

from bot.core.text import fold

__all__ = ["ParseError", "normalize_digits", "parse_date", "parse_time", "parse_time_range"]

# Marks that only steer display direction: LRM, RLM, ALM, embeddings/overrides, isolates.
_BIDI = dict.fromkeys(map(ord, "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
_DATE_SEPARATORS = re.compile(r"[\s./\-\u2010-\u2015\u2212]+")
_TIME = re.compile(
    r"(?:(?:um|at|الساعة|الساعه)\s*)?"                        # "um 9", "at 9", "الساعة ٩"
    r"(?:(?P<h>[0-9]{1,2})(?:\s*(?:[:.h٫]|uhr)\s*(?P<m>[0-9]{2})|\s+(?P<m2>[0-9]{2}))?"
    r"|(?P<hm>[0-9]{3,4}))"                                    # "930", "0930" = HHMM
    r"\s*(?P<tail>(?:[^\W0-9]|[\s.'’\u200c])*)")               # "uhr", "h", "o'clock", "pm", "م"
_HOUR_WORDS = frozenset({"", "h", "uhr", "oclock"})
_RANGE_PREFIX = re.compile(r"^(?:from|von|ab|من|از)\s*(?=[0-9])")
_LETTER = r"[^\W0-9]"
_RANGE_SEPARATOR = re.compile(
    rf"\s*(?:[\-~\u2010-\u2015\u2212]|(?<!{_LETTER})(?:bis|to|until|till|إلى|الى|حتى|تا)(?!{_LETTER}))\s*")


class ParseError(ValueError):
    """Typed text that is not a date/time.  ``reason`` is one of:

    * ``"format"`` – unreadable (letters, wrong shape, hour 25, minute 60 …);
    * ``"no_such_date"`` – readable numbers that name no calendar date (31.2., 13th month);
    * ``"range"`` – a time range whose end is not after its start.
    """

    REASONS = frozenset({"format", "no_such_date", "range"})

    def __init__(self, reason: str) -> None:
        if reason not in self.REASONS:
            raise AssertionError(f"unknown ParseError reason {reason!r}")
        super().__init__(reason)
        self.reason = reason


def normalize_digits(text: str) -> str:
    """Every Unicode decimal digit to ASCII, bidi marks removed, whitespace runs to one space.

    Covers Arabic-Indic ``٠١٢``, Eastern Arabic/Persian ``۰۱۲``, fullwidth, Devanagari and every
    other script with a ``Nd`` digit (``unicodedata.decimal``)."""
    digits = "".join(str(d) if (d := unicodedata.decimal(ch, None)) is not None else ch
                     for ch in text.translate(_BIDI))
    return " ".join(digits.split())


def _clean(text: str) -> str:
    """normalize_digits, then folded as every typed answer is (bot/core/text.py `fold`: NFKC, case,
    Arabic vowel signs and tatweel, yeh/kaf/alef forms, ZWNJ, accents on Latin letters)."""
    return fold(normalize_digits(text))


def _locale(locale: Locale | str) -> Locale:
    return locale if isinstance(locale, Locale) else Locale.parse(locale.replace("-", "_"))


def _date_order(locale: Locale) -> str:
    """"dMy", "Mdy" or "yMd", from the short date pattern (quoted literals ignored)."""
    pattern = re.sub(r"'[^']*'", "", locale.date_formats["short"].pattern)
    if not all(field in pattern for field in "dMy"):
        return "dMy"
    return "".join(sorted("dMy", key=pattern.find))


# Words around a date written with a month name that carry no meaning of their own ("3rd of", "am").
_FILLERS = frozenset({"st", "nd", "rd", "th", "of", "the", "on", "den", "der", "am", "le", "el", "يوم", "روز"})


@lru_cache(maxsize=64)
def _names(locale: Locale, kind: str) -> dict[str, int]:
    """Month (1–12) or weekday (0 = Monday) names of `locale` and of English, cleaned like typed
    text: wide and abbreviated, as in a date and standing alone ("декабря" and "декабрь")."""
    table: dict[str, int] = {}
    for source in (Locale.parse("en"), locale):
        names = source.months if kind == "months" else source.days
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                for number, name in names.get(context, {}).get(width, {}).items():
                    table.setdefault(re.sub(r"\s+", "", _clean(name).strip(".")), number)
    return table


def _words(text: str, names: dict[str, int]) -> list[str]:
    """The words of `text`; two in a row that together are a name ("سه شنبه") count as one."""
    words = re.findall(r"[^\W\d_]+", text)
    joined: list[str] = []
    for word in words:
        if joined and joined[-1] not in names and joined[-1] + word in names:
            joined[-1] += word
        else:
            joined.append(word)
    return joined


def _date_in_words(text: str, locale: Locale, today: date) -> date:
    """"3 Dezember", "December 3rd 2026", "۳ دسامبر" (a month name); "Dienstag", "next Tuesday"
    (a weekday: its next occurrence after today)."""
    numbers = re.findall(r"\d+", text)
    words = _words(text, {**_names(locale, "months"), **_names(locale, "days")})
    months = [_names(locale, "months")[w] for w in words if w in _names(locale, "months")]
    if numbers and len(months) == 1 and len(numbers) <= 2:
        weekdays = _names(locale, "days")
        if any(w not in _FILLERS and w not in weekdays and w not in _names(locale, "months") for w in words):
            raise ParseError("format")
        day, year = numbers[0], (numbers[1] if len(numbers) == 2 else None)
        if len(day) > 2 or (year is not None and len(year) not in (2, 4)):
            raise ParseError("format")
        return parse_date(f"{day}.{months[0]}." + (year or ""), "de", today)
    weekdays = {_names(locale, "days")[w] for w in words if w in _names(locale, "days")}
    if not numbers and len(weekdays) == 1:
        ahead = (weekdays.pop() - today.weekday() - 1) % 7 + 1
        return today + timedelta(days=ahead)
    raise ParseError("format")


def parse_date(text: str, locale: Locale | str, today: date) -> date:
    """A typed calendar date: "3.12.", "03.12", "3.12.26", "3/12", "3-12-2026", "2026-12-03", in
    any script's digits; or with the month's name ("3 Dezember", "۳ دسامبر"), or a weekday alone
    ("Dienstag": the next one after today), in the locale's words or in English.

    Separators are ``.``, ``/``, ``-`` (and dashes) and spaces, in any mix.  Day/month order comes
    from the locale's short date pattern; a four-digit year written first is always ISO year-month-
    day.  Years have two digits (20yy) or four.  A date without a year is its next occurrence on or
    after ``today``: "3.1." in December is next January, "29.2." is the next 29 February that
    exists (from 2026-11-25: 2028-02-29).  Past or far-future dates are not rejected here.
    """
    cleaned = _clean(text)
    if re.search(r"[^\W\d_]", cleaned):
        return _date_in_words(cleaned, _locale(locale), today)
    parts = _DATE_SEPARATORS.split(cleaned.strip(" ./-"))
    if not 2 <= len(parts) <= 3 or not all(re.fullmatch("[0-9]+", p) for p in parts):
        raise ParseError("format")
    order = _date_order(_locale(locale))
    if len(parts) == 2:
        order = order.replace("y", "")
    elif len(parts[0]) == 4:
        order = "yMd"
    elif len(parts[2]) == 4:
        order = order.replace("y", "") + "y"
    fields = dict(zip(order, parts))
    if len(fields["d"]) > 2 or len(fields["M"]) > 2 or len(fields.get("y", "00")) not in (2, 4):
        raise ParseError("format")
    day, month = int(fields["d"]), int(fields["M"])
    if "y" in fields:
        year = int(fields["y"]) + (2000 if len(fields["y"]) == 2 else 0)
        try:
            return date(year, month, day)
        except ValueError:
            raise ParseError("no_such_date") from None
    for year in range(today.year, today.year + 9):  # 29.2. recurs within 8 years (2096 → 2104)
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise ParseError("no_such_date")


def _markers(locale: Locale) -> dict[str, str | None]:
    """Normalized am/pm markers → "am"/"pm": English and Arabic always, plus the locale's own
    abbreviated and wide day periods (narrow ones such as Somali "h"/"d" are too ambiguous).
    A marker that would mean both, or an hour word like "h", maps to None (unreadable)."""
    table: dict[str, str | None] = {}
    for source in (Locale.parse("en"), Locale.parse("ar"), locale):
        for context in ("format", "stand-alone"):
            for width in ("abbreviated", "wide"):
                names = source.day_periods.get(context, {}).get(width, {})
                for half in ("am", "pm"):
                    if half in names:
                        key = re.sub(r"[\W_]+", "", _clean(names[half]))
                        table[key] = half if table.get(key, half) == half else None
    for word in _HOUR_WORDS:
        table[word] = None
    return table


def _time(text: str, locale: Locale, *, end: bool = False, half: str | None = None) -> tuple[int, str | None]:
    """Minutes after midnight and the am/pm marker that was written (or ``half`` if none was)."""
    match = _TIME.fullmatch(text)
    if not match:
        raise ParseError("format")
    key = re.sub(r"[\W_]+", "", match["tail"])
    if key not in _HOUR_WORDS:
        half = _markers(locale).get(key)
        if half is None:
            raise ParseError("format")
    if match["hm"]:
        hour, minute = int(match["hm"][:-2]), int(match["hm"][-2:])
    else:
        hour, minute = int(match["h"]), int(match["m"] or match["m2"] or 0)
    if half:
        if not 1 <= hour <= 12:
            raise ParseError("format")
        hour = hour % 12 + (12 if half == "pm" else 0)
    elif end and (hour, minute) == (24, 0):
        return 1440, half
    if hour > 23 or minute > 59:
        raise ParseError("format")
    return hour * 60 + minute, half


def parse_time(text: str, locale: Locale | str) -> int:
    """A typed time of day as minutes after midnight.

    "9", "9:30", "9.30", "09:30", "9h30", "9 30", "930", "0930" (three or four digits are HHMM),
    "9 Uhr", "14 Uhr 30", "um 9", "9 o'clock"; 12-hour forms "9:30 pm", "9pm", "9 a.m.", "12 am"
    (0:00), "12 pm" (12:00) in every locale, Arabic "٩ م" / "٩ مساءً" and the locale's own day
    period names.  Hours 0–23 (1–12 with a marker), minutes 0–59; "24:00" is not a time of day.
    """
    return _time(_clean(text), _locale(locale))[0]


def parse_time_range(text: str, locale: Locale | str) -> tuple[int, int]:
    """A typed span of hours as (start, end) minutes: "9-13", "9:00-12:30", "9.00 – 12.30",
    "9 bis 13", "von 9 bis 13 Uhr", "from 9 to 1 pm", "من ٩ إلى ١٣".

    Each side is read like :func:`parse_time`; "24"/"24:00" is allowed as the end (→ 1440).  A
    marker written only at the end carries over to the start when that keeps the start earlier:
    "9-11 pm" is 21:00–23:00, "10-2 pm" is 10:00–14:00.  The end must be after the start
    (``ParseError("range")``); spans across midnight ("22-2") are therefore refused.
    """
    loc = _locale(locale)
    parts = _RANGE_SEPARATOR.split(_RANGE_PREFIX.sub("", _clean(text), count=1))
    if len(parts) != 2 or not all(parts):
        raise ParseError("format")
    start, start_half = _time(parts[0], loc)
    end, end_half = _time(parts[1], loc, end=True)
    if start_half is None and end_half is not None:
        try:
            inherited = _time(parts[0], loc, half=end_half)[0]
        except ParseError:
            inherited = end
        if inherited < end:
            start = inherited
    if end <= start:
        raise ParseError("range")
    return start, end


# Words for hours and minutes as people type them after a duration, in the UI languages (case folded,
# Arabic vowel signs and Persian/Arabic letter forms as `_clean` leaves them).
_HOUR_UNITS = frozenset({"h", "hr", "hrs", "hour", "hours", "std", "stunde", "stunden", "ساعة", "ساعات", "ساعت",
                         "ساعتین", "ساعتان", "ساعه", "گھنټه", "ګړۍ", "saat", "seet", "saacad", "saacadood", "ሰዓት",
                         "час", "часа", "часов", "годину", "години", "годин", "heure", "heures"})
_MINUTE_UNITS = frozenset({"m", "min", "mins", "minute", "minutes", "minuten", "دقيقة", "دقائق", "دقیقه", "دقيقه",
                           "دقیقې", "dakika", "dk", "deqîqe", "daqiiqo", "daqiiqadood", "ደቒቕ", "мин", "минут",
                           "минуты", "хв", "хвилин", "хвилини"})
_DURATION = re.compile(r"(?P<n>[0-9]+(?:[.,٫][0-9]+)?)\s*(?P<unit>[^\W0-9_]*)\.?")


def parse_duration(text: str) -> int:
    """How long, as people type it: "2" or "1,5" (hours), "2 h", "90 min", "۲ ساعت", "1 Stunde 30",
    "1:30" — minutes.  A bare number is hours; with a minute word, minutes."""
    cleaned = _clean(text).strip()
    clock = re.fullmatch(r"([0-9]{1,2})[:.h]([0-9]{2})", cleaned)
    if clock:
        return int(clock[1]) * 60 + int(clock[2])
    parts = list(_DURATION.finditer(cleaned))
    if not parts or "".join(m.group(0) for m in parts).replace(" ", "") != cleaned.replace(" ", ""):
        raise ParseError("format")
    total, last_unit = 0.0, None
    for match in parts:
        number = float(match["n"].replace(",", ".").replace("٫", "."))
        unit = match["unit"]
        if unit in _MINUTE_UNITS or (not unit and last_unit == "hours"):   # "1 Stunde 30": the 30 is minutes
            total += number
            last_unit = "minutes"
        elif unit in _HOUR_UNITS or not unit:
            total += number * 60
            last_unit = "hours"
        else:
            raise ParseError("format")
    if total <= 0 or total != int(total):
        raise ParseError("format")
    return int(total)
