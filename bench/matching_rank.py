"""Matching: loading and ranking the candidates of one request vs. a plain SELECT of the same rows.

    .venv/bin/python bench/matching_rank.py [--sizes 1000,10000,100000] [--rounds 31] [--languages ar,de]
                                            [--cache-mib 64]

For each size N a fresh SQLite file (migrated by Store.open) gets N synthetic guides, written with
executemany in one transaction: 13 languages (German and English common, Tigrinya or Somali rare),
1–3 of 7 districts or all of them, 1–4 weekly slots, topics, a weekly maximum, a gender; most are
approved, a few pending or suspended, a few paused.  Around them: past and coming assignments
(some with negative feedback or a no-show) and answered offers, so the assignment and offer queries
have real rows to aggregate.  One request: Amira's — Arabic (and German by default), Dreieich, a
doctor, Tuesday 1 December 2026 at 9:30 Berlin time for an hour, a woman preferred.

Each round times, on the same connection and one after the other:

(a) `Matching.candidates(need, zone)` + `rank(...)`: the prefiltered guide rows with their
    languages, districts, topics and slots, their assignment figures, their offer statistics (three
    queries), the Candidate records, and the ranking with every filter and score;
(b) the baseline: a plain SELECT of the prefilter's guide rows (`SELECT g.* … WHERE <prefilter>`),
    the same rows (a) starts from, fetched through the same Database — no extra columns, no ranking.

Prints the median of the rounds for each, their ratio per N (target ≤ 3× at 10k), and how (a)
grows from 10k to 100k (target ≤ ~10.5×, i.e. linear) next to how (b) and the number of candidates
grow.  With --cache-mib the same measurement runs again with a larger SQLite page cache: (a) also
reads assignments with their requests and offers; Lotse opens SQLite with a 64 MiB cache
(bot/store/db.py).  The guide rows carry their languages, districts and topics as text (kept by
triggers, migration 0007), so `g.*` in (b) includes them too.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import MatchingSettings  # noqa: E402
from bot.services.matching import rank  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.matching import Matching, prefilter_params, prefilter_sql  # noqa: E402

ZONE = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
APPOINTMENT = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)  # Tuesday 9:30 in Berlin
# Share of guides speaking each language (German nearly all: guides are local volunteers).
LANGUAGES = {"de": 0.92, "en": 0.45, "ar": 0.18, "uk": 0.10, "ru": 0.14, "tr": 0.12, "fa": 0.10,
             "fr": 0.08, "ku": 0.04, "ps": 0.03, "ti": 0.02, "am": 0.02, "so": 0.015}
DISTRICTS = ("Dietzenbach", "Dreieich", "Langen", "Mühlheim", "Neu-Isenburg", "Rodgau", "Seligenstadt")
TOPICS = ("doctor", "immigration", "jobcentre", "school", "housing", "authority", "other")
SLOT_SHAPES = ((480, 780), (540, 720), (540, 1020), (780, 1080), (900, 1080), (1080, 1260), (600, 840))


def build(path: Path, n: int, languages: tuple[str, ...], seed: int = 6) -> int:
    """Write n guides and their history; returns the id of the benchmark's request."""
    rnd = random.Random(seed)
    asyncio.run(_migrate(path))
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    newcomers = max(50, n // 5)
    people, guides, langs, districts, topics, slots = [], [], [], [], [], []
    requests, assignments, offers = [], [], []
    registered = (NOW - timedelta(days=200)).isoformat()
    for pid in range(1, n + newcomers + 1):
        people.append((pid, "test", f"u{pid}", f"u{pid}", registered))
    for gid in range(1, n + 1):
        state = rnd.choices(("approved", "pending", "suspended"), (85, 10, 5))[0]
        paused_from = paused_until = None
        if rnd.random() < 0.05:
            start = APPOINTMENT.date() - timedelta(days=rnd.randrange(0, 20))
            paused_from = start.isoformat()
            paused_until = None if rnd.random() < 0.3 else (start + timedelta(days=rnd.randrange(1, 30))).isoformat()
        every = rnd.random() < 0.15
        guides.append((gid, state, rnd.choice((1, 2, 2, 3, 3, 4, 5)), rnd.choice(("female", "male", "female", None)),
                       int(every), paused_from, paused_until, registered))
        spoken = [lang for lang, share in LANGUAGES.items() if rnd.random() < share] or ["de"]
        langs += [(gid, lang) for lang in spoken]
        if not every:
            districts += [(gid, d) for d in rnd.sample(DISTRICTS, rnd.choice((1, 1, 2, 2, 3)))]
        topics += [(gid, t) for t in rnd.sample(TOPICS, rnd.randrange(1, 5))]
        for weekday in rnd.sample(range(6), rnd.randrange(1, 5)):
            start, end = rnd.choice(SLOT_SHAPES)
            slots.append((gid, weekday, start, end))
    request_id = 0

    def request(person: int, starts_at: datetime, state: str) -> int:
        nonlocal request_id
        request_id += 1
        requests.append((request_id, person, rnd.choice(TOPICS), starts_at.isoformat(), rnd.choice((60, 120)),
                         rnd.choice(DISTRICTS), state, (starts_at - timedelta(days=5)).isoformat()))
        return request_id

    assignment_id = offer_id = 0
    for gid in range(1, n + 1):
        for _ in range(rnd.choice((0, 0, 1, 1, 2, 3))):  # past or coming assignments
            starts_at = APPOINTMENT + timedelta(days=rnd.uniform(-60, 10))
            past = starts_at < NOW
            newcomer = n + 1 + rnd.randrange(newcomers)
            rid = request(newcomer, starts_at, "done" if past else "matched")
            assignment_id += 1
            if past:
                state = rnd.choices(("done", "no_show", "cancelled_by_guide"), (90, 3, 7))[0]
            else:
                state = rnd.choices(("active", "cancelled_by_newcomer"), (90, 10))[0]
            feedback = rnd.choices((None, "positive", "negative"), (50, 45, 5))[0] if state == "done" else None
            assignments.append((assignment_id, rid, gid, state, (starts_at - timedelta(days=3)).isoformat(), feedback))
        for _ in range(rnd.choice((0, 1, 2, 3, 4))):  # answered offers of other requests
            offer_id += 1
            sent = NOW - timedelta(days=rnd.uniform(1, 90))
            rid = request(n + 1 + rnd.randrange(newcomers), sent + timedelta(days=7), "done")
            offers.append((offer_id, rid, gid, 1, rnd.choices(("accepted", "declined", "expired", "taken"),
                                                                (40, 30, 20, 10))[0],
                           sent.isoformat(), (sent + timedelta(hours=4)).isoformat()))
    amira = n + 1
    the_request = request(amira, APPOINTMENT, "open")
    requests[-1] = (the_request, amira, "doctor", APPOINTMENT.isoformat(), 60, "Dreieich", "open", NOW.isoformat())

    conn.execute("BEGIN")
    conn.executemany("INSERT INTO people (id, platform, platform_user_id, chat_id, created_at) VALUES (?, ?, ?, ?, ?)",
                     people)
    conn.executemany("INSERT INTO guides (person_id, state, weekly_max, gender, all_districts, paused_from, "
                     "paused_until, registered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", guides)
    conn.executemany("INSERT INTO guide_languages (guide_id, language) VALUES (?, ?)", langs)
    conn.executemany("INSERT INTO guide_districts (guide_id, district) VALUES (?, ?)", districts)
    conn.executemany("INSERT INTO guide_topics (guide_id, topic) VALUES (?, ?)", topics)
    conn.executemany("INSERT INTO guide_slots (guide_id, weekday, start_minute, end_minute) VALUES (?, ?, ?, ?)",
                     slots)
    conn.executemany("INSERT INTO requests (id, person_id, topic, starts_at, duration_minutes, district, state, "
                     "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", requests)
    conn.executemany("INSERT INTO assignments (id, request_id, guide_id, state, created_at, feedback) "
                     "VALUES (?, ?, ?, ?, ?, ?)", assignments)
    conn.executemany("INSERT INTO offers (id, request_id, guide_id, wave, state, sent_at, expires_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)", offers)
    conn.executemany("INSERT INTO request_languages (request_id, language, position) VALUES (?, ?, ?)",
                     [(the_request, lang, i) for i, lang in enumerate(languages)])
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    return the_request


async def _migrate(path: Path) -> None:
    store = await Store.open(path)
    await store.close()


async def measure(path: Path, request_id: int, rounds: int, cache_mib: int = 0) -> dict[str, float | int]:
    settings = MatchingSettings()
    store = await Store.open(path)
    try:
        if cache_mib:
            await store.db.execute(f"PRAGMA cache_size = -{cache_mib * 1024}")
        matching = Matching(store.db)
        need = await matching.need(request_id)
        assert need is not None
        baseline_sql, params = prefilter_sql("g.*"), prefilter_params(need, ZONE)

        async def ranked() -> tuple[float, list]:
            started = time.perf_counter()
            candidates = await matching.candidates(need, ZONE)
            ranking = rank(need, candidates, settings.weights, ZONE, settings.travel_buffer)
            return time.perf_counter() - started, ranking

        async def plain() -> tuple[float, list]:
            started = time.perf_counter()
            rows = await store.db.fetchall(baseline_sql, params)
            return time.perf_counter() - started, rows

        await ranked(), await plain()  # warm the page cache and the statement cache
        a, b = [], []
        for _ in range(rounds):  # alternating, so both see the same machine
            seconds, ranking = await ranked()
            a.append(seconds)
            seconds, rows = await plain()
            b.append(seconds)
        assert len(ranking) == len({row[0] for row in rows}), (len(ranking), len(rows))
        return {"a": statistics.median(a), "b": statistics.median(b), "rows": len(rows),
                "eligible": sum(e.eligible for e in ranking)}
    finally:
        await store.close()


def report(title: str, results: dict[int, dict[str, float | int]]) -> None:
    print(f"\n{title}")
    print(f"{'guides':>8}  {'candidates':>10}  {'(a) load+rank':>14}  {'(b) plain SELECT':>16}  {'a/b':>6}")
    for n, r in results.items():
        print(f"{n:>8}  {r['rows']:>10}  {r['a'] * 1000:>11.2f} ms  {r['b'] * 1000:>13.2f} ms  "
              f"{r['a'] / r['b']:>5.2f}x")
    if 10_000 in results:
        print(f"ratio at 10k: {results[10_000]['a'] / results[10_000]['b']:.2f}x (target <= 3x)")
    if 10_000 in results and 100_000 in results:
        growth = results[100_000]["a"] / results[10_000]["a"]
        plain = results[100_000]["b"] / results[10_000]["b"]
        print(f"(a) at 100k / (a) at 10k: {growth:.2f}x (target <= ~10.5x, linear); "
              f"(b) grows {plain:.2f}x, candidates {results[100_000]['rows'] / results[10_000]['rows']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="numbers of guides, comma-separated")
    parser.add_argument("--rounds", type=int, default=31, help="timed rounds per size (the median is shown)")
    parser.add_argument("--languages", default="ar,de", help="the request's languages, first language first")
    parser.add_argument("--cache-mib", type=int, default=0,
                        help="also measure with SQLite's page cache at this size (PRAGMA cache_size); "
                             "Lotse's connection uses SQLite's default of 2 MiB")
    args = parser.parse_args()
    languages = tuple(args.languages.split(","))
    sizes = [int(s) for s in args.sizes.split(",")]
    default: dict[int, dict[str, float | int]] = {}
    larger: dict[int, dict[str, float | int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = Path(tmp) / f"guides_{n}.db"
            started = time.perf_counter()
            request_id = build(path, n, languages)
            built = time.perf_counter() - started
            default[n] = r = asyncio.run(measure(path, request_id, args.rounds))
            if args.cache_mib:
                larger[n] = asyncio.run(measure(path, request_id, args.rounds, args.cache_mib))
            print(f"N={n:>7}: built in {built:5.1f} s; {r['rows']} candidates after the prefilter, "
                  f"{r['eligible']} eligible", flush=True)
    report("As Lotse opens the database (bot.store.db: 64 MiB page cache):", default)
    if larger:
        report(f"With PRAGMA cache_size = {args.cache_mib} MiB:", larger)


if __name__ == "__main__":
    main()
