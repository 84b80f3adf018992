"""The coordinator's reports of a year (`lotse report`, and the buttons under `stats`):

- the payment list: each guide's hours and allowance per month, by name (coordinators only; a guide
  who was erased, or never gave a name, appears by pseudonym, as in the funder's export);
- the funder's summary for the Verwendungsnachweis: assignments by topic, language and district,
  hours and allowances in total, active guides, the share of the project's pool, and hours per
  month (a bar chart in the PDF).

The money rules are bot/services/programme.py's and what an assignment counts bot/store/programme.py's:
an assignment is in the report once it took place (programme.paid); those still booked in the year
are only counted apart.  Files: CSV (UTF-8 with BOM, `;`, CRLF, numbers in the reader's locale) or
PDF (fpdf2, bot/services/pdf.py).  Every label is in the coordinator's language.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from babel.dates import get_month_names
from babel.numbers import format_decimal
from fpdf import FPDF

from bot.config import ProgrammeSettings
from bot.core.i18n import I18n, N_
from bot.services import pdf as pdfs
from bot.services import programme as rules
from bot.store.stats import PSEUDONYM_KEY, pseudonym

Label = Callable[[I18n, str], str]  # a topic's or a language's name in the reader's language (handlers/labels.py)

FORMATS = ("pdf", "csv")

MSG_PAYMENTS_TITLE = N_("Payment list %(year)s")
MSG_SUMMARY_TITLE = N_("Summary for the funder %(year)s")
H_GUIDE = N_("Name")  # not "Guide": that msgid is the preferred gender of a guide
H_MONTH = N_("Month")
H_ASSIGNMENTS = N_("Assignments")
H_HOURS = N_("Hours")
H_ALLOWANCE = N_("Allowance (€)")
H_NOTES = N_("Notes")
H_FIGURE = N_("Figure")
H_VALUE = N_("Value")
H_TOPIC = N_("Topic")
H_LANGUAGE = N_("Language")
H_DISTRICT = N_("District")
F_YEAR = N_("Year")
F_PROGRAMME = N_("Programme")
F_ASSIGNMENTS = N_("Assignments that took place")
F_HOURS = N_("Hours")
F_ALLOWANCES = N_("Allowances (€)")
F_GUIDES = N_("Active guides")
F_POOL = N_("Pool (hours)")
F_POOL_USED = N_("Pool used (%)")
F_BOOKED = N_("Booked, not yet reported")
NOTE_COORDINATING = N_("also coordinates")
NOTE_BENEFITS = N_("over the benefits limit in %(months)s")
NOTE_TAX_FREE = N_("over the tax-free amount of %(amount)s")
MSG_CONFIDENTIAL = N_("For coordinators only: this list names guides. Guides who were erased appear by pseudonym.")
MSG_CHART = N_("Hours per month")
MSG_POOL = N_("Pool used: %(hours)s of %(pool)s hours (%(share)s %%)")
MSG_NO_POOL = N_("The project has no pool of hours.")
MSG_FIGURE_LINE = N_("%(figure)s: %(value)s")
MSG_NO_NAMES = N_("This summary names no newcomer and no guide.")
MSG_LANGUAGE_NOTE = N_("Written in German: the font cannot write this language.")
UNKNOWN = N_("not given")


@dataclass(frozen=True)
class Payment:
    name: str                 # the guide's name, or their pseudonym
    account: rules.Account


@dataclass(frozen=True)
class MonthTotal:
    assignments: int = 0
    hours: float = 0.0
    allowance: float = 0.0


@dataclass(frozen=True)
class Report:
    year: int
    programme: str
    payments: list[Payment]
    months: dict[int, MonthTotal]          # 1–12, every month
    by_topic: dict[str, int]               # most first
    by_language: dict[str, int]
    by_district: dict[str, int]
    booked: int                            # assignments in the year still booked (not in the figures)
    pool_hours: float = 0.0                # 0: no pool

    @property
    def assignments(self) -> int:
        return sum(m.assignments for m in self.months.values())

    @property
    def hours(self) -> float:
        return round(sum(m.hours for m in self.months.values()), 2)

    @property
    def allowance(self) -> float:
        return round(sum(m.allowance for m in self.months.values()), 2)

    @property
    def active_guides(self) -> int:
        return sum(1 for p in self.payments if p.account.months)

    @property
    def pool_share(self) -> float | None:
        return None if not self.pool_hours else self.hours / self.pool_hours


def _most_first(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda item: (-item[1], item[0])))


async def build(store, programme: ProgrammeSettings, zone: ZoneInfo, year: int) -> Report:  # noqa: ANN001
    """The year's report from the database (`store`: bot/store/store.py's Store, read-only is enough)."""
    start, end = rules.year_span(year, zone)
    rows = await store.programme.details(start, end, programme.rounding)
    taken = [row for row in rows if rules.paid(row.state)]
    per_guide: dict[int, list] = {}
    for row in taken:
        per_guide.setdefault(row.guide_id, []).append((row.starts_at, row.hours))
    entries = await store.programme.guides(sorted(per_guide))
    key = await store.stats.secret(PSEUDONYM_KEY) if per_guide else None
    payments = []
    for guide_id, counted in per_guide.items():
        entry = entries.get(guide_id)
        named = entry is not None and not entry.erased and entry.name
        name = entry.name if named else (pseudonym(key, guide_id) if key else f"#{guide_id}")
        account = rules.build_account(programme, guide_id, year, bool(entry and entry.coordinating),
                                      bool(entry and entry.benefits), counted, zone)
        payments.append(Payment(name, account))  # type: ignore[arg-type]
    payments.sort(key=lambda p: (p.name.casefold(), p.account.guide_id))
    months = {}
    for number in range(1, 13):
        parts = [p.account.months[number] for p in payments if number in p.account.months]
        months[number] = MonthTotal(sum(m.assignments for m in parts), round(sum(m.hours for m in parts), 2),
                                    round(sum(m.allowance for m in parts), 2))
    return Report(
        year=year, programme=programme.name, payments=payments, months=months,
        by_topic=_most_first(Counter(row.topic for row in taken)),
        by_language=_most_first(Counter(row.language for row in taken)),
        by_district=_most_first(Counter(row.district for row in taken)),
        booked=len(rows) - len(taken), pool_hours=programme.pool_hours)


# -- formatting ---------------------------------------------------------------------------------

def hours_text(i18n: I18n, value: float) -> str:
    return format_decimal(value, format="0.##", locale=i18n.locale)


def money_text(i18n: I18n, value: float) -> str:
    return format_decimal(value, format="0.00", locale=i18n.locale)


def _label(i18n: I18n, name: Label, code: str) -> str:
    return name(i18n, code) if code else i18n._(UNKNOWN)


def notes(i18n: I18n, programme: ProgrammeSettings, account: rules.Account, year: int) -> str:
    found = []
    if account.coordinating:
        found.append(i18n._(NOTE_COORDINATING))
    if account.benefit_months:
        found.append(i18n._(NOTE_BENEFITS, months=i18n.join(
            [i18n.month(year, m) for m in account.benefit_months])))
    if rules.over_tax_free(programme, account):
        found.append(i18n._(NOTE_TAX_FREE, amount=i18n.euro(programme.tax_free_yearly)))
    return i18n.join(found)


def figures(i18n: I18n, report: Report) -> list[tuple[str, str]]:
    """(label, value) of the summary's totals."""
    rows = [(i18n._(F_YEAR), str(report.year))]
    if report.programme:
        rows.append((i18n._(F_PROGRAMME), report.programme))
    rows += [(i18n._(F_ASSIGNMENTS), i18n.number(report.assignments)),
             (i18n._(F_HOURS), i18n.number(report.hours)),
             (i18n._(F_ALLOWANCES), format_decimal(report.allowance, format="#,##0.00", locale=i18n.locale)),
             (i18n._(F_GUIDES), i18n.number(report.active_guides))]
    if report.pool_share is not None:
        rows += [(i18n._(F_POOL), i18n.number(report.pool_hours)),
                 (i18n._(F_POOL_USED), i18n.number(round(report.pool_share * 100, 1)))]
    rows.append((i18n._(F_BOOKED), i18n.number(report.booked)))
    return rows


