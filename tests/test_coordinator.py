"""Coordinators approve or reject guides; nobody else can (transcripts, rows, logged refusals)."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from bot.store.guides import Profile, Slot
from bot.clock import utcnow
from tests.conftest import Running, labels

pytestmark = pytest.mark.usefixtures("clock")


async def onboard(lotse: Running, user: str, role: int = 1) -> None:
    bot = lotse.transport
    await bot.say(user, "/start", language="en")
    await bot.press(user, 1)
    await bot.press(user, 1)
    await bot.press(user, role)
    await lotse.store.dialogs.clear((await lotse.store.people.find("test", user)).id)


NASRIN = Profile(languages=("fa", "de", "en"), districts=("*",), topics=("immigration", "jobcentre"),
                 slots=(Slot(0, 480, 720), Slot(1, 480, 720)), weekly_max=3, gender="female")


async def registered(lotse: Running, user: str = "nasrin") -> int:
    """A guide who registered (through the store, as the registration dialog saves it) and was announced."""
    from handlers.coordinator import announce_registration
    from bot.core.context import Context
    from bot.core.types import Event

    await onboard(lotse, user, role=2)
    person = await lotse.store.people.find("test", user)
    assert await lotse.store.guides.save_profile(person.id, NASRIN, utcnow())
    services = lotse.app.router.services
    ctx = Context(Event("test", user, user, "text"), person, services.catalogs.get("en"), services)
    await announce_registration(ctx, person)
    await ctx.flush()
    return person.id


async def test_registration_reaches_coordinators_who_approve_with_vetting_dates(lotse: Running) -> None:
    bot = lotse.transport
    await onboard(lotse, "weber")
    guide_id = await registered(lotse)
    notice = bot.last_with_buttons("weber").message
    assert notice.text.startswith("Nasrin registered as a guide and waits for your approval.")
    assert "Languages: Persian, German, English" in notice.text and "Districts: All districts" in notice.text
    assert labels(notice) == ["Approve", "Reject"]
    [confirm] = await bot.press("weber", "Approve")
    assert confirm.text == "Approve Nasrin as a guide?"
    [training] = await bot.press("weber", "Yes")
    assert training.text.startswith("On which date did Nasrin complete the basic training?")
    problem, again = await bot.say("weber", "31.11.2026")
    assert problem.text.startswith("I could not read this date.")
    problem, again = await bot.say("weber", "1.12.2026")
    assert problem.text == "This date is in the future. Please type the date it happened."
    [pledge] = await bot.say("weber", "28.10.")  # last month, typed without a year
    assert pledge.text.startswith("On which date did Nasrin sign the confidentiality pledge?")
    done = await bot.say("weber", "2.11.2026")
    assert done[0].text == "Nasrin is now an approved guide."
    [told] = [m for m in bot.messages("nasrin") if m.text.startswith("Good news")]
    assert "/availability" in told.text
    guide = await lotse.store.guides.get(guide_id)
    assert guide.state == "approved"
    assert guide.vetting["training"] == date(2026, 10, 28) and guide.vetting["pledge"] == date(2026, 11, 2)
    row = await lotse.store.db.fetchone("SELECT decided_by FROM guides WHERE person_id = ?", (guide_id,))
    assert row["decided_by"] == (await lotse.store.people.find("test", "weber")).id
    # the same button again: already decided
    [late] = await bot.press_token("weber", notice.flat_buttons[0].token)
    assert late.text == "This was decided already: Nasrin is approved."


async def test_reject_after_confirmation(lotse: Running) -> None:
    bot = lotse.transport
    await onboard(lotse, "weber")
    guide_id = await registered(lotse)
    await bot.press("weber", "Reject")
    [kept] = await bot.press("weber", "No")
    assert kept.text == "Nothing was changed."
    assert (await lotse.store.guides.get(guide_id)).state == "pending"
    await bot.press_token("weber", bot.current("weber")[-3].message.flat_buttons[1].token)
    [why] = await bot.press("weber", "Yes")
    assert why.text.startswith("Why is Nasrin not approved?") and labels(why) == ["Skip"]
    [done] = await bot.press("weber", "Skip")
    assert done.text == "The registration of Nasrin was rejected."
    assert (await lotse.store.guides.get(guide_id)).state == "rejected"
    [told] = [m for m in bot.messages("nasrin") if m.text.startswith("Your registration as a guide was not approved.")]
    assert "Reason:" not in told.text
    assert await lotse.store.guides.decision_reason(guide_id) is None


async def test_pending_and_approve_commands(lotse: Running) -> None:
    bot = lotse.transport
    await onboard(lotse, "weber")
    [empty] = await bot.say("weber", "/pending")
    assert empty.text == "Nobody is waiting for approval."
    await registered(lotse, "nasrin")
    await registered(lotse, "mehmet")
    heading, first, second = await bot.say("weber", "/pending")
    assert heading.text == "2 guides are waiting for approval:"
    assert first.text.startswith("Nasrin\n") and labels(first) == ["Approve", "Reject"]
    assert second.text.startswith("Mehmet\n")
    [pick] = await bot.say("weber", "/approve")
    assert labels(pick) == ["Nasrin", "Mehmet"]
    [confirm] = await bot.press("weber", "Mehmet")
    assert confirm.text == "Approve Mehmet as a guide?"


async def test_only_coordinators_and_refusals_are_logged(lotse: Running, caplog: pytest.LogCaptureFixture) -> None:
    bot = lotse.transport
    await onboard(lotse, "weber")
    await onboard(lotse, "amira")
    await registered(lotse)
    caplog.set_level(logging.WARNING)
    for command in ("/pending", "/approve"):
        [refused] = await bot.say("amira", command)
        assert refused.text == "This command is not available to you. Send /help to see your commands."
    assert sum("refused /" in r.message and "test:amira" in r.message for r in caplog.records) == 2
    # a coordinator's decision button is useless in anyone else's hands
    token = bot.last_with_buttons("weber").message.flat_buttons[0].token
    [refused] = await bot.press_token("amira", token)
    assert "no longer valid" in refused.text
    guide = await lotse.store.guides.get((await lotse.store.people.find("test", "nasrin")).id)
    assert guide.state == "pending"


async def test_restart_in_the_middle_of_an_approval_resumes(lotse: Running, settings) -> None:  # noqa: ANN001
    bot = lotse.transport
    await onboard(lotse, "weber")
    guide_id = await registered(lotse)
    await bot.press("weber", "Approve")
    await bot.press("weber", "Yes")
    await bot.say("weber", "15.10.2026")  # the training date, then the process goes away
    await lotse.app.stop()
    second = await Running(settings).start()
    try:
        done = await second.transport.say("weber", "20.10.2026")
        assert done[0].text == "Nasrin is now an approved guide."
        guide = await second.store.guides.get(guide_id)
        assert guide.vetting["training"] == date(2026, 10, 15) and guide.state == "approved"
    finally:
        await second.app.stop()
