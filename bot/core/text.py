"""Free text from people and platforms, made safe to store and to show to someone else.

One rule for every entry point — display names (consent), a request's place and note, feedback
comments, broadcast texts, and command names typed back — so that a name cannot pose as another
and a note cannot carry a terminal escape or reverse the text around it:

- control characters (Unicode category Cc) go; a line break stays only in multi-line text
  (notes, comments, notices), elsewhere it and a tab become a space;
- bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) go everywhere: Lotse
  isolates values itself (bot/core/i18n.py), and a stray override would turn "Leila" into
  "aliel" or a phone number around;
- invisible characters that only hide or join text (zero-width space, word joiner, BOM,
  invisible operators, …) go everywhere;
- names also lose the direction marks (LRM, RLM, ALM), which a note in Dari or Arabic may need.
  Zero-width (non-)joiners stay: Persian words and emoji are written with them.
"""

from __future__ import annotations

import unicodedata

ELLIPSIS = "…"

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
DIRECTION_MARKS = frozenset("\u200e\u200f\u061c")
INVISIBLE = frozenset("\u200b\u2060\u2061\u2062\u2063\u2064\u180e\ufeff\ufff9\ufffa\ufffb"
                      "\u206a\u206b\u206c\u206d\u206e\u206f")
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x85\u2028\u2029")
_DROP_IN_TEXT = BIDI_CONTROLS | INVISIBLE
_DROP_IN_NAMES = _DROP_IN_TEXT | DIRECTION_MARKS


def _clean(text: str, drop: frozenset[str], newline: str) -> str:
    out: list[str] = []
    for ch in text.replace("\r\n", "\n"):
        if ch in _LINE_BREAKS:
            out.append(newline)
        elif ch == "\t":
            out.append(" ")
        elif ch in drop or unicodedata.category(ch) == "Cc":
            continue
        else:
            out.append(ch)
    return "".join(out)


def name(text: str | None) -> str | None:
    """A person's display name: one line, single spaces, nothing invisible; None if nothing is left."""
    if text is None:
        return None
    return " ".join(_clean(text, _DROP_IN_NAMES, " ").split()) or None


def line(text: str) -> str:
    """One line of free text (a place): line breaks become spaces."""
    return _clean(text, _DROP_IN_TEXT, " ").strip()


def multiline(text: str) -> str:
    """Free text that may have several lines (a note, a comment, a notice)."""
    return _clean(text, _DROP_IN_TEXT, "\n").strip()


def shorten(text: str, limit: int = 32) -> str:
    """`text` as it may be echoed back: at most `limit` characters, then "…"."""
    return text if len(text) <= limit else text[:limit] + ELLIPSIS


# Keyboards write the same letter differently: Arabic yeh/kaf vs the Persian ones, alef with or
# without hamza ("الغاء" for "إلغاء"); a ZWNJ may be typed or not ("سه‌شنبه"); Arabic vowel signs and
# tatweel are optional.
_SAME_LETTERS = str.maketrans({"ي": "ی", "ك": "ک", "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "\u200c": None,
                               "\u0640": None})


def _latin_without_accents(text: str) -> str:
    """"terminé" → "termine", "Überspringen" → "uberspringen": accents on Latin letters are
    optional when typing; marks on other scripts' letters stay."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch) and out and unicodedata.name(out[-1], "").startswith("LATIN"):
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def fold(text: str) -> str:
    """A typed answer as it is compared with a button's label or a word: NFKC, case folded, no
    direction marks, yeh and kaf in one form, no ZWNJ, no Arabic vowel signs, no accents on Latin
    letters, spaces squeezed."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_SAME_LETTERS)
    text = "".join(ch for ch in text if ch not in DIRECTION_MARKS and ch not in BIDI_CONTROLS
                   and not "\u064b" <= ch <= "\u065f" and ch != "\u0670")
    return " ".join(_latin_without_accents(text).split())
