"""`hours`: a guide's account under Hessen's WIR programme, the coordinators' list with its warnings,
the marks, corrections with their audit trail, and the monthly statement (PDF).

The clock stands at Wednesday 25 November 2026, 10:00 in Berlin; Leila and Samira guide, Frau
Weber coordinates (SCENARIOS.md).  Appointments are set up the way production records them: a
request, a claim, the guide's follow-up answer and reported hours (bot/store/bookings.py).
"""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from bot.clock import utcnow
from bot.config import ProgrammeSettings, Settings
from bot.core.payloads import mint
from bot.store.requests import NewRequest
from handlers.hours import HoursCorrect
from tests.conftest import Running, labels
from tests.test_dispatch import guide, person

pytestmark = pytest.mark.usefixtures("clock")

HESSEN = ProgrammeSettings(name="WIR-Integrationslotsen (Hessen)", unit="hour", rate=5.0, weekly_cap=6.0,
                           weekly_cap_coordinating=9.0, average_weeks=4, yearly_cap=276.0,
                           yearly_cap_coordinating=414.0, pool_hours=2000.0, benefits_monthly_limit=250.0,
                           tax_free_yearly=3000.0, rounding=0.25, counts_travel=True, warn_at=(0.8, 0.95))


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, programme=HESSEN)


async def appointment(lotse: Running, guide_id: int, starts_at: datetime, hours: float | None = None,
                      outcome: str | None = "done") -> int:
    """An accompaniment of Amira's that Leila (or another guide) took; `outcome` reported after it
    (None: still booked), then `hours` (None: not reported)."""
    store = lotse.store
    found = await store.people.find("test", "amira")
    newcomer = found.id if found else await person(lotse, "amira", "en", "newcomer")
    request_id = await store.requests.create(newcomer, NewRequest(
        "doctor", starts_at, 60, "Dreieich", "Kinderarztpraxis", None, "", ("ar",)), datetime(2026, 1, 1, tzinfo=UTC))
    async with store.transaction():
        assignment = await store.bookings.claim(request_id, guide_id, datetime(2026, 1, 1, tzinfo=UTC))
    assert assignment is not None
    if outcome is not None:
        assert await store.bookings.report_outcome(assignment, guide_id, outcome, starts_at)
        if hours is not None:
            assert await store.bookings.report_hours(assignment, guide_id, hours)
    return assignment


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 8, 30, tzinfo=UTC)  # 9:30 in Berlin in winter


async def weber(lotse: Running) -> int:
    return await person(lotse, "weber", "en", "guide")


# -- the guide's own account --------------------------------------------------------------------
async def test_a_guide_reads_hours_allowance_and_what_is_left(lotse: Running) -> None:
    leila = await guide(lotse, "leila")
    await appointment(lotse, leila, at(11, 3), 2.0)
    await appointment(lotse, leila, at(11, 10), 1.5)

    [account] = await lotse.transport.say("leila", "/hours")
    text = account.text
    assert "WIR-Integrationslotsen (Hessen)" in text
    assert "This month (November 2026): 3,5 hours, allowance 17,50\xa0€" in text
    assert "This year (2026): 3,5 hours, allowance 17,50\xa0€" in text
    assert "Left until the yearly cap of 276 hours: 272,5 hours" in text
    # the four weeks from Monday 2 to Sunday 29 November: 3.5 of 24 hours
    assert "Weekly average from 2 Nov 2026 to 29 Nov 2026: 0,88 hours of at most 6 hours a week; " \
           "20,5 hours left in these weeks" in text
    assert "benefits" not in text and "tax-free" not in text
    assert labels(account) == ["Monthly statement (PDF): November 2026", "Monthly statement (PDF): October 2026"]


async def benefits_month(lotse: Running, guide_id: int) -> None:
    """54 hours in October: €270, more than the €250 a month a guide on benefits keeps."""
    for day in (5, 6, 7, 8, 12, 13):
        await appointment(lotse, guide_id, at(10, day), 9.0)


