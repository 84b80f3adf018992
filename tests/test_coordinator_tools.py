"""A coordinator's tools for a guide's standing and for waiting requests: a rejection with a reason
the guide reads, `guides` (suspend, reactivate) and `reoffer` (a new wave for a waiting request).

The clock stands at Wednesday 25 November 2026, 10:00 in Berlin; the people are those of
SCENARIOS.md (Frau Weber coordinates; Nasrin registers; Leila and Samira guide; Amira asks).
"""

from __future__ import annotations

import pytest

from tests.conftest import Running, labels
from tests.test_authority import offer_button, restarted_without_coordinators
from tests.test_coordinator import onboard, registered
from tests.test_dispatch import guide, offers_to, request, settle

pytestmark = pytest.mark.usefixtures("clock")


# -- a rejection with a reason ------------------------------------------------------------------
async def test_a_rejection_carries_the_reason_the_coordinator_typed(lotse: Running) -> None:
    bot = lotse.transport
    await onboard(lotse, "weber")
    nasrin = await registered(lotse)
    await bot.press("weber", "Reject")
    [why] = await bot.press("weber", "Yes")
    assert why.text == ("Why is Nasrin not approved? They will read your answer. At most 300 characters – "
                        "or skip this.")
    assert labels(why) == ["Skip"]
    [too_long, again] = await bot.say("weber", "x" * 301)
    assert too_long.text == "Please write at most 300 characters."
    assert again.text.startswith("Why is Nasrin not approved?")
    [done] = await bot.say("weber", "We need a police certificate first.")
    assert done.text == "The registration of Nasrin was rejected."
    [told] = [m for m in bot.messages("nasrin") if m.text.startswith("Your registration as a guide was not approved.")]
    assert told.text.endswith("\nReason: We need a police certificate first.")
    assert (await lotse.store.guides.get(nasrin)).state == "rejected"
    row = await lotse.store.db.fetchone("SELECT decision_reason FROM guides WHERE person_id = ?", (nasrin,))
    assert row["decision_reason"] == "We need a police certificate first."


async def test_the_reason_goes_with_an_erasure(lotse: Running) -> None:
    from bot.services import privacy

    bot = lotse.transport
    await onboard(lotse, "weber")
    nasrin = await registered(lotse)
    await bot.press("weber", "Reject")
    await bot.press("weber", "Yes")
    await bot.say("weber", "Not enough time for the training.")
    assert await lotse.store.guides.decision_reason(nasrin) == "Not enough time for the training."
    await privacy.erase(lotse.app.services, await lotse.store.people.get(nasrin))
    assert await lotse.store.guides.decision_reason(nasrin) is None


# -- suspend and reactivate -----------------------------------------------------------------------
async def test_suspend_refuses_the_guide_an_accept_and_reactivate_lets_her_accept_again(lotse: Running) -> None:
    bot = lotse.transport
    await onboard(lotse, "weber")
    [empty] = await bot.say("weber", "/guides")
    assert empty.text == "There are no approved or suspended guides."
    leila = await guide(lotse, "leila")
    await guide(lotse, "samira")
    nasrin = await registered(lotse)  # pending: not listed
    request_id = await request(lotse)
    offer, accept = offer_button(lotse, "leila")

    [listing] = await bot.say("weber", "/guides")
    assert listing.text == "Whose work as a guide do you want to suspend or reactivate?"
    assert labels(listing) == ["Leila (approved)", "Samira (approved)"]
    [ask] = await bot.press("weber", "Leila (approved)")
    assert ask.text == "Suspend Leila?" and labels(ask) == ["Yes", "No"]
    [kept] = await bot.press("weber", "No")
    assert kept.text == "Nothing was changed."
    assert (await lotse.store.guides.get(leila)).state == "approved"
    await bot.press("weber", "Leila (approved)")
    [done] = await bot.press("weber", "Yes")
    assert done.text == ("Leila is suspended and is offered no requests until a coordinator reactivates them. "
                         "They were told.")
    assert bot.messages("leila")[-1].text == "Your work as a guide is suspended. Please contact a coordinator."
    assert (await lotse.store.guides.get(leila)).state == "suspended"
    row = await lotse.store.db.fetchone("SELECT decided_by FROM guides WHERE person_id = ?", (leila,))
    assert row["decided_by"] == (await lotse.store.people.find("test", "weber")).id

    [refused] = await bot.press_token("leila", accept.token, message_id=offer.message_id)
    await settle(lotse)
    assert refused.text == "Your work as a guide is suspended. Please contact a coordinator."
    assert (await lotse.store.requests.get(request_id)).state == "open"

    [listing] = await bot.say("weber", "/guides")
    assert labels(listing) == ["Leila (suspended)", "Samira (approved)"]
    [ask] = await bot.press("weber", "Leila (suspended)")
    assert ask.text == "Reactivate Leila?"
    [done] = await bot.press("weber", "Yes")
    assert done.text == "Leila is approved again and will be offered requests. They were told."
    assert bot.messages("leila")[-1].text.startswith("Your work as a guide is active again.")
    await bot.press_token("leila", accept.token, message_id=offer.message_id)
    await settle(lotse)
    assert bot.messages("leila")[-1].text.startswith("Thank you! You are coming with Amira.")
    assert (await lotse.store.requests.get(request_id)).state == "matched"
    assert (await lotse.store.guides.get(nasrin)).state == "pending"


