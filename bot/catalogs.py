"""Maintenance of the gettext catalogs: `python -m bot.catalogs check` and `fill-en`.

check    every msgid of locales/messages.pot is translated in every catalog, not fuzzy, with the
         same named placeholders as the msgid, and with every plural form filled (exit 1 if not)
fill-en  the English catalog repeats its msgids (they are English already)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from bot.core.i18n import DOMAIN, LOCALES_DIR

_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
_NOT_S = re.compile(r"%\(\w+\)[^s]")  # values may be wrapped in bidi isolates: strings only


def _read(path: Path, locale: str | None = None) -> Catalog:
    with open(path, "rb") as fh:
        return read_po(fh, locale=locale)


def catalog_paths(locales_dir: Path = LOCALES_DIR) -> dict[str, Path]:
    return {p.parts[-3]: p for p in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))}


def problems(locales_dir: Path = LOCALES_DIR) -> list[str]:
    template = _read(locales_dir / f"{DOMAIN}.pot")
    wanted = {m.id for m in template if m.id}
    found: list[str] = []
    for lang, path in catalog_paths(locales_dir).items():
        catalog = _read(path, lang)
        have = {m.id: m for m in catalog if m.id}
        for msgid in sorted(wanted - set(have), key=str):
            found.append(f"{lang}: missing {msgid!r}")
        for msgid, message in have.items():
            if msgid not in wanted:
                continue
            ids = msgid if isinstance(msgid, tuple) else (msgid,)
            strs = message.string if isinstance(message.string, tuple) else (message.string,)
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
    with open(path, "wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False)


def main(argv: list[str]) -> int:
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
