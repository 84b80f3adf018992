"""`hours` over the Telegram wire (real python-telegram-bot, the Bot API wire server): Nasrin reads
her account in German and receives the monthly statement as a PDF document she can forward to the
Jobcenter; its text, read back with pypdf, carries the month's hours and allowance.  Hessen's WIR
programme; the clock stands at Wednesday 25 November 2026, 10:00 in Berlin."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from bot.config import Settings
from bot.services import guides as standing
from bot.store.guides import Profile, Slot
from bot.store.requests import NewRequest
from tests.conftest import make_settings
from tests.telegram_harness import TelegramWorld, labels, telegram_world
from tests.test_hours import HESSEN

NASRIN = 1004


@pytest.fixture
def tg_settings(db_path: Path) -> Settings:
    return dataclasses.replace(make_settings(db_path), programme=HESSEN)


@pytest.fixture
async def world(tg_settings: Settings):  # noqa: ANN201
    async with telegram_world(tg_settings) as world:
        yield world


async def test_nasrin_reads_her_hours_and_gets_the_statement_pdf(world: TelegramWorld, clock) -> None:  # noqa: ANN001
    store, server = world.app.store, world.server
    de = world.app.services.catalogs.get("de")
    nasrin = world.person(NASRIN, "Nasrin", "de")
    await nasrin.onboard(language_label="Deutsch", agree=1, role=2)
    guide = await store.people.find("telegram", str(NASRIN))
    await store.guides.save_profile(guide.id, Profile(("fa", "de"), ("Langen",), ("jobcentre",),
                                                      (Slot(1, 8 * 60, 13 * 60),), 3, "female"), clock.now)
    assert await standing.approve(store, guide.id, None, clock.now)
    hamid = await store.people.get_or_create("telegram", "2001", "2001")
    for day, hours in ((3, 2.0), (10, 1.5)):  # two appointments in November that took place
        starts = datetime(2026, 11, day, 9, 0, tzinfo=UTC)
        request_id = await store.requests.create(hamid.id, NewRequest("jobcentre", starts, 60, "Langen", None, None,
                                                                      None, ("prs",)), datetime(2026, 10, 1, tzinfo=UTC))
        async with store.transaction():
            assignment = await store.bookings.claim(request_id, guide.id, datetime(2026, 10, 2, tzinfo=UTC))
        assert await store.bookings.report_outcome(assignment, guide.id, "done", starts)
        assert await store.bookings.report_hours(assignment, guide.id, hours)

    [account] = await nasrin.send("/hours")
    month = de.month(2026, 11)
    assert de.gettext("This month (%(month)s): %(hours)s, allowance %(amount)s", month=month,
                      hours="3,5 Stunden", amount=de.euro(17.5)) in account["text"]
    assert de.gettext("Monthly statement (PDF): %(month)s", month=month) in labels(account)
    before = len(server.sent(NASRIN, "sendDocument"))
    await nasrin.press(de.gettext("Monthly statement (PDF): %(month)s", month=month))
    [upload] = await server.wait_for(lambda: server.sent(NASRIN, "sendDocument")[before:] or None, what="the PDF")
    document = upload.params["document"]
    assert document.filename.endswith(".pdf")
    text = PdfReader(io.BytesIO(document.data)).pages[0].extract_text()
    assert "Nasrin" in text and "WIR-Integrationslotsen (Hessen)" in text
    total = de.gettext("Total: %(hours)s h, allowance %(amount)s", hours="3,5", amount=de.euro(17.5))
    assert total.replace("\xa0", " ") in text.replace("\xa0", " ")  # pypdf reads the no-break space as a space
