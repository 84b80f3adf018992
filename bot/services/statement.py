"""A guide's monthly statement (PDF) of the allowance: the programme, the guide, the month, each
assignment that took place (date, hours), the total hours and €.  Guides on benefits forward it to
the Jobcenter, so it is written in German and, below, in the guide's own language — or in German
only when the document's font cannot write that language (bot/services/pdf.py `can_write`); the
caller tells the guide so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


from bot.config import ProgrammeSettings
from bot.core.i18n import I18n, N_
from bot.services import pdf
from bot.services.programme import statement_total

MSG_TITLE = N_("Monthly statement of the allowance")
MSG_PROGRAMME = N_("Programme: %(name)s")
MSG_GUIDE = N_("Guide: %(name)s")
MSG_MONTH = N_("Month: %(month)s")
MSG_HEADER = N_("Date – hours")
MSG_ROW = N_("%(date)s – %(hours)s h")
MSG_NONE = N_("No appointment took place in this month.")
MSG_TOTAL = N_("Total: %(hours)s h, allowance %(amount)s")
MSG_CREATED = N_("Created by Lotse: %(date)s")


@dataclass(frozen=True)
class Statement:
    content: bytes
    german_only: bool   # the guide's language could not be written (or is German)
    hours: float
    amount: float


def _lines(i18n: I18n, programme: ProgrammeSettings, guide: str, month: date,
           worked: list[tuple[datetime, float]], hours: float, amount: float, now: datetime) -> list[str]:
    lines = [i18n.gettext(MSG_PROGRAMME, name=programme.name), i18n.gettext(MSG_GUIDE, name=guide),
             i18n.gettext(MSG_MONTH, month=i18n.month(month.year, month.month)), "", i18n.gettext(MSG_HEADER)]
    lines += [i18n.gettext(MSG_ROW, date=i18n.date(at, "medium"), hours=i18n.number(h)) for at, h in worked]
    if not worked:
        lines.append(i18n.gettext(MSG_NONE))
    lines += ["", i18n.gettext(MSG_TOTAL, hours=i18n.number(hours), amount=i18n.euro(amount)),
              i18n.gettext(MSG_CREATED, date=i18n.date(now, "medium"))]
    return lines


def monthly_statement(programme: ProgrammeSettings, guide: str, month: date, worked: list[tuple[datetime, float]],
                      german: I18n, own: I18n, now: datetime) -> Statement:
    """The PDF for `month` (its first day) from the assignments that took place (start, counted hours)."""
    hours, amount = statement_total(programme, worked)
    doc = pdf.document(german.gettext(MSG_TITLE))
    blocks = [(german.gettext(MSG_TITLE), _lines(german, programme, guide, month, worked, hours, amount, now))]
    german_only = True
    if own.language != german.language:
        title = own.gettext(MSG_TITLE)
        lines = _lines(own, programme, guide, month, worked, hours, amount, now)
        if pdf.can_write(doc, "\n".join([title, *lines])):
            blocks.append((title, lines))
            german_only = False
    for number, (title, lines) in enumerate(blocks):
        if number:
            doc.ln(6)
        doc.set_font(size=14)
        doc.multi_cell(0, 8, pdf.safe(doc, title), new_x="LMARGIN", new_y="NEXT")
        doc.set_font(size=11)
        for line in lines:
            doc.multi_cell(0, 6, pdf.safe(doc, line) or " ", new_x="LMARGIN", new_y="NEXT")
    return Statement(bytes(doc.output()), german_only, hours, amount)
