"""Statistics and the funder's export: figures per period, the coordinator's message in their
locale, the CSV (read back with the csv module) from the chat and from `lotse export`."""

from __future__ import annotations

import codecs
import csv
import io
import logging
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.export import pseudonym
from bot.store.db import utcnow
from bot.store.guides import Profile, Slot
from bot.store.requests import NewRequest
from tests.conftest import Clock, Running, labels, run_lotse
from tests.test_coordinator import onboard

pytestmark = pytest.mark.usefixtures("clock")


async def guide(lotse: Running, user: str, languages: tuple[str, ...]) -> int:
    await onboard(lotse, user, role=2)
    person = await lotse.store.people.find("test", user)
    await lotse.store.guides.save_profile(person.id, Profile(languages, ("*",), ("doctor",), (Slot(0, 480, 720),),
                                                             3, None), utcnow())
    return person.id


async def request(lotse: Running, newcomer: int, topic: str, starts: datetime, district: str,
                  languages: tuple[str, ...], created: datetime) -> int:
    return await lotse.store.requests.create(newcomer, NewRequest(topic, starts, 60, district, "Praxis", None, None,
                                                                  languages), created)


async def assign(lotse: Running, request_id: int, guide_id: int, at: datetime, state: str = "active",
                 hours: float | None = None) -> None:
    store = lotse.store
    async with store.transaction():
        assert await store.dispatch.claim(request_id, guide_id, at)
    if state != "active":
        assignment = await store.dispatch.active_assignment(request_id)
        assert await store.dispatch.end_assignment(assignment.id, state, at)
    if hours is not None:  # what the follow-up after the appointment records (issue #7)
        await store.db.execute("UPDATE assignments SET hours = ? WHERE request_id = ?", (hours, request_id))


async def history(lotse: Running, clock: Clock) -> dict[str, int]:
    """This year in Kreis Offenbach: Amira, Olena and Hamid asked; Leila and Mehmet came along."""
    now = clock.now  # Wednesday 25 November 2026
    await onboard(lotse, "weber")
    leila = await guide(lotse, "leila", ("ar", "fr", "de"))
    mehmet = await guide(lotse, "mehmet", ("tr", "ku", "de"))
    await onboard(lotse, "amira")
    await onboard(lotse, "olena")
    await onboard(lotse, "hamid")
    amira, olena, hamid = [(await lotse.store.people.find("test", u)).id for u in ("amira", "olena", "hamid")]
    # in March (year so far only)
    march = datetime(2026, 3, 10, 8, 30, tzinfo=UTC)
    r1 = await request(lotse, amira, "doctor", march + timedelta(days=7), "Dreieich", ("ar", "de"), march)
    await assign(lotse, r1, leila, march + timedelta(hours=2), "done", 1.5)
    r2 = await request(lotse, olena, "immigration", march + timedelta(days=9), "Dietzenbach", ("uk", "ru"), march)
    await assign(lotse, r2, mehmet, march + timedelta(hours=6), "done", 2.25)
    # in the last 30 days
    recent = now - timedelta(days=10)
    r3 = await request(lotse, amira, "doctor", recent + timedelta(days=3), "Dreieich", ("ar",), recent)
    await assign(lotse, r3, leila, recent + timedelta(hours=4), "done", 1.0)
    r4 = await request(lotse, hamid, "jobcentre", recent + timedelta(days=4), "Langen", ("fa",), recent)
    await assign(lotse, r4, mehmet, recent + timedelta(hours=8), "no_show")
    r5 = await request(lotse, olena, "immigration", now + timedelta(days=8), "Dietzenbach", ("uk",), recent)
    await lotse.store.requests.cancel(r5, olena, recent + timedelta(hours=1))
    return {"leila": leila, "mehmet": mehmet}


async def test_figures_per_period(lotse: Running, clock: Clock) -> None:
    await history(lotse, clock)
    stats = lotse.store.stats
    month = await stats.figures(clock.now - timedelta(days=30), clock.now)
    assert (month.received, month.matched, month.cancelled, month.no_shows) == (3, 2, 1, 1)
    assert month.median_to_match == timedelta(hours=6)            # 4 h and 8 h
    assert (month.active_guides, month.hours) == (2, 1.0)
    assert list(month.by_topic.items()) == [("doctor", 1), ("immigration", 1), ("jobcentre", 1)]
    assert month.by_language == {"ar": 1, "fa": 1, "uk": 1}
    year = await stats.figures(datetime(2025, 12, 31, 23, 0, tzinfo=UTC), clock.now)
    assert (year.received, year.matched, year.cancelled, year.hours) == (5, 4, 1, 4.75)
    assert year.median_to_match == timedelta(hours=5)             # 2, 4, 6, 8 h
    assert list(year.by_district.items()) == [("Dietzenbach", 2), ("Dreieich", 2), ("Langen", 1)]


