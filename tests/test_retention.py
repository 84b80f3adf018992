"""Retention ([privacy]): free text purged after text_days, inactive people asked and (without an
answer) erased, declined records deleted — by the bot's daily job on the moved clock, and by
`lotse privacy purge` / `lotse privacy erase` on the command line."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import utcnow
from bot.config import Settings
from bot.services import retention
from bot.store.requests import NewRequest
from tests.conftest import WEDNESDAY_10AM, Clock, Running, labels, run_lotse
from tests.test_privacy import NOTE, PLACE, onboard
from tests.test_reminders import TUESDAY_1230, at, booked

T0 = WEDNESDAY_10AM  # when the tests' people joined (the `clock` fixture's start)


@pytest.fixture
async def lotse(settings: Settings, clock: Clock) -> AsyncIterator[Running]:
    """Lotse started on the test clock: its retention day is counted from the clock's start, not
    from the machine's (which libfaketime moves in CI)."""
    running = await Running(settings).start()
    yield running
    await running.app.stop()


async def day_passes(lotse: Running, clock: Clock, moment: datetime) -> None:
    """Move the clock to `moment` and let the jobs due by then run (the daily retention among them)."""
    clock.now = moment
    await lotse.app.scheduler.settle()


async def texts_of(lotse: Running, assignment_id: int) -> tuple:
    row = await lotse.store.db.fetchone(
        "SELECT r.place, r.note, a.feedback_comment FROM assignments a JOIN requests r ON r.id = a.request_id "
        "WHERE a.id = ?", (assignment_id,))
    return tuple(row)


async def test_place_note_and_feedback_comment_are_purged_text_days_after_the_appointment(
        lotse: Running, clock: Clock) -> None:
    assignment = await booked(lotse)
    await at(lotse, clock, TUESDAY_1230)
    await lotse.transport.press("amira", "Write a comment")
    await lotse.transport.say("amira", "Leila war sehr freundlich.")
    ended = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)  # 9:30 UTC, 60 minutes
    days = lotse.settings.privacy.text_days
    await day_passes(lotse, clock, ended + timedelta(days=days - 1))          # a day before
    assert await texts_of(lotse, assignment) == (PLACE, NOTE, "Leila war sehr freundlich.")
    offers = await lotse.store.db.fetchall("SELECT message_id FROM offers")
    assert offers and all(o[0] is not None for o in offers)
    await day_passes(lotse, clock, ended + timedelta(days=days, minutes=1))
    assert await texts_of(lotse, assignment) == (None, None, None)
    assert all(o[0] is None for o in await lotse.store.db.fetchall("SELECT message_id FROM offers"))
    kept = await lotse.store.db.fetchone("SELECT topic, district, state FROM requests")
    assert tuple(kept) == ("doctor", "Dreieich", "matched")                   # the statistics stay


async def test_the_inactive_are_asked_and_erased_without_an_answer(lotse: Running, clock: Clock) -> None:
    bot = lotse.transport
    await onboard(lotse, "amira", name="Amira")
    await onboard(lotse, "hamid", name="Hamid")
    two_years = retention.months_before(T0, -lotse.settings.privacy.inactive_months)
    await day_passes(lotse, clock, two_years - timedelta(days=1))
    assert not any("long time" in m.text for m in bot.messages("amira") + bot.messages("hamid"))
    asked_at = two_years + timedelta(minutes=1)
    await day_passes(lotse, clock, asked_at)
    for user in ("amira", "hamid"):
        asked = bot.messages(user)[-1]
        assert asked.text == ("You have not used Lotse for a long time. Do you want Lotse to keep your data? If "
                              "you do not answer, it is deleted on 9 December 2028.")
        assert labels(asked) == ["Keep my data", "Delete my data now"]
    asked_rows = await lotse.store.db.fetchall("SELECT retention_asked_at FROM people ORDER BY id")
    assert [r[0] for r in asked_rows] == [asked_at.isoformat()] * 2
    await day_passes(lotse, clock, asked_at + timedelta(days=10))  # the buttons outlive token pruning
    [thanks] = await bot.press("amira", "Keep my data")
    assert thanks.text == "Thank you. Lotse keeps your data."
    await day_passes(lotse, clock, asked_at + timedelta(days=13))              # a day before
    assert (await lotse.store.people.find("test", "hamid")).display_name == "Hamid"
    await day_passes(lotse, clock, asked_at + timedelta(days=14, minutes=1))
    assert await lotse.store.people.find("test", "hamid") is None
    gone = await lotse.store.db.fetchone("SELECT display_name, erased_at FROM people WHERE platform_user_id "
                                         "LIKE 'erased-%'")
    assert gone[0] is None and gone[1] is not None
    amira = await lotse.store.db.fetchone("SELECT display_name, erased_at, retention_asked_at FROM people "
                                          "WHERE platform_user_id = 'amira'")
    assert tuple(amira) == ("Amira", None, None)
    await day_passes(lotse, clock, asked_at + timedelta(days=60))              # later purges keep her too
    assert (await lotse.store.people.find("test", "amira")).display_name == "Amira"
    assert sum("long time" in m.text for m in bot.messages("amira")) == 1     # asked once, not again


