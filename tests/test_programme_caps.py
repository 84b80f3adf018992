"""The funding programme's caps in matching (issue 18, part 2), with Hessen's WIR rules: 276 hours a
year and on average 6 a week over 4 weeks (414 / 9 for a guide who also coordinates), counted in
quarter hours.  A guide the request would take past a cap is not offered it and the coordinator
reads why; exactly at the cap is still fine; a new year starts from zero; the 80 % and 95 %
warnings go to guide and coordinators once.  Recording transport; the clock stands at Wednesday
25 November 2026, 10:00 in Berlin; the appointments counted are placed by date, not by today."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import utcnow
from bot.config import ProgrammeSettings, Settings
from bot.store.guides import Profile, Slot
from bot.store.requests import NewRequest
from bot.services import guides as standing
from bot.services import programme as money
from tests.conftest import Running
from tests.test_dispatch import person, settle

pytestmark = pytest.mark.usefixtures("clock")

WIR = ProgrammeSettings(name="WIR-Integrationslotsen (Hessen)", unit="hour", rate=5.0, weekly_cap=6.0,
                        weekly_cap_coordinating=9.0, average_weeks=4, yearly_cap=276.0,
                        yearly_cap_coordinating=414.0, benefits_monthly_limit=250.0, tax_free_yearly=3000.0,
                        rounding=0.25)
TUESDAY_930 = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)  # the request: 1 hour, in week 49 of 2026


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, programme=WIR)


async def leila(lotse: Running) -> int:
    guide_id = await person(lotse, "leila")
    await lotse.store.guides.save_profile(guide_id, Profile(("ar", "de"), ("Dreieich",), ("doctor",),
                                                            (Slot(1, 8 * 60, 13 * 60),), 5, "female"), utcnow())
    assert await standing.approve(lotse.store, guide_id, None, utcnow())
    return guide_id


async def took_place(lotse: Running, guide_id: int, starts_at: datetime, hours: float) -> None:
    """An appointment of `guide_id` that took place, with the hours reported (as production writes it)."""
    newcomer = await person(lotse, f"n{starts_at:%m%d%H}{hours}", role="newcomer")
    request_id = await lotse.store.requests.create(newcomer, NewRequest(
        "doctor", starts_at, 60, "Dreieich", None, None, None, ("ar",)), starts_at - timedelta(days=3))
    async with lotse.store.transaction():
        assignment = await lotse.store.bookings.claim(request_id, guide_id, starts_at - timedelta(days=2))
    assert assignment is not None
    assert await lotse.store.bookings.report_outcome(assignment, guide_id, "done", starts_at + timedelta(hours=2))
    assert await lotse.store.bookings.report_hours(assignment, guide_id, hours)


async def year_of(lotse: Running, guide_id: int, total: float, year: int = 2026) -> None:
    """`total` hours spread over weeks of `year` well before the request's weeks (8 h each, the rest last)."""
    day = datetime(year, 1, 6, 9, 0, tzinfo=UTC)
    while total > 0:
        await took_place(lotse, guide_id, day, min(8.0, total))
        total -= 8.0
        day += timedelta(days=7)


async def the_request(lotse: Running) -> int:
    amira = await person(lotse, "amira", role="newcomer")
    return await lotse.store.requests.create(amira, NewRequest(
        "doctor", TUESDAY_930, 60, "Dreieich", None, None, None, ("ar",)), utcnow())


async def judged(lotse: Running, request_id: int, guide_id: int):  # noqa: ANN201
    return await lotse.app.dispatch.judge(request_id, guide_id)


@pytest.mark.parametrize("before, eligible", [(275.0, True), (275.25, False), (270.0, True)])
async def test_the_yearly_cap_at_its_edge(lotse: Running, before: float, eligible: bool) -> None:
    guide_id = await leila(lotse)
    await year_of(lotse, guide_id, before)
    evaluation = await judged(lotse, await the_request(lotse), guide_id)
    assert evaluation.eligible is eligible  # 275 + 1 = 276 is exactly the cap; 275.25 + 1 passes it
    assert ("yearly_cap" in evaluation.exclusions) is (not eligible)


async def test_a_coordinating_guide_has_the_higher_cap(lotse: Running) -> None:
    guide_id = await leila(lotse)
    await year_of(lotse, guide_id, 300.0)
    request_id = await the_request(lotse)
    assert "yearly_cap" in (await judged(lotse, request_id, guide_id)).exclusions
    assert await lotse.store.programme.set_mark(guide_id, "coordinating", True)
    assert (await judged(lotse, request_id, guide_id)).eligible