async def test_suspending_a_guide_with_appointments_tells_how_many_and_a_late_press_changes_nothing(
        lotse: Running) -> None:
    bot = lotse.transport
    await onboard(lotse, "weber")
    leila = await guide(lotse, "leila")
    request_id = await request(lotse)
    await bot.press("leila", "Accept")
    await settle(lotse)
    [listing] = await bot.say("weber", "/guides")
    await bot.press("weber", "Leila (approved)")
    confirm = bot.last_with_buttons("weber")
    [done] = await bot.press("weber", "Yes")
    assert done.text.endswith("\nLeila still has 1 upcoming appointment. It stays as it is – please decide "
                              "whether someone else should go.")
    assert (await lotse.store.bookings.active_assignment(request_id)).guide_id == leila  # it stays
    # the same Yes again (another coordinator's, or a double tap): she is suspended already
    told = len(bot.messages("leila"))
    [late] = await bot.press_token("weber", confirm.message.flat_buttons[0].token)
    assert late.text == "Another coordinator decided this in the meantime. Nothing was changed."
    assert len(bot.messages("leila")) == told
    assert (await lotse.store.guides.get(leila)).state == "suspended"


async def test_only_coordinators_suspend_and_reoffer(lotse: Running, settings) -> None:  # noqa: ANN001
    """A non-coordinator cannot use the commands; a coordinator removed from [roles] (Lotse restarted)
    cannot use the buttons she was given before."""
    bot = lotse.transport
    await onboard(lotse, "weber")
    await onboard(lotse, "amira")
    leila = await guide(lotse, "leila")
    for command in ("/guides", "/reoffer"):
        [refused] = await bot.say("amira", command)
        assert refused.text == "This command is not available to you. Send /help to see your commands."
    [listing] = await bot.say("weber", "/guides")
    [ask] = await bot.press("weber", "Leila (approved)")
    yes = ask.flat_buttons[0]

    second = await restarted_without_coordinators(lotse, settings)
    try:
        for token in (listing.flat_buttons[0].token, yes.token):
            [refused] = await second.transport.press_token("weber", token)
            assert refused.text == "Only coordinators can do this."
        assert (await second.store.guides.get(leila)).state == "approved"
        assert not second.transport.messages("leila")
    finally:
        await second.app.stop()


# -- offer a waiting request again ----------------------------------------------------------------
async def test_reoffer_starts_a_new_wave(lotse: Running) -> None:
    bot = lotse.transport
    await onboard(lotse, "weber")
    [empty] = await bot.say("weber", "/reoffer")
    assert empty.text == "Every request has a guide or is still being offered."
    request_id = await request(lotse)  # nobody guides yet: the coordinators are alerted, nothing is offered
    assert (await lotse.store.requests.get(request_id)).state == "open"
    await guide(lotse, "leila")          # approved since
    await settle(lotse)
    assert not offers_to(lotse, "leila")

    [listing] = await bot.say("weber", "/reoffer")
    assert listing.text == "Doctor or hospital on Tuesday, 1 December 2026 at 09:30, about 1 hour, in Dreieich."
    assert labels(listing) == ["Offer again"]
    [done] = await bot.press("weber", "Offer again")
    assert done.text == "Offered again."
    await settle(lotse)
    [offer] = offers_to(lotse, "leila")
    assert offer.message.text.startswith("Can you come along to an appointment?")

    # once Leila has taken it, the old button changes nothing
    await bot.press("leila", "Accept")
    await settle(lotse)
    [late] = await bot.press_token("weber", listing.flat_buttons[0].token)
    await settle(lotse)
    assert late.text == "This request is not waiting for a guide any more.\nNothing was changed."
    assert (await lotse.store.requests.get(request_id)).state == "matched"
