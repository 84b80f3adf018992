"""One retention purge over 100k requests whose place and note are due, against a plain UPDATE.

    .venv/bin/python bench/privacy_purge.py [--requests 100000] [--people 1000]

Builds a database through the store's own methods (people agreed, `--requests` requests with a
place and a note, all created in one transaction by Requests.create) on a clock standing in
January 2026, every appointment in that month.  Then, on one connection (secure_delete on, as in
production):

- the baseline: `UPDATE requests SET note = note` over the same rows, one statement;
- one `purge` (bot/services/retention.py) at 1 June 2026: every request's place and note are due
  (text_days 30), nobody is inactive long enough to be asked.

Prints both times, purge's rows per second and the ratio, and the size of the mydata JSON file
(bot.services.privacy.export) of a person with 20 requests.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot import clock  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.services import privacy, retention  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.requests import NewRequest  # noqa: E402

BUILT = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
PURGE_AT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@dataclass
class Offline:
    settings: Settings
    store: Any
    dispatch: None = None
    messenger: None = None
    retention_texts: None = None


def new_request(i: int) -> NewRequest:
    return NewRequest("doctor", BUILT + timedelta(days=1 + i % 28, hours=i % 8), 60, "Dreieich",
                      f"Praxis Dr. Beispiel, Hauptstraße {i % 200 + 1}", None,
                      f"Termin {i}: bitte den Impfpass mitbringen", ("ar", "de"))


async def build(store: Store, requests: int, people: int) -> list[int]:
    version = Settings().privacy.notice_version
    ids = []
    for p in range(people):
        person = await store.people.get_or_create("bench", f"u{p}", f"u{p}")
        await store.people.record_consent(person.id, version, BUILT, f"Person {p}")
        await store.privacy.record(person.id, version, "agreed", BUILT)
        ids.append(person.id)
    async with store.transaction():
        for i in range(requests):
            await store.requests.create(ids[i % people], new_request(i), BUILT)
    return ids


async def main(requests: int, people: int) -> None:
    manual = clock.ManualClock(BUILT)
    clock.use(manual)
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp) / "bench.db")
        try:
            started = time.perf_counter()
            await build(store, requests, people)
            built = time.perf_counter() - started
            print(f"build: {requests} requests of {people} people through Requests.create in {built:.1f} s")

            started = time.perf_counter()
            await store.db.execute("UPDATE requests SET note = note")
            baseline = time.perf_counter() - started

            manual.now = PURGE_AT
            started = time.perf_counter()
            purged = await retention.purge(Offline(Settings(), store), PURGE_AT)
            took = time.perf_counter() - started
            assert len(purged.texts) == requests and not purged.asked, purged.counts()
            left = await store.db.fetchone("SELECT count(*) FROM requests WHERE place IS NOT NULL OR note IS NOT NULL")
            assert left[0] == 0
            print(f"purge: {len(purged.texts)} requests' place and note in {took:.2f} s = "
                  f"{len(purged.texts) / took:,.0f} rows/s (batches of 2000, all rules run)")
            print(f"baseline: UPDATE requests SET note = note over the same {requests} rows in {baseline:.2f} s "
                  f"= {requests / baseline:,.0f} rows/s; purge/baseline = {took / baseline:.1f}x")

            person = await store.people.get_or_create("bench", "mydata", "mydata")
            await store.people.record_consent(person.id, Settings().privacy.notice_version, PURGE_AT, "Amira Haddad")
            await store.privacy.record(person.id, Settings().privacy.notice_version, "agreed", PURGE_AT)
            for i in range(20):
                await store.requests.create(person.id, new_request(i), PURGE_AT)
            content = await privacy.export(Offline(Settings(), store), await store.people.get(person.id))
            print(f"mydata: the JSON file of a person with 20 requests is {len(content)} bytes")
        finally:
            await store.close()
            clock.use(None)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=1000)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.people))
