"""The funder's export: one CSV row per accompaniment of a period, and hours per guide.

The file opens as it should in German spreadsheet programs: UTF-8 with a byte order mark, `;` as
separator, CRLF line ends, and with `decimal_comma` hours written "1,5".  Two sections in one file,
separated by an empty line:

    date;topic;language;district;guide;hours;status        one row per assignment (not cancelled)
    guide;assignments;hours                                 one row per guide, hours summed

No newcomer identity is written.  A guide appears as a pseudonym, "G-" and the first 8 hex digits
of HMAC-SHA256(key, guide id): the same guide has the same pseudonym in every export, and without
the key (made randomly by migration 0009, kept in the database's app_secrets) nobody can tell who
it is.  Dates are local (the configured time zone); language is the newcomer's first language.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.store.stats import PSEUDONYM_KEY, Stats, pseudonym

__all__ = ["PSEUDONYM_KEY", "assignments_csv", "hours_text", "period", "pseudonym"]
ASSIGNMENT_HEADER = ("date", "topic", "language", "district", "guide", "hours", "status")
SUMMARY_HEADER = ("guide", "assignments", "hours")


def period(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Local days first..last (inclusive) as a UTC range [start, end)."""
    start = datetime.combine(first, time(0), zone)
    end = datetime.combine(last + timedelta(days=1), time(0), zone)
    return start, end


def hours_text(value: float | None, decimal_comma: bool) -> str:
    if value is None:
        return ""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if decimal_comma else text


async def assignments_csv(stats: Stats, first: date, last: date, zone: ZoneInfo, decimal_comma: bool = False) -> bytes:
    key = await stats.secret(PSEUDONYM_KEY)
    if key is None:
        raise LookupError("the database has no pseudonym key (run `lotse db upgrade`)")
    rows = await stats.assignments(*period(first, last, zone))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(ASSIGNMENT_HEADER)
    per_guide: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        guide = pseudonym(key, row.guide_id)
        per_guide[guide].append(row.hours or 0.0)
        writer.writerow((row.starts_at.astimezone(zone).date().isoformat(), row.topic, row.language, row.district,
                         guide, hours_text(row.hours, decimal_comma), row.state))
    writer.writerow(())
    writer.writerow(SUMMARY_HEADER)
    for guide, hours in sorted(per_guide.items()):
        writer.writerow((guide, len(hours), hours_text(sum(hours), decimal_comma)))
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")
