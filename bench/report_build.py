"""The year's report (bot/services/reports.py) over a year of synthetic assignments, against a
plain SELECT sum(...) of the same hours.

    .venv/bin/python bench/report_build.py [--guides 80] [--assignments 3000] [--rounds 5]

Builds a temporary database through the store's own methods (80 guides with profiles, newcomers,
3,000 requests spread over 2026, each claimed by a guide, most ended as 'done' with reported hours,
some no-shows, some still booked).  Checks that the report's totals match the database, then
prints the best of `--rounds` times of

- the baseline: one `SELECT count(*), sum(hours)` over the assignments that took place in 2026;
- reports.build (rows, accounts per guide, groups) and the same plus both PDFs and both CSVs,

and their ratios to the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot import clock  # noqa: E402
from bot.config import ProgrammeSettings, Settings  # noqa: E402
from bot.core.i18n import Catalogs  # noqa: E402
from bot.services import reports  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.guides import Profile, Slot  # noqa: E402
from bot.store.requests import NewRequest  # noqa: E402
from handlers import labels  # noqa: E402

BUILT = datetime(2025, 12, 1, 9, 0, tzinfo=UTC)
YEAR_START = datetime(2026, 1, 1, 7, 0, tzinfo=UTC)
WIR = ProgrammeSettings(name="WIR-Integrationslotsen (Hessen)", unit="hour", rate=5.0, weekly_cap=6.0,
                        yearly_cap=276.0, pool_hours=2000.0, rounding=0.25)
TOPICS = ("doctor", "immigration", "jobcentre", "school", "housing")
DISTRICTS = ("Dietzenbach", "Dreieich", "Langen", "Neu-Isenburg", "Rodgau")
LANGUAGES = ("ar", "uk", "fa", "ti", "tr")


async def build(store: Store, guides: int, assignments: int) -> None:
    version = Settings().privacy.notice_version
    guide_ids, newcomer_ids = [], []
    for g in range(guides):
        person = await store.people.get_or_create("bench", f"g{g}", f"g{g}")
        await store.people.record_consent(person.id, version, BUILT, f"Guide {g}")
        await store.guides.save_profile(person.id, Profile((LANGUAGES[g % 5], "de"), ("*",), ("doctor",),
                                                           (Slot(0, 480, 720),), 6, None), BUILT)
        guide_ids.append(person.id)
    for n in range(200):
        person = await store.people.get_or_create("bench", f"n{n}", f"n{n}")
        await store.people.record_consent(person.id, version, BUILT, None)
        newcomer_ids.append(person.id)
    async with store.transaction():
        for i in range(assignments):
            starts = YEAR_START + timedelta(minutes=i * (364 * 24 * 60 // assignments))
            request = await store.requests.create(newcomer_ids[i % 200], NewRequest(
                TOPICS[i % 5], starts, 60 + 30 * (i % 3), DISTRICTS[i % 5], None, None, None,
                (LANGUAGES[i % 5], "de")), BUILT)
            guide = guide_ids[i % guides]
            assignment = await store.bookings.claim(request, guide, BUILT)
            assert assignment is not None
            if i % 20 == 0:
                continue  # still booked
            await store.bookings.end_assignment(assignment, "no_show" if i % 20 == 1 else "done", starts)
            if i % 20 > 1 and i % 4:
                await store.bookings.report_hours(assignment, guide, 0.5 + (i % 7) * 0.4)


async def best(rounds: int, work) -> tuple[float, object]:  # noqa: ANN001
    times, result = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        result = await work()
        times.append(time.perf_counter() - started)
    return min(times), result


async def main(guides: int, assignments: int, rounds: int) -> None:
    clock.use(clock.ManualClock(BUILT))
    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp) / "bench.db")
        try:
            started = time.perf_counter()
            await build(store, guides, assignments)
            print(f"build: {guides} guides, {assignments} assignments in 2026 through the store "
                  f"in {time.perf_counter() - started:.1f} s")
            start, end = "2025-12-31T23:00", "2026-12-31T23:00"
            sql = ("SELECT count(*), sum(round(coalesce(a.hours, r.duration_minutes / 60.0) / 0.25) * 0.25), "
                   "count(DISTINCT a.guide_id) FROM assignments a JOIN requests r ON r.id = a.request_id "
                   "WHERE a.state = 'done' AND r.starts_at >= ? AND r.starts_at < ?")

            async def baseline():  # noqa: ANN202
                return await store.db.fetchone(sql, (start, end))

            async def report():  # noqa: ANN202
                return await reports.build(store, WIR, settings.zone, 2026)

            catalogs = Catalogs(settings.bot.languages, "de", settings.zone, region=settings.bot.region)
            de = catalogs.get("de")

            async def with_files():  # noqa: ANN202
                built = await reports.build(store, WIR, settings.zone, 2026)
                for fmt in reports.FORMATS:
                    reports.files(built, fmt, de, de, WIR, labels.topic, labels.language)
                return built

            base_time, row = await best(rounds, baseline)
            report_time, built = await best(rounds, report)
            files_time, _ = await best(rounds, with_files)
            assert (built.assignments, built.hours, built.active_guides) == (row[0], round(row[1], 2), row[2]), \
                (built.assignments, built.hours, built.active_guides, tuple(row))
            assert built.allowance == round(row[1] * WIR.rate, 2)
            print(f"check: report totals = database: {built.assignments} assignments, {built.hours} hours, "
                  f"€{built.allowance}, {built.active_guides} guides, {built.booked} still booked")
            print(f"baseline: SELECT count/sum over the year's assignments: {base_time * 1000:.2f} ms")
            print(f"report data (reports.build): {report_time * 1000:.1f} ms = {report_time / base_time:.1f}x baseline")
            print(f"report data + 2 PDFs + 2 CSVs: {files_time * 1000:.1f} ms = {files_time / base_time:.1f}x baseline")
        finally:
            await store.close()
            clock.use(None)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guides", type=int, default=80)
    parser.add_argument("--assignments", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.guides, args.assignments, args.rounds))
