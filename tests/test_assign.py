"""Assignment by hand (issue 16): a coordinator may ask any approved guide, the ineligible only
after reading why they were not offered and confirming — the guide gets an offer to accept or
decline.  A guide who cancelled a request is never offered it again, and the coordinators hear of
the cancellation.  Recording transport, clock at Wednesday 25 November 2026, 10:00 in Berlin."""

from __future__ import annotations

from datetime import date

import pytest

from bot.clock import utcnow
from bot.services import guides as standing
from tests.conftest import Running, labels
from tests.test_dispatch import guide, offers_to, person, request, settle

pytestmark = pytest.mark.usefixtures("clock")

JOB_CENTRE_LINE = "Doctor or hospital on Tuesday, 1 December 2026 at 09:30, about 1 hour, in Langen."


async def hamid_finds_nobody(lotse: Running) -> tuple[int, int]:
    """Nasrin speaks Dari and is free on Tuesday morning, but serves Dreieich only: Hamid's request
    in Langen is not offered to her, nobody else fits, Frau Weber gets the escalation card."""
    await person(lotse, "weber", role="newcomer")  # the coordinator of the fixture settings
    nasrin = await guide(lotse, "nasrin", languages=("fa", "de", "en"))
    request_id = await request(lotse, "hamid", languages=("fa",), gender=None, district="Langen")
    assert not offers_to(lotse, "nasrin")
    return nasrin, request_id


async def test_frau_weber_assigns_nasrin_who_was_not_offered_and_hamid_hears_once_she_accepts(
        lotse: Running) -> None:
    bot = lotse.transport
    nasrin, request_id = await hamid_finds_nobody(lotse)
    card = bot.last_with_buttons("weber").message
    assert card.text.startswith("Nobody has taken this request yet:")
    assert "Nasrin – not offered: does not serve Langen" in card.text
    assert labels(card) == ["Assign Nasrin", "Needs an interpreter"]
    # she reads why Nasrin was not offered, and is asked to confirm
    [question] = await bot.press("weber", "Assign Nasrin")
    assert question.text.startswith("Nasrin – not offered: does not serve Langen; ")
    assert question.text.endswith("\nAssign Nasrin anyway? They receive it as an offer to accept or decline.")
    assert labels(question) == ["Assign anyway", "Cancel"]
    assert not offers_to(lotse, "nasrin")
    await bot.press("weber", "Assign anyway")
    await settle(lotse)
    assert bot.messages("weber")[-1].text == "Nasrin was asked and will answer."
    [offer] = offers_to(lotse, "nasrin")  # a normal offer, not a booking
    assert offer.message.text.startswith("Can you come along to an appointment?")
    assert await lotse.store.bookings.active_assignment(request_id) is None
    assert bot.messages("hamid")[-1].text.startswith("Lotse is still looking for a guide")
    # Nasrin accepts: Hamid is told, the booking names Frau Weber
    await bot.press("nasrin", "Accept")
    await settle(lotse)
    assert bot.messages("nasrin")[-1].text.startswith("Thank you! You are coming with Hamid.")
    assert bot.messages("hamid")[-1].text.startswith("Good news: Nasrin")
    row = await lotse.store.db.fetchone("SELECT guide_id, assigned_by FROM assignments WHERE request_id = ?",
                                        (request_id,))
    assert row["guide_id"] == nasrin and row["assigned_by"] == (await lotse.store.people.find("test", "weber")).id


async def test_cancel_changes_nothing_and_nasrin_declining_tells_frau_weber(lotse: Running) -> None:
    bot = lotse.transport
    _, request_id = await hamid_finds_nobody(lotse)
    await bot.press("weber", "Assign Nasrin")
    [nothing] = await bot.press("weber", "Cancel")
    assert nothing.text == "Nothing was changed."
    await settle(lotse)
    assert not offers_to(lotse, "nasrin")
    await bot.say("weber", "/unmatched")
    await bot.press("weber", "Assign Nasrin")
    await bot.press("weber", "Assign anyway")
    await settle(lotse)
    await bot.press("nasrin", "Decline")
    await settle(lotse)
    assert bot.messages("weber")[-1].text == (
        f"Nasrin declined the appointment you assigned: {JOB_CENTRE_LINE} Send /unmatched to assign someone else.")
    assert not bot.messages("hamid")[-1].text.startswith("Good news")
    assert (await lotse.store.requests.get(request_id)).state == "open"