async def test_a_guide_marked_as_receiving_benefits_is_warned_of_a_month_over_the_limit(lotse: Running) -> None:
    bot = lotse.transport
    leila = await guide(lotse, "leila")
    samira = await guide(lotse, "samira")
    await benefits_month(lotse, leila)
    await benefits_month(lotse, samira)
    await weber(lotse)

    await bot.say("weber", "/hours")
    await bot.press("weber", "Leila")
    [marked] = await bot.press("weber", "Mark: receives benefits")
    assert marked.text == ("Leila is now marked as receiving benefits: at most 250,00\xa0€ a month. Only Leila and "
                           "coordinators see this mark.")

    [leila_reads] = await bot.say("leila", "/hours")
    assert "You are marked as receiving benefits: you may keep at most 250,00\xa0€ a month." in leila_reads.text
    assert "In October 2026 your allowance would be more than 250,00\xa0€." in leila_reads.text
    [samira_reads] = await bot.say("samira", "/hours")
    assert "benefits" not in samira_reads.text and "October" not in samira_reads.text
    assert "This year (2026): 54 hours, allowance 270,00\xa0€" in samira_reads.text

    [listing] = await bot.say("weber", "/hours")
    leila_line = listing.text.split("Leila:")[1].split("Samira:")[0]
    assert "over the benefits limit of 250,00\xa0€ in October 2026" in leila_line
    assert "benefits" not in listing.text.split("Samira:")[1]


# -- the coordinators' list -----------------------------------------------------------------------
async def test_the_coordinator_list_warns_at_80_percent_of_the_yearly_cap(lotse: Running) -> None:
    bot = lotse.transport
    leila = await guide(lotse, "leila")
    samira = await guide(lotse, "samira")
    for month in range(1, 11):
        await appointment(lotse, leila, at(month, 14), 22.5)        # 225 of 276 hours: 81.5 %
    await appointment(lotse, samira, at(11, 3), 2.0)
    await weber(lotse)

    [listing] = await bot.say("weber", "/hours")
    lines = listing.text.splitlines()
    assert lines[0] == "Hours in 2026 of the approved guides (WIR-Integrationslotsen (Hessen)):"
    leila_at = lines.index("Leila: 225 hours, 1.125,00\xa0€")
    assert lines[leila_at + 1] == "  ⚠ 80\xa0% of the yearly cap reached (225 hours of 276 hours)"
    samira_at = lines.index("Samira: 2 hours, 10,00\xa0€")
    assert not lines[samira_at + 1].startswith("  ⚠")
    assert labels(listing) == ["Leila", "Samira"]

    # Leila also coordinates: her cap is 414 hours, and the warning goes
    await bot.press("weber", "Leila")
    [marked] = await bot.press("weber", "Mark: also coordinates")
    assert marked.text == ("Leila is now marked as also coordinating: at most 9 hours a week on average and "
                           "414 hours a year.")
    [listing] = await bot.say("weber", "/hours")
    assert "⚠" not in listing.text


# -- corrections --------------------------------------------------------------------------------
async def test_a_correction_is_kept_with_who_when_old_new_and_why_and_changes_the_total(lotse: Running) -> None:
    bot = lotse.transport
    leila = await guide(lotse, "leila")
    await appointment(lotse, leila, at(11, 3), 2.0)
    await appointment(lotse, leila, at(11, 10), 1.5)
    await weber(lotse)

    await bot.say("weber", "/hours")
    [view] = await bot.press("weber", "Leila")
    assert "Leila – 2026: 3,5 hours, allowance 17,50\xa0€" in view.text
    assert "3 Nov 2026: 2 h" in view.text
    [ask] = await bot.press("weber", "Correct 3 Nov 2026 (2 h)")
    assert ask.text.startswith("Correct the hours of Leila's appointment on 3 Nov 2026 (now 2 h).")
    [wrong, again] = await bot.say("weber", "two")
    assert wrong.text == "Please type the hours as a number between 0 and 24, for example 1,5 or 2."
    [why] = await bot.say("weber", "1,5")
    assert why.text.startswith("Why are the hours corrected?")
    [confirm] = await bot.say("weber", "The way back was counted twice")
    assert confirm.text == ("Change the hours of the appointment on 3 Nov 2026 from 2 to 1,5 h? "
                            "Reason: The way back was counted twice")
    [done] = await bot.press("weber", "Yes")
    assert done.text.splitlines() == [
        "Corrected: 2 → 1,5 h. Leila now has 3 hours this year, allowance 15,00\xa0€.",
        "corrected by Weber on 25 Nov 2026: 2 → 1,5 h – The way back was counted twice"]
    told = bot.messages("leila")[-1]
    assert told.text == ("A coordinator corrected the hours of your appointment on 3 Nov 2026: 2 → 1,5 h. "
                         "Reason: The way back was counted twice")

    [audit] = await lotse.store.programme.corrections((await lotse.store.programme.worked(
        leila, at(11, 1), at(11, 4), 0.25))[0].assignment_id)
    assert (audit.corrected_by, audit.corrected_at, audit.old_hours, audit.new_hours, audit.reason) == (
        (await lotse.store.people.find("test", "weber")).id, utcnow(), 2.0, 1.5, "The way back was counted twice")

    await bot.say("weber", "/hours")
    [view] = await bot.press("weber", "Leila")
    assert "Leila – 2026: 3 hours, allowance 15,00\xa0€" in view.text
    assert "3 Nov 2026: 1,5 h\n  corrected by Weber on 25 Nov 2026: 2 → 1,5 h – The way back was counted twice" \
        in view.text
    [account] = await bot.say("leila", "/hours")
    assert "This year (2026): 3 hours, allowance 15,00\xa0€" in account.text


