"""Authority at every step: a coordinator removed from [roles], a guide rejected, suspended or
paused cannot finish what they began while they could (a dialog, a button).  Each case reads what
the person is told and checks that nothing changed in the database.

The clock stands at Wednesday 25 November 2026, 10:00 in Berlin; the people are those of
SCENARIOS.md.  "Removed from [roles]" is Lotse restarted with new settings on the same database.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.clock import utcnow
from bot.config import RolesSettings, Settings
from bot.services import guides as standing
from bot.store.guides import Slot
from tests.conftest import Running, labels
from tests.test_coordinator import onboard, registered
from tests.test_dispatch import TUESDAY_930, guide, person, request, settle

pytestmark = pytest.mark.usefixtures("clock")

TODAY = date(2026, 11, 25)
DOMAIN = ("requests", "guides", "guide_slots", "offers", "assignments", "reminders", "broadcasts",
          "broadcast_texts", "broadcast_outbox")


async def snapshot(lotse: Running) -> dict[str, list[tuple]]:
    """Every row that an acting step could change."""
    return {table: [tuple(r) for r in await lotse.store.db.fetchall(f"SELECT * FROM {table} ORDER BY 1")]
            for table in DOMAIN}


async def restarted_without_coordinators(lotse: Running, settings: Settings) -> Running:
    """Lotse restarted with Frau Weber removed from [roles]; the database (and her dialog) stays."""
    await lotse.app.stop()
    return await Running(dataclasses.replace(settings, roles=RolesSettings(coordinators=()))).start()


async def id_of(lotse: Running, user: str) -> int:
    found = await lotse.store.people.find("test", user)
    assert found is not None
    return found.id


async def dialog_of(lotse: Running, user: str) -> str | None:
    row = await lotse.store.db.fetchone("SELECT dialog FROM dialog_states WHERE person_id = ?",
                                        (await id_of(lotse, user),))
    return None if row is None else row[0]


async def suspend(lotse: Running, guide_id: int, by: int | None = None) -> None:
    """A coordinator suspends the (approved) guide, through bot/services/guides.py."""
    assert await standing.suspend(lotse.store, guide_id, by, utcnow())


REFUSED_COORDINATOR = "Only coordinators can do this.\nNothing was changed."


# -- coordinators ---------------------------------------------------------------------------------
async def test_a_removed_coordinator_cannot_send_the_broadcast_she_prepared(lotse: Running,
                                                                            settings: Settings) -> None:
    bot = lotse.transport
    await onboard(lotse, "weber")
    await guide(lotse, "leila")
    await guide(lotse, "mehmet", languages=("tr", "ku", "de"), gender="male")
    await bot.say("weber", "/broadcast")
    await bot.press("weber", "All guides")
    await bot.press("weber", "Done")
    await bot.press("weber", "Done")
    await bot.say("weber", "The immigration office is closed on Friday.")
    [preview] = await bot.press("weber", "Show the preview")
    assert labels(preview) == ["Send to 2 people", "Cancel"]
    send = bot.last_with_buttons("weber")
    before = await snapshot(lotse)

    second = await restarted_without_coordinators(lotse, settings)
    try:
        [refused] = await second.transport.press_token("weber", send.message.flat_buttons[0].token,
                                                       message_id=send.message_id)
        assert refused.text == REFUSED_COORDINATOR
        assert await snapshot(second) == before           # no broadcast, no outbox row
        assert await dialog_of(second, "weber") is None   # the dialog ended
        assert ("weber", send.message_id) in second.transport.cleared
        await second.app.broadcast.idle()
        assert not [m for m in second.transport.sent if "closed on Friday" in m.message.text]
    finally:
        await second.app.stop()


async def test_a_removed_coordinator_cannot_finish_a_decision(lotse: Running, settings: Settings) -> None:
    """Mid-way through the vetting dates of an approval, and at the "Yes" of a rejection."""
    bot = lotse.transport
    await onboard(lotse, "weber")
    nasrin = await registered(lotse, "nasrin")
    mehmet = await registered(lotse, "mehmet")
    notice = bot.last_with_buttons("weber")              # Mehmet's Approve / Reject, for later
    await bot.say("weber", "/approve")
    await bot.press("weber", "Nasrin")
    await bot.press("weber", "Yes")
    [pledge] = await bot.say("weber", "15.10.2026")        # the training date; the pledge is asked next
    assert pledge.text.startswith("On which date did Nasrin sign the confidentiality pledge?")
    before = await snapshot(lotse)

    second = await restarted_without_coordinators(lotse, settings)
    try:
        [refused] = await second.transport.say("weber", "20.10.2026")
        assert refused.text == REFUSED_COORDINATOR
        assert await snapshot(second) == before
        guide_row = await second.store.guides.get(nasrin)
        assert guide_row is not None and guide_row.state == "pending" and guide_row.vetting["training"] is None
        assert await dialog_of(second, "weber") is None
        assert not [m for m in second.transport.messages("nasrin") if m.text.startswith("Good news")]
        # the decision buttons of the announcement: refused as well, and logged
        for button in notice.message.flat_buttons:     # Approve, Reject
            [refused] = await second.transport.press_token("weber", button.token)
            assert refused.text == "Only coordinators can do this."
        assert (await second.store.guides.get(mehmet)).state == "pending"  # type: ignore[union-attr]
        assert await snapshot(second) == before
    finally:
        await second.app.stop()


async def test_a_rejection_confirmed_after_removal_changes_nothing(lotse: Running, settings: Settings) -> None:
    bot = lotse.transport
    await onboard(lotse, "weber")
    nasrin = await registered(lotse, "nasrin")
    await bot.press("weber", "Reject")
    confirm = bot.last_with_buttons("weber")
    assert confirm.message.text == "Reject the registration of Nasrin? They will be told."
    before = await snapshot(lotse)

    second = await restarted_without_coordinators(lotse, settings)
    try:
        [refused] = await second.transport.press_token("weber", confirm.message.flat_buttons[0].token,  # Yes
                                                       message_id=confirm.message_id)
        assert refused.text == REFUSED_COORDINATOR
        assert await snapshot(second) == before
        assert (await second.store.guides.get(nasrin)).state == "pending"  # type: ignore[union-attr]
        assert not second.transport.messages("nasrin")  # she is told nothing
    finally:
        await second.app.stop()


async def test_assign_buttons_after_removal_and_for_a_guide_suspended_since(lotse: Running,
                                                                           settings: Settings) -> None:
    bot = lotse.transport
    await person(lotse, "weber", role="newcomer")
    nasrin = await guide(lotse, "nasrin", languages=("fa", "de", "en"), districts=("*",),
                         slots=(Slot(2, 8 * 60, 13 * 60),))
    yonas = await guide(lotse, "yonas", languages=("fa", "ti", "de"), districts=("Langen",), gender="male",
                        slots=(Slot(2, 8 * 60, 13 * 60),))
    for paused in (nasrin, yonas):  # until they resume: nobody is offered, Weber is alerted
        await lotse.store.guides.pause(paused, TODAY, None)
    await request(lotse, "hamid", languages=("fa",), gender=None, district="Langen",
                  starts_at=TUESDAY_930 + timedelta(hours=24))
    for paused in (nasrin, yonas):
        assert await lotse.store.guides.resume(paused)
    [listing] = await bot.say("weber", "/unmatched")
    assert labels(listing)[:-1] in (["Assign Nasrin", "Assign Yonas"], ["Assign Yonas", "Assign Nasrin"])
    # Nasrin is suspended after the list was made: assigning her is refused in the booking itself
    await suspend(lotse, nasrin, by=await id_of(lotse, "weber"))
    before = await snapshot(lotse)
    await bot.press("weber", "Assign Nasrin")
    await settle(lotse)
    assert bot.messages("weber")[-1].text == "Nasrin cannot take on this request now.\nNothing was changed."
    assert await snapshot(lotse) == before
    assert not [m for m in bot.messages("nasrin") if m.text.startswith("Thank you!")]

    # Frau Weber is removed from [roles]: Assign Yonas is refused
    yonas_button = [b for b in listing.flat_buttons if b.label == "Assign Yonas"][0]
    second = await restarted_without_coordinators(lotse, settings)
    try:
        [refused] = await second.transport.press_token("weber", yonas_button.token)
        assert refused.text == "Only coordinators can do this."
        await second.app.dispatch.idle()
        assert await snapshot(second) == before
        assert not second.transport.messages("yonas")
    finally:
        await second.app.stop()


# -- guides -------------------------------------------------------------------------------------
def offer_button(lotse: Running, user: str, accept: bool = True):  # noqa: ANN201
    [offer] = [s for s in lotse.transport.current(user) if len(s.message.flat_buttons) == 2
               and s.message.text.startswith(("Can you come", "Können Sie", "هل يمكنك"))]
    return offer, offer.message.flat_buttons[0 if accept else 1]


async def test_a_suspended_guide_cannot_accept_an_offer(lotse: Running) -> None:
    bot = lotse.transport
    samira = await guide(lotse, "samira")
    await lotse.store.people.set_language(samira, "ar")
    request_id = await request(lotse)
    offer, accept = offer_button(lotse, "samira")
    await suspend(lotse, samira)
    before = await snapshot(lotse)
    [refused] = await bot.press_token("samira", accept.token, message_id=offer.message_id)
    await settle(lotse)
    assert refused.text == "عملك في المرافقة التطوعية موقوف. يرجى التواصل مع أحد المنسقين."
    assert await snapshot(lotse) == before
    assert (await lotse.store.requests.get(request_id)).state == "open"  # type: ignore[union-attr]
    assert not bot.messages("amira")  # no "good news"


async def test_the_booking_transaction_asks_again(lotse: Running) -> None:
    """Suspended between the press and the booking (the router's check passed): dispatch refuses."""
    leila = await guide(lotse, "leila")
    await request(lotse)
    [offer] = await lotse.store.bookings.open_offers()
    await suspend(lotse, leila)
    before = await snapshot(lotse)
    outcome = await lotse.app.dispatch.accept(await lotse.store.people.get(leila), offer.id)
    assert (outcome.code, outcome.reason) == ("refused", "suspended")
    assert await snapshot(lotse) == before


async def test_a_paused_guide_cannot_accept_but_can_still_cancel(lotse: Running) -> None:
    """Paused blocks taking on a new appointment on a paused day; an agreed one can be cancelled."""
    bot = lotse.transport
    leila = await guide(lotse, "leila", slots=(Slot(1, 9 * 60, 12 * 60), Slot(4, 9 * 60, 12 * 60)))
    await lotse.store.people.set_language(leila, "de")
    first = await request(lotse)                                                   # Tuesday 1 December
    offer, accept = offer_button(lotse, "leila")
    await bot.press_token("leila", accept.token, message_id=offer.message_id)
    await settle(lotse)
    second = await request(lotse, starts_at=TUESDAY_930 + timedelta(days=3))       # Friday 4 December
    offer, accept = offer_button(lotse, "leila")
    await bot.say("leila", "/pause")
    await bot.press("leila", 1)                                                    # until I resume
    await bot.press("leila", 1)                                 # keep the appointment she has (Tuesday)
    assert (await lotse.store.guides.get(leila)).paused_from == TODAY  # type: ignore[union-attr]
    before = await snapshot(lotse)

    [refused] = await bot.press_token("leila", accept.token, message_id=offer.message_id)
    await settle(lotse)
    assert refused.text == ("Sie pausieren gerade und können keine neuen Anfragen annehmen. "
                            "Senden Sie /resume, um Ihre Pause zu beenden.")
    assert await snapshot(lotse) == before
    assert (await lotse.store.requests.get(second)).state == "open"  # type: ignore[union-attr]

    # cancelling the appointment she already agreed to stays possible
    await bot.say("leila", "/appointments")
    await bot.press("leila", 1)
    await bot.press("leila", 1)
    await settle(lotse)
    row = await lotse.store.db.fetchone("SELECT state FROM assignments WHERE request_id = ?", (first,))
    assert row[0] == "cancelled_by_guide"
    assert any(m.text.startswith("Your guide cannot come after all") for m in bot.messages("amira"))

    # a pause on other days (her Christmas holiday) does not stop her from taking Friday
    await lotse.store.guides.pause(leila, date(2026, 12, 20), date(2027, 1, 6))
    await bot.press_token("leila", accept.token, message_id=offer.message_id)
    await settle(lotse)
    assert bot.messages("leila")[-1].text.startswith("Danke! Sie begleiten Amira.")
    assert (await lotse.store.requests.get(second)).state == "matched"  # type: ignore[union-attr]


async def test_a_guide_suspended_mid_dialog_cannot_finish_it(lotse: Running) -> None:
    bot = lotse.transport
    mehmet = await guide(lotse, "mehmet", languages=("tr", "ku", "de"), districts=("Dietzenbach", "Rodgau"),
                         gender="male", slots=(Slot(0, 8 * 60, 13 * 60),))
    await bot.say("mehmet", "/availability")
    await bot.press("mehmet", "Add a time")
    await bot.press("mehmet", "Tuesday")
    await suspend(lotse, mehmet)
    before = await snapshot(lotse)
    [refused] = await bot.say("mehmet", "8-13")
    assert refused.text == ("Your work as a guide is suspended. Please contact a coordinator.\n"
                            "Nothing was changed.")
    assert await dialog_of(lotse, "mehmet") is None
    assert await snapshot(lotse) == before
    # and none of the acting dialogs starts again
    for command in ("/availability", "/pause", "/guide"):
        [refused] = await bot.say("mehmet", command)
        assert refused.text == "Your work as a guide is suspended. Please contact a coordinator."
        assert await dialog_of(lotse, "mehmet") is None
    assert await snapshot(lotse) == before


async def test_a_guide_rejected_mid_profile_change_cannot_save_it(lotse: Running) -> None:
    """Nasrin changes her profile while she waits; a coordinator rejects her meanwhile: her Confirm
    would have made her pending again and re-announced her — it is refused.  Registering again
    afresh (after the rejection) stays possible."""
    bot = lotse.transport
    await onboard(lotse, "weber")
    nasrin = await registered(lotse, "nasrin")
    announced = len(bot.messages("weber"))
    await bot.say("nasrin", "/guide")
    await bot.press("nasrin", "Change something")
    await bot.press("nasrin", "Appointments per week")
    [summary] = await bot.press("nasrin", "2")
    assert labels(summary) == ["Confirm", "Change something", "Discard"]
    assert await lotse.store.guides.decide(nasrin, False, await id_of(lotse, "weber"),
                                           datetime(2026, 11, 25, 9, tzinfo=UTC))
    before = await snapshot(lotse)
    [refused] = await bot.press("nasrin", "Confirm")
    assert refused.text == ("Your registration as a guide was not approved. A coordinator will contact you if "
                            "there are questions.\nNothing was changed.")
    assert await snapshot(lotse) == before
    assert (await lotse.store.guides.get(nasrin)).profile.weekly_max == 3  # type: ignore[union-attr]
    assert len(bot.messages("weber")) == announced
    # a new attempt, begun after the rejection, is a new registration as before
    await bot.say("nasrin", "/guide")
    await bot.press("nasrin", "Change something")
    await bot.press("nasrin", "Appointments per week")
    await bot.press("nasrin", "2")
    [thanks] = await bot.press("nasrin", "Confirm")
    assert thanks.text.startswith("Thank you for registering as a guide!")
    assert (await lotse.store.guides.get(nasrin)).state == "pending"  # type: ignore[union-attr]
