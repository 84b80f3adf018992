"""Reminders, follow-ups and calendar files — transcripts on the recording transport with the clock
moved by hand (Wednesday 25 November 2026, 10:00 in Berlin at the start).

Amira's appointment: Tuesday 1 December 2026, 9:30–10:30 in Berlin (8:30 UTC).  With the default
offsets ("24h", "2h") and follow-up ("2h") the rows fall due on Monday 9:30, Tuesday 7:30 and
Tuesday 12:30, Berlin time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from bot.config import RemindersSettings, RequestsSettings, Settings
from bot.services.reminders import due_before, plan
from bot.store.reminders import BEFORE, FOLLOWUP
from tests.conftest import Clock, Running, labels
from tests.test_dispatch import guide, person, request, settle

pytestmark = pytest.mark.usefixtures("clock")

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_0930 = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)
TUESDAY_0730 = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)
TUESDAY_1230 = datetime(2026, 12, 1, 11, 30, tzinfo=UTC)


async def booked(lotse: Running, newcomer_language: str = "en") -> int:
    """Leila accepts Amira's request; returns the assignment id."""
    await guide(lotse, "leila")
    if newcomer_language != "en":
        await person(lotse, "amira", newcomer_language, "newcomer")
    await request(lotse)
    await lotse.transport.press("leila", "Accept")
    await settle(lotse)
    row = await lotse.store.db.fetchone("SELECT id FROM assignments WHERE state = 'active'")
    assert row is not None
    return int(row[0])


async def at(lotse: Running, clock: Clock, moment: datetime) -> None:
    clock.now = moment
    await lotse.app.reminders.fire_due()


def texts(lotse: Running, user: str) -> list[str]:
    return [m.text for m in lotse.transport.messages(user)]


async def states(lotse: Running, assignment_id: int) -> list[tuple[str, str, int, str]]:
    people = {p: u for p, u in await lotse.store.db.fetchall("SELECT id, platform_user_id FROM people")}
    return [(people[p], kind, offset, state) for p, kind, offset, state
            in await lotse.store.reminders.of_assignment(assignment_id)]


# -- planning -----------------------------------------------------------------------------------
def test_whole_days_keep_the_local_time_across_a_clock_change() -> None:
    # Sunday 28 March 2027, 10:00 summer time; the clocks went forward at 2:00 that night.
    starts = datetime(2027, 3, 28, 10, 0, tzinfo=BERLIN).astimezone(UTC)
    assert due_before(starts, timedelta(hours=24), BERLIN) == datetime(2027, 3, 27, 10, 0, tzinfo=BERLIN)
    assert due_before(starts, timedelta(hours=2), BERLIN) == datetime(2027, 3, 28, 8, 0, tzinfo=BERLIN)
    assert due_before(starts, timedelta(hours=24), BERLIN).astimezone(UTC).hour == 9   # 23 h before, not 24
    # Sunday 31 October 2027, 10:00 winter time; the clocks went back at 3:00 that night.
    starts = datetime(2027, 10, 31, 10, 0, tzinfo=BERLIN).astimezone(UTC)
    assert due_before(starts, timedelta(hours=48), BERLIN) == datetime(2027, 10, 29, 10, 0, tzinfo=BERLIN)
    assert due_before(starts, timedelta(hours=26), BERLIN) == datetime(2027, 10, 30, 8, 0, tzinfo=BERLIN)