async def test_a_correction_of_an_appointment_that_did_not_take_place_is_refused(lotse: Running) -> None:
    bot = lotse.transport
    leila = await guide(lotse, "leila")
    no_show = await appointment(lotse, leila, at(11, 3), outcome="no_show")
    unreported = await appointment(lotse, leila, at(11, 10), outcome=None)
    no_hours = await appointment(lotse, leila, at(11, 17), outcome="done")
    weber_id = await weber(lotse)

    await bot.say("weber", "/hours")
    [view] = await bot.press("weber", "Leila")
    assert not [label for label in labels(view) if label.startswith("Correct")]   # nothing to correct is offered
    assert "17 Nov 2026: no hours reported yet (counted: 1 h)" in view.text

    for assignment in (no_show, unreported):   # a button from elsewhere (an old message, a forged press)
        [[button]] = await mint(lotse.store, weber_id, [[("Correct", HoursCorrect(assignment))]])
        [refused] = await bot.press_token("weber", button.token)
        assert refused.text == ("This appointment did not take place (or was not reported as having taken "
                                "place), so it has no hours to correct. Nothing was changed.")
    [[button]] = await mint(lotse.store, weber_id, [[("Correct", HoursCorrect(no_hours))]])
    [refused] = await bot.press_token("weber", button.token)
    assert refused.text.startswith("Leila has not reported the hours of this appointment yet")
    for assignment in (no_show, unreported, no_hours):
        assert await lotse.store.programme.correct_hours(assignment, weber_id, 1.0, "x", utcnow()) is False
        assert await lotse.store.programme.corrections(assignment) == []


# -- the statement --------------------------------------------------------------------------------
async def test_the_monthly_statement_pdf_holds_the_months_total_hours_and_allowance(lotse: Running) -> None:
    bot = lotse.transport
    leila = await guide(lotse, "leila")
    await appointment(lotse, leila, at(10, 6), 2.0)
    await appointment(lotse, leila, at(10, 20), 1.5)
    await appointment(lotse, leila, at(11, 3), 3.0)           # another month
    await appointment(lotse, leila, at(10, 27), outcome=None)  # booked, not reported: not paid yet

    await bot.say("leila", "/hours")
    [sent] = await bot.press("leila", "Monthly statement (PDF): October 2026")
    assert sent.text == "Your statement for October 2026: 3,5 hours, allowance 17,50\xa0€. You can forward it to the Jobcenter."
    assert sent.attachment is not None and sent.attachment.mime_type == "application/pdf"
    assert sent.attachment.filename == "lotse-statement-2026-10.pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(sent.attachment.content)).pages)
    assert "WIR-Integrationslotsen (Hessen)" in text and "Leila" in text
    assert "Oktober 2026" in text                       # German first
    assert "06.10.2026" in text and "20.10.2026" in text and "03.11.2026" not in text
    assert "3,5 h" in text and "17,50 €" in text      # the month's total hours and €, in German
    assert "October 2026" in text                       # and in Leila's language


async def test_an_arabic_reader_gets_the_statement_in_german_and_is_told(lotse: Running) -> None:
    bot = lotse.transport
    leila = await guide(lotse, "leila")
    await lotse.store.people.set_language(leila, "ar")
    await appointment(lotse, leila, at(11, 3), 2.0)
    [account] = await bot.say("leila", "/hours")
    [sent] = await bot.press_token("leila", account.buttons[0][0].token)
    assert sent.attachment is not None
    assert "\n" in sent.text   # the second line says the PDF is in German only
    text = PdfReader(io.BytesIO(sent.attachment.content)).pages[0].extract_text()
    assert "November 2026" in text and "10,00 €" in text


async def test_without_a_programme_hours_only(settings: Settings) -> None:
    plain = dataclasses.replace(settings, programme=ProgrammeSettings())
    lotse = await Running(plain).start()
    try:
        leila = await guide(lotse, "leila")
        await appointment(lotse, leila, at(11, 3), 2.0)
        [account] = await lotse.transport.say("leila", "/hours")
        assert account.text.splitlines() == ["No funding programme is configured, so Lotse shows your hours only.",
                                             "This month (November 2026): 2 hours", "This year (2026): 2 hours"]
        assert not account.buttons
    finally:
        await lotse.app.stop()
