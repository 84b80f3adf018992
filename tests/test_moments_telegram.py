"""The moments that must go right (SCENARIOS.md) over the Telegram wire: Lotse with its real
Telegram transport (python-telegram-bot over HTTP) against tests/botapi_server.py; what people
read is what arrived at the server.  The test's clock starts at Wednesday 25 November 2026, 10:00
in Berlin, and moves as the story goes on."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.config import Settings
from tests import moments as m
from tests.botapi_server import BotApiServer
from tests.conftest import Clock, make_settings
from tests.moments import rows, tr
from tests.telegram_harness import TelegramWorld, labels, telegram_world

AMIRA, OLENA, HAMID, TESFAY = 1001, 1002, 1003, 1004
LEILA, MEHMET, NASRIN, YONAS, OKSANA, SERGEJ, FARID = 2001, 2002, 2003, 2004, 2005, 2006, 2007
WEBER = 9001


@pytest.fixture
def tg_settings(db_path: Path) -> Settings:
    return make_settings(db_path, coordinators=(f"telegram:{WEBER}",))


@pytest.fixture
async def world(tg_settings: Settings, clock: Clock):  # noqa: ANN201
    async with telegram_world(tg_settings) as world:
        yield world


async def join(world: TelegramWorld, user_id: int, name: str, language: str, role: str = "newcomer"):  # noqa: ANN201
    """Someone on Telegram who chose `language` and agreed to the notice; their Telegram person."""
    person = world.person(user_id, name, language)
    await m.member(world.app.store, "telegram", str(user_id), name, language, role)
    return person


async def guide(world: TelegramWorld, user_id: int, name: str, language: str, profile):  # noqa: ANN001, ANN201
    person = world.person(user_id, name, language)
    await m.approved_guide(world.app.store, "telegram", str(user_id), name, language, profile)
    return person


async def settle(world: TelegramWorld) -> None:
    await world.app.scheduler.settle()
    await world.app.dispatch.idle()
    await world.app.scheduler.settle()
    await world.app.inbox.idle()


def starting(world: TelegramWorld, user_id: int, head: str) -> list[str]:
    """What arrived for `user_id` that begins with `head` (a text, or a document's caption)."""
    said = [msg.get("text") or msg.get("caption") or "" for msg in world.server.messages(user_id)]
    return [text for text in said if text.startswith(head)]


async def test_amiras_request_finds_leila_without_a_coordinator(world: TelegramWorld, tg_settings: Settings,
                                                                clock: Clock) -> None:
    store, server = world.app.store, world.server
    weber = await join(world, WEBER, "Weber", "de")
    leila = await guide(world, LEILA, "Leila", "de", m.LEILA)
    await guide(world, MEHMET, "Mehmet", "tr", m.MEHMET)
    amira = await join(world, AMIRA, "Amira", "ar")
    request_id = await m.file_request(store, (await store.people.find("telegram", str(AMIRA))).id, m.amira_request())
    world.app.dispatch.kick(request_id)

    # The offer reaches Leila's phone; she taps Accept right there
    [offer] = await server.wait_for_messages(LEILA, 1)
    assert offer["text"].startswith(tr(tg_settings, "de", "Can you come along to an appointment?"))
    assert labels(offer) == [tr(tg_settings, "de", "Accept"), tr(tg_settings, "de", "Decline")]
    await leila.press(tr(tg_settings, "de", "Accept"))

    # Amira: the good news in Arabic, as the caption of the calendar file
    [news] = await server.wait_for(lambda: [msg for msg in amira.messages if "document" in msg] or None,
                                   what="Amira's good news")
    assert news["caption"] == m.good_news_for_amira(tg_settings)
    assert news["document"]["file_name"].endswith(".ics")
    [upload] = server.sent(AMIRA, "sendDocument")
    assert m.ics_start(upload.files["document"].data) == "2026-12-01T09:30:00+01:00"
    assert starting(world, LEILA, tr(tg_settings, "de", m.MSG_ASSIGNED, name="Amira"))
    assert not server.messages(WEBER) and not server.messages(MEHMET) and weber
    [(guide_id, assigned_by)] = await rows(store, "SELECT guide_id, assigned_by FROM assignments WHERE request_id = ?",
                                           request_id)
    assert (guide_id, assigned_by) == ((await store.people.find("telegram", str(LEILA))).id, None)

    # Reminded the day before (Amira keeps it) and two hours before, both of them
    amira_head, leila_head = m.reminder_heads(tg_settings)
    clock.now = m.AMIRA_DAY_BEFORE
    await settle(world)
    assert [len(starting(world, AMIRA, amira_head)), len(starting(world, LEILA, leila_head))] == [1, 1]
    await amira.press(tr(tg_settings, "ar", "Yes, I still need it"))
    clock.now = m.AMIRA_TWO_HOURS_BEFORE
    await settle(world)
    assert [len(starting(world, AMIRA, amira_head)), len(starting(world, LEILA, leila_head))] == [2, 2]


async def test_two_guides_accept_olenas_request_in_the_same_second(world: TelegramWorld, tg_settings: Settings,
                                                                   clock: Clock) -> None:
    store, server = world.app.store, world.server
    language = {OKSANA: "uk", SERGEJ: "de"}
    await guide(world, OKSANA, "Oksana", "uk", m.OKSANA)
    await guide(world, SERGEJ, "Sergej", "de", m.SERGEJ)
    await join(world, OLENA, "Olena", "uk")
    request_id = await m.file_request(store, (await store.people.find("telegram", str(OLENA))).id, m.olena_request())
    world.app.dispatch.kick(request_id)
    offers = {user: (await server.wait_for_messages(user, 1))[0] for user in language}

    # Both tap Accept: the two callback queries reach the Bot API together
    queries = []
    for user, offer in offers.items():
        accept = offer["reply_markup"]["inline_keyboard"][0][0]
        assert accept["text"] == tr(tg_settings, language[user], "Accept")
        queries.append(server.press_button(user, offer["message_id"], accept["callback_data"]))
    await server.wait_for(lambda: all(q in server.answered_callbacks for q in queries) or None, what="both answered")
    await settle(world)

    [(winner_id,)] = await rows(store, "SELECT p.platform_user_id FROM assignments a JOIN people p "
                                       "ON p.id = a.guide_id WHERE a.request_id = ?", request_id)
    winner = int(winner_id)
    [loser] = [user for user in language if user != winner]
    assert starting(world, winner, tr(tg_settings, language[winner], m.MSG_ASSIGNED, name="Olena"))
    assert not starting(world, loser, tr(tg_settings, language[loser], m.MSG_ASSIGNED, name="Olena"))
    taken = tr(tg_settings, language[loser], m.MSG_TAKEN)
    await server.wait_for(lambda: [msg for msg in server.messages(loser) if taken in msg.get("text", "")] or None,
                          what="the loser's offer, edited")
    edited = server.messages(loser)[0]  # the offer on the loser's phone now says so, without buttons
    assert taken in edited["text"] and not labels(edited)
    assert len(starting(world, OLENA, m.head(tr(tg_settings, "uk", m.MSG_MATCHED)))) <= 1
    assert sorted(s for (s,) in await rows(store, "SELECT state FROM offers WHERE request_id = ?", request_id)) == [
        "accepted", "taken"]


async def test_nobody_is_free_for_hamid_and_frau_weber_assigns_nasrin(world: TelegramWorld, tg_settings: Settings,
                                                                      clock: Clock) -> None:
    store, server = world.app.store, world.server
    clock.now = m.HAMID_ASKS
    weber = await join(world, WEBER, "Weber", "de")
    await guide(world, FARID, "Farid", "de", m.FARID)
    nasrin = await guide(world, NASRIN, "Nasrin", "fa", m.NASRIN)
    for user_id, name, profile in ((LEILA, "Leila", m.LEILA), (MEHMET, "Mehmet", m.MEHMET), (YONAS, "Yonas", m.YONAS)):
        await guide(world, user_id, name, "de", profile)
    await join(world, HAMID, "Hamid", "prs")
    request_id = await m.file_request(store, (await store.people.find("telegram", str(HAMID))).id, m.hamid_request())
    world.app.dispatch.kick(request_id)
    await server.wait_for_messages(FARID, 1)  # the one wave; Farid does not answer
    await settle(world)
    assert not server.messages(NASRIN) and not server.messages(WEBER)
    [(expires,)] = await rows(store, "SELECT expires_at FROM offers WHERE request_id = ?", request_id)
    clock.now = datetime.fromisoformat(expires)
    await settle(world)

    [card] = await server.wait_for_messages(WEBER, 1)
    [(escalated_at,)] = await rows(store, "SELECT escalated_at FROM requests WHERE id = ?", request_id)
    assert timedelta(hours=44) <= m.HAMID_APPOINTMENT - datetime.fromisoformat(escalated_at) < timedelta(hours=48)
    assert card["text"].startswith(tr(tg_settings, "de", "Nobody has taken this request yet:"))
    for name in ("Nasrin", "Leila", "Mehmet", "Yonas"):
        [line] = [ln for ln in card["text"].split("\n") if ln.startswith(f"{name} – ")]
        not_offered = tr(tg_settings, "de", "%(name)s – not offered: %(reasons)s", name=name, reasons="")
        assert line.startswith(not_offered) and len(line) > len(not_offered) + 5, line
    await weber.press(tr(tg_settings, "de", "Assign %(name)s", name="Nasrin"))
    await weber.press(1)  # assign anyway
    [offer] = await server.wait_for_messages(NASRIN, 1)
    assert offer["text"].startswith(tr(tg_settings, "fa", "Can you come along to an appointment?"))
    await nasrin.press(tr(tg_settings, "fa", "Accept"))
    good_news = m.good_news_line(tg_settings, "prs", "Nasrin", "female", m.NASRIN)
    await server.wait_for(lambda: starting(world, HAMID, good_news) or None, what="Hamid's good news in Dari")
    [(assigned_by,)] = await rows(store, "SELECT assigned_by FROM assignments WHERE request_id = ?", request_id)
    assert assigned_by == (await store.people.find("telegram", str(WEBER))).id


async def test_a_restart_at_8_sends_the_two_hour_reminder_once_and_tesfays_dialog_goes_on(
        tg_settings: Settings, clock: Clock) -> None:
    async with BotApiServer() as server:
        async with telegram_world(tg_settings, server) as first:
            store = first.app.store
            yonas = await guide(first, YONAS, "Yonas", "en", m.YONAS)
            tesfay = await join(first, TESFAY, "Tesfay", "en")
            request_id = await m.file_request(store, (await store.people.find("telegram", str(TESFAY))).id,
                                              m.tesfay_request())
            first.app.dispatch.kick(request_id)
            await server.wait_for_messages(YONAS, 1)
            await yonas.press("Accept")
            clock.now = m.TESFAY_DAY_BEFORE
            await settle(first)
            await tesfay.press("Yes, I still need it")
            clock.now = m.SATURDAY_0759 - timedelta(minutes=4)
            await tesfay.send("/request")
            [date_question] = await tesfay.press(tr(tg_settings, "en", "Housing"))
            assert date_question["text"].startswith("On which day is the appointment?")
            clock.now = m.SATURDAY_0759
            await settle(first)
        # The update: stopped at 7:59, the new process starts at 8:00 on the same database
        clock.now = m.SATURDAY_0800
        async with telegram_world(tg_settings, server) as second:
            await settle(second)
            tesfay = second.person(TESFAY, "Tesfay", "en")
            [time_question] = await tesfay.send("10.12.2026")  # his dialog goes on where it was
            assert time_question["text"].startswith("At what time does it start?")
        clock.now = m.SATURDAY_0805  # …and once more (an update rolled out twice)
        async with telegram_world(tg_settings, server) as third:
            await settle(third)
            for user, head in ((TESFAY, tr(tg_settings, "en", m.MSG_REMINDER_NEWCOMER, name="Yonas")),
                               (YONAS, tr(tg_settings, "en", m.MSG_REMINDER_GUIDE, name="Tesfay"))):
                sent = [c for c in server.sent(user, "sendMessage") if str(c.params.get("text", "")).startswith(head)]
                assert len(sent) == 2, [c.params["text"] for c in sent]  # the day before, and 2 hours before: once
            assert [s for (s,) in await rows(third.app.store, "SELECT state FROM reminders WHERE kind = 'before' "
                                                                 "AND offset_minutes = 120")] == ["sent", "sent"]
