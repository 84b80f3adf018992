"""PDF documents (fpdf2): one way to start a page and choose a font that can write the text.

fpdf2's built-in fonts know Latin-1 only.  A Unicode TrueType font is used when the machine has
one (DejaVu Sans, the Debian package fonts-dejavu-core, or the file named by LOTSE_PDF_FONT): it
covers German, French, Turkish, Kurdish, Somali, Ukrainian and Russian.  Text a font cannot write
(Arabic script or Ge'ez without a font that has them and without text shaping) is not printed as
boxes: `can_write()` tells the caller, which then writes the document in German only and says so.
"""

from __future__ import annotations

import os
from pathlib import Path

from fpdf import FPDF

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/local/share/fonts/DejaVuSans.ttf",
)
FAMILY = "LotseSans"


def unicode_font() -> Path | None:
    """The TrueType font to embed, if this machine has one."""
    chosen = os.environ.get("LOTSE_PDF_FONT")
    for candidate in ((chosen,) if chosen else ()) + FONT_CANDIDATES:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def document(title: str) -> FPDF:
    """An A4 document with one page started and the best font chosen (see can_write)."""
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator("Lotse")
    font = unicode_font()
    if font is not None:
        pdf.add_font(FAMILY, "", str(font))
        pdf.add_font(FAMILY, "B", str(font))
        pdf.set_font(FAMILY, size=11)
    else:
        pdf.set_font("Helvetica", size=11)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    return pdf


def can_write(pdf: FPDF, text: str) -> bool:
    """Whether the document's font has every character of `text` (and the script needs no shaping)."""
    if any("\u0590" <= ch <= "\u08ff" or "\u1200" <= ch <= "\u139f" or "\ufb50" <= ch <= "\ufeff" for ch in text):
        return False  # right-to-left and Ethiopic scripts: shaping and fonts fpdf2 cannot rely on here
    if pdf.font_family == FAMILY.lower():
        font = pdf.fonts[pdf.font_family]
        cmap = getattr(font, "cmap", None)
        return cmap is None or all(ord(ch) in cmap or ch in "\n\t" for ch in text)
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def safe(pdf: FPDF, text: str) -> str:
    """`text` if the font can write it, else with the characters it cannot replaced by '?'."""
    if can_write(pdf, text):
        return text
    return "".join(ch if can_write(pdf, ch) else "?" for ch in text)