async def test_stats_message_in_the_coordinators_locale(lotse: Running, clock: Clock) -> None:
    await history(lotse, clock)
    bot = lotse.transport
    [message] = await bot.say("weber", "/stats")
    month, year = message.text.split("\n\n")
    assert month.split("\n") == [
        "Last 30 days (26 Oct 2026 – 25 Nov 2026)", "Requests received: 3",
        "Matched: 2 (median time to a match: 6 hours)", "Cancelled: 1", "No-shows: 1", "Active guides: 2",
        "Hours given: 1", "By topic: Doctor or hospital 1, Immigration office 1, Job centre 1",
        "By language: Arabic 1, Persian 1, Ukrainian 1", "By district: Dietzenbach 1, Dreieich 1, Langen 1"]
    assert year.split("\n")[0] == "This year so far (1 Jan 2026 – 25 Nov 2026)"
    assert "Hours given: 4,8" in year  # English with German conventions ([bot] region = "DE")
    assert labels(message) == ["CSV for the funder: Last 30 days (26 Oct 2026 – 25 Nov 2026)",
                               "CSV for the funder: This year so far (1 Jan 2026 – 25 Nov 2026)"]
    await bot.say("weber", "/language")
    await bot.press("weber", "Deutsch")
    [german] = await bot.say("weber", "/stats")
    assert german.text.split("\n")[0] == "Letzte 30 Tage (26.10.2026 – 25.11.2026)"
    assert "4,8" in german.text.split("\n\n")[1]


def read_back(content: bytes) -> tuple[list[list[str]], list[list[str]]]:
    assert content.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(content[len(codecs.BOM_UTF8):].decode("utf-8"), newline=""), delimiter=";"))
    blank = rows.index([])
    return rows[:blank], rows[blank + 1:]


async def test_export_button_sends_the_csv_to_coordinators_only(lotse: Running, clock: Clock,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    ids = await history(lotse, clock)
    bot = lotse.transport
    [message] = await bot.say("weber", "/stats")
    [sent] = await bot.press("weber", 2)
    assert sent.text.startswith("Accompaniments from 1 Jan 2026 to 25 Nov 2026")
    assert sent.attachment.filename == "lotse-2026-01-01-2026-11-25.csv"
    assignments, summary = read_back(sent.attachment.content)
    key = (await lotse.store.db.fetchone("SELECT value FROM app_secrets WHERE name = 'pseudonym_key'"))[0]
    leila, mehmet = pseudonym(key, ids["leila"]), pseudonym(key, ids["mehmet"])
    assert assignments == [
        ["date", "topic", "language", "district", "guide", "hours", "status"],
        ["2026-03-17", "doctor", "ar", "Dreieich", leila, "1,5", "done"],   # the decimal comma of en_DE
        ["2026-03-19", "immigration", "uk", "Dietzenbach", mehmet, "2,25", "done"],
        ["2026-11-18", "doctor", "ar", "Dreieich", leila, "1", "done"],
        ["2026-11-19", "jobcentre", "fa", "Langen", mehmet, "", "no_show"]]
    assert sorted(summary[1:]) == sorted([[leila, "2", "2,5"], [mehmet, "2", "2,25"]])
    text = sent.attachment.content.decode("utf-8-sig")
    assert "Amira" not in text and "amira" not in text and "Praxis" not in text
    # the same button in another person's hands is refused
    caplog.set_level(logging.WARNING)
    [refused] = await bot.press_token("amira", message.flat_buttons[1].token)
    assert refused.text == "This button is no longer valid. Please use the latest message."
    [refused] = await bot.say("amira", "/stats")
    assert refused.text == "This command is not available to you. Send /help to see your commands."


async def test_lotse_export_cli_reads_only_and_writes_a_german_csv(lotse: Running, clock: Clock,
                                                                    tmp_path: Path) -> None:
    ids = await history(lotse, clock)
    db = lotse.settings.database.path
    await lotse.app.stop()
    before = db.read_bytes()
    config = tmp_path / "lotse.toml"
    config.write_text(f'[database]\npath = "{db}"\n')
    out = tmp_path / "q1.csv"
    status, stdout, stderr = await run_lotse("export", "--config", str(config), "--from", "2026-01-01",
                                             "--to", "2026-03-31", "--out", str(out), "--decimal-comma", cwd=tmp_path)
    assert (status, stderr) == (0, "")
    assignments, summary = read_back(out.read_bytes())
    with sqlite3.connect(db) as conn:
        key = conn.execute("SELECT value FROM app_secrets").fetchone()[0]
    assert [row[4:6] for row in assignments[1:]] == [[pseudonym(key, ids["leila"]), "1,5"],
                                                      [pseudonym(key, ids["mehmet"]), "2,25"]]
    assert summary[0] == ["guide", "assignments", "hours"] and len(summary) == 3
    assert db.read_bytes() == before  # nothing was written
    status, stdout, stderr = await run_lotse("export", "--config", str(config), "--from", "2026-04-01",
                                             "--to", "2026-03-31", cwd=tmp_path)
    assert (status, stderr.strip()) == (2, "export: --from must not be after --to")
    status, stdout, stderr = await run_lotse("export", "--config", str(config), "--from", "1.1.2026",
                                             "--to", "2026-03-31", cwd=tmp_path)
    assert status == 2 and stderr.startswith("export: --from/--to:")