async def test_delete_my_data_now_erases_at_once(lotse: Running, clock: Clock) -> None:
    await onboard(lotse, "amira", name="Amira")
    await day_passes(lotse, clock, retention.months_before(T0, -25))
    [last] = await lotse.transport.press("amira", "Delete my data now")
    assert last.text.startswith("Your data has been deleted")
    await lotse.app.scheduler.settle()
    assert await lotse.store.people.find("test", "amira") is None


async def test_someone_active_after_being_asked_is_not_erased(lotse: Running, clock: Clock) -> None:
    await onboard(lotse, "amira", name="Amira")
    asked_at = retention.months_before(T0, -25)
    await day_passes(lotse, clock, asked_at)
    assert lotse.transport.messages("amira")[-1].text.startswith("You have not used Lotse for a long time.")
    clock.now = asked_at + timedelta(days=3)
    await lotse.transport.say("amira", "/request")        # a dialog step is activity
    await day_passes(lotse, clock, asked_at + timedelta(days=20))
    row = await lotse.store.db.fetchone("SELECT display_name, erased_at, retention_asked_at FROM people")
    assert tuple(row) == ("Amira", None, None)           # and she is asked anew after the next silence


async def test_a_declined_record_is_deleted_after_declined_days(lotse: Running, clock: Clock) -> None:
    bot = lotse.transport
    await bot.say("tesfay", "/start", language="en")
    await bot.press("tesfay", "English")
    await bot.press("tesfay", "I do not agree")
    tesfay = await lotse.store.people.find("test", "tesfay")
    assert tesfay.declined_at == T0
    days = lotse.settings.privacy.declined_days
    await day_passes(lotse, clock, T0 + timedelta(days=days - 1))
    assert await lotse.store.people.find("test", "tesfay") is not None
    await day_passes(lotse, clock, T0 + timedelta(days=days, minutes=1))
    assert await lotse.store.people.find("test", "tesfay") is None
    for table, column in (("people", "id"), ("consents", "person_id")):
        left = await lotse.store.db.fetchone(f"SELECT count(*) FROM {table} WHERE {column} = ?", (tesfay.id,))
        assert left[0] == 0, table


# -- the command line -----------------------------------------------------------------------------
LONG_AGO = datetime(2001, 1, 10, 9, 0, tzinfo=UTC)  # the command line runs on the machine's clock


def dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