# -- CSV ----------------------------------------------------------------------------------------

def _csv(sections: list[list[tuple[str, ...]]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for number, section in enumerate(sections):
        if number:
            writer.writerow(())
        writer.writerows(section)
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def payments_csv(report: Report, i18n: I18n, programme: ProgrammeSettings) -> bytes:
    """Two sections: guide × month (assignments, hours, €), then per guide the year with notes."""
    _ = i18n._
    months: list[tuple[str, ...]] = [(_(H_GUIDE), _(H_MONTH), _(H_ASSIGNMENTS), _(H_HOURS), _(H_ALLOWANCE))]
    totals: list[tuple[str, ...]] = [(_(H_GUIDE), _(H_ASSIGNMENTS), _(H_HOURS), _(H_ALLOWANCE), _(H_NOTES))]
    for payment in report.payments:
        account = payment.account
        for number, month in sorted(account.months.items()):
            months.append((payment.name, i18n.month(report.year, number), str(month.assignments),
                           hours_text(i18n, month.hours), money_text(i18n, month.allowance)))
        totals.append((payment.name, str(sum(m.assignments for m in account.months.values())),
                       hours_text(i18n, account.hours), money_text(i18n, account.allowance),
                       notes(i18n, programme, account, report.year)))
    return _csv([months, totals])


def summary_csv(report: Report, i18n: I18n, topic: Label, language: Label) -> bytes:
    """Sections: the totals (figure; value), months, topics, languages, districts."""
    _ = i18n._
    totals: list[tuple[str, ...]] = [(_(H_FIGURE), _(H_VALUE))]
    totals += [(label, value.replace("\u00a0", " ")) for label, value in _plain_figures(i18n, report)]
    months: list[tuple[str, ...]] = [(_(H_MONTH), _(H_ASSIGNMENTS), _(H_HOURS), _(H_ALLOWANCE))]
    months += [(i18n.month(report.year, n), str(m.assignments), hours_text(i18n, m.hours),
                money_text(i18n, m.allowance)) for n, m in sorted(report.months.items())]
    groups = [[(_(H_TOPIC), _(H_ASSIGNMENTS))] + [(_label(i18n, topic, c), str(n)) for c, n in report.by_topic.items()],
              [(_(H_LANGUAGE), _(H_ASSIGNMENTS))]
              + [(_label(i18n, language, c), str(n)) for c, n in report.by_language.items()],
              [(_(H_DISTRICT), _(H_ASSIGNMENTS))] + [(c or _(UNKNOWN), str(n)) for c, n in report.by_district.items()]]
    return _csv([totals, months, *groups])


def _plain_figures(i18n: I18n, report: Report) -> list[tuple[str, str]]:
    """The totals for a spreadsheet: numbers without grouping, so that they stay numbers."""
    plain = {i18n._(F_ASSIGNMENTS): str(report.assignments), i18n._(F_HOURS): hours_text(i18n, report.hours),
             i18n._(F_ALLOWANCES): money_text(i18n, report.allowance), i18n._(F_GUIDES): str(report.active_guides),
             i18n._(F_POOL): hours_text(i18n, report.pool_hours), i18n._(F_BOOKED): str(report.booked)}
    if report.pool_share is not None:
        plain[i18n._(F_POOL_USED)] = format_decimal(report.pool_share * 100, format="0.#", locale=i18n.locale)
    return [(label, plain.get(label, value)) for label, value in figures(i18n, report)]


# -- PDF ----------------------------------------------------------------------------------------

def _start(i18n: I18n, fallback: I18n, title_msgid: str, year: int) -> tuple[FPDF, I18n, bool]:
    """A document in the coordinator's language, or in `fallback`'s if the font cannot write it."""
    pdf = pdfs.document(i18n._(title_msgid, year=year))
    sample = i18n._(title_msgid, year=year) + i18n._(H_HOURS) + i18n._(MSG_CHART)
    if pdfs.can_write(pdf, sample):
        return pdf, i18n, False
    pdf.set_title(fallback._(title_msgid, year=year))
    return pdf, fallback, True


def _heading(pdf: FPDF, text: str, size: int = 16) -> None:
    pdf.set_font(size=size, style="B")
    pdf.multi_cell(0, size * 0.5, pdfs.safe(pdf, text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(size=11, style="")
    pdf.ln(2)


def _line(pdf: FPDF, text: str) -> None:
    pdf.multi_cell(0, 6, pdfs.safe(pdf, text), new_x="LMARGIN", new_y="NEXT")


def _row(pdf: FPDF, cells: list[str], widths: list[float], bold: bool = False) -> None:
    pdf.set_font(size=10, style="B" if bold else "")
    for number, (text, width) in enumerate(zip(cells, widths)):
        pdf.cell(width, 6, pdfs.safe(pdf, text), border="B" if bold else 0, align="L" if number == 0 else "R")
    pdf.ln(6)
    pdf.set_font(size=11, style="")


def payments_pdf(report: Report, i18n: I18n, fallback: I18n, programme: ProgrammeSettings) -> bytes:
    pdf, i18n, switched = _start(i18n, fallback, MSG_PAYMENTS_TITLE, report.year)
    _ = i18n._
    _heading(pdf, _(MSG_PAYMENTS_TITLE, year=report.year))
    if report.programme:
        _line(pdf, report.programme)
    _line(pdf, _(MSG_CONFIDENTIAL))
    if switched:
        _line(pdf, _(MSG_LANGUAGE_NOTE))
    pdf.ln(3)
    widths = [70.0, 40.0, 25.0, 25.0, 30.0]
    _row(pdf, [_(H_GUIDE), _(H_MONTH), _(H_ASSIGNMENTS), _(H_HOURS), _(H_ALLOWANCE)], widths, bold=True)
    for payment in report.payments:
        account = payment.account
        for number, month in sorted(account.months.items()):
            _row(pdf, [payment.name, i18n.month(report.year, number), i18n.number(month.assignments),
                       i18n.number(month.hours), i18n.euro(month.allowance)], widths)
        _row(pdf, [payment.name, str(report.year), i18n.number(sum(m.assignments for m in account.months.values())),
                   i18n.number(account.hours), i18n.euro(account.allowance)], widths, bold=True)
        remark = notes(i18n, programme, account, report.year)
        if remark:
            _line(pdf, remark)
        pdf.ln(2)
    return bytes(pdf.output())


def _chart(pdf: FPDF, i18n: I18n, report: Report) -> None:
    """Hours per month as bars, with fpdf2's rectangles and lines (no chart library)."""
    _heading(pdf, i18n._(MSG_CHART), size=13)
    left, width, height = pdf.l_margin + 10, pdf.epw - 10, 60.0
    top = pdf.get_y() + 4
    bottom = top + height
    peak = max((m.hours for m in report.months.values()), default=0.0) or 1.0
    slot = width / 12
    pdf.set_draw_color(0, 0, 0)
    pdf.line(left, bottom, left + width, bottom)
    pdf.line(left, top, left, bottom)
    names = get_month_names("abbreviated", locale=i18n.locale)
    pdf.set_font(size=8)
    for number in range(1, 13):
        hours = report.months[number].hours
        bar = height * hours / peak
        x = left + (number - 1) * slot + slot * 0.15
        if bar:
            pdf.set_fill_color(46, 110, 160)
            pdf.rect(x, bottom - bar, slot * 0.7, bar, style="F")
        pdf.set_xy(x - slot * 0.15, bottom - bar - 5)
        pdf.cell(slot, 4, pdfs.safe(pdf, i18n.number(hours)), align="C")
        pdf.set_xy(x - slot * 0.15, bottom + 1)
        pdf.cell(slot, 4, pdfs.safe(pdf, names[number]), align="C")
    pdf.set_font(size=11)
    pdf.set_xy(pdf.l_margin, bottom + 8)


def summary_pdf(report: Report, i18n: I18n, fallback: I18n, topic: Label, language: Label) -> bytes:
    pdf, i18n, switched = _start(i18n, fallback, MSG_SUMMARY_TITLE, report.year)
    _ = i18n._
    _heading(pdf, _(MSG_SUMMARY_TITLE, year=report.year))
    if switched:
        _line(pdf, _(MSG_LANGUAGE_NOTE))
    for label, value in figures(i18n, report):
        if label not in (_(F_POOL), _(F_POOL_USED)):
            _line(pdf, _(MSG_FIGURE_LINE, figure=label, value=value))
    if report.pool_share is None:
        _line(pdf, _(MSG_NO_POOL))
    else:
        _line(pdf, _(MSG_POOL, hours=i18n.number(report.hours), pool=i18n.number(report.pool_hours),
                     share=i18n.number(round(report.pool_share * 100, 1))))
    if report.booked:
        _line(pdf, i18n.ngettext("Not included: %(count)s assignment still booked, not yet reported as having "
                                 "taken place.", "Not included: %(count)s assignments still booked, not yet "
                                 "reported as having taken place.", report.booked))
    pdf.ln(3)
    _chart(pdf, i18n, report)
    widths = [110.0, 30.0]
    for heading, counts, name in ((H_TOPIC, report.by_topic, lambda c: _label(i18n, topic, c)),
                                  (H_LANGUAGE, report.by_language, lambda c: _label(i18n, language, c)),
                                  (H_DISTRICT, report.by_district, lambda c: c or _(UNKNOWN))):
        pdf.ln(2)
        _row(pdf, [_(heading), _(H_ASSIGNMENTS)], widths, bold=True)
        for code, count in counts.items():
            _row(pdf, [name(code), i18n.number(count)], widths)
    pdf.ln(3)
    _line(pdf, _(MSG_NO_NAMES))
    return bytes(pdf.output())


@dataclass(frozen=True)
class File:
    filename: str
    content: bytes
    mime_type: str


def files(report: Report, fmt: str, i18n: I18n, fallback: I18n, programme: ProgrammeSettings,
          topic: Label, language: Label) -> tuple[File, File]:
    """(payment list, funder's summary) in `fmt` ("pdf" or "csv")."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    stem = f"lotse-{report.year}"
    if fmt == "csv":
        return (File(f"{stem}-payments.csv", payments_csv(report, i18n, programme), "text/csv"),
                File(f"{stem}-summary.csv", summary_csv(report, i18n, topic, language), "text/csv"))
    return (File(f"{stem}-payments.pdf", payments_pdf(report, i18n, fallback, programme), "application/pdf"),
            File(f"{stem}-summary.pdf", summary_pdf(report, i18n, fallback, topic, language), "application/pdf"))
