"""Maintenance of the gettext catalogs: `python -m bot.catalogs update`, `check` and `fill-en`.

update   after `pybabel extract` (make i18n): give every G_ text its "female" and "male" forms
         (msgctxt) in locales/messages.pot, merge the template into every catalog (no fuzzy
         matching, obsolete entries dropped; Dari's catalog with Babel's fa_AF rules), fill English
check    every msgid of locales/messages.pot is translated in every catalog, not fuzzy, with the
         same named placeholders as the msgid, and with every plural form filled; no translation
         is the English msgid itself unless it has no words, or the language's glossary
         (locales/<lang>/glossary.toml, `same = [...]`) allows it (exit 1 if not)
fill-en  the English catalog repeats its msgids (they are English already)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tomllib

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.core.i18n import DOMAIN, GENDERS, LOCALES_DIR, babel_locale

ROOT = LOCALES_DIR.parent
GENDER_NOTES = {"female": "The guide this text is about (or written to) is a woman.",
                "male": "The guide this text is about (or written to) is a man."}
_WORD = re.compile(r"[^\W\d_]{2,}")  # a word of two letters or more, outside placeholders

_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
_NOT_S = re.compile(r"%\(\w+\)[^s]")  # values may be wrapped in bidi isolates: strings only


def _read(path: Path, locale: str | None = None) -> Catalog:
    with open(path, "rb") as fh:
        return read_po(fh, locale=babel_locale(locale) if locale else None)


def _write(path: Path, catalog: Catalog, width: int = 76) -> None:
    with open(path, "wb") as fh:
        write_po(fh, catalog, width=width, omit_header=False, ignore_obsolete=True, include_previous=False)


def gendered_msgids(root: Path = ROOT) -> set[str]:
    """Every msgid marked G_ in bot/ and handlers/."""
    found: set[str] = set()
    for folder in ("bot", "handlers"):
        for _file, _line, message, _comments, _context in extract_from_dir(
                root / folder, method_map=[("**.py", "python")], keywords={"G_": None}):
            found.add(message if isinstance(message, str) else message[0])
    return found


def add_gender_forms(pot: Path, gendered: set[str]) -> None:
    template = _read(pot)
    for msgid in sorted(gendered):
        for gender in GENDERS:
            if template.get(msgid, context=gender) is None:
                template.add(msgid, context=gender, auto_comments=[GENDER_NOTES[gender]],
                             flags=("python-format",) if "%(" in msgid else ())
    _write(pot, template)


def update(locales_dir: Path = LOCALES_DIR) -> None:
    pot = locales_dir / f"{DOMAIN}.pot"
    add_gender_forms(pot, gendered_msgids())
    template = _read(pot)
    for lang, path in catalog_paths(locales_dir).items():
        catalog = _read(path, lang)
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        catalog.obsolete.clear()
        _write(path, catalog, width=100 if lang == "en" else 76)
    fill_english(locales_dir)


def allowed_same(lang: str, locales_dir: Path = LOCALES_DIR) -> set[str]:
    """The msgids this language may leave as they are (names, brands), from its glossary."""
    path = locales_dir / lang / "glossary.toml"
    if not path.exists():
        return set()
    return set(tomllib.loads(path.read_text(encoding="utf-8")).get("same", []))


def _has_words(text: str) -> bool:
    return bool(_WORD.search(_PLACEHOLDER.sub("", text)))


def catalog_paths(locales_dir: Path = LOCALES_DIR) -> dict[str, Path]:
    return {p.parts[-3]: p for p in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))}


def problems(locales_dir: Path = LOCALES_DIR) -> list[str]:
    template = _read(locales_dir / f"{DOMAIN}.pot")
    wanted = {(m.id, m.context) for m in template if m.id}
    found: list[str] = []
    for lang, path in catalog_paths(locales_dir).items():
        catalog = _read(path, lang)
        have = {(m.id, m.context): m for m in catalog if m.id}
        same_ok = allowed_same(lang, locales_dir)
        for msgid, context in sorted(wanted - set(have), key=str):
            found.append(f"{lang}: missing {msgid!r}" + (f" ({context})" if context else ""))
        for key, message in have.items():
            if key not in wanted:
                continue
            msgid = key[0]
            ids = msgid if isinstance(msgid, tuple) else (msgid,)
            strs = message.string if isinstance(message.string, tuple) else (message.string,)
            if lang != "en" and strs and strs[0] == ids[0] and _has_words(ids[0]) and ids[0] not in same_ok:
                found.append(f"{lang}: left in English {ids[0]!r}" + (f" ({key[1]})" if key[1] else ""))
            if message.fuzzy:
                found.append(f"{lang}: fuzzy {ids[0]!r}")
            if isinstance(msgid, tuple) and len(strs) != catalog.num_plurals:
                found.append(f"{lang}: {len(strs)} plural forms instead of {catalog.num_plurals} for {ids[0]!r}")
            if any(_NOT_S.search(i) for i in ids):
                found.append(f"{lang}: use %(name)s placeholders only in {ids[0]!r}")
            expected = set().union(*(set(_PLACEHOLDER.findall(i)) for i in ids))
            for text in strs:
                if not text:
                    found.append(f"{lang}: untranslated {ids[0]!r}")
                elif set(_PLACEHOLDER.findall(text)) - expected or (
                        not isinstance(msgid, tuple) and set(_PLACEHOLDER.findall(text)) != expected):
                    found.append(f"{lang}: placeholders differ in {ids[0]!r}: {text!r}")
    return found


def fill_english(locales_dir: Path = LOCALES_DIR) -> None:
    path = locales_dir / "en" / "LC_MESSAGES" / f"{DOMAIN}.po"
    catalog = _read(path, "en")
    for message in catalog:
        if not message.id:
            continue
        message.string = message.id if isinstance(message.id, tuple) else message.id
        message.flags.discard("fuzzy")
    _write(path, catalog, width=100)


def main(argv: list[str]) -> int:
    if argv[:1] == ["update"]:
        update()
        return 0
    if argv[:1] == ["fill-en"]:
        fill_english()
        return 0
    if argv[:1] == ["check"]:
        found = problems()
        for line in found:
            print(line)
        return 1 if found else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
