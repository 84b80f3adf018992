"""Dispatch transcripts: waves, first accept wins, decline and timeout, escalation, cancellations,
restarts — on the recording transport, clock at Wednesday 25 November 2026, 10:00 in Berlin."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import utcnow
from bot.config import MatchingSettings, Settings
from bot.services import guides as standing
from bot.store.guides import Profile, Slot
from bot.store.requests import NewRequest
from tests.conftest import Clock, Running, labels

pytestmark = pytest.mark.usefixtures("clock")

TUESDAY_930 = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)  # 9:30 in Berlin


async def person(lotse: Running, user: str, language: str = "en", role: str = "guide") -> int:
    store = lotse.store
    found = await store.people.get_or_create("test", user, user)
    await store.people.set_language(found.id, language)
    await store.people.record_consent(found.id, lotse.settings.privacy.notice_version, datetime(2026, 11, 1, tzinfo=UTC), user.capitalize())
    await store.people.set_role(found.id, role)
    return found.id


async def guide(lotse: Running, user: str, languages: tuple[str, ...] = ("ar", "de"),
                districts: tuple[str, ...] = ("Dreieich",), gender: str | None = "female",
                slots: tuple[Slot, ...] = (Slot(1, 9 * 60, 12 * 60),)) -> int:
    guide_id = await person(lotse, user)
    await lotse.store.guides.save_profile(guide_id, Profile(languages, districts, ("doctor",), slots, 3, gender),
                                          datetime(2026, 11, 1, tzinfo=UTC))
    assert await standing.approve(lotse.store, guide_id, None, utcnow())
    return guide_id


async def request(lotse: Running, user: str = "amira", starts_at: datetime = TUESDAY_930, gender: str | None = "female",
                  languages: tuple[str, ...] = ("ar",), district: str = "Dreieich") -> int:
    newcomer = (await lotse.store.people.find("test", user)) or None
    newcomer_id = newcomer.id if newcomer else await person(lotse, user, "en", "newcomer")
    request_id = await lotse.store.requests.create(newcomer_id, NewRequest(
        "doctor", starts_at, 60, district, "Kinderarztpraxis Dr. Weber", gender, "bring the vaccination card",
        languages), datetime(2026, 11, 25, 9, tzinfo=UTC))
    lotse.app.dispatch.kick(request_id)
    await lotse.app.dispatch.idle()
    return request_id


def offers_to(lotse: Running, user: str) -> list:
    return [s for s in lotse.transport.current(user) if labels(s.message) == ["Accept", "Decline"]]


async def settle(lotse: Running) -> None:
    """Wait until the waves started and the jobs due on the clock have run."""
    await lotse.app.scheduler.settle()
    await lotse.app.dispatch.idle()


@pytest.fixture
def small_waves(settings: Settings) -> Settings:
    return dataclasses.replace(settings, matching=dataclasses.replace(MatchingSettings(), wave_size=1))


async def test_a_wave_of_offers_and_the_first_accept_wins(lotse: Running) -> None:
    bot = lotse.transport
    await person(lotse, "weber", role="newcomer")
    for name in ("leila", "samira", "yasmin"):
        await guide(lotse, name)
    await guide(lotse, "mehmet", languages=("tr", "ku", "de"), gender="male")   # no shared language
    await guide(lotse, "nour", gender="male")                                    # Amira prefers a woman
    request_id = await request(lotse)
    offered = {u for u in ("leila", "samira", "yasmin", "mehmet", "nour") if offers_to(lotse, u)}
    assert offered == {"leila", "samira", "yasmin"}
    [offer] = offers_to(lotse, "leila")
    text = offer.message.text
    assert text.startswith("Can you come along to an appointment?")
    assert "Doctor or hospital on Tuesday, 1 December 2026 at 09:30, about 1 hour, in Dreieich." in text
    assert "Amira" not in text and "Weber" not in text and "vaccination" not in text  # nothing personal yet

    await bot.press("leila", "Accept")
    await settle(lotse)
    told = [m.text for m in bot.messages("leila")]
    assert told[-1].startswith("Thank you! You are coming with Amira.")
    assert "Kinderarztpraxis Dr. Weber" in told[-1] and "Note: bring the vaccination card" in told[-1]
    for other in ("samira", "yasmin"):
        [closed] = [s for s in bot.current(other) if "Already taken – thank you!" in s.message.text]
        assert closed.message.buttons == ()
    news = [m.text for m in bot.messages("amira")][-1]
    assert news.startswith("Good news: Leila (Arabic, German) will come with you.")
    assert "at 09:15 at Kinderarztpraxis Dr. Weber" in news
    rows = await lotse.store.db.fetchall("SELECT state FROM offers WHERE request_id = ? ORDER BY guide_id", (request_id,))
    assert sorted(r[0] for r in rows) == ["accepted", "taken", "taken"]
    assert (await lotse.store.requests.get(request_id)).state == "matched"
    # a late tap on a taken offer is thanked, changes nothing
    samira_offer = [s for s in bot.sent if s.chat_id == "samira" and labels(s.message)][0]
    await bot.press_token("samira", samira_offer.message.flat_buttons[0].token, message_id=samira_offer.message_id)
    await settle(lotse)
    assert len(await lotse.store.db.fetchall("SELECT * FROM assignments")) == 1


async def test_a_second_tap_on_accept_says_you_accepted_already(lotse: Running) -> None:
    bot = lotse.transport
    await guide(lotse, "leila")
    request_id = await request(lotse)
    [offer] = offers_to(lotse, "leila")
    accept = offer.message.flat_buttons[0].token
    await bot.press("leila", "Accept")
    await settle(lotse)
    # the same Accept again (a double tap, or an old notification): Leila holds the appointment
    await bot.press_token("leila", accept, message_id=offer.message_id)
    await settle(lotse)
    [now] = [s for s in bot.current("leila") if s.message_id == offer.message_id]
    assert "You have already accepted this appointment – thank you!" in now.message.text
    assert "expired" not in now.message.text
    rows = await lotse.store.db.fetchall("SELECT guide_id FROM assignments WHERE request_id = ?", (request_id,))
    assert len(rows) == 1
    # once she has cancelled, the old button no longer claims she holds it
    [appointment] = await bot.say("leila", "/appointments")
    await bot.press("leila", "Cancel")
    await bot.press("leila", "Yes, I cannot come")
    await settle(lotse)
    await bot.press_token("leila", accept, message_id=offer.message_id)
    await settle(lotse)
    [now] = [s for s in bot.current("leila") if s.message_id == offer.message_id]
    assert "already accepted" not in now.message.text


async def test_decline_and_timeout_open_the_next_wave(small_waves: Settings, clock: Clock) -> None:
    lotse = await Running(small_waves).start()
    try:
        bot = lotse.transport
        for name in ("leila", "samira", "yasmin"):
            await guide(lotse, name)
        request_id = await request(lotse)
        first = [u for u in ("leila", "samira", "yasmin") if offers_to(lotse, u)]
        assert len(first) == 1
        await bot.press(first[0], "Decline")
        await settle(lotse)
        declined = bot.current(first[0])[-1].message
        assert "You declined." in declined.text
        assert labels(declined) == ["No time then", "Too far away", "Not my topic", "Another reason"]
        [thanks] = await bot.press(first[0], "Too far away")  # the optional reason
        assert thanks.text == "Thank you, that helps us."
        second = [u for u in ("leila", "samira", "yasmin") if offers_to(lotse, u) and u not in first]
        assert len(second) == 1
        clock.advance(timedelta(hours=5))  # nobody answers: the offer expires
        await lotse.app.dispatch.expire_due()
        await settle(lotse)
        assert "This offer has expired." in bot.current(second[0])[-1].message.text
        third = [u for u in ("leila", "samira", "yasmin") if offers_to(lotse, u) and u not in first + second]
        assert len(third) == 1
        states = await lotse.store.db.fetchall("SELECT state FROM offers WHERE request_id = ? ORDER BY wave",
                                               (request_id,))
        assert [r[0] for r in states] == ["declined", "expired", "open"]
        reason = await lotse.store.db.fetchone("SELECT decline_reason FROM offers WHERE state = 'declined'")
        assert reason[0] == "distance"
    finally:
        await lotse.app.stop()


async def test_escalation_when_nobody_is_left_and_assignment_by_hand(lotse: Running) -> None:
    bot = lotse.transport
    await person(lotse, "weber", role="newcomer")  # the coordinator of the fixture settings
    await guide(lotse, "mehmet", languages=("tr", "de"), gender="male")
    nasrin = await guide(lotse, "nasrin", languages=("fa", "de", "en"), districts=("*",))
    request_id = await request(lotse, "hamid", languages=("fa",), gender=None, district="Langen",
                               starts_at=TUESDAY_930 + timedelta(hours=24))  # Wednesday: nobody's slot
    alert = [m for m in bot.messages("weber") if m.text.startswith("Nobody has taken this request yet:")]
    assert len(alert) == 1
    assert "Nasrin – not offered:" in alert[0].text and "Mehmet – not offered:" in alert[0].text
    assert "Wednesday" in alert[0].text and "('" not in alert[0].text  # readable reasons, no raw values
    card = alert[0].text.splitlines()
    assert card[2:6] == ["Name: Hamid", "Place: Kinderarztpraxis Dr. Weber", "Note: bring the vaccination card",
                         "Languages: Persian"]                                # who, where, what to know
    assert [m.text for m in bot.messages("hamid")][-1].startswith("Lotse is still looking for a guide")
    [listing] = await bot.say("weber", "/unmatched")
    assert listing.text.startswith("Nobody has taken this request yet:")
    # a slot added, the coordinator assigns Nasrin by hand
    await lotse.store.guides.set_slots(nasrin, [Slot(2, 8 * 60, 13 * 60)])
    [listing] = await bot.say("weber", "/unmatched")
    assert labels(listing) == ["Assign Nasrin", "Assign Mehmet", "Needs an interpreter"]  # every approved guide, the eligible first
    await bot.press("weber", "Assign Nasrin")
    await settle(lotse)
    assert bot.messages("weber")[-1].text == "Nasrin now accompanies this request."
    assert bot.messages("nasrin")[-1].text.startswith("Thank you! You are coming with Hamid.")
    assert bot.messages("hamid")[-1].text.startswith("Good news: Nasrin")
    row = await lotse.store.db.fetchone("SELECT guide_id, assigned_by FROM assignments WHERE request_id = ?",
                                        (request_id,))
    assert row["guide_id"] == nasrin and row["assigned_by"] == (await lotse.store.people.find("test", "weber")).id


@pytest.mark.parametrize("attempt", range(5))
async def test_fifty_simultaneous_accepts_book_exactly_one_guide(lotse: Running, attempt: int) -> None:
    bot = lotse.transport
    guides = [await guide(lotse, f"g{attempt}x{i}") for i in range(50)]
    newcomer = await person(lotse, "olena", "en", "newcomer")
    request_id = await lotse.store.requests.create(newcomer, NewRequest(
        "immigration", TUESDAY_930, 60, "Dreieich", None, None, None, ("ar",)), datetime(2026, 11, 25, tzinfo=UTC))
    tokens = []
    for guide_id in guides:
        offer_id = await lotse.store.bookings.add_offer(request_id, guide_id, 1, datetime(2026, 11, 25, tzinfo=UTC),
                                                        datetime(2026, 11, 26, tzinfo=UTC))
        [token] = await lotse.store.buttons.mint(guide_id, [("offer", {"offer": offer_id, "accept": True})])
        tokens.append(token)
    users = [(await lotse.store.people.get(g)).platform_user_id for g in guides]
    await asyncio.gather(*(bot.press_token(u, t) for u, t in zip(users, tokens)))
    await settle(lotse)
    assert len(await lotse.store.db.fetchall("SELECT * FROM assignments WHERE request_id = ?", (request_id,))) == 1
    states = [r[0] for r in await lotse.store.db.fetchall("SELECT state FROM offers WHERE request_id = ?", (request_id,))]
    assert states.count("accepted") == 1 and states.count("taken") == 49
    winners = [u for u in users if any(m.text.startswith("Thank you! You are coming") for m in bot.messages(u))]
    assert len(winners) == 1


async def test_restart_with_open_offers_expires_and_continues(small_waves: Settings, clock: Clock) -> None:
    first = await Running(small_waves).start()
    for name in ("leila", "samira"):
        await guide(first, name)
    request_id = await request(first)
    await first.app.stop()
    clock.advance(timedelta(hours=6))  # Lotse was down while the offer ran out
    second = await Running(small_waves).start()
    try:
        await settle(second)
        states = await second.store.db.fetchall("SELECT state FROM offers WHERE request_id = ? ORDER BY wave",
                                                (request_id,))
        assert [r[0] for r in states] == ["expired", "open"]  # expired at start, the next wave went out
    finally:
        await second.app.stop()


async def test_cancellations_by_newcomer_and_by_guide(lotse: Running) -> None:
    bot = lotse.transport
    await guide(lotse, "leila")
    await guide(lotse, "samira")
    request_id = await request(lotse)
    await bot.press("leila", "Accept")
    await settle(lotse)
    # Leila cannot come: appointments → cancel → confirm
    [listing] = await bot.say("leila", "/appointments")
    assert listing.text.startswith("With Amira:") and labels(listing) == ["Cancel"]
    await bot.press("leila", "Cancel")
    await bot.press("leila", "Yes, I cannot come")
    await settle(lotse)
    assert bot.messages("amira")[-1].text.startswith("Your guide cannot come after all")
    assert (await lotse.store.requests.get(request_id)).state == "open"
    assert offers_to(lotse, "samira")  # a new wave, without Leila
    # Amira cancels: Samira's offer is withdrawn
    await bot.say("amira", "/cancel")
    await bot.press("amira", 1)
    await bot.press("amira", "Yes, cancel it")
    await settle(lotse)
    assert "This appointment was cancelled." in bot.current("samira")[-1].message.text
    assert not offers_to(lotse, "samira")


async def test_the_offer_is_committed_before_the_newcomer_reads_received(settings: Settings) -> None:
    """Request and first wave commit together in the newcomer's transaction: at the moment the
    "received" answer leaves, another connection already sees the offer (before, the wave ran in a
    task that inherited the newcomer's transaction and kept its offers uncommitted)."""
    import sqlite3

    from bot.transports.recording import RecordingTransport

    seen: list[int] = []
    original = RecordingTransport.send

    async def send(self: RecordingTransport, chat_id: str, message):  # noqa: ANN001, ANN202
        if message.text.startswith("Thank you! Your request was received."):
            with sqlite3.connect(settings.database.path) as other:
                seen.append(other.execute("SELECT count(*) FROM offers").fetchone()[0])
        return await original(self, chat_id, message)

    lotse = Running(settings)
    lotse.transport.send = send.__get__(lotse.transport)  # type: ignore[method-assign]
    await lotse.start()
    try:
        await guide(lotse, "leila", languages=("en", "ar"))
        await person(lotse, "amira", "en", "newcomer")
        bot = lotse.transport
        await bot.say("amira", "/request")
        await bot.press("amira", 1)              # doctor
        await bot.say("amira", "1.12.")          # Tuesday, 1 December
        await bot.say("amira", "9.30")
        for step in (2, "Dreieich", 1):          # one hour, town, no place
            await bot.press("amira", step)
        await bot.press("amira", "English")      # the best language (Leila's too)
        await bot.press("amira", labels(bot.last_with_buttons("amira").message)[-1])  # no other language: Done
        for step in (1, 1):                      # a woman, no note
            await bot.press("amira", step)
        [received] = await bot.press("amira", "Send request")
        assert received.text.startswith("Thank you! Your request was received.")
        assert seen == [1]
        assert len(offers_to(lotse, "leila")) == 1
    finally:
        await lotse.app.stop()