def test_plan_leaves_out_what_is_already_past() -> None:
    starts = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    rows = plan(RemindersSettings(), BERLIN, guide_id=2, newcomer_id=1, starts_at=starts,
                ends_at=starts + timedelta(hours=1), now=datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    assert [(r.person_id, r.kind, r.offset_minutes) for r in rows] == [
        (1, BEFORE, 120), (2, BEFORE, 120), (2, FOLLOWUP, 0), (1, FOLLOWUP, 0)]
    assert rows[-1].due_at == datetime(2026, 12, 1, 11, 30, tzinfo=UTC)


# -- calendar file ------------------------------------------------------------------------------
async def test_the_confirmation_carries_a_calendar_file_for_both_sides(lotse: Running) -> None:
    await booked(lotse, newcomer_language="de")
    for user, summary in (("leila", "Doctor or hospital with Amira (Lotse)"),
                          ("amira", "Arztpraxis oder Krankenhaus mit Leila (Lotse)")):
        [sent] = [m for m in lotse.transport.messages(user) if m.attachment is not None]
        assert sent.attachment.filename == "appointment.ics" and sent.attachment.mime_type == "text/calendar"
        calendar = Calendar.from_ical(sent.attachment.content)
        [event] = calendar.walk("VEVENT")
        assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert start == datetime(2026, 12, 1, 9, 30, tzinfo=BERLIN) and str(start.tzinfo) == "Europe/Berlin"
        assert end - start == timedelta(hours=1)
        assert str(event["SUMMARY"]) == summary
        assert str(event["LOCATION"]) == "Kinderarztpraxis Dr. Weber"
        assert str(event["UID"]) == event["UID"] and "@lotse" in str(event["UID"])
    [amira] = [m for m in lotse.transport.messages("amira") if m.attachment is not None]
    assert amira.text.startswith("Gute Nachricht")


# -- reminders before -------------------------------------------------------------------------
async def test_each_reminder_fires_once_at_its_local_time(lotse: Running, clock: Clock) -> None:
    assignment = await booked(lotse)
    before = {u: len(texts(lotse, u)) for u in ("amira", "leila")}
    await at(lotse, clock, MONDAY_0930 - timedelta(minutes=1))
    assert {u: len(texts(lotse, u)) for u in before} == before

    await at(lotse, clock, MONDAY_0930)
    await lotse.app.reminders.fire_due()  # again: nothing twice
    [newcomer] = lotse.transport.messages("amira")[before["amira"]:]
    assert newcomer.text.startswith("Reminder: Leila will come with you.")
    assert "Tuesday, 1 December 2026 at 09:30" in newcomer.text
    assert "Do you still need this appointment?" in newcomer.text
    assert labels(newcomer) == ["Yes, I still need it", "No, cancel it"]
    [to_guide] = lotse.transport.messages("leila")[before["leila"]:]
    assert to_guide.text.startswith("Reminder: you are coming along with Amira.")
    assert labels(to_guide) == []
    [kept] = await lotse.transport.press("amira", "Yes, I still need it")
    assert kept.text == "Thank you! Your appointment stays as it is."

    await at(lotse, clock, TUESDAY_0730)
    assert texts(lotse, "amira")[-1].startswith("Reminder: Leila will come with you.")
    assert labels(lotse.transport.messages("amira")[-1]) == []  # asked only once
    assert texts(lotse, "leila")[-1].startswith("Reminder: you are coming along with Amira.")
    assert [s for _, k, _, s in await states(lotse, assignment) if k == BEFORE] == ["sent"] * 4


async def test_no_from_the_reminder_cancels_like_cancel_and_silences_the_rest(lotse: Running, clock: Clock) -> None:
    assignment = await booked(lotse)
    await at(lotse, clock, MONDAY_0930)
    [sure] = await lotse.transport.press("amira", "No, cancel it")
    assert sure.text.startswith("Cancel this request?")
    assert labels(sure) == ["Yes, cancel it", "No, keep it"]
    [done] = await lotse.transport.press("amira", "Yes, cancel it")
    assert done.text == "Your request was cancelled."
    await settle(lotse)
    assert "Amira cancelled this appointment" in texts(lotse, "leila")[-1]
    counts = {u: len(texts(lotse, u)) for u in ("amira", "leila")}
    for moment in (TUESDAY_0730, TUESDAY_1230, TUESDAY_1230 + timedelta(days=1)):
        await at(lotse, clock, moment)
    assert {u: len(texts(lotse, u)) for u in counts} == counts
    assert [s for *_, s in await states(lotse, assignment)] == ["sent", "sent"] + ["skipped"] * 4


async def test_a_guide_who_cancels_is_never_reminded_and_the_new_guide_is(lotse: Running, clock: Clock) -> None:
    first = await booked(lotse)
    await guide(lotse, "samira")
    await lotse.transport.say("leila", "/appointments")
    await lotse.transport.press("leila", "Cancel")
    await lotse.transport.press("leila", "Yes, I cannot come")
    await settle(lotse)
    await lotse.transport.press("samira", "Accept")
    await settle(lotse)
    leila = len(texts(lotse, "leila"))
    await at(lotse, clock, MONDAY_0930)
    assert len(texts(lotse, "leila")) == leila
    assert texts(lotse, "samira")[-1].startswith("Reminder: you are coming along with Amira.")
    assert texts(lotse, "amira")[-1].startswith("Reminder: Samira will come with you.")
    assert [s for *_, s in await states(lotse, first)] == ["skipped", "skipped"] + ["pending"] * 4
    await at(lotse, clock, TUESDAY_1230)
    assert len(texts(lotse, "leila")) == leila
    assert [s for *_, s in await states(lotse, first)] == ["skipped"] * 6


# -- while Lotse was down -----------------------------------------------------------------------
async def test_reminders_missed_while_down_are_sent_late_only_when_they_make_sense(settings: Settings,
                                                                                   clock: Clock) -> None:
    lotse = await Running(settings).start()
    assignment = await booked(lotse)
    await lotse.app.stop()

    clock.now = MONDAY_0930 + timedelta(hours=5)   # down through Monday 9:30: the appointment is still ahead
    lotse = await Running(settings).start()
    await lotse.app.reminders.fire_due()
    assert texts(lotse, "amira")[-1].startswith("Reminder: Leila will come with you.")
    await lotse.app.stop()

    clock.now = TUESDAY_0730 + timedelta(minutes=30)
    lotse = await Running(settings).start()
    await lotse.app.reminders.fire_due()
    assert texts(lotse, "leila")[-1].startswith("Reminder: you are coming along with Amira.")
    await lotse.app.stop()

    clock.now = TUESDAY_1230 + timedelta(days=8)  # the follow-ups are too old by now
    lotse = await Running(settings).start()
    await lotse.app.reminders.fire_due()
    assert texts(lotse, "leila") == [] and texts(lotse, "amira") == []
    await lotse.app.stop()
    assert [s for *_, s in await _rows(settings, assignment)] == ["sent"] * 4 + ["skipped"] * 2


async def test_a_stale_reminder_is_skipped_when_a_closer_one_is_due(settings: Settings, clock: Clock) -> None:
    lotse = await Running(settings).start()
    assignment = await booked(lotse)
    await lotse.app.stop()
    clock.now = TUESDAY_0730 + timedelta(minutes=10)  # both Monday's and Tuesday's fell due while down
    lotse = await Running(settings).start()
    await lotse.app.reminders.fire_due()
    [only] = [t for t in texts(lotse, "amira") if t.startswith("Reminder")]
    assert "Do you still need" not in only  # the 24 h one (which would ask) was skipped
    await lotse.app.stop()
    rows = await _rows(settings, assignment)
    assert [(kind, offset, state) for _, kind, offset, state in rows if kind == BEFORE] == [
        (BEFORE, 1440, "skipped"), (BEFORE, 1440, "skipped"), (BEFORE, 120, "sent"), (BEFORE, 120, "sent")]


@pytest.mark.parametrize("moment, reminded", [
    (datetime(2026, 12, 1, 8, 0, tzinfo=UTC), True),   # 9:00 in Berlin, half an hour before: the control
    (datetime(2026, 12, 1, 9, 0, tzinfo=UTC), False),  # 10:00 in Berlin: the appointment has begun
])
async def test_after_the_appointment_no_reminder_goes_out(lotse: Running, clock: Clock, moment: datetime,
                                                          reminded: bool) -> None:
    """Both reminders fell due unseen (the scheduler is stopped, as if Lotse had been down, so only
    fire_due sends and nothing races the assertions).  Half an hour before the appointment the
    two-hour reminder still goes out to both — the machinery works; once it has begun, none does."""
    assignment = await booked(lotse)
    await lotse.app.scheduler.stop()
    clock.now = moment
    await lotse.app.reminders.fire_due()
    sent = {u: [t for t in texts(lotse, u) if t.startswith("Reminder")] for u in ("amira", "leila")}
    rows = [(offset, state) for _, kind, offset, state in await states(lotse, assignment) if kind == BEFORE]
    if reminded:
        assert {u: len(t) for u, t in sent.items()} == {"amira": 1, "leila": 1}
        assert rows == [(1440, "skipped")] * 2 + [(120, "sent")] * 2  # the 24 h one is stale by then
    else:
        assert sent == {"amira": [], "leila": []}
        assert rows == [(1440, "skipped")] * 2 + [(120, "skipped")] * 2  # looked at, and closed


async def test_a_claimed_but_unsent_reminder_is_sent_after_a_restart(settings: Settings, clock: Clock) -> None:
    lotse = await Running(settings).start()
    assignment = await booked(lotse)
    await lotse.app.stop()
    clock.now = MONDAY_0930  # while Lotse is down: what a crash right after the claim leaves behind
    async with _store(settings) as store, store.transaction():
        [(first, _)] = (await store.reminders.due_before(clock.now))[:1]
        assert await store.reminders.claim(first, clock.now) is not None
    lotse = await Running(settings).start()
    await lotse.app.reminders.fire_due()
    reminders = [t for u in ("amira", "leila") for t in texts(lotse, u) if t.startswith("Reminder")]
    assert len(reminders) == 2
    await lotse.app.stop()
    assert [s for _, k, _, s in await _rows(settings, assignment) if k == BEFORE][:2] == ["sent", "sent"]


@pytest.mark.parametrize("recognises_repeats", [False, True])
async def test_a_reminder_cut_off_while_sending(settings: Settings, clock: Clock, recognises_repeats: bool) -> None:
    """A row left "sending" (the message was leaving when the process died) is not sent again where
    the platform could show it twice (it most likely arrived); where the platform recognises the
    repeat by the message's key (Matrix), it is sent again."""
    lotse = await Running(settings).start()
    assignment = await booked(lotse)
    await lotse.app.stop()
    clock.now = MONDAY_0930  # while Lotse is down: what a crash in the middle of a send leaves behind
    async with _store(settings) as store:
        [(first, _)] = (await store.reminders.due_before(clock.now))[:1]
        assert await store.reminders.claim(first, clock.now) is not None
        await store.reminders.sending(first)
    lotse = Running(settings)
    lotse.transport.traits = dataclasses.replace(lotse.transport.traits, recognises_repeats=recognises_repeats)
    await lotse.start()
    await lotse.app.reminders.fire_due()
    reminders = [t for u in ("amira", "leila") for t in texts(lotse, u) if t.startswith("Reminder")]
    await lotse.app.stop()
    states_now = [s for _, k, _, s in await _rows(settings, assignment) if k == BEFORE][:2]
    if recognises_repeats:
        assert len(reminders) == 2 and states_now == ["sent", "sent"]
    else:
        assert len(reminders) == 1 and sorted(states_now) == ["sent", "uncertain"]


async def test_a_failed_delivery_is_tried_again_later(lotse: Running, clock: Clock) -> None:
    assignment = await booked(lotse)
    lotse.transport.unavailable.add("leila")
    await at(lotse, clock, MONDAY_0930)
    assert not texts(lotse, "leila")[-1].startswith("Reminder")
    lotse.transport.unavailable.clear()
    await at(lotse, clock, MONDAY_0930 + timedelta(minutes=5))
    assert not texts(lotse, "leila")[-1].startswith("Reminder")  # not yet: retry_after is 10 minutes
    await at(lotse, clock, MONDAY_0930 + timedelta(minutes=10))
    assert texts(lotse, "leila")[-1].startswith("Reminder: you are coming along with Amira.")
    assert [s for u, k, _, s in await states(lotse, assignment) if k == BEFORE][:2] == ["sent", "sent"]


@asynccontextmanager
async def _store(settings: Settings) -> AsyncIterator[Any]:
    from bot.store import Store
    store = await Store.open(settings.database.path)
    try:
        yield store
    finally:
        await store.close()


async def _rows(settings: Settings, assignment: int) -> list[tuple[int, str, int, str]]:
    from bot.store import Store

    store = await Store.open(settings.database.path)
    try:
        return await store.reminders.of_assignment(assignment)
    finally:
        await store.close()


# -- follow-ups ---------------------------------------------------------------------------------
async def test_the_guide_reports_that_it_took_place_and_how_long(lotse: Running, clock: Clock) -> None:
    assignment = await booked(lotse)
    await at(lotse, clock, TUESDAY_1230 - timedelta(minutes=1))
    assert not texts(lotse, "leila")[-1].startswith("Did your appointment")
    await at(lotse, clock, TUESDAY_1230)
    asked = lotse.transport.messages("leila")[-1]
    assert asked.text.startswith("Did your appointment with Amira take place?")
    assert labels(asked) == ["Yes, it took place", "Amira did not come", "It was cancelled"]
    [how_long] = await lotse.transport.press("leila", "Yes, it took place")
    assert how_long.text == "How long did it take, including the way there and back?"
    assert labels(how_long) == ["1 hour", "1,5 hours", "2 hours", "3 hours", "4 hours"]
    [thanks] = await lotse.transport.press("leila", "1,5 hours")  # English as read in Germany (region DE)
    assert thanks.text == "Thank you! Recorded: 1,5 hours."
    row = await lotse.store.db.fetchone("SELECT state, hours FROM assignments WHERE id = ?", (assignment,))
    assert (row[0], row[1]) == ("done", 1.5)
    # the same answer again (an old message) changes nothing
    stale = [s for s in lotse.transport.sent if s.chat_id == "leila" and labels(s.message)
             and labels(s.message)[0] == "1 hour"][0]
    [again] = await lotse.transport.press_token("leila", stale.message.flat_buttons[3].token,
                                                message_id=stale.message_id)
    assert again.text == "This appointment has been answered already. Thank you!"
    row = await lotse.store.db.fetchone("SELECT hours FROM assignments WHERE id = ?", (assignment,))
    assert row[0] == 1.5


async def test_hours_are_offered_in_the_guides_language(lotse: Running, clock: Clock) -> None:
    await guide(lotse, "leila")
    await lotse.store.people.set_language((await lotse.store.people.find("test", "leila")).id, "de")
    await request(lotse)
    await lotse.transport.press("leila", "Annehmen")
    await settle(lotse)
    await at(lotse, clock, TUESDAY_1230)
    await lotse.transport.press("leila", "Ja, er hat stattgefunden")
    assert labels(lotse.transport.messages("leila")[-1]) == ["1 Stunde", "1,5 Stunden", "2 Stunden", "3 Stunden",
                                                             "4 Stunden"]


async def test_a_no_show_reaches_every_coordinator(lotse: Running, clock: Clock) -> None:
    assignment = await booked(lotse)
    await at(lotse, clock, TUESDAY_1230)
    [thanks] = await lotse.transport.press("leila", "Amira did not come")
    assert thanks.text == "Thank you for telling us. A coordinator will have a look."
    notice = texts(lotse, "weber")[-1]  # the coordinator reads German, the default language
    assert notice.startswith("Leila meldet, dass Amira nicht gekommen ist: Arztpraxis oder Krankenhaus am Dienstag, "
                             "1. Dezember 2026 um 09:30 Uhr")
    row = await lotse.store.db.fetchone("SELECT state FROM assignments WHERE id = ?", (assignment,))
    assert row[0] == "no_show"


async def test_a_late_cancellation_reaches_coordinators(lotse: Running, clock: Clock) -> None:
    assignment = await booked(lotse)
    await at(lotse, clock, TUESDAY_1230)
    await lotse.transport.press("leila", "It was cancelled")
    assert "dieser Termin kurzfristig abgesagt wurde: Arztpraxis" in texts(lotse, "weber")[-1]
    row = await lotse.store.db.fetchone("SELECT state, hours FROM assignments WHERE id = ?", (assignment,))
    assert (row[0], row[1]) == ("cancelled_late", None)
    row = await lotse.store.db.fetchone("SELECT r.state FROM requests r JOIN assignments a ON a.request_id = r.id "
                                        "WHERE a.id = ?", (assignment,))
    assert row[0] == "cancelled"  # counted with the cancellations in `stats`


async def test_the_newcomer_gives_feedback_and_a_comment(lotse: Running, clock: Clock) -> None:
    assignment = await booked(lotse)
    await at(lotse, clock, TUESDAY_1230)
    asked = lotse.transport.messages("amira")[-1]
    assert asked.text.startswith("How was your appointment with Leila?")
    assert labels(asked) == ["👍 Good", "👎 Not good", "Write a comment"]
    [thanks] = await lotse.transport.press("amira", "👍 Good")
    assert thanks.text == "Thank you for your feedback!"
    # the same message's "Write a comment" still works after the thumbs-up
    same = [s for s in lotse.transport.sent if s.chat_id == "amira" and "Write a comment" in labels(s.message)][0]
    [prompt] = await lotse.transport.press_token("amira", same.message.flat_buttons[2].token,
                                                 message_id=same.message_id)
    assert prompt.text == "Please write your comment (at most 300 characters)."
    too_long = await lotse.transport.say("amira", "x" * 400)
    assert [m.text for m in too_long][0] == "Please write at most 300 characters."
    [done] = await lotse.transport.say("amira", "Leila war sehr freundlich.")
    assert done.text == "Thank you for your feedback!"
    row = await lotse.store.db.fetchone("SELECT feedback, feedback_comment FROM assignments WHERE id = ?",
                                        (assignment,))
    assert (row[0], row[1]) == ("positive", "Leila war sehr freundlich.")


async def test_a_comment_first(lotse: Running, clock: Clock) -> None:
    assignment = await booked(lotse)
    await at(lotse, clock, TUESDAY_1230)
    [prompt] = await lotse.transport.press("amira", "Write a comment")
    assert prompt.text == "Please write your comment (at most 300 characters)."
    [done] = await lotse.transport.say("amira", "Sehr gut, danke!")
    assert done.text == "Thank you for your feedback!"
    row = await lotse.store.db.fetchone("SELECT feedback, feedback_comment FROM assignments WHERE id = ?",
                                        (assignment,))
    assert (row[0], row[1]) == (None, "Sehr gut, danke!")


# -- a daylight-saving change, end to end -------------------------------------------------------
async def test_a_reminder_across_the_spring_clock_change(settings: Settings, clock: Clock) -> None:
    every_day = dataclasses.replace(settings, requests=dataclasses.replace(
        RequestsSettings(), service_days=("mon", "tue", "wed", "thu", "fri", "sat", "sun")))
    clock.now = datetime(2027, 3, 20, 9, 0, tzinfo=UTC)
    lotse = await Running(every_day).start()
    try:
        from bot.store.guides import Slot

        await guide(lotse, "leila", slots=(Slot(6, 9 * 60, 12 * 60),))  # Sundays 9–12
        sunday_10 = datetime(2027, 3, 28, 10, 0, tzinfo=BERLIN).astimezone(UTC)
        await request(lotse, starts_at=sunday_10)
        await lotse.transport.press("leila", "Accept")
        await settle(lotse)
        saturday_10 = datetime(2027, 3, 27, 10, 0, tzinfo=BERLIN)  # 9:00 UTC (winter time)
        await at(lotse, clock, saturday_10.astimezone(UTC) - timedelta(minutes=1))
        assert not texts(lotse, "amira")[-1].startswith("Reminder")
        await at(lotse, clock, saturday_10.astimezone(UTC))
        assert texts(lotse, "amira")[-1].startswith("Reminder: Leila will come with you.")
        assert "Sunday, 28 March 2027 at 10:00" in texts(lotse, "amira")[-1]
        await at(lotse, clock, datetime(2027, 3, 28, 5, 59, tzinfo=UTC))  # 7:59 summer time
        assert "Do you still need" in texts(lotse, "amira")[-1]
        await at(lotse, clock, datetime(2027, 3, 28, 6, 0, tzinfo=UTC))   # 8:00 summer time: 2 h before
        assert texts(lotse, "amira")[-1].startswith("Reminder: Leila will come with you.")
        assert "Do you still need" not in texts(lotse, "amira")[-1]
    finally:
        await lotse.app.stop()
