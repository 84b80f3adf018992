"""The moments that must go right (SCENARIOS.md), in the terminal: Lotse with its console
transport, several people typing as at `lotse console` ("@name text", a number presses a button),
on the test's clock (Wednesday 25 November 2026, 10:00 in Berlin, moved as the story goes on)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
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


async def test_two_guides_accept_olenas_request_in_the_same_second(settings: Settings, clock: Clock,
                                                                   tmp_path: Path) -> None:
    async with Terminal(settings, files(tmp_path)) as terminal:
        store = terminal.store
        guides = {"oksana": await m.approved_guide(store, "console", "oksana", "Oksana", "uk", m.OKSANA),
                  "sergej": await m.approved_guide(store, "console", "sergej", "Sergej", "de", m.SERGEJ)}
        language = {"oksana": "uk", "sergej": "de"}
        olena = await m.member(store, "console", "olena", "Olena", "uk", "newcomer")
        request_id = await m.file_request(store, olena, m.olena_request())
        terminal.app.dispatch.kick(request_id)
        for name in guides:
            await terminal.wait_for(lambda name=name: terminal.said(name), f"{name}'s offer")

        # Both tap Accept at once: one terminal reads one line at a time, so the two presses are
        # parsed as it parses them and handed to Lotse together, as two phones would.
        seen = len(terminal.screen.blocks)
        both = [terminal.transport.parse_line(f"@{name} 1") for name in guides]
        assert all(event is not None and event.kind == "button" for event in both)
        await asyncio.gather(*await terminal.app.inbox.record(both))
        await terminal.app.dispatch.idle()

        [(winner_id, state)] = await rows(store, "SELECT guide_id, state FROM assignments WHERE request_id = ?",
                                          request_id)
        winner = next(name for name, guide_id in guides.items() if guide_id == winner_id)
        loser = next(name for name in guides if name != winner)
        after = [m.parse_block(b) for b in terminal.screen.blocks[seen:]]
        said_to = {name: [s.text for s in after if s.to == name] for name in guides}
        assert any(text.startswith(tr(settings, language[winner], m.MSG_ASSIGNED, name="Olena"))
                   for text in said_to[winner])
        taken = tr(settings, language[loser], m.MSG_TAKEN)
        assert any(taken in text for text in said_to[loser]), said_to[loser]
        assert not any(tr(settings, language[loser], m.MSG_ASSIGNED, name="Olena") in text
                       for text in said_to[loser])
        assert state == "active"
        assert sorted(await rows(store, "SELECT guide_id, state FROM offers WHERE request_id = ?", request_id)) == sorted(
            [(winner_id, "accepted"), (guides[loser], "taken")])
        [news] = [s for s in after if s.to == "olena"]  # Olena hears once, of one guide
        assert winner.capitalize() in news.text


async def test_nobody_is_free_for_hamid_and_frau_weber_assigns_nasrin(settings: Settings, clock: Clock,
                                                                      tmp_path: Path) -> None:
    clock.now = m.HAMID_ASKS  # Tuesday 12:00: his letter came late, the appointment is Thursday 14:00
    async with Terminal(settings, files(tmp_path)) as terminal:
        store = terminal.store
        weber = await m.member(store, "console", "weber", "Weber", "de", "newcomer")
        farid = await m.approved_guide(store, "console", "farid", "Farid", "de", m.FARID)
        nasrin = await m.approved_guide(store, "console", "nasrin", "Nasrin", "fa", m.NASRIN)
        for user, profile in (("leila", m.LEILA), ("mehmet", m.MEHMET), ("yonas", m.YONAS)):
            await m.approved_guide(store, "console", user, user.capitalize(), "de", profile)
        hamid = await m.member(store, "console", "hamid", "Hamid", "prs", "newcomer")
        request_id = await m.file_request(store, hamid, m.hamid_request())
        terminal.app.dispatch.kick(request_id)

        # The one wave: Farid (Dari, Langen, Thursday afternoons); he does not answer
        [offer] = await terminal.wait_for(lambda: terminal.said("farid"), "Farid's offer")
        assert offer.options == [tr(settings, "de", "Accept"), tr(settings, "de", "Decline")]
        assert not terminal.said("nasrin") and not terminal.said("weber")
        [(expires,)] = await rows(store, "SELECT expires_at FROM offers WHERE request_id = ?", request_id)
        clock.now = datetime.fromisoformat(expires)
        await terminal.settle()

        # The waves ran out, two days before: Frau Weber sees the ranked guides and why each was not offered
        [(escalated_at,)] = await rows(store, "SELECT escalated_at FROM requests WHERE id = ?", request_id)
        before = m.HAMID_APPOINTMENT - datetime.fromisoformat(escalated_at)
        assert timedelta(hours=44) <= before < timedelta(hours=48)
        [card] = terminal.said("weber")
        assert card.text.startswith(tr(settings, "de", "Nobody has taken this request yet:"))
        lines = card.text.split("\n")
        for name in ("Nasrin", "Leila", "Mehmet", "Yonas"):
            [line] = [ln for ln in lines if ln.startswith(f"{name} – ")]
            assert line.startswith(tr(settings, "de", "%(name)s – not offered: %(reasons)s", name=name, reasons="")), line
            assert len(line) > len(tr(settings, "de", "%(name)s – not offered: %(reasons)s", name=name,
                                      reasons="")) + 5  # with the reason
        assign_nasrin = tr(settings, "de", "Assign %(name)s", name="Nasrin")
        assert assign_nasrin in card.options
        assert (await store.requests.get(request_id)).state == "open" and farid

        # She assigns Nasrin by hand: Nasrin gets it as an offer, accepts, Hamid is told in Dari
        [question] = await terminal.type(f"@weber {card.options.index(assign_nasrin) + 1}")
        assert question.text.startswith("Nasrin – ")
        await terminal.type("1")  # assign anyway
        [nasrins_offer] = [s for s in terminal.said("nasrin")]
        assert nasrins_offer.text.startswith(tr(settings, "fa", "Can you come along to an appointment?"))
        await terminal.type("@nasrin 1", expect=2)
        assert terminal.said("hamid")[-1].text.startswith(m.good_news_line(settings, "prs", "Nasrin", "female",
                                                                           m.NASRIN) + "\n")
        assert await rows(store, "SELECT guide_id, assigned_by, state FROM assignments WHERE request_id = ?",
                          request_id) == [(nasrin, weber, "active")]


async def test_a_restart_at_8_sends_the_two_hour_reminder_once_and_tesfays_dialog_goes_on(
        settings: Settings, clock: Clock, tmp_path: Path) -> None:
    async with Terminal(settings, files(tmp_path)) as first:
        store = first.store
        yonas = await m.approved_guide(store, "console", "yonas", "Yonas", "en", m.YONAS)
        tesfay = await m.member(store, "console", "tesfay", "Tesfay", "en", "newcomer")
        request_id = await m.file_request(store, tesfay, m.tesfay_request())
        first.app.dispatch.kick(request_id)
        await first.wait_for(lambda: first.said("yonas"), "Yonas' offer")
        await first.type("@yonas 1", expect=2)
        clock.now = m.TESFAY_DAY_BEFORE
        await first.settle()
        await first.type("@tesfay 1")  # yes, he still needs it
        # Saturday, just before 8: Tesfay begins another request and stops after the topic
        clock.now = m.SATURDAY_0759 - timedelta(minutes=4)
        await first.type("@tesfay /request")
        [date_question] = await first.type("5")  # housing office
        assert date_question.text.startswith(m.head(tr(settings, "en", "On which day is the appointment? Choose a "
                                                       "day or type the date, for example %(example)s.")))
        clock.now = m.SATURDAY_0759
        await first.settle()
    # The update: Lotse stops at 7:59 and a new process starts at 8:00 on the same database
    clock.now = m.SATURDAY_0800
    screens = [first]
    async with Terminal(settings, files(tmp_path)) as second:
        screens.append(second)
        await second.settle()
        [time_question] = await second.type("@tesfay 10.12.2026")  # his dialog goes on where it was
        assert time_question.text.startswith(m.head(tr(settings, "en", "At what time does it start? Choose or "
                                                       "type the time, for example %(example)s.")))
    # …and once more at 8:05 (an update rolled out twice): nothing is sent again
    clock.now = m.SATURDAY_0805
    async with Terminal(settings, files(tmp_path)) as third:
        screens.append(third)
        await third.settle()
    for person, head in (("tesfay", tr(settings, "en", m.MSG_REMINDER_NEWCOMER, name="Yonas")),
                         ("yonas", tr(settings, "en", m.MSG_REMINDER_GUIDE, name="Tesfay"))):
        reminders = [s for screen in screens for s in screen.said(person) if s.text.startswith(head)]
        assert len(reminders) == 2, [s.text for s in reminders]  # the day before, and two hours before: once
    check = Terminal(settings, files(tmp_path))
    async with check:
        assert await rows(check.store, "SELECT person_id, offset_minutes, state FROM reminders "
                                       "WHERE kind = 'before' ORDER BY offset_minutes, person_id") == [
            (yonas, 120, "sent"), (tesfay, 120, "sent"), (yonas, 1440, "sent"), (tesfay, 1440, "sent")]
        assert request_id
