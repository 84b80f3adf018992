"""Statistics for coordinators (`stats`): the last 30 days and the year so far, numbers in the
coordinator's locale, and the funder's CSV (bot/export.py) as a file, from a button under them;
and the year's reports (bot/services/reports.py: the payment list and the funder's summary) as PDF
or CSV files, for last year and this year.

Only coordinators: the router refuses the command to others, the export buttons are minted for the
coordinator who asked, and a person who is no coordinator any more is refused and logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from babel.dates import format_timedelta
from babel.numbers import get_decimal_symbol

from bot.core.authority import coordinator
from bot.core.context import Context
from bot.core.i18n import N_
from bot.core.payloads import Payload
from bot.core.router import Router
from bot.core.types import Attachment
from bot.export import assignments_csv
from bot.services import reports
from bot.clock import utcnow
from bot.store.stats import Figures
from handlers import labels



@dataclass(frozen=True)
class Export(Payload, action="stats-export"):
    """The funder's CSV of one period (local dates, ISO)."""
    first: str
    last: str

@dataclass(frozen=True)
class Report(Payload, action="stats-report"):
    """The year's payment list and funder's summary, as "pdf" or "csv"."""
    year: int
    format: str


MSG_LAST_30 = N_("Last 30 days (%(start)s – %(end)s)")
MSG_YEAR = N_("This year so far (%(start)s – %(end)s)")


def _counted(ctx: Context, counts: dict[str, int], name) -> str:  # noqa: ANN001
    if not counts:
        return ctx._(labels.NOTHING)
    return ctx.i18n.join([ctx._("%(name)s %(count)s", name=name(code), count=ctx.i18n.number(n))
                          for code, n in counts.items()])


def _language(ctx: Context, code: str) -> str:
    return labels.language(ctx, code) if code else ctx._(labels.NOTHING)


def figures_text(ctx: Context, heading: str, f: Figures) -> str:
    number = ctx.i18n.number
    if f.median_to_match is None:
        matched = ctx._("Matched: %(count)s", count=number(f.matched))
    else:
        matched = ctx._("Matched: %(count)s (median time to a match: %(duration)s)", count=number(f.matched),
                        duration=format_timedelta(f.median_to_match, locale=ctx.i18n.locale))
    return "\n".join([
        heading,
        ctx._("Requests received: %(count)s", count=number(f.received)),
        matched,
        ctx._("Cancelled: %(count)s", count=number(f.cancelled)),
        ctx._("No-shows: %(count)s", count=number(f.no_shows)),
        ctx._("Active guides: %(count)s", count=number(f.active_guides)),
        ctx._("Hours given: %(hours)s", hours=number(round(f.hours, 1))),
        ctx._("By topic: %(list)s", list=_counted(ctx, f.by_topic, lambda code: labels.topic(ctx, code))),
        ctx._("By language: %(list)s", list=_counted(ctx, f.by_language, lambda code: _language(ctx, code))),
        ctx._("By district: %(list)s", list=_counted(ctx, f.by_district, lambda name: name)),
    ])


def _periods(ctx: Context, now: datetime) -> list[tuple[str, date, date, datetime]]:
    """(heading msgid, first local day, last local day, UTC start) of each period, ending now."""
    today = ctx.i18n.local(now).date()
    year_start = datetime(today.year, 1, 1, tzinfo=ctx.i18n.zone)
    return [(MSG_LAST_30, ctx.i18n.local(now - timedelta(days=30)).date(), today, now - timedelta(days=30)),
            (MSG_YEAR, year_start.date(), today, year_start)]


async def stats(ctx: Context) -> None:
    now = utcnow()
    parts, rows = [], []
    for msgid, first, last, start in _periods(ctx, now):
        heading = ctx._(msgid, start=ctx.i18n.date(first, "medium"), end=ctx.i18n.date(last, "medium"))
        parts.append(figures_text(ctx, heading, await ctx.store.stats.figures(start, now)))
        rows.append([(ctx._("CSV for the funder: %(period)s", period=heading),
                      Export(first.isoformat(), last.isoformat()))])
    year = ctx.i18n.local(now).year
    for each in (year - 1, year):
        rows.append([(ctx._("Report %(year)s (PDF)", year=str(each)), Report(each, "pdf")),
                     (ctx._("Report %(year)s (CSV)", year=str(each)), Report(each, "csv"))])
    buttons = await ctx.buttons(rows)
    ctx.reply("\n\n".join(parts), buttons)


async def on_export_button(ctx: Context, export: Export) -> None:
    first, last = date.fromisoformat(export.first), date.fromisoformat(export.last)
    content = await assignments_csv(ctx.store.stats, first, last, ctx.settings.zone,
                                    decimal_comma=get_decimal_symbol(ctx.i18n.locale) == ",")
    ctx.reply(ctx._("Accompaniments from %(start)s to %(end)s, without names of newcomers; guides appear as "
                    "pseudonyms.", start=ctx.i18n.date(first, "medium"), end=ctx.i18n.date(last, "medium")),
              attachment=Attachment(f"lotse-{first.isoformat()}-{last.isoformat()}.csv", content, "text/csv"))


async def on_report_button(ctx: Context, report: Report) -> None:
    if report.format not in reports.FORMATS:
        return
    built = await reports.build(ctx.store, ctx.settings.programme, ctx.settings.zone, report.year)
    fallback = ctx.services.catalogs.get(ctx.settings.bot.default_language)
    payments, summary = reports.files(built, report.format, ctx.i18n, fallback, ctx.settings.programme,
                                      labels.topic, labels.language)
    ctx.reply(ctx._("The payment list of %(year)s: guides' names, hours and allowances per month. For "
                    "coordinators only; please do not pass it on.", year=str(report.year)),
              attachment=Attachment(payments.filename, payments.content, payments.mime_type))
    ctx.reply(ctx._("The summary of %(year)s for the funder: assignments, hours, allowances and the pool, "
                    "without names.", year=str(report.year)),
              attachment=Attachment(summary.filename, summary.content, summary.mime_type))


def register(router: Router) -> None:
    router.command("stats", stats)
    router.button(Export, on_export_button, authority=coordinator)
    router.button(Report, on_report_button, authority=coordinator)
