"""Typed dates, times and weekly hours: forgiving, locale-aware, never silently wrong."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from babel import Locale
from babel.dates import format_date, format_time
from hypothesis import given
from hypothesis import strategies as st

from bot.core.when import ParseError, normalize_digits, parse_date, parse_time, parse_time_range

TODAY = date(2026, 11, 25)
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
DIGIT_ZEROS = [0x0660, 0x06F0, 0xFF10, 0x0966, 0x09E6, 0x1040]  # Arabic-Indic … Myanmar


def reason(call, *args) -> str:
    with pytest.raises(ParseError) as caught:
        call(*args)
    return caught.value.reason


# --- digits --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("٠١٢٣٤٥٦٧٨٩", "0123456789"),
    ("۰۱۲۳۴۵۶۷۸۹", "0123456789"),
    ("０１２３", "0123"),
    ("१२:३०", "12:30"),
    ("\u200f٣\u200f/\u200f١٢\u200f/٢٠٢٦", "3/12/2026"),
    ("\u2067٩\u2069 \u061cم\u200e", "9 م"),
    ("  9\u00a0:\t30\u202fpm \n", "9 : 30 pm"),
    ("²", "²"),                      # a superscript is a digit but no decimal digit
    ("Uhr مساء", "Uhr مساء"),
])
def test_normalize_digits(text: str, expected: str) -> None:
    assert normalize_digits(text) == expected


@given(st.text(alphabet="0123456789", min_size=1), st.sampled_from(DIGIT_ZEROS))
def test_every_digit_script_reads_as_ascii(digits: str, zero: int) -> None:
    assert normalize_digits("".join(chr(zero + int(d)) for d in digits)) == digits


# --- dates ---------------------------------------------------------------------------------------

def test_babel_short_patterns_we_rely_on() -> None:
    # de day first with two-digit year; en is US English, month first; ar day first, four-digit
    # year, with RIGHT-TO-LEFT MARKs inside the pattern (stripped by normalize_digits).
    assert Locale.parse("de").date_formats["short"].pattern == "dd.MM.yy"
    assert Locale.parse("en").date_formats["short"].pattern == "M/d/yy"
    assert Locale.parse("ar").date_formats["short"].pattern == "d\u200f/M\u200f/y"
    assert format_date(date(2026, 12, 3), "short", locale="ar") == "3\u200f/12\u200f/2026"


@pytest.mark.parametrize(("locale", "text", "expected"), [
    ("de", "3.12.", date(2026, 12, 3)),
    ("de", "03.12", date(2026, 12, 3)),
    ("de", "3.12.2026", date(2026, 12, 3)),
    ("de", "3.12.26", date(2026, 12, 3)),
    ("de", "3/12", date(2026, 12, 3)),
    ("de", "3-12-2026", date(2026, 12, 3)),
    ("de", "3. 12. 2027", date(2027, 12, 3)),
    ("de", "3 12", date(2026, 12, 3)),
    ("de", "2026-12-03", date(2026, 12, 3)),
    ("de", "۳.۱۲.۲۶", date(2026, 12, 3)),
    ("de", "３．１２．", date(2026, 12, 3)),
    ("de", "1.5.", date(2027, 5, 1)),          # already past this year → next year
    ("de", "25.11.", date(2026, 11, 25)),      # today itself counts
    ("de_DE", "3.12.", date(2026, 12, 3)),
    ("de-AT", "3.12.", date(2026, 12, 3)),
    ("en", "12/3", date(2026, 12, 3)),
    ("en", "3/12", date(2027, 3, 12)),
    ("en", "12/3/26", date(2026, 12, 3)),
    ("en", "12-3-2026", date(2026, 12, 3)),
    ("en", "2026-12-03", date(2026, 12, 3)),
    ("en", "2026/3/12", date(2026, 3, 12)),    # year first is always ISO year-month-day
    ("en_GB", "3/12", date(2026, 12, 3)),
    ("ar", "3/12", date(2026, 12, 3)),
    ("ar", "٣/١٢", date(2026, 12, 3)),
    ("ar", "٣/١٢/٢٠٢٦", date(2026, 12, 3)),
    ("ar", "\u200f٣\u200f/١٢\u200f/٢٠٢٦\u200f", date(2026, 12, 3)),
    ("ar", "3\u200f/12\u200f/2026", date(2026, 12, 3)),
    ("ar", "۳-۱۲-۲۰۲۶", date(2026, 12, 3)),
    ("ar", "\u2066٢٠٢٦-١٢-٠٣\u2069", date(2026, 12, 3)),
    ("ar_EG", "3/12", date(2026, 12, 3)),
    ("fa", "12/3", date(2026, 12, 3)),         # Babel's fa pattern is y/M/d: month before day
])
def test_good_dates(locale: str, text: str, expected: date) -> None:
    assert parse_date(text, locale, TODAY) == expected
    assert parse_date(text, Locale.parse(locale.replace("-", "_")), TODAY) == expected


@pytest.mark.parametrize(("locale", "text", "why"), [
    ("de", "", "format"),
    ("de", "   ", "format"),
    ("de", "morgen", "format"),
    ("de", "3", "format"),
    ("de", "3.12.2026.1", "format"),
    ("de", "3.12.026", "format"),
    ("de", "3.12.2", "format"),
    ("de", "003.12.", "format"),
    ("de", "3.012", "format"),
    ("de", "12.2026", "format"),
    ("de", "3.2026.12", "format"),
    ("de", "0312", "format"),
    ("de", "9:30", "format"),
    ("de", "3.12. 9:30", "format"),
    ("de", "3.12a", "format"),
    ("de", "31.2.", "no_such_date"),
    ("de", "30.2.2028", "no_such_date"),
    ("de", "29.2.2027", "no_such_date"),
    ("de", "31.4.", "no_such_date"),
    ("de", "0.5.", "no_such_date"),
    ("de", "5.0.", "no_such_date"),
    ("de", "32.1.", "no_such_date"),
    ("de", "13.13.", "no_such_date"),
    ("de", "2026-02-30", "no_such_date"),
    ("de", "1.1.0000", "no_such_date"),
    ("en", "13/5", "no_such_date"),            # not silently read as 13 May
    ("en", "2/31/2026", "no_such_date"),
    ("ar", "٣١/٢", "no_such_date"),
    ("ar", "غدا", "format"),
])
def test_bad_dates(locale: str, text: str, why: str) -> None:
    assert reason(parse_date, text, locale, TODAY) == why


@pytest.mark.parametrize(("today", "text", "expected"), [
    (date(2026, 12, 20), "3.1.", date(2027, 1, 3)),
    (date(2026, 12, 31), "1.1.", date(2027, 1, 1)),
    (date(2026, 12, 31), "31.12.", date(2026, 12, 31)),
    (date(2027, 1, 1), "31.12.", date(2027, 12, 31)),
    (date(2026, 12, 4), "3.12.", date(2027, 12, 3)),
    (date(2099, 12, 31), "1.1.", date(2100, 1, 1)),
])
def test_year_less_dates_roll_over_the_new_year(today: date, text: str, expected: date) -> None:
    assert parse_date(text, "de", today) == expected


@pytest.mark.parametrize(("today", "expected"), [
    (date(2026, 11, 25), date(2028, 2, 29)),
    (date(2028, 1, 10), date(2028, 2, 29)),
    (date(2028, 2, 29), date(2028, 2, 29)),
    (date(2028, 3, 1), date(2032, 2, 29)),
    (date(2096, 3, 1), date(2104, 2, 29)),     # 2100 is no leap year
])
def test_29_february_is_the_next_one_that_exists(today: date, expected: date) -> None:
    assert parse_date("29.2.", "de", today) == expected
    assert parse_date("2/29", "en", today) == expected


def test_two_digit_years_are_this_century() -> None:
    assert parse_date("1.1.99", "de", TODAY) == date(2099, 1, 1)
    assert parse_date("1.1.00", "de", TODAY) == date(2000, 1, 1)


@given(st.dates(date(2000, 1, 1), date(2099, 12, 31)), st.sampled_from(["de", "en", "en_GB", "ar", "ar_EG"]))
def test_babel_short_dates_read_back(day: date, locale: str) -> None:
    assert parse_date(format_date(day, "short", locale=locale), locale, day) == day


@given(st.dates(date(1000, 1, 1), date(9999, 12, 31)), st.sampled_from([ARABIC_INDIC, PERSIAN, {}]))
def test_arabic_short_dates_read_back_in_any_digits(day: date, digits: dict) -> None:
    typed = format_date(day, "short", locale="ar").translate(digits)
    assert parse_date(typed, "ar", date(2026, 1, 1)) == day


@given(st.dates(date(2000, 1, 1), date(2090, 12, 31)), st.dates(date(2000, 1, 1), date(2090, 12, 31)))
def test_year_less_date_is_the_first_occurrence_on_or_after_today(today: date, wanted: date) -> None:
    found = parse_date(f"{wanted.day}.{wanted.month}.", "de", today)
    assert (found.day, found.month) == (wanted.day, wanted.month)
    assert today <= found < today + timedelta(days=366 * 8)
    for year in range(today.year, found.year):
        try:
            assert date(year, wanted.month, wanted.day) < today
        except ValueError:                     # 29 February in a common year
            pass


# --- times ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("locale", "text", "expected"), [
    ("de", "9", 540),
    ("de", "0", 0),
    ("de", "9:30", 570),
    ("de", "9.30", 570),
    ("de", "09:30", 570),
    ("de", "9h30", 570),
    ("de", "9 h", 540),
    ("de", "9 30", 570),
    ("de", "9 Uhr", 540),
    ("de", "um 9 Uhr", 540),
    ("de", "14 Uhr 30", 870),
    ("de", "14.30 Uhr", 870),
    ("de", "930", 570),
    ("de", "0930", 570),
    ("de", "2359", 1439),
    ("de", "0000", 0),
    ("de", "9:30 pm", 1290),
    ("de", "９：３０", 570),
    ("en", "9pm", 1260),
    ("en", "9 PM", 1260),
    ("en", "9:30 p.m.", 1290),
    ("en", "9 a.m.", 540),
    ("en", "9:30\u202fAM", 570),
    ("en", "12 am", 0),
    ("en", "12:30 am", 30),
    ("en", "12 pm", 720),
    ("en", "12:15 PM", 735),
    ("en", "9 o'clock", 540),
    ("en", "at 9 o’clock", 540),
    ("en", "٩ م", 1260),                   # Arabic markers are understood in every locale
    ("ar", "٩", 540),
    ("ar", "٩:٣٠", 570),
    ("ar", "۹:۳۰", 570),
    ("ar", "٩٫٣٠", 570),                   # ARABIC DECIMAL SEPARATOR as on Arabic keyboards
    ("ar", "١٤:٠٠", 840),
    ("ar", "\u200f٩:٣٠ م\u200f", 1290),
    ("ar", "٩:٣٠ ص", 570),
    ("ar", "9م", 1260),
    ("ar", "٩ مساءً", 1260),
    ("ar", "٩ مساء", 1260),
    ("ar", "الساعة ٩ صباحًا", 540),
    ("ar", "١٢ ص", 0),
    ("ar", "9 pm", 1260),
    ("fa", "۹:۳۰ ب.ظ.", 1290),             # the locale's own day periods
    ("tr", "9:30 ÖS", 1290),
])
def test_good_times(locale: str, text: str, expected: int) -> None:
    assert parse_time(text, locale) == expected


@pytest.mark.parametrize("text", [
    "", "Uhr", "abends", "24", "24:00", "2400", "25", "9:60", "9:5", "9.3", "9:", "99", "12345",
    "1:2:3", "9 30 45", "-9", "9-10", "13 pm", "0 am", "0:30 am", "21:30 م", "9 x", "9 a", "9 uhrzeit",
    "nine", "9 pm pm", "3/4",
])
def test_bad_times(text: str) -> None:
    assert reason(parse_time, text, "de") == "format"


def test_day_period_names_belong_to_their_locale() -> None:
    assert parse_time("9 ب.ظ.", "fa") == 1260
    assert reason(parse_time, "9 ب.ظ.", "de") == "format"


@given(st.integers(0, 1439))
def test_times_read_back(minutes: int) -> None:
    h, mm = divmod(minutes, 60)
    assert parse_time(f"{h}:{mm:02d}", "de") == minutes
    assert parse_time(f"{h:02d}.{mm:02d}", "en") == minutes
    assert parse_time(f"{h}{mm:02d}", "de") == minutes
    assert parse_time(f"{h}:{mm:02d}".translate(ARABIC_INDIC), "ar") == minutes


@given(st.integers(0, 1439), st.sampled_from(["de", "en", "ar", "ar_EG", "en_GB", "fa"]))
def test_babel_short_times_read_back(minutes: int, locale: str) -> None:
    shown = format_time(time(*divmod(minutes, 60)), "short", locale=locale)
    assert parse_time(shown, locale) == minutes


# --- ranges --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("locale", "text", "expected"), [
    ("de", "9-13", (540, 780)),
    ("de", "9:00-12:30", (540, 750)),
    ("de", "9.00 – 12.30", (540, 750)),
    ("de", "9.00—12.30", (540, 750)),
    ("de", "9 bis 13", (540, 780)),
    ("de", "9 bis 13 Uhr", (540, 780)),
    ("de", "von 9 bis 13 Uhr", (540, 780)),
    ("de", "ab 9 Uhr bis 13 Uhr", (540, 780)),
    ("de", "16-24", (960, 1440)),
    ("de", "16-24:00", (960, 1440)),
    ("de", "0-24", (0, 1440)),
    ("de", "0930-1200", (570, 720)),
    ("en", "9 to 13", (540, 780)),
    ("en", "from 9 to 13", (540, 780)),
    ("en", "9 until 1pm", (540, 780)),
    ("en", "9am-1pm", (540, 780)),
    ("en", "9-11 pm", (1260, 1380)),        # a marker at the end also covers the start …
    ("en", "10-2 pm", (600, 840)),          # … unless that would put the start after the end
    ("en", "12-2pm", (720, 840)),
    ("en", "9:30 am to 12", (570, 720)),
    ("ar", "من ٩ إلى ١٣", (540, 780)),
    ("ar", "٩ الى ١٣", (540, 780)),
    ("ar", "٩-١٣", (540, 780)),
    ("ar", "\u200f٩:٠٠\u200f - \u200f١٢:٣٠\u200f", (540, 750)),
    ("ar", "۹ تا ۱۳", (540, 780)),
    ("ar", "٩ص-١م", (540, 780)),
    ("ar", "٩ - ١١ م", (1260, 1380)),
])
def test_good_ranges(locale: str, text: str, expected: tuple[int, int]) -> None:
    assert parse_time_range(text, locale) == expected


@pytest.mark.parametrize(("text", "why"), [
    ("13-9", "range"),
    ("9-9", "range"),
    ("22-2", "range"),                      # across midnight: refused, not guessed
    ("9pm-11", "range"),
    ("10pm-12am", "range"),
    ("9", "format"),
    ("9-", "format"),
    ("-13", "format"),
    ("9 13", "format"),
    ("9-13-15", "format"),
    ("9 bis", "format"),
    ("24-25", "format"),
    ("24-24", "format"),                    # 24 only as an end
    ("9-24:30", "format"),
    ("9-25", "format"),
    ("morgens", "format"),
    ("9 bisher 13", "format"),
])
def test_bad_ranges(text: str, why: str) -> None:
    assert reason(parse_time_range, text, "de") == why


@given(st.integers(0, 1439), st.integers(1, 1440), st.sampled_from(["-", " - ", "–", " bis ", " to ", " إلى "]),
       st.sampled_from([":", ".", "h"]), st.booleans())
def test_ranges_read_back(start: int, length: int, separator: str, colon: str, arabic: bool) -> None:
    end = min(start + length, 1440)

    def shown(m: int) -> str:
        return f"{m // 60}{colon}{m % 60:02d}"

    text = f"{shown(start)}{separator}{shown(end)}"
    assert parse_time_range(text.translate(ARABIC_INDIC) if arabic else text, "de") == (start, end)
    assert reason(parse_time_range, f"{shown(end)}{separator}{shown(start)}", "de") in {"range", "format"}


# Tuesday 1 December 2026: month names and weekdays as people type them, in each UI language's words
# (and English everywhere), in each script's digits.
@pytest.mark.parametrize("locale, text, expected", [
    ("de", "3 Dezember", date(2026, 12, 3)),
    ("de", "Dienstag, 8. Dezember", date(2026, 12, 8)),
    ("de", "nächsten Dienstag", date(2026, 12, 8)),          # a weekday: the next one after today
    ("en", "December 3rd", date(2026, 12, 3)),
    ("en", "3 January 2027", date(2027, 1, 3)),
    ("ar", "٣ ديسمبر", date(2026, 12, 3)),
    ("ar", "الخميس", date(2026, 12, 3)),
    ("fa", "۳ دسامبر", date(2026, 12, 3)),
    ("fa", "سه شنبه", date(2026, 12, 8)),                    # typed with a space, not a ZWNJ
    ("fa_AF", "۵ جنوري", date(2027, 1, 5)),                  # Arabic yeh typed for the Persian one
    ("ps", "۳ دسمبر", date(2026, 12, 3)),
    ("uk", "3 грудня", date(2026, 12, 3)),
    ("ru", "3 декабря", date(2026, 12, 3)),
    ("ru", "четверг", date(2026, 12, 3)),
    ("tr", "3 Aralık", date(2026, 12, 3)),
    ("ku", "3 berfanbar", date(2026, 12, 3)),
    ("ti", "5 ጥሪ", date(2027, 1, 5)),
    ("so", "3 Diseembar", date(2026, 12, 3)),
    ("so", "Khamiis", date(2026, 12, 3)),
    ("fr", "3 décembre", date(2026, 12, 3)),
    ("fr", "jeudi", date(2026, 12, 3)),
])
def test_dates_with_month_and_weekday_names(locale: str, text: str, expected: date) -> None:
    assert parse_date(text, locale, date(2026, 12, 1)) == expected


@pytest.mark.parametrize("text", ["hello", "3 hello December", "December", "3 4 5 December", "Dienstag Mittwoch",
                                  "123 Dezember"])
def test_words_that_name_no_date_are_refused(text: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_date(text, "de", date(2026, 12, 1))
    assert caught.value.reason == "format"
