"""Start-up with 100k pending reminders vs. an empty database, same run.

    .venv/bin/python bench/reminders_start.py [--reminders 100000] [--rounds 7]

Two SQLite files, both migrated by Store.open: one empty, one with `--reminders` pending rows
(six per appointment: two reminders and a follow-up to each side, like a real booking) spread over
the next 90 days, on ~17k booked appointments with their people, guides and requests.  Each round
starts `lotse console --config <file>` as a real process with empty input: it opens and checks
the database, runs dispatch's and the reminder service's resume (recover, arm the next `horizon`
of rows), publishes nothing, reads end-of-input and stops — the whole life of a start.  The
rounds alternate between the two files, so both see the same machine.

Prints the median wall time of each, their ratio (target ≤ 1.3×), the median peak resident memory
of each process (ru_maxrss of the child) and the difference (target ≤ +30 MB), and how many jobs
the 100k database armed at start (those due within the horizon).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.store import Store  # noqa: E402


async def _migrate(path: Path) -> None:
    store = await Store.open(path)
    await store.close()


def build(path: Path, reminders: int, now: datetime, seed: int = 7) -> int:
    """Write the rows; returns how many fall due within the default horizon (6 h)."""
    rnd = random.Random(seed)
    asyncio.run(_migrate(path))
    appointments = max(1, reminders // 6)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    guides = max(10, appointments // 20)
    stamp = now.isoformat()
    conn.executemany("INSERT INTO people (id, platform, platform_user_id, chat_id, language, created_at) "
                     "VALUES (?, 'console', ?, ?, 'de', ?)",
                     [(i, f"p{i}", f"p{i}", stamp) for i in range(1, guides + appointments + 1)])
    conn.executemany("INSERT INTO guides (person_id, state, weekly_max, all_districts, registered_at) "
                     "VALUES (?, 'approved', 5, 1, ?)", [(g, stamp) for g in range(1, guides + 1)])
    rows, soon = [], 0
    horizon = now + timedelta(hours=6)
    for a in range(1, appointments + 1):
        newcomer, guide = guides + a, rnd.randrange(1, guides + 1)
        starts = now + timedelta(minutes=rnd.randrange(3 * 60, 90 * 24 * 60))
        conn.execute("INSERT INTO requests (id, person_id, topic, starts_at, duration_minutes, district, state, "
                     "created_at) VALUES (?, ?, 'doctor', ?, 60, 'Dreieich', 'matched', ?)",
                     (a, newcomer, starts.isoformat(), stamp))
        conn.execute("INSERT INTO assignments (id, request_id, guide_id, state, created_at) "
                     "VALUES (?, ?, ?, 'active', ?)", (a, a, guide, stamp))
        for person in (newcomer, guide):
            for kind, offset, due in (("before", 1440, starts - timedelta(days=1)),
                                      ("before", 120, starts - timedelta(hours=2)),
                                      ("followup", 0, starts + timedelta(hours=3))):
                due = max(due, now + timedelta(minutes=1))
                soon += due <= horizon
                rows.append((a, person, kind, offset, due.isoformat()))
    conn.executemany("INSERT INTO reminders (assignment_id, person_id, kind, offset_minutes, due_at) "
                     "VALUES (?, ?, ?, ?, ?)", rows[:reminders])
    conn.execute("COMMIT")
    conn.close()
    return sum(1 for r in rows[:reminders] if datetime.fromisoformat(r[4]) <= horizon)


def start_once(config: Path) -> tuple[float, int]:
    """Seconds and peak RSS (KiB) of one `lotse console` life with empty input."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    completed = subprocess.run([sys.executable, "-m", "bot.cli", "console", "--config", str(config)],
                               input=b"", capture_output=True, cwd=config.parent, env=dict(os.environ))
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"lotse failed: {completed.stderr.decode()[-2000:]}")
    # ru_maxrss of children is the maximum over all children so far: use a fresh process per
    # measurement (below) so it is this child's peak.
    return seconds, max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


def measure(config: Path) -> tuple[float, int]:
    """One start in a fresh helper process, so RUSAGE_CHILDREN holds only that start's peak."""
    out = subprocess.run([sys.executable, __file__, "--one", str(config)], capture_output=True, check=True)
    seconds, rss = out.stdout.decode().split()
    return float(seconds), int(rss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reminders", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        seconds, rss = start_once(args.one)
        print(seconds, rss)
        return
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        configs = {}
        for name, count in (("empty", 0), ("full", args.reminders)):
            folder = Path(tmp) / name
            folder.mkdir()
            started = time.perf_counter()
            armed = build(folder / "lotse.db", count, now) if count else 0
            if not count:
                asyncio.run(_migrate(folder / "lotse.db"))
            (folder / "lotse.toml").write_text(f'[database]\npath = "{folder / "lotse.db"}"\n')
            configs[name] = folder / "lotse.toml"
            print(f"{name}: {count} pending reminders ({armed} due within the 6 h horizon), "
                  f"built in {time.perf_counter() - started:.1f} s, "
                  f"{(folder / 'lotse.db').stat().st_size / 2**20:.1f} MiB", flush=True)
        measure(configs["empty"]), measure(configs["full"])  # warm the OS caches
        results: dict[str, list[tuple[float, int]]] = {"empty": [], "full": []}
        for _ in range(args.rounds):
            for name in ("empty", "full"):
                results[name].append(measure(configs[name]))
    t = {name: statistics.median(s for s, _ in r) for name, r in results.items()}
    m = {name: statistics.median(k for _, k in r) / 1024 for name, r in results.items()}
    print(f"\nstart+stop, median of {args.rounds}: empty {t['empty'] * 1000:.0f} ms, "
          f"{args.reminders} reminders {t['full'] * 1000:.0f} ms -> {t['full'] / t['empty']:.2f}x (target <= 1.3x)")
    print(f"peak resident memory: empty {m['empty']:.1f} MB, full {m['full']:.1f} MB -> "
          f"{m['full'] - m['empty']:+.1f} MB (target <= +30 MB)")


if __name__ == "__main__":
    main()
