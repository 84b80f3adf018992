"""The moments that must go right (SCENARIOS.md), in the terminal: Lotse with its console
transport, several people typing as at `lotse console` ("@name text", a number presses a button),
on the test's clock (Wednesday 25 November 2026, 10:00 in Berlin, moved as the story goes on)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.config import Settings
from tests import moments as m
from tests.conftest import Clock, make_settings
from tests.moments import Terminal, rows, tr


@pytest.fixture
def settings(db_path: Path) -> Settings:
    return make_settings(db_path, coordinators=("console:weber",))


def files(tmp_path: Path) -> Path:
    return tmp_path / "console-files"


async def test_amiras_request_finds_leila_without_a_coordinator(settings: Settings, clock: Clock,
                                                                tmp_path: Path) -> None:
    async with Terminal(settings, files(tmp_path)) as terminal:
        store = terminal.store
        weber = await m.member(store, "console", "weber", "Weber", "de", "newcomer")
        leila = await m.approved_guide(store, "console", "leila", "Leila", "de", m.LEILA)
        await m.approved_guide(store, "console", "mehmet", "Mehmet", "de", m.MEHMET)
        amira = await m.member(store, "console", "amira", "Amira", "ar", "newcomer")
        request_id = await m.file_request(store, amira, m.amira_request())
        terminal.app.dispatch.kick(request_id)

        # Leila alone gets the offer (Arabic, Dreieich, Tuesday morning, a woman); she accepts it
        [offer] = await terminal.wait_for(lambda: terminal.said("leila"), "Leila's offer")
        assert offer.text.startswith(tr(settings, "de", "Can you come along to an appointment?"))
        assert offer.options == [tr(settings, "de", "Accept"), tr(settings, "de", "Decline")]
        assert not terminal.said("mehmet")
        await terminal.type("@leila 1", expect=2)

        # Amira reads the good news in Arabic, with a calendar file
        [news] = terminal.said("amira")
        assert news.text == m.good_news_for_amira(settings)
        [calendar] = sorted((files(tmp_path) / "amira").glob("*.ics"))
        assert m.ics_start(calendar.read_bytes()) == "2026-12-01T09:30:00+01:00"
        assert terminal.said("leila")[-1].text.startswith(tr(settings, "de", m.MSG_ASSIGNED, name="Amira"))
        assert not terminal.said("weber")  # no coordinator was needed
        assert await rows(store, "SELECT guide_id, assigned_by, state FROM assignments WHERE request_id = ?",
                          request_id) == [(leila, None, "active")]
        assert await rows(store, "SELECT state, escalated_at FROM requests WHERE id = ?", request_id) == [
            ("matched", None)]
        assert weber  # (Frau Weber is there, and was not told anything)

        # Monday 9:30, the day before: both are reminded; Amira keeps her appointment
        amira_head, leila_head = m.reminder_heads(settings)
        clock.now = m.AMIRA_DAY_BEFORE
        await terminal.settle()
        assert terminal.said("amira")[-1].text.startswith(amira_head)
        assert terminal.said("leila")[-1].text.startswith(leila_head)
        await terminal.type("@amira 1")
        # Tuesday 7:30, two hours before: both are reminded again
        clock.now = m.AMIRA_TWO_HOURS_BEFORE
        await terminal.settle()
        for person, reminder in (("amira", amira_head), ("leila", leila_head)):
            assert [s.text.split("\n")[0] for s in terminal.said(person)].count(reminder) == 2, person
        assert await rows(store, "SELECT offset_minutes, state FROM reminders WHERE kind = 'before' "
                                 "ORDER BY offset_minutes, person_id") == [
            (120, "sent"), (120, "sent"), (1440, "sent"), (1440, "sent")]
