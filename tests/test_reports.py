"""The coordinator's reports of a year (bot/services/reports.py): the payment list and the funder's
summary, their numbers against the database, the PDFs read back with pypdf, the CSVs parsed back,
the buttons under `stats` and `lotse report`."""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from bot.config import ProgrammeSettings
from bot.services import privacy, reports
from bot.store.stats import pseudonym
from handlers import labels
from tests.conftest import Clock, Running, run_lotse
from tests.test_stats import assign, guide, history, request

pytestmark = pytest.mark.usefixtures("clock")

WIR = ProgrammeSettings(name="WIR-Integrationslotsen (Hessen)", unit="hour", rate=5.0, weekly_cap=6.0,
                        yearly_cap=276.0, pool_hours=2000.0, benefits_monthly_limit=250.0, tax_free_yearly=3000.0,
                        rounding=0.25)


@pytest.fixture
def settings(settings):  # noqa: ANN001, ANN201
    return dataclasses.replace(settings, programme=WIR)


def sections(content: bytes) -> list[list[list[str]]]:
    assert content.startswith(codecs.BOM_UTF8)
    text = content[len(codecs.BOM_UTF8):].decode("utf-8")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    found, current = [], []
    for row in rows + [[]]:
        if row:
            current.append(row)
        elif current:
            found.append(current)
            current = []
    return found


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


async def year(lotse: Running, clock: Clock) -> dict[str, int]:
    """history() (Leila 1.5 h in March and 1 h in November, Mehmet 2.25 h in March and a no-show),
    and Nasrin's appointment next week, booked: not in the report, counted apart."""
    ids = await history(lotse, clock)
    nasrin = await guide(lotse, "nasrin", ("fa", "de"))
    hamid = (await lotse.store.people.find("test", "hamid")).id
    later = await request(lotse, hamid, "jobcentre", clock.now + timedelta(days=7), "Langen", ("fa",), clock.now)
    await assign(lotse, later, nasrin, clock.now)
    return {**ids, "nasrin": nasrin}


async def test_the_years_figures_match_the_database(lotse: Running, clock: Clock) -> None:
    ids = await year(lotse, clock)
    report = await reports.build(lotse.store, WIR, lotse.settings.zone, 2026)
    # the same totals straight from the rows: what took place in 2026, hours in quarters
    row = await lotse.store.db.fetchone(
        "SELECT count(*), sum(round(coalesce(a.hours, r.duration_minutes / 60.0) / 0.25) * 0.25), "
        "count(DISTINCT a.guide_id) FROM assignments a JOIN requests r ON r.id = a.request_id "
        "WHERE a.state = 'done' AND r.starts_at >= '2025-12-31T23:00' AND r.starts_at < '2026-12-31T23:00'")
    assert (report.assignments, report.hours, report.active_guides) == (row[0], row[1], row[2]) == (3, 4.75, 2)
    assert report.allowance == 23.75                     # €5 an hour
    assert report.booked == 1                            # Nasrin's, next week
    assert report.pool_share == pytest.approx(4.75 / 2000)
    assert (report.months[3].hours, report.months[3].assignments, report.months[11].hours) == (3.75, 2, 1.0)
    assert report.months[3].allowance == 18.75 and report.months[1].hours == 0
    assert report.by_topic == {"doctor": 2, "immigration": 1}
    assert report.by_language == {"ar": 2, "uk": 1}
    assert report.by_district == {"Dreieich": 2, "Dietzenbach": 1}
    assert [(p.name, p.account.hours, p.account.allowance) for p in report.payments] == [
        ("Leila", 2.5, 12.5), ("Mehmet", 2.25, 11.25)]
    assert ids["nasrin"] not in [p.account.guide_id for p in report.payments]
    empty = await reports.build(lotse.store, WIR, lotse.settings.zone, 2025)
    assert (empty.assignments, empty.hours, empty.payments) == (0, 0, [])


async def test_an_erased_guide_appears_by_pseudonym(lotse: Running, clock: Clock) -> None:
    ids = await year(lotse, clock)
    mehmet = await lotse.store.people.find("test", "mehmet")
    await privacy.erase(lotse.app, mehmet)
    report = await reports.build(lotse.store, WIR, lotse.settings.zone, 2026)
    key = await lotse.store.stats.secret("pseudonym_key")
    assert sorted((p.name, p.account.hours) for p in report.payments) == sorted(
        [(pseudonym(key, ids["mehmet"]), 2.25), ("Leila", 2.5)])
    assert report.hours == 4.75  # the hours stay, the name goes
    en, de = english(lotse)
    listing = pdf_text(reports.payments_pdf(report, en, de, WIR))
    assert pseudonym(key, ids["mehmet"]) in listing and "Mehmet" not in listing


def english(lotse: Running):  # noqa: ANN201
    from bot.core.i18n import Catalogs

    s = lotse.settings
    catalogs = Catalogs(s.bot.languages, s.bot.default_language, s.zone, region=s.bot.region)
    return catalogs.get("en"), catalogs.get("de")


