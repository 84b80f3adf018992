"""The funder's export: the CSV (read back with Python's csv module, BOM checked) from the
coordinator's button and from `lotse export`, which opens the database read-only."""

from __future__ import annotations

import codecs
import csv
import io
import logging
import sqlite3
from pathlib import Path

import pytest

from bot.export import pseudonym
from tests.conftest import Clock, Running, run_lotse
from tests.test_stats import history

pytestmark = pytest.mark.usefixtures("clock")


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


@pytest.mark.parametrize("first, last", [("0001-01-01", "0001-01-31"), ("9999-12-01", "9999-12-31")])
async def test_lotse_export_at_the_edges_of_the_calendar_is_one_clear_line(lotse: Running, tmp_path: Path,
                                                                           first: str, last: str) -> None:
    db = lotse.settings.database.path  # a real, upgraded database: the dates are the only problem
    await lotse.app.stop()
    config = tmp_path / "lotse.toml"
    config.write_text(f'[database]\npath = "{db}"\n')
    status, stdout, stderr = await run_lotse("export", "--config", str(config), "--from", first, "--to", last,
                                             cwd=tmp_path)
    assert status == 2 and stdout == ""
    assert stderr.strip() == f"export: --from/--to: {first} to {last} reaches beyond the years 1 to 9999"
    assert "Traceback" not in stderr
