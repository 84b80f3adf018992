"""A coordinator's tools for a guide's standing and for waiting requests: a rejection with a reason
the guide reads, `guides` (suspend, reactivate) and `reoffer` (a new wave for a waiting request).

The clock stands at Wednesday 25 November 2026, 10:00 in Berlin; the people are those of
SCENARIOS.md (Frau Weber coordinates; Nasrin registers; Leila and Samira guide; Amira asks).
"""

from __future__ import annotations

import pytest

from tests.conftest import Running, labels
from tests.test_coordinator import onboard, registered

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