async def test_the_csv_files_read_back(lotse: Running, clock: Clock) -> None:
    await year(lotse, clock)
    report = await reports.build(lotse.store, WIR, lotse.settings.zone, 2026)
    en, de = english(lotse)
    payments, summary = reports.files(report, "csv", en, de, WIR, labels.topic, labels.language)
    assert (payments.filename, summary.filename) == ("lotse-2026-payments.csv", "lotse-2026-summary.csv")
    months, totals = sections(payments.content)
    assert months == [["Name", "Month", "Assignments", "Hours", "Allowance (€)"],
                      ["Leila", "March 2026", "1", "1,5", "7,50"], ["Leila", "November 2026", "1", "1", "5,00"],
                      ["Mehmet", "March 2026", "1", "2,25", "11,25"]]
    assert totals == [["Name", "Assignments", "Hours", "Allowance (€)", "Notes"],
                      ["Leila", "2", "2,5", "12,50", ""], ["Mehmet", "1", "2,25", "11,25", ""]]
    figures, per_month, topics, languages, districts = sections(summary.content)
    assert dict(figures[1:]) == {"Year": "2026", "Programme": "WIR-Integrationslotsen (Hessen)",
                                 "Assignments that took place": "3", "Hours": "4,75", "Allowances (€)": "23,75",
                                 "Active guides": "2", "Pool (hours)": "2000", "Pool used (%)": "0,2",
                                 "Booked, not yet reported": "1"}
    assert per_month[0] == ["Month", "Assignments", "Hours", "Allowance (€)"] and len(per_month) == 13
    assert per_month[3] == ["March 2026", "2", "3,75", "18,75"]
    assert topics == [["Topic", "Assignments"], ["Doctor or hospital", "2"], ["Immigration office", "1"]]
    assert languages == [["Language", "Assignments"], ["Arabic", "2"], ["Ukrainian", "1"]]
    assert districts == [["District", "Assignments"], ["Dreieich", "2"], ["Dietzenbach", "1"]]
    assert "Leila" not in summary.content.decode("utf-8-sig") and "Amira" not in summary.content.decode("utf-8-sig")


async def test_the_pdfs_read_back(lotse: Running, clock: Clock) -> None:
    await year(lotse, clock)
    report = await reports.build(lotse.store, WIR, lotse.settings.zone, 2026)
    en, de = english(lotse)
    payments, summary = reports.files(report, "pdf", en, de, WIR, labels.topic, labels.language)
    text = pdf_text(summary.content)
    for line in ("Summary for the funder 2026", "Assignments that took place: 3", "Hours: 4,75",
                 "Allowances (€): 23,75", "Active guides: 2", "Pool used: 4,75 of 2.000 hours (0,2 %)",
                 "Not included: 1 assignment still booked", "Hours per month", "Doctor or hospital", "Dreieich"):
        assert line in text, line
    assert "Leila" not in text and "Mehmet" not in text
    listing = pdf_text(payments.content)
    for line in ("Payment list 2026", "For coordinators only", "Leila", "Mehmet", "12,50", "11,25"):
        assert line in listing, line
    # the chart: twelve month labels drawn under the bars
    assert all(month in text for month in ("Jan", "Mar", "Nov", "Dec"))


async def test_report_buttons_under_stats(lotse: Running, clock: Clock) -> None:
    await year(lotse, clock)
    bot = lotse.transport
    [message] = await bot.say("weber", "/stats")
    assert [b.label for b in message.flat_buttons][2:] == ["Report 2025 (PDF)", "Report 2025 (CSV)",
                                                           "Report 2026 (PDF)", "Report 2026 (CSV)"]
    listing, summary = await bot.press("weber", "Report 2026 (PDF)")
    assert listing.attachment.filename == "lotse-2026-payments.pdf"
    assert "Leila" in pdf_text(listing.attachment.content)
    assert "Hours: 4,75" in pdf_text(summary.attachment.content)
    await bot.say("weber", "/language")
    await bot.press("weber", "Deutsch")
    [german] = await bot.say("weber", "/stats")
    _, summary = await bot.press("weber", german.flat_buttons[5].label)
    [header] = sections(summary.attachment.content)[1][:1]
    assert len(header) == 4 and summary.attachment.filename == "lotse-2026-summary.csv"


async def test_lotse_report_cli(lotse: Running, clock: Clock, tmp_path: Path) -> None:
    await year(lotse, clock)
    db = lotse.settings.database.path
    await lotse.app.stop()
    before = db.read_bytes()
    config = tmp_path / "lotse.toml"
    config.write_text(f'[database]\npath = "{db}"\n[bot]\ndefault_language = "en"\n'
                      '[programme]\nname = "WIR"\nunit = "hour"\nrate = 5.0\npool_hours = 2000.0\n')
    out = tmp_path / "out"
    out.mkdir()
    status, stdout, stderr = await run_lotse("report", "--config", str(config), "--year", "2026", "--out", str(out),
                                             cwd=tmp_path)
    assert (status, stderr) == (0, "")
    assert sorted(p.name for p in out.iterdir()) == ["lotse-2026-payments.pdf", "lotse-2026-summary.pdf"]
    assert "Hours: 4,75" in pdf_text((out / "lotse-2026-summary.pdf").read_bytes())
    assert (out / "lotse-2026-payments.pdf").stat().st_mode & 0o777 == 0o600
    status, stdout, stderr = await run_lotse("report", "--config", str(config), "--year", "2026", "--format", "csv",
                                             "--out", str(out), cwd=tmp_path)
    assert status == 0
    figures = dict(sections((out / "lotse-2026-summary.csv").read_bytes())[0][1:])
    assert figures["Hours"] == "4,75" and figures["Active guides"] == "2"
    assert db.read_bytes() == before
    for args, message in ((("--year", "20x6"), "report: --year: '20x6' is not a year from 1970 to 9998 (e.g. 2026)"),
                          (("--year", "2026", "--format", "xlsx"), "report: --format: 'xlsx' is not one of pdf, csv")):
        status, stdout, stderr = await run_lotse("report", "--config", str(config), *args, cwd=tmp_path)
        assert (status, stderr.strip(), stdout) == (2, message, "")
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM assignments WHERE state = 'done'").fetchone()[0] == 3