async def test_the_weekly_average_over_its_four_weeks(lotse: Running) -> None:
    guide_id = await leila(lotse)
    # the four weeks ending with the request's week (9 Nov – 6 Dec): 23 hours already
    for day, hours in ((datetime(2026, 11, 10, 9, tzinfo=UTC), 8.0), (datetime(2026, 11, 17, 9, tzinfo=UTC), 8.0),
                       (datetime(2026, 11, 24, 9, tzinfo=UTC), 7.0)):
        await took_place(lotse, guide_id, day, hours)
    request_id = await the_request(lotse)
    assert (await judged(lotse, request_id, guide_id)).eligible  # 23 + 1 = 24 = 6 a week over 4 weeks
    await took_place(lotse, guide_id, datetime(2026, 11, 3, 9, tzinfo=UTC), 8.0)  # before the window: no change
    assert (await judged(lotse, request_id, guide_id)).eligible
    await took_place(lotse, guide_id, datetime(2026, 11, 12, 9, tzinfo=UTC), 0.25)  # inside: 24.25 + 1
    evaluation = await judged(lotse, request_id, guide_id)
    assert evaluation.exclusions == ("weekly_cap",)
    from bot.services.matching import explain
    [(msgid, values)] = explain(evaluation)[:1]
    assert values == {"average": 6.06, "cap": 6.0, "weeks": 4}  # (23.25 + 1) / 4


async def test_a_new_year_starts_from_zero(lotse: Running) -> None:
    guide_id = await leila(lotse)
    await year_of(lotse, guide_id, 276.0, year=2025)
    assert (await judged(lotse, await the_request(lotse), guide_id)).eligible


async def test_the_coordinator_reads_the_cap_and_may_still_assign_by_hand(lotse: Running) -> None:
    bot = lotse.transport
    await person(lotse, "weber", role="newcomer")
    guide_id = await leila(lotse)
    await year_of(lotse, guide_id, 276.0)
    request_id = await the_request(lotse)
    lotse.app.dispatch.kick(request_id)
    await settle(lotse)
    card = bot.last_with_buttons("weber").message
    assert "Leila – not offered: would pass the programme's yearly cap: 276 of 276 hours this year" in card.text
    [question] = await bot.press("weber", "Assign Leila")
    assert "would pass the programme's yearly cap" in question.text
    await bot.press("weber", "Assign anyway")
    await settle(lotse)
    assert bot.messages("leila")[-1].text.startswith("Can you come along to an appointment?")


async def test_the_80_and_95_percent_warnings_go_out_once(lotse: Running) -> None:
    bot = lotse.transport
    await person(lotse, "weber", role="newcomer")
    guide_id = await leila(lotse)
    await year_of(lotse, guide_id, 220.0)  # 79.7 %
    request_id = await the_request(lotse)
    lotse.app.dispatch.kick(request_id)
    await settle(lotse)
    await bot.press("leila", "Accept")  # 221 h: 80.1 %
    await settle(lotse)
    warned = [m.text for m in bot.messages("leila") if "this year's hours" in m.text]
    assert warned == ["You have reached 80\u00a0% of this year's hours in the programme: 221 of 276. Lotse offers you "
                      "requests only up to the limit."]
    assert [m.text for m in bot.messages("weber") if "this year's hours" in m.text] == [
        "Leila has reached 80\u00a0% of this year's hours in the programme: 221 of 276."]
    rows = await lotse.store.db.fetchall("SELECT year, level FROM cap_warnings WHERE guide_id = ?", (guide_id,))
    assert [tuple(r) for r in rows] == [(2026, 0.8)]
    # the account the warnings rest on
    account = await money.account(lotse.store, WIR, lotse.settings.zone, guide_id, 2026)
    assert account.hours == 221.0 and account.allowance == 1105.0 and account.left == 55.0


async def test_without_travel_time_the_guide_is_asked_for_the_appointment_alone(settings: Settings,
                                                                               clock) -> None:  # noqa: ANN001
    from tests.test_reminders import TUESDAY_1230, at, booked

    lotse = await Running(dataclasses.replace(settings, programme=dataclasses.replace(WIR, counts_travel=False))).start()
    try:
        await booked(lotse)
        await at(lotse, clock, TUESDAY_1230)
        [how_long] = await lotse.transport.press("leila", "Yes, it took place")
        assert how_long.text == "How long did the appointment itself take, without the way there and back?"
    finally:
        await lotse.app.stop()