async def test_a_suspended_guide_is_not_listed_and_a_paused_one_is_refused(lotse: Running) -> None:
    bot = lotse.transport
    await person(lotse, "weber", role="newcomer")
    parisa = await guide(lotse, "parisa", languages=("fa", "de"))
    assert await standing.suspend(lotse.store, parisa, None, utcnow())
    nasrin = await guide(lotse, "nasrin", languages=("fa", "de", "en"))
    await request(lotse, "hamid", languages=("fa",), gender=None, district="Langen")
    card = bot.last_with_buttons("weber").message
    assert "Parisa" not in card.text and labels(card) == ["Assign Nasrin", "Needs an interpreter"]
    # Nasrin pauses between the question and the confirmation: refused, no offer
    await bot.press("weber", "Assign Nasrin")
    await lotse.store.guides.pause(nasrin, date(2026, 11, 30), date(2026, 12, 6))
    await bot.press("weber", "Assign anyway")
    await settle(lotse)
    assert bot.messages("weber")[-1].text == "Nasrin cannot take on this request now.\nNothing was changed."
    assert not offers_to(lotse, "nasrin")
    # paused on that day she is still listed, and pressing Assign refuses at once
    [listing] = await bot.say("weber", "/unmatched")
    assert "Nasrin – not offered: paused from" in listing.text and labels(listing) == ["Assign Nasrin", "Needs an interpreter"]
    await bot.press("weber", "Assign Nasrin")
    await settle(lotse)
    assert bot.messages("weber")[-1].text == "Nasrin cannot take on this request now.\nNothing was changed."
    assert not offers_to(lotse, "nasrin")


async def test_the_card_lists_at_most_eight_approved_guides_best_first(lotse: Running) -> None:
    bot = lotse.transport
    await person(lotse, "weber", role="newcomer")
    for n in range(10):
        await guide(lotse, f"g{n}", languages=("fa", "de"))
    await request(lotse, "hamid", languages=("fa",), gender=None, district="Langen")
    card = bot.last_with_buttons("weber").message
    assert len(labels(card)) == 9 and all(label.startswith("Assign G") for label in labels(card)[:-1])


async def test_a_guide_who_cancelled_is_not_offered_the_request_again(lotse: Running) -> None:
    bot = lotse.transport
    await person(lotse, "weber", role="newcomer")  # the coordinator of the fixture settings
    request_id = await request(lotse)               # nobody is registered yet: escalated
    assert bot.messages("weber")[-1].text.startswith("Nobody has taken this request yet:")
    await guide(lotse, "leila")
    await guide(lotse, "samira")
    await bot.say("weber", "/unmatched")
    await bot.press("weber", "Assign Leila")        # eligible: assigned at once, as before
    await settle(lotse)
    assert bot.messages("weber")[-1].text == "Leila now accompanies this request."
    assert not offers_to(lotse, "leila")
    # Leila cannot come after all
    await bot.say("leila", "/appointments")
    await bot.press("leila", "Cancel")
    await bot.press("leila", "Yes, I cannot come")
    await settle(lotse)
    assert bot.messages("amira")[-1].text.startswith("Your guide cannot come after all")
    assert bot.messages("weber")[-1].text == (
        "Leila cancelled this appointment: Doctor or hospital on Tuesday, 1 December 2026 at 09:30, about 1 hour, "
        "in Dreieich. Lotse is asking other guides.")
    assert offers_to(lotse, "samira")               # the next wave goes on with the others …
    assert not offers_to(lotse, "leila")            # … never to Leila again
    rows = await lotse.store.db.fetchall("SELECT guide_id FROM offers WHERE request_id = ?", (request_id,))
    assert len(rows) == 1
