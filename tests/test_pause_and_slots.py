"""Transcripts of a guide's pause with appointments already booked, of `resume` offering what is still
waiting, and of the slot editor's shortcuts (Mon–Fri, "Same as Tuesday").

The clock stands at Wednesday 25 November 2026, 10:00 in Berlin (the `clock` fixture); the people are
those of SCENARIOS.md: Leila (Arabic, Dreieich, Tuesday mornings) is on holiday 20.12.–6.1., Samira
is another Arabic-speaking guide there, Amira and Olena ask for company, Frau Weber coordinates.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.store.guides import Slot
from tests.conftest import Running, labels
from tests.test_dispatch import TUESDAY_930, guide, offers_to, person, request, settle
from tests.test_guide import SLOTS_PROMPT, SUMMARY_PROMPT, onboard, others, person_id, rows

pytestmark = pytest.mark.usefixtures("clock")

IN_THE_HOLIDAY = datetime(2026, 12, 22, 8, 30, tzinfo=UTC)   # Tuesday 22 December, 9:30 in Berlin
AFTER_THE_HOLIDAY = datetime(2027, 1, 12, 8, 30, tzinfo=UTC)  # Tuesday 12 January, 9:30 in Berlin
PAUSED_20_TO_6 = ("You are paused from 20 Dec 2026 to 6 Jan 2027. Lotse offers you no requests on these days; "
                  "afterwards you get offers again automatically.")
BOOKED_PROMPT = "You are booked for this appointment during your pause ({} of {}):"
KEEP_OR_CANCEL = ("Do you keep it, or cancel it? If you cancel it, the newcomer is told and Lotse looks for another "
                  "guide.")


async def booked(lotse: Running, newcomer: str, starts_at: datetime) -> int:
    """A request of `newcomer` that Leila accepted (Samira's offer of it closes as taken); its id."""
    request_id = await request(lotse, newcomer, starts_at=starts_at)
    assert len(offers_to(lotse, "leila")) == 1
    await lotse.transport.press("leila", "Accept")
    await settle(lotse)
    assert (await lotse.store.requests.get(request_id)).state == "matched"  # type: ignore[union-attr]
    return request_id


async def leila_with_two_appointments(lotse: Running) -> tuple[int, int, int]:
    """Leila, Samira and Frau Weber; Leila holds Amira's appointment in her holiday and Olena's after it.
    Returns Leila's id and the two requests."""
    await person(lotse, "weber", role="newcomer")  # the coordinator of the fixture settings
    leila = await guide(lotse, "leila")
    await guide(lotse, "samira")
    return leila, await booked(lotse, "amira", IN_THE_HOLIDAY), await booked(lotse, "olena", AFTER_THE_HOLIDAY)


async def assignment_states(lotse: Running, request_id: int) -> list[tuple[int, str]]:
    found = await lotse.store.db.fetchall("SELECT guide_id, state FROM assignments WHERE request_id = ? ORDER BY id",
                                          (request_id,))
    return [tuple(r) for r in found]


async def offer_rows(lotse: Running, request_id: int, guide_id: int) -> list[str]:
    found = await lotse.store.db.fetchall("SELECT state FROM offers WHERE request_id = ? AND guide_id = ? ORDER BY id",
                                          (request_id, guide_id))
    return [r[0] for r in found]


async def pause_holiday(lotse: Running) -> list:
    """Leila's /pause for 20.12.–6.1.: what she reads after typing the last day."""
    bot = lotse.transport
    await bot.say("leila", "/pause")
    await bot.press("leila", "For a period")
    await bot.say("leila", "20.12.")
    return await bot.say("leila", "6.1.")


# -- pause with appointments ---------------------------------------------------------------------
async def test_cancelling_an_appointment_in_the_pause_goes_the_way_of_a_guide_cancellation(lotse: Running) -> None:
    bot = lotse.transport
    leila, in_holiday, after_holiday = await leila_with_two_appointments(lotse)
    samira = await person_id(lotse, "samira")
    amira_before, weber_before = len(bot.messages("amira")), len(bot.messages("weber"))
    olena_before = len(bot.messages("olena"))

    # Only the appointment in the holiday is asked about, with what, when and where.
    [question] = await pause_holiday(lotse)
    assert question.text.splitlines() == [
        BOOKED_PROMPT.format(1, 1),
        "Doctor or hospital on Tuesday, 22 December 2026 at 09:30, about 1 hour, in Dreieich.", "",
        KEEP_OR_CANCEL]
    assert labels(question) == ["Keep it", "Cancel it"]
    assert (await lotse.store.guides.get(leila)).paused_from is None  # type: ignore[union-attr]  # not yet

    [confirmation] = await bot.press("leila", "Cancel it")
    await settle(lotse)
    assert confirmation.text.splitlines() == [
        PAUSED_20_TO_6, "You cancelled 1 appointment; the newcomer is told and Lotse looks for another guide."]
    guide_row = await lotse.store.guides.get(leila)
    assert guide_row is not None and guide_row.paused_on(IN_THE_HOLIDAY.date())

    # As if she had cancelled from /appointments: the request is open again and offered to Samira.
    assert await assignment_states(lotse, in_holiday) == [(leila, "cancelled_by_guide")]
    assert (await lotse.store.requests.get(in_holiday)).state == "open"  # type: ignore[union-attr]
    assert await offer_rows(lotse, in_holiday, samira) == ["open"]  # her offer row, taken before, open again
    told = [m.text for m in bot.messages("amira")[amira_before:]]
    assert len(told) == 1 and told[0].startswith("Your guide cannot come after all")
    assert bot.messages("amira")[-1].attachment is not None  # the cancelling calendar file
    [alert] = [m.text for m in bot.messages("weber")[weber_before:]]
    assert alert.startswith("Leila cancelled this appointment:")
    # The appointment after the holiday stays hers, nobody heard of it.
    assert await assignment_states(lotse, after_holiday) == [(leila, "active")]
    assert len(bot.messages("olena")) == olena_before

    # Back from the pause and with Samira declining, the request is never offered to Leila again.
    await bot.say("leila", "/resume")
    await settle(lotse)
    [samira_offer] = offers_to(lotse, "samira")
    await bot.press("samira", "Decline")
    await settle(lotse)
    assert await offer_rows(lotse, in_holiday, samira) == ["declined"]
    assert await offer_rows(lotse, in_holiday, leila) == ["accepted"]
    assert not offers_to(lotse, "leila")


async def test_keeping_an_appointment_in_the_pause_leaves_it_booked(lotse: Running) -> None:
    bot = lotse.transport
    leila, in_holiday, after_holiday = await leila_with_two_appointments(lotse)
    amira_before, weber_before = len(bot.messages("amira")), len(bot.messages("weber"))

    [question] = await pause_holiday(lotse)
    assert question.text.startswith(BOOKED_PROMPT.format(1, 1))
    [confirmation] = await bot.press("leila", "Keep it")
    await settle(lotse)
    assert confirmation.text.splitlines() == [PAUSED_20_TO_6, "You keep 1 appointment in this time."]
    assert await assignment_states(lotse, in_holiday) == [(leila, "active")]
    assert await assignment_states(lotse, after_holiday) == [(leila, "active")]
    assert (await lotse.store.requests.get(in_holiday)).state == "matched"  # type: ignore[union-attr]
    assert len(bot.messages("amira")) == amira_before and len(bot.messages("weber")) == weber_before
    assert not offers_to(lotse, "samira")
    guide_row = await lotse.store.guides.get(leila)
    assert guide_row is not None and guide_row.paused_on(IN_THE_HOLIDAY.date())


async def test_a_pause_without_appointments_in_it_is_confirmed_at_once(lotse: Running) -> None:
    """Olena's appointment is after the holiday: the period pause asks nothing; a pause until Leila
    resumes covers it, and she is asked about it (and keeps it)."""
    bot = lotse.transport
    await person(lotse, "weber", role="newcomer")
    leila = await guide(lotse, "leila")
    after_holiday = await booked(lotse, "olena", AFTER_THE_HOLIDAY)

    [confirmation] = await pause_holiday(lotse)
    assert confirmation.text == PAUSED_20_TO_6
    assert await lotse.store.dialogs.get(leila) is None

    await bot.say("leila", "/pause")
    [question] = await bot.press("leila", "Until I resume")
    assert question.text.splitlines()[:2] == [
        BOOKED_PROMPT.format(1, 1),
        "Doctor or hospital on Tuesday, 12 January 2027 at 09:30, about 1 hour, in Dreieich."]
    [confirmation] = await bot.press("leila", "Keep it")
    assert confirmation.text.splitlines() == [
        "You are paused from 25 Nov 2026 until you send /resume. Lotse offers you no requests until then.",
        "You keep 1 appointment in this time."]
    assert await assignment_states(lotse, after_holiday) == [(leila, "active")]


async def test_two_appointments_in_the_pause_are_asked_one_after_the_other(lotse: Running) -> None:
    bot = lotse.transport
    await person(lotse, "weber", role="newcomer")
    leila = await guide(lotse, "leila")
    first = await booked(lotse, "amira", IN_THE_HOLIDAY)
    second = await booked(lotse, "olena", datetime(2026, 12, 29, 8, 30, tzinfo=UTC))

    [question] = await pause_holiday(lotse)
    assert question.text.splitlines()[:2] == [
        BOOKED_PROMPT.format(1, 2),
        "Doctor or hospital on Tuesday, 22 December 2026 at 09:30, about 1 hour, in Dreieich."]
    [question] = await bot.press("leila", "Keep it")
    assert question.text.splitlines()[:2] == [
        BOOKED_PROMPT.format(2, 2),
        "Doctor or hospital on Tuesday, 29 December 2026 at 09:30, about 1 hour, in Dreieich."]
    [confirmation] = await bot.press("leila", "Cancel it")
    await settle(lotse)
    assert confirmation.text.splitlines()[1:] == [
        "You keep 1 appointment in this time.",
        "You cancelled 1 appointment; the newcomer is told and Lotse looks for another guide."]
    assert await assignment_states(lotse, first) == [(leila, "active")]
    assert await assignment_states(lotse, second) == [(leila, "cancelled_by_guide")]


# -- resume ---------------------------------------------------------------------------------------
async def test_resume_offers_a_waiting_request_that_fits(lotse: Running) -> None:
    """While Leila pauses, nobody fits Amira's request: Frau Weber is alerted.  Leila's /resume
    brings it to her as an offer; a request she does not fit, or declined before, is not sent, and
    nobody is alerted twice."""
    bot = lotse.transport
    await person(lotse, "weber", role="newcomer")
    leila = await guide(lotse, "leila")
    declined = await request(lotse, "olena", starts_at=TUESDAY_930 + timedelta(days=7))  # before her pause
    await bot.press("leila", "Decline")
    await settle(lotse)
    await bot.say("leila", "/pause")
    await bot.press("leila", "Until I resume")

    waiting = await request(lotse, "amira")                                   # Tuesday 9:30, Arabic, Dreieich
    elsewhere = await request(lotse, "hamid", languages=("fa",), gender=None)  # Persian: not Leila's
    assert not offers_to(lotse, "leila")
    alerts = [m for m in bot.messages("weber") if m.text.startswith("Nobody has taken this request yet:")]
    assert len(alerts) == 3
    weber_before = len(bot.messages("weber"))

    back, offered = await bot.say("leila", "/resume")
    await settle(lotse)
    assert back.text == "Welcome back! Your pause has ended and Lotse offers you requests again."
    assert labels(offered) == ["Accept", "Decline"]
    [offer] = offers_to(lotse, "leila")
    assert "Doctor or hospital on Tuesday, 1 December 2026 at 09:30" in offer.message.text
    assert await offer_rows(lotse, waiting, leila) == ["open"]
    assert await offer_rows(lotse, elsewhere, leila) == []
    assert await offer_rows(lotse, declined, leila) == ["declined"]  # what she declined stays declined
    assert len(bot.messages("weber")) == weber_before  # no second alert

    # Pausing and resuming again does not offer her the same request twice.
    await bot.say("leila", "/pause")
    await bot.press("leila", "Until I resume")
    await bot.say("leila", "/resume")
    await settle(lotse)
    assert await offer_rows(lotse, waiting, leila) == ["open"]
    assert len(offers_to(lotse, "leila")) == 1



# -- the slot editor's shortcuts ----------------------------------------------------------------------
async def mehmet_at_the_slots(lotse: Running) -> None:
    """Mehmet's registration typed up to the weekly availability."""
    bot = lotse.transport
    await onboard(lotse, "mehmet")
    for answer in ("Turkish", others("Turkish", "Kurdish", "German"), "Done", "1 6", "Done", "2 3", "Done"):
        await bot.say("mehmet", answer)


async def test_mon_to_fri_takes_one_time_for_five_days(lotse: Running) -> None:
    bot = lotse.transport
    await mehmet_at_the_slots(lotse)
    [weekdays] = await bot.press("mehmet", "Add a time")
    assert labels(weekdays)[-2:] == ["Mon–Fri", "Back"]
    [times] = await bot.press("mehmet", "Mon–Fri")
    assert times.text.startswith("Mon–Fri: from when until when are you available?")
    assert labels(times) == ["08:00–12:00", "12:00–16:00", "16:00–20:00", "Back"]  # no times to copy yet
    [slots] = await bot.say("mehmet", "8-13")                                      # typed, as before
    assert slots.text.splitlines()[:7] == [SLOTS_PROMPT, "Monday 08:00–13:00", "Tuesday 08:00–13:00",
                                           "Wednesday 08:00–13:00", "Thursday 08:00–13:00", "Friday 08:00–13:00",
                                           ""]
    # A button works the same; a time that touches one of the five joins it.
    await bot.press("mehmet", "Add a time")
    await bot.press("mehmet", "Mon–Fri")
    [slots] = await bot.press("mehmet", "12:00–16:00")
    assert slots.text.count("08:00–16:00") == 5 and "13:00" not in slots.text
    await bot.say("mehmet", "Done")
    await bot.say("mehmet", "3")
    [summary] = await bot.say("mehmet", "Man")
    assert summary.text.startswith(SUMMARY_PROMPT) and summary.text.count("08:00–16:00") == 5
    await bot.say("mehmet", "Confirm")
    assert await rows(lotse, "SELECT weekday, start_minute, end_minute FROM guide_slots WHERE guide_id = ?",
                      "mehmet") == {(day, 480, 960) for day in range(5)}


async def test_same_as_tuesday_copies_the_times_of_tuesday(lotse: Running) -> None:
    bot = lotse.transport
    await mehmet_at_the_slots(lotse)
    for day, typed in (("Monday", "8-13"), ("Tuesday", "8-13"), ("Tuesday", "15-18")):
        await bot.press("mehmet", "Add a time")
        await bot.press("mehmet", day)
        await bot.say("mehmet", typed)

    await bot.press("mehmet", "Add a time")
    [times] = await bot.press("mehmet", "Thursday")
    assert labels(times) == ["08:00–12:00", "12:00–16:00", "16:00–20:00", "Same as Monday", "Same as Tuesday",
                             "Back"]
    [slots] = await bot.press("mehmet", "Same as Tuesday")
    assert slots.text.splitlines()[1:6] == ["Monday 08:00–13:00", "Tuesday 08:00–13:00", "Tuesday 15:00–18:00",
                                            "Thursday 08:00–13:00", "Thursday 15:00–18:00"]
    # Typed, the label chooses it too; a day's own times are not offered to copy onto it.
    await bot.press("mehmet", "Add a time")
    [times] = await bot.press("mehmet", "Tuesday")
    assert "Same as Tuesday" not in labels(times) and "Same as Thursday" in labels(times)
    await bot.press("mehmet", "Back")
    await bot.press("mehmet", "Add a time")
    await bot.press("mehmet", "Friday")
    [slots] = await bot.say("mehmet", "same as monday")
    assert "Friday 08:00–13:00" in slots.text.splitlines()
    await bot.say("mehmet", "Done")
    await bot.say("mehmet", "3")
    await bot.say("mehmet", "Man")
    await bot.say("mehmet", "Confirm")
    assert await rows(lotse, "SELECT weekday, start_minute, end_minute FROM guide_slots WHERE guide_id = ?",
                      "mehmet") == {(0, 480, 780), (1, 480, 780), (1, 900, 1080), (3, 480, 780), (3, 900, 1080),
                                    (4, 480, 780)}


async def test_same_as_in_availability_is_saved_with_done(lotse: Running) -> None:
    """Leila (registered: Tuesday 9–12) copies Tuesday to Friday in `availability`."""
    bot = lotse.transport
    await guide(lotse, "leila", slots=(Slot(1, 9 * 60, 12 * 60), Slot(2, 15 * 60, 18 * 60)))
    await bot.say("leila", "/availability")
    await bot.press("leila", "Add a time")
    [times] = await bot.press("leila", "Friday")
    assert labels(times)[3:] == ["Same as Tuesday", "Same as Wednesday", "Back"]
    await bot.press("leila", "Same as Tuesday")
    [saved] = await bot.press("leila", "Done")
    assert saved.text.splitlines() == ["Your weekly availability was saved:", "Tuesday 09:00–12:00",
                                       "Wednesday 15:00–18:00", "Friday 09:00–12:00"]
