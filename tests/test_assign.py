"""Assignment by hand (issue 16): a coordinator may ask any approved guide, the ineligible only
after reading why they were not offered and confirming — the guide gets an offer to accept or
decline.  A guide who cancelled a request is never offered it again, and the coordinators hear of
the cancellation.  Recording transport, clock at Wednesday 25 November 2026, 10:00 in Berlin."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.store.guides import Slot
from tests.conftest import Running, labels
from tests.test_dispatch import TUESDAY_930, guide, offers_to, person, request, settle

pytestmark = pytest.mark.usefixtures("clock")


async def test_a_guide_who_cancelled_is_not_offered_the_request_again(lotse: Running) -> None:
    bot = lotse.transport
    await person(lotse, "weber", role="newcomer")  # the coordinator of the fixture settings
    request_id = await request(lotse)               # nobody is registered yet: escalated
    assert bot.messages("weber")[-1].text.startswith("Nobody has taken this request yet:")
    await guide(lotse, "leila")
    await guide(lotse, "samira")
    [listing] = await bot.say("weber", "/unmatched")
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
