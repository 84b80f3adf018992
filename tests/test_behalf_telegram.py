"""A request on someone's behalf over the Telegram wire (real python-telegram-bot, the Bot API wire
server): Frau Weber files Herr Rahimi's job-centre appointment; Nasrin accepts and reads his phone
number; the good news reaches Frau Weber, headed with his name, and nothing of her Telegram account
reaches Nasrin.  Clock at Wednesday 25 November 2026, 10:00 in Berlin."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.services import guides as standing
from bot.store.guides import Profile, Slot
from tests.conftest import make_settings
from tests.telegram_harness import TelegramWorld, labels, telegram_world

NASRIN, WEBER = 1004, 9001


@pytest.fixture
def tg_settings(db_path: Path) -> Settings:
    return make_settings(db_path, coordinators=(f"telegram:{WEBER}",))


@pytest.fixture
async def world(tg_settings: Settings):  # noqa: ANN201
    async with telegram_world(tg_settings) as world:
        yield world


async def test_frau_weber_files_for_herr_rahimi_on_telegram(world: TelegramWorld, clock) -> None:  # noqa: ANN001
    store, server = world.app.store, world.server
    nasrin, weber = world.person(NASRIN, "Nasrin"), world.person(WEBER, "Weber")
    await nasrin.onboard(role=2)
    guide = await store.people.find("telegram", str(NASRIN))
    await store.guides.save_profile(guide.id, Profile(("prs", "fa", "de"), ("Langen",), ("jobcentre",),
                                                      (Slot(1, 8 * 60, 13 * 60),), 3, "female"), clock.now)
    assert await standing.approve(store, guide.id, None, clock.now)
    await weber.onboard()

    [name] = await weber.send("/requestfor")
    assert name["text"] == "For whom is the request? Please type their name."
    [reach] = await weber.send("Herr Rahimi")
    assert labels(reach) == ["Through me"]
    [wrong, again] = await weber.send("weiß ich nicht", expect=2)
    assert wrong["text"].startswith("Please type a phone number like")
    assert again["text"].startswith("How can the guide reach Herr Rahimi?")
    await weber.send("0151 2345678")
    await weber.press("Job centre")
    await weber.send("1.12.2026")
    await weber.send("9:30")
    await weber.press("1 hour")
    await weber.press("Langen")
    [best] = await weber.press("Skip")
    assert best["text"] == "Which language does Herr Rahimi speak best?"
    await weber.press("Dari")
    await weber.press("Done")
    await weber.press("No preference")
    [summary] = await weber.press("Skip")
    assert summary["text"].splitlines()[1:3] == ["For: Herr Rahimi", "Contact: 0151 2345678"]
    before = len(nasrin.messages)
    [received] = await weber.press("Send request")
    assert received["text"].startswith("Thank you! The request for Herr Rahimi was received.")

    [offer] = await nasrin._expect(before, 1)  # noqa: SLF001
    assert labels(offer) == ["Accept", "Decline"] and "Rahimi" not in offer["text"]
    await nasrin.press("Accept", expect=1)
    news = await server.wait_for(lambda: [m for m in weber.messages if "document" in m] or None, what="the news")
    assert news[0]["caption"].splitlines()[:2] == ["For Herr Rahimi, whose request you filed:",
                                                   "Good news: Nasrin (Dari, Persian, German) will come with you."]
    booked = [m for m in nasrin.messages if "document" in m][-1]["caption"].splitlines()
    assert booked[0] == "Thank you! You are coming with Herr Rahimi." and "Contact: 0151 2345678" in booked
    # nothing of Frau Weber's Telegram account reached Nasrin, in any call on the wire
    for call in server.sent(NASRIN, "sendMessage") + server.sent(NASRIN, "sendDocument"):
        assert str(WEBER) not in repr(call.params) and "Weber" not in repr(call.params)
    row = await store.db.fetchone("SELECT on_behalf, behalf_name, state FROM requests")
    assert tuple(row) == (1, "Herr Rahimi", "matched")