async def test_lotse_privacy_purge_and_erase(settings: Settings, clock: Clock, tmp_path: Path) -> None:
    """Set up long before any machine's today, so that the command line (which reads the machine's
    clock) finds every rule due whatever today is."""
    clock.now = LONG_AGO
    lotse = await Running(settings).start()
    try:
        await onboard(lotse, "amira", name="Amira")
        await onboard(lotse, "hamid", name="Hamid")
        amira = await lotse.store.people.find("test", "amira")
        await lotse.store.requests.create(amira.id, NewRequest(
            "doctor", LONG_AGO + timedelta(days=7), 60, "Dreieich", PLACE, None, NOTE, ("ar",)), utcnow())
        await lotse.transport.say("tesfay", "/start", language="en")
        await lotse.transport.press("tesfay", "English")
        await lotse.transport.press("tesfay", "I do not agree")
    finally:
        await lotse.app.stop()
    db = settings.database.path
    config = tmp_path / "lotse.toml"
    config.write_text(f'[database]\npath = "{db}"\n')
    before, dumped = db.read_bytes(), dump(db)

    status, out, err = await run_lotse("privacy", "purge", "--dry-run", "--config", str(config), cwd=tmp_path)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("dry run: nothing was changed")
    assert "requests: place and note deleted: 1" in lines
    assert "people asked whether to keep their data (marked only: no transports here): 2" in lines
    assert "declined records deleted: 1" in lines and "people erased after no answer: 0" in lines
    assert len(lines) == 1 + len(retention.Purged().counts())
    assert db.read_bytes() == before and dump(db) == dumped   # nothing changed

    status, out, err = await run_lotse("privacy", "erase", "test:nobody", "--config", str(config), cwd=tmp_path)
    assert status == 2 and out == "" and len(err.splitlines()) == 1
    assert err.startswith("privacy erase: nobody known as test:nobody")
    status, out, err = await run_lotse("privacy", "erase", "test:amira", "--config", str(config), cwd=tmp_path)
    assert (status, err) == (0, "") and out.startswith(f"erased test:amira (person {amira.id}):")
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT platform_user_id, display_name, erased_at FROM people WHERE id = ?",
                           (amira.id,)).fetchone()
        assert row[:2] == (f"erased-{amira.id}", None) and row[2] is not None
        assert conn.execute("SELECT place, note FROM requests").fetchone() == (None, None)
    status, _, err = await run_lotse("privacy", "erase", f"test:erased-{amira.id}", "--config", str(config),
                                     cwd=tmp_path)
    assert status == 2 and len(err.splitlines()) == 1           # erased already

    status, out, err = await run_lotse("privacy", "purge", "--config", str(config), cwd=tmp_path)
    assert (status, err) == (0, "") and "declined records deleted: 1" in out.splitlines()
    with sqlite3.connect(db) as conn:
        people = conn.execute("SELECT platform_user_id, retention_asked_at FROM people ORDER BY id").fetchall()
    assert [p[0] for p in people] == [f"erased-{amira.id}", "hamid"] and people[1][1] is not None


async def test_lotse_privacy_on_a_bad_database_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "lotse.toml"
    config.write_text('[database]\npath = "lotse.db"\n')
    (tmp_path / "lotse.db").write_bytes(b"this is not a database" * 100)
    for args in (("purge",), ("purge", "--dry-run"), ("erase", "test:amira")):
        status, out, err = await run_lotse("privacy", *args, "--config", str(config), cwd=tmp_path)
        assert status == 2 and len(err.splitlines()) == 1 and "Traceback" not in err, (args, err)
    (tmp_path / "lotse.db").unlink()
    status, _, err = await run_lotse("privacy", "purge", "--config", str(config), cwd=tmp_path)
    assert status == 2 and err.strip() == f"privacy purge: no database at {tmp_path / 'lotse.db'}"


async def test_the_daily_run_is_not_postponed_by_restarts(settings: Settings, clock: Clock) -> None:
    """The last run is kept in the database: a Lotse restarted every 20 hours still purges daily."""
    first = await Running(settings).start()             # a new database: its retention day starts now
    try:
        await onboard(first, "amira", name="Amira")
        amira = await first.store.people.find("test", "amira")
        long_ago = T0 - timedelta(days=settings.privacy.text_days + 1)      # place and note are due
        await first.store.requests.create(amira.id, NewRequest(
            "doctor", long_ago, 60, "Dreieich", PLACE, None, NOTE, ("ar",)), long_ago)
    finally:
        await first.app.stop()
    for hours, expected in ((20, (PLACE, NOTE)), (40, (None, None))):
        clock.now = T0 + timedelta(hours=hours)
        lotse = await Running(settings).start()
        try:
            await lotse.app.scheduler.settle()
            row = await lotse.store.db.fetchone("SELECT place, note FROM requests")
            assert tuple(row) == expected, hours       # 20 h: not a day yet; 40 h: overdue, run at the start
        finally:
            await lotse.app.stop()
