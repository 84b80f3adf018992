"""Statistics: figures per period and the coordinator's message in their locale (the export built
on the same history is in tests/test_export.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import utcnow
from bot.store.guides import Profile, Slot
from bot.store.requests import NewRequest
from tests.conftest import Clock, Running, labels
from tests.test_coordinator import onboard

pytestmark = pytest.mark.usefixtures("clock")


async def guide(lotse: Running, user: str, languages: tuple[str, ...]) -> int:
    await onboard(lotse, user, role=2)
    person = await lotse.store.people.find("test", user)
    await lotse.store.guides.save_profile(person.id, Profile(languages, ("*",), ("doctor",), (Slot(0, 480, 720),),
                                                             3, None), utcnow())
    return person.id


async def request(lotse: Running, newcomer: int, topic: str, starts: datetime, district: str,
                  languages: tuple[str, ...], created: datetime) -> int:
    return await lotse.store.requests.create(newcomer, NewRequest(topic, starts, 60, district, "Praxis", None, None,
                                                                  languages), created)


async def assign(lotse: Running, request_id: int, guide_id: int, at: datetime, state: str = "active",
                 hours: float | None = None) -> None:
    store = lotse.store
    async with store.transaction():
        assignment_id = await store.bookings.claim(request_id, guide_id, at)
    assert assignment_id is not None
    if state != "active":
        assert await store.bookings.end_assignment(assignment_id, state, at)
    if hours is not None:  # the guide's answer to the follow-up after the appointment (handlers/reminders.py)
        assert await store.bookings.report_hours(assignment_id, guide_id, hours)


async def history(lotse: Running, clock: Clock) -> dict[str, int]:
    """This year in Kreis Offenbach: Amira, Olena and Hamid asked; Leila and Mehmet came along."""
    now = clock.now  # Wednesday 25 November 2026
    await onboard(lotse, "weber")
    leila = await guide(lotse, "leila", ("ar", "fr", "de"))
    mehmet = await guide(lotse, "mehmet", ("tr", "ku", "de"))
    await onboard(lotse, "amira")
    await onboard(lotse, "olena")
    await onboard(lotse, "hamid")
    amira, olena, hamid = [(await lotse.store.people.find("test", u)).id for u in ("amira", "olena", "hamid")]
    # in March (year so far only)
    march = datetime(2026, 3, 10, 8, 30, tzinfo=UTC)
    r1 = await request(lotse, amira, "doctor", march + timedelta(days=7), "Dreieich", ("ar", "de"), march)
    await assign(lotse, r1, leila, march + timedelta(hours=2), "done", 1.5)
    r2 = await request(lotse, olena, "immigration", march + timedelta(days=9), "Dietzenbach", ("uk", "ru"), march)
    await assign(lotse, r2, mehmet, march + timedelta(hours=6), "done", 2.25)
    # in the last 30 days
    recent = now - timedelta(days=10)
    r3 = await request(lotse, amira, "doctor", recent + timedelta(days=3), "Dreieich", ("ar",), recent)
    await assign(lotse, r3, leila, recent + timedelta(hours=4), "done", 1.0)
    r4 = await request(lotse, hamid, "jobcentre", recent + timedelta(days=4), "Langen", ("fa",), recent)
    await assign(lotse, r4, mehmet, recent + timedelta(hours=8), "no_show")
    r5 = await request(lotse, olena, "immigration", now + timedelta(days=8), "Dietzenbach", ("uk",), recent)
    await lotse.store.requests.cancel(r5, olena, recent + timedelta(hours=1))
    return {"leila": leila, "mehmet": mehmet}


async def test_figures_per_period(lotse: Running, clock: Clock) -> None:
    await history(lotse, clock)
    stats = lotse.store.stats
    month = await stats.figures(clock.now - timedelta(days=30), clock.now)
    assert (month.received, month.matched, month.cancelled, month.no_shows) == (3, 2, 1, 1)
    assert month.median_to_match == timedelta(hours=6)            # 4 h and 8 h
    assert (month.active_guides, month.hours) == (2, 1.0)
    assert list(month.by_topic.items()) == [("doctor", 1), ("immigration", 1), ("jobcentre", 1)]
    assert month.by_language == {"ar": 1, "fa": 1, "uk": 1}
    year = await stats.figures(datetime(2025, 12, 31, 23, 0, tzinfo=UTC), clock.now)
    assert (year.received, year.matched, year.cancelled, year.hours) == (5, 4, 1, 4.75)
    assert year.median_to_match == timedelta(hours=5)             # 2, 4, 6, 8 h
    assert list(year.by_district.items()) == [("Dietzenbach", 2), ("Dreieich", 2), ("Langen", 1)]


async def test_stats_message_in_the_coordinators_locale(lotse: Running, clock: Clock) -> None:
    await history(lotse, clock)
    bot = lotse.transport
    [message] = await bot.say("weber", "/stats")
    month, year = message.text.split("\n\n")
    assert month.split("\n") == [
        "Last 30 days (26 Oct 2026 – 25 Nov 2026)", "Requests received: 3",
        "Matched: 2 (median time to a match: 6 hours)", "Cancelled: 1", "No-shows: 1", "Active guides: 2",
        "Hours given: 1", "By topic: Doctor or hospital 1, Immigration office 1, Job centre 1",
        "By language: Arabic 1, Persian 1, Ukrainian 1", "By district: Dietzenbach 1, Dreieich 1, Langen 1"]
    assert year.split("\n")[0] == "This year so far (1 Jan 2026 – 25 Nov 2026)"
    assert "Hours given: 4,8" in year  # English with German conventions ([bot] region = "DE")
    assert labels(message) == ["CSV for the funder: Last 30 days (26 Oct 2026 – 25 Nov 2026)",
                               "CSV for the funder: This year so far (1 Jan 2026 – 25 Nov 2026)",
                               "Report 2025 (PDF)", "Report 2025 (CSV)", "Report 2026 (PDF)", "Report 2026 (CSV)"]
    await bot.say("weber", "/language")
    await bot.press("weber", "Deutsch")
    [german] = await bot.say("weber", "/stats")
    assert german.text.split("\n")[0] == "Letzte 30 Tage (26.10.2026 – 25.11.2026)"
    assert "4,8" in german.text.split("\n\n")[1]


async def test_active_guides_count_matches_made_in_the_period(lotse: Running, clock: Clock) -> None:
    """Nasrin took on Hamid's request today for next week: she is active now, though nobody has come
    along yet; hours are only those reported for appointments that took place."""
    await history(lotse, clock)
    nasrin = await guide(lotse, "nasrin", ("fa", "de", "en"))
    hamid = (await lotse.store.people.find("test", "hamid")).id
    this_morning = clock.now - timedelta(hours=1)
    later = await request(lotse, hamid, "jobcentre", clock.now + timedelta(days=7), "Langen", ("fa",), this_morning)
    await assign(lotse, later, nasrin, this_morning)
    month = await lotse.store.stats.figures(clock.now - timedelta(days=30), clock.now)
    assert (month.matched, month.active_guides, month.hours) == (3, 3, 1.0)
    [message] = await lotse.transport.say("weber", "/stats")
    assert "Active guides: 3" in message.text.split("\n\n")[0]
