"""End to end through real python-telegram-bot and HTTP: onboarding, language, help, buttons,
escaping, command menus, and the error policy (403, 429, 5xx, bad token)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.core.types import Button, Message
from tests.botapi_server import BotApiServer
from tests.conftest import LANGUAGE_NAMES, make_settings, run_lotse
from tests.telegram_harness import TelegramWorld, labels, telegram_world

AMIRA, OLENA, WEBER = 1001, 1002, 9001


@pytest.fixture
def tg_settings(db_path: Path) -> Settings:
    return make_settings(db_path, coordinators=(f"telegram:{WEBER}",))


@pytest.fixture
async def world(tg_settings: Settings):  # noqa: ANN201
    async with telegram_world(tg_settings) as world:
        yield world


async def test_onboarding_in_arabic(world: TelegramWorld) -> None:
    amira = world.person(AMIRA, "Amira", "ar")
    [welcome] = await amira.send("/start")
    assert labels(welcome) == ["العربية", "Deutsch", "English", *LANGUAGE_NAMES[3:]]
    assert "Lotse" in welcome["text"]
    [notice] = await amira.press("العربية")
    assert labels(notice) == ["أوافق", "لا أوافق"]
    recorded, emergency, menu = await amira.press("أوافق", expect=3)
    assert "112" in emergency["text"]
    assert len(labels(menu)) == 2
    await amira.press(1)
    person = await world.app.store.people.find("telegram", str(AMIRA))
    assert person is not None
    assert (person.language, person.role, person.display_name) == ("ar", "newcomer", "Amira")
    assert person.consent_at is not None
    # every button press was answered, so no spinner stays on her phone
    presses = world.server.sent(method="answerCallbackQuery")
    assert len(presses) == 3


async def test_language_change_and_help(world: TelegramWorld) -> None:
    olena = world.person(OLENA, "Olena", "pl")  # Polish is not offered: the default comes first
    [welcome] = await olena.send("/start")
    assert labels(welcome)[0] == "Deutsch"
    await olena.press("English")
    await olena.press("I agree", expect=3)
    thanks, languages = await olena.press(2, expect=2)  # volunteering leads into the registration
    assert thanks["text"].startswith("Thank you for volunteering!")
    assert languages["text"] == "Which language do you speak best?" and "English" in labels(languages)
    [question] = await olena.send("/language")
    assert question["text"] == "Which language should Lotse use?"
    [changed] = await olena.press("Deutsch")
    assert "Deutsch" in changed["text"]
    [help_text] = await olena.send("/help@lotse_test_bot")
    assert help_text["text"].startswith("Sie können diese 3 Befehle nutzen") or "/language" in help_text["text"]
    assert "/language" in help_text["text"] and "/start" in help_text["text"]


async def test_forged_and_stale_buttons_are_refused(world: TelegramWorld) -> None:
    amira = world.person(AMIRA, "Amira", "en")
    [welcome] = await amira.send("/start")
    [refused] = await amira.press_data(welcome["message_id"], "forged-token", strict=False)
    assert refused["text"] == "This button is no longer valid. Please use the latest message."
    await amira.press("English")
    # the used keyboard is taken off the message, so it cannot be pressed by accident …
    assert "reply_markup" not in world.server.messages(AMIRA)[0]
    # … and a client that still shows it (or a replayed press) is refused
    english = welcome["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    [stale] = await amira.press_data(welcome["message_id"], english, strict=False)
    assert "no longer valid" in stale["text"]
    state = await world.app.store.dialogs.get((await world.app.store.people.find("telegram", str(AMIRA))).id)
    assert state is not None and state.step == "consent"


async def test_user_text_is_escaped_and_shows_literally(world: TelegramWorld) -> None:
    world.server.user(AMIRA, "Amira")
    await world.transport.send(str(AMIRA), Message("Hello <b>Ali & Co</b> 3 < 4",
                                                   ((Button("<i>x</i>", "tok"),),)))
    [shown] = world.server.messages(AMIRA)
    assert shown["text"] == "Hello <b>Ali & Co</b> 3 < 4"
    [call] = world.server.sent(AMIRA, "sendMessage")
    assert call.params["parse_mode"] == "HTML"
    assert call.params["text"] == "Hello &lt;b&gt;Ali &amp; Co&lt;/b&gt; 3 &lt; 4"
    assert labels(shown) == ["<i>x</i>"]


async def test_command_menus_per_language_and_for_coordinators(world: TelegramWorld) -> None:
    de = world.server.commands(language_code="de")
    assert [c["command"] for c in de] == ["start", "help", "language", "request", "myrequests", "cancel", "guide",
                                          "availability", "pause", "resume", "appointments", "hours", "write",
                                          "mydata", "deleteme"]
    assert de[2]["description"] != "Change the language"
    en = world.server.commands(language_code="en")
    assert [c["description"] for c in en][2] == "Change the language"
    assert world.server.commands() == world.server.commands(language_code="de")  # default language
    coordinator = world.server.commands(scope={"type": "chat", "chat_id": WEBER})
    assert [c["command"] for c in coordinator][-9:] == ["broadcast", "approve", "pending", "guides", "stats",
                                                         "unmatched", "reoffer", "requestfor", "interpreter"]


async def test_blocked_user_is_marked_unreachable_and_back_when_they_write(world: TelegramWorld) -> None:
    amira = world.person(AMIRA, "Amira", "en")
    await amira.onboard()
    store = world.app.store
    person = await store.people.find("telegram", str(AMIRA))
    world.server.block_user(AMIRA)
    assert await world.app.router.services.messenger.send(person, Message("Reminder")) is None
    blocked = await store.people.find("telegram", str(AMIRA))
    assert blocked.unreachable_at is not None
    assert len(world.server.sent(AMIRA, "sendMessage")) == len(amira.messages) + 1  # tried once, no retry loop
    world.server.unblock_user(AMIRA)
    await amira.send("/help")
    assert (await store.people.find("telegram", str(AMIRA))).unreachable_at is None


async def test_429_waits_retry_after_then_delivers(world: TelegramWorld) -> None:
    amira = world.person(AMIRA, "Amira", "en")
    world.server.fail_next("sendMessage", 429, retry_after=1, chat_id=AMIRA)
    [welcome] = await amira.send("/start")
    assert welcome["text"].startswith("Welcome to Lotse!")
    first, second = world.server.sent(AMIRA, "sendMessage")
    assert first.status == 429 and second.ok
    assert second.params["text"] == first.params["text"]
    assert second.time - first.time >= 0.9  # it waited for retry_after, not less


async def test_5xx_is_retried_with_backoff(world: TelegramWorld) -> None:
    amira = world.person(AMIRA, "Amira", "en")
    world.server.fail_next("sendMessage", 502, count=2, chat_id=AMIRA)
    [welcome] = await amira.send("/start")
    assert welcome["text"].startswith("Welcome to Lotse!")
    statuses = [c.status for c in world.server.sent(AMIRA, "sendMessage")]
    assert statuses == [502, 502, 200]


async def test_persistent_5xx_gives_up_and_the_bot_keeps_serving(world: TelegramWorld) -> None:
    amira = world.person(AMIRA, "Amira", "en")
    world.server.fail_next("sendMessage", 500, count=5, chat_id=AMIRA)
    world.server.inject_message(AMIRA, "/start")
    await world.server.wait_for(lambda: len(world.server.sent(AMIRA, "sendMessage")) >= 5, what="5 attempts")
    [again] = await amira.send("/start")  # the next update is served normally
    assert again["text"].startswith("Welcome to Lotse!")
    assert len(world.server.sent(AMIRA, "sendMessage")) == 6


async def test_redelivered_update_is_handled_once(world: TelegramWorld) -> None:
    from telegram import Update

    amira = world.person(AMIRA, "Amira", "en")
    await amira.send("/start")
    [call] = [c for c in world.server.calls if c.method == "getUpdates" and c.result]
    raw = call.result[0]  # the update exactly as PTB received it
    # Telegram redelivers an update whose offset was not confirmed (e.g. a crash right after
    # handling it): the same update_id arrives again through the transport.
    await world.transport._record(Update.de_json(raw, world.transport.app.bot))  # noqa: SLF001
    await amira.send("/help")
    texts = [m["text"] for m in amira.messages]
    assert len(texts) == 2 and texts[0].startswith("Welcome to Lotse!") and "/language" in texts[1]


async def test_bad_token_stops_lotse_run_with_one_line(tmp_path: Path) -> None:
    async with BotApiServer() as server:
        config = tmp_path / "lotse.toml"
        config.write_text(f'[database]\npath = "lotse.db"\n[telegram]\nenabled = true\n'
                          f'token = "999:WRONG"\nbase_url = "{server.url}"\n')
        status, out, err = await run_lotse("run", "--config", str(config), cwd=tmp_path)
        assert status == 2
        assert err.strip() == (f"telegram: {server.url} refused the bot token "
                               "(check [telegram] token or LOTSE_TELEGRAM_TOKEN)")


async def test_webhook_mode_receives_updates_and_checks_the_secret(tg_settings: Settings) -> None:
    import dataclasses
    import socket

    import aiohttp

    from bot.app import App
    from bot.transports.telegram import TelegramTransport
    from tests.telegram_harness import telegram_settings

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with BotApiServer() as server:
        settings = telegram_settings(tg_settings, server)
        settings = settings.with_section("telegram", dataclasses.replace(
            settings.section("telegram"), webhook_url=f"http://127.0.0.1:{port}/tg-hook", webhook_listen="127.0.0.1",
            webhook_port=port, webhook_secret="s3cret"))
        app = App(settings, [TelegramTransport(settings.section("telegram"))])
        await app.start()
        try:
            [hook] = server.sent(method="setWebhook")
            assert hook.params["url"] == f"http://127.0.0.1:{port}/tg-hook"
            assert hook.params["secret_token"] == "s3cret"
            server.user(AMIRA, "Amira", "en")
            update = {"update_id": 77, "message": {
                "message_id": 5, "date": 1764063000, "chat": {"id": AMIRA, "type": "private", "first_name": "Amira"},
                "from": {"id": AMIRA, "is_bot": False, "first_name": "Amira", "language_code": "en"},
                "text": "/start", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
            async with aiohttp.ClientSession() as http:
                async with http.post(f"http://127.0.0.1:{port}/tg-hook", json=update,
                                     headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as response:
                    assert response.status == 403
                async with http.post(f"http://127.0.0.1:{port}/tg-hook", json=update,
                                     headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"}) as response:
                    assert response.status == 200
            [welcome] = await server.wait_for_messages(AMIRA, 1)
            assert welcome["text"].startswith("Welcome to Lotse!")
        finally:
            await app.stop()


async def test_documents_edits_and_long_texts(world: TelegramWorld) -> None:
    from bot.core.types import Attachment

    world.server.user(AMIRA, "Amira")
    chat = str(AMIRA)
    ics = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    await world.transport.send(chat, Message("Your appointment", attachment=Attachment("termin.ics", ics, "text/calendar")))
    [document] = world.server.messages(AMIRA)
    assert document["document"]["file_name"] == "termin.ics" and document["caption"] == "Your appointment"
    [upload] = world.server.sent(AMIRA, "sendDocument")
    assert upload.files["document"].data == ics

    message_id = await world.transport.send(chat, Message("Offer", ((Button("Accept", "t1"),),)))
    await world.transport.edit(chat, message_id, Message("Already taken – thank you"))
    edited = world.server.messages(AMIRA)[-1]
    assert edited["text"] == "Already taken – thank you" and "reply_markup" not in edited
    # the same edit again: Telegram says "message is not modified", which is not an error for us
    await world.transport.edit(chat, message_id, Message("Already taken – thank you"))
    assert world.server.sent(AMIRA, "editMessageText")[-1].status == 400

    long_text = "\n".join(f"line {i} " + "x" * 90 for i in range(100))  # ~9,800 characters
    await world.transport.send(chat, Message(long_text, ((Button("OK", "t2"),),)))
    parts = world.server.messages(AMIRA)[-3:]
    assert "\n".join(p["text"] for p in parts) == long_text
    assert [bool(labels(p)) for p in parts] == [False, False, True]  # buttons under the last part


def test_split_text_keeps_everything_and_respects_the_limit() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from bot.transports.telegram import split_text

    @settings(max_examples=200, deadline=None)
    @given(st.text(alphabet=st.sampled_from("ab \n"), max_size=400), st.integers(min_value=1, max_value=50))
    def check(text: str, limit: int) -> None:
        chunks = split_text(text, limit)
        assert all(len(c) <= limit for c in chunks)
        assert "".join(chunks).replace("\n", "") == text.replace("\n", "")

    check()


async def test_amira_files_a_request(world: TelegramWorld, clock) -> None:  # noqa: ANN001
    amira = world.person(AMIRA, "Amira", "ar")
    await amira.send("/start")
    await amira.press("العربية")
    await amira.press(1, expect=3)
    [topic] = await amira.press(1)  # "I need someone to come with me"
    assert len(labels(topic)) == 7
    [day] = await amira.press(1)  # doctor or hospital
    assert len(labels(day)) == 6
    [hour] = await amira.send("١.١٢.")  # Tuesday 1 December, typed with Arabic-Indic digits
    await amira.send("9.30")
    await amira.press(2)  # one hour
    await amira.press("Dreieich")
    await amira.press(1)  # no place given
    best = amira.messages[-1]
    assert labels(best)[0] == "العربية"  # the best language first, her menu language not pre-ticked
    assert not any(label.startswith("✓") for label in labels(best))
    [others] = await amira.press("العربية")
    assert "العربية" not in labels(others)
    await amira.press("الألمانية", expect=0)  # German: the message is edited in place, no new one
    await world.server.wait_for(lambda: "✓ الألمانية" in labels(amira.messages[-1]) or None, what="German ticked")
    [gender] = await amira.press(labels(others)[-1])  # Done (the edited message's button)
    await amira.press(1)  # a woman
    [summary] = await amira.press(1)  # no note
    assert "Dreieich" in summary["text"] and "<" not in summary["text"]
    [received] = await amira.press(1)  # send
    assert "Lotse" in received["text"]
    [row] = await world.app.store.db.fetchall("SELECT topic, starts_at, district, preferred_gender, state FROM requests")
    assert tuple(row) == ("doctor", "2026-12-01T08:30:00+00:00", "Dreieich", "female", "open")
    langs_rows = await world.app.store.db.fetchall("SELECT language FROM request_languages ORDER BY position")
    assert [r["language"] for r in langs_rows] == ["ar", "de"]  # the best language first


async def test_appointment_file_reminders_and_follow_up_on_telegram(world: TelegramWorld, clock) -> None:  # noqa: ANN001
    """Amira (newcomer) and Leila (guide) both on Telegram: the confirmation brings an .ics file to
    each, the reminder on Monday asks Amira whether she still needs it, and after the appointment
    Leila reports a no-show, which reaches Frau Weber (coordinator)."""
    from datetime import UTC, datetime

    from icalendar import Calendar

    from bot.services import guides as standing
    from bot.store.guides import Profile, Slot
    from bot.store.requests import NewRequest

    store, server = world.app.store, world.server
    leila, amira = world.person(1003, "Leila"), world.person(AMIRA, "Amira")
    await leila.onboard(role=2)
    await amira.onboard()
    guide = await store.people.find("telegram", "1003")
    await store.guides.save_profile(guide.id, Profile(("ar", "de"), ("Dreieich",), ("doctor",),
                                                      (Slot(1, 540, 720),), 2, "female"), clock.now)
    assert await standing.approve(store, guide.id, None, clock.now)
    newcomer = await store.people.find("telegram", str(AMIRA))
    request_id = await store.requests.create(newcomer.id, NewRequest(
        "doctor", datetime(2026, 12, 1, 8, 30, tzinfo=UTC), 60, "Dreieich", "Praxis Dr. Weber", "female", None,
        ("ar",)), clock.now)
    before = len(leila.messages)
    world.app.dispatch.kick(request_id)
    [offer] = await leila._expect(before, 1)  # noqa: SLF001
    assert labels(offer) == ["Accept", "Decline"]
    await leila.press("Accept", expect=1)
    for person, summary in ((amira, "Doctor or hospital with Leila (Lotse)"),
                            (leila, "Doctor or hospital with Amira (Lotse)")):
        [upload] = await server.wait_for(lambda person=person: server.sent(person.id, "sendDocument") or None)
        calendar = Calendar.from_ical(upload.files["document"].data)
        [event] = calendar.walk("VEVENT")
        assert str(event["SUMMARY"]) == summary
        assert event.decoded("DTSTART").isoformat() == "2026-12-01T09:30:00+01:00"
        assert str(event.decoded("DTSTART").tzinfo) == "Europe/Berlin"
    [news] = [m for m in amira.messages if "document" in m]
    assert news["document"]["file_name"] == "appointment.ics" and news["caption"].startswith("Good news: Leila")

    clock.now = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)  # Monday 9:30 in Berlin: 24 hours before
    await world.app.reminders.fire_due()
    reminder = amira.messages[-1]
    assert reminder["text"].startswith("Reminder: Leila will come with you.")
    assert labels(reminder) == ["Yes, I still need it", "No, cancel it"]
    assert leila.messages[-1]["text"].startswith("Reminder: you are coming along with Amira.")
    [kept] = await amira.press("Yes, I still need it")
    assert kept["text"] == "Thank you! Your appointment stays as it is."

    clock.now = datetime(2026, 12, 1, 11, 30, tzinfo=UTC)  # two hours after the end
    await world.app.reminders.fire_due()
    asked = leila.messages[-1]
    assert asked["text"].startswith("Did your appointment with Amira take place?")
    assert labels(asked) == ["Yes, it took place", "Amira did not come", "It was cancelled"]
    world.person(WEBER, "Weber", "de")  # the coordinator, who never wrote: Lotse's default language
    [thanks] = await leila.press("Amira did not come")
    assert thanks["text"] == "Thank you for telling us. A coordinator will have a look."
    notice = await server.wait_for(lambda: [t for t in server.texts(WEBER) if t and "Leila meldet" in t] or None)
    assert notice[0].startswith("Leila meldet, dass Amira nicht gekommen ist: Arztpraxis oder Krankenhaus am "
                                "Dienstag, 1. Dezember 2026 um 09:30 Uhr")
    row = await store.db.fetchone("SELECT state FROM assignments WHERE request_id = ?", (request_id,))
    assert row[0] == "no_show"

async def test_weber_broadcasts_to_arabic_speaking_newcomers_and_amira_receives_it(world: TelegramWorld) -> None:
    weber = world.person(WEBER, "Weber", "en")
    await weber.onboard()
    amira = world.person(AMIRA, "Amira", "ar")
    await amira.onboard("العربية", "أوافق")
    olena = world.person(OLENA, "Olena", "en")
    await olena.onboard()
    [audience] = await weber.send("/broadcast")
    assert labels(audience) == ["All guides", "All newcomers", "Everyone"]
    await weber.press("All newcomers")
    [chosen] = await weber.send("1")                      # typed: toggles Arabic, the first language
    assert labels(chosen)[0] == "✓ Arabic"
    await weber.press("Done")
    await weber.press("Done")                             # every district
    await weber.send("The immigration office is closed on Friday.")
    [preview] = await weber.press("Show the preview")
    assert "Telegram: 1" in preview["text"].split("\n") and labels(preview) == ["Send to 1 person", "Cancel"]
    [progress] = await weber.press("Send to 1 person")
    assert progress["text"].startswith("Notice 1 ")
    [notice] = await world.server.wait_for(lambda: [m for m in amira.messages if "closed on Friday" in m["text"]])
    assert "Lotse" in notice["text"] and "Notice from" not in notice["text"]  # in Arabic
    assert not [m for m in olena.messages if "closed on Friday" in m["text"]]
    report = await world.server.wait_for(lambda: [m for m in weber.messages if m["text"].startswith("Report")])
    assert report[0]["text"] == "Report on notice 1:\nDelivered to 1 person."


async def test_a_timeout_on_a_keyed_message_is_uncertain_instead_of_a_second_copy(tg_settings: Settings) -> None:
    """Telegram carried the message out but its answer came too late.  A message with a key (a
    reminder: its sender records the outcome) is reported as uncertain, not sent again; an ordinary
    reply is retried, as before (a second copy is better than none)."""
    from bot.core.transport import DeliveryUncertain
    from bot.transports.telegram import TelegramTransport
    from tests.telegram_harness import telegram_settings

    async def ignore(_event) -> None:  # noqa: ANN001
        return None

    async with BotApiServer() as server:
        server.user(AMIRA, "Amira")
        transport = TelegramTransport(telegram_settings(tg_settings, server).section("telegram"), backoff=0.01,
                                      read_timeout=0.3)
        await transport.start(ignore)
        try:
            server.answer_late("sendMessage", 1.0)
            with pytest.raises(DeliveryUncertain):
                await transport.send(str(AMIRA), Message("Reminder: Leila will come with you.", key="reminder-1"))
            assert server.texts(AMIRA) == ["Reminder: Leila will come with you."]

            server.answer_late("sendMessage", 1.0)
            await transport.send(str(AMIRA), Message("Thank you!"))
            assert server.texts(AMIRA)[1:] == ["Thank you!", "Thank you!"]
        finally:
            await transport.stop()


async def test_mydata_arrives_as_a_document_and_deleteme_leaves_no_id(world: TelegramWorld) -> None:
    import json

    olena = world.person(OLENA, "Olena", "uk")
    await olena.onboard("Українська", agree=1)
    [summary] = await olena.send("/mydata")
    assert "Olena" in summary["caption"] and summary["document"]["file_name"] == "lotse-mydata.json"
    [upload] = world.server.sent(OLENA, "sendDocument")
    exported = json.loads(upload.files["document"].data)
    assert exported["person"]["platform_user_id"] == str(OLENA) and exported["person"]["language"] == "uk"
    await olena.send("/deleteme")
    [last] = await olena.press(1)
    assert "/start" in last["text"]
    await world.app.inbox.idle()                 # the erasure runs once the last message has gone out
    store = world.app.store
    assert await store.people.find("telegram", str(OLENA)) is None
    rows = await store.db.fetchall("SELECT platform_user_id, chat_id, display_name FROM people")
    assert all(str(OLENA) not in (r[0], r[1]) and r[2] != "Olena" for r in rows)
