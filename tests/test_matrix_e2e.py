"""End to end through real matrix-nio against a real Synapse on 127.0.0.1."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.config import PrivacySettings
from bot.config import Settings
from bot.core.payloads import Payload
from tests.conftest import LANGUAGE_NAMES, make_settings, run_lotse
from tests.matrix_harness import MatrixWorld, matrix_world, options, said_bodies
from tests.synapse_server import SynapseServer


@pytest.fixture
def mx_settings(db_path: Path) -> Settings:
    return make_settings(db_path)


@pytest.fixture
async def world(mx_settings: Settings, synapse: SynapseServer, tmp_path: Path):  # noqa: ANN201
    async with matrix_world(mx_settings, synapse, tmp_path) as world:
        yield world


async def test_onboarding_by_number_reply(world: MatrixWorld) -> None:
    hamid = await world.person("hamid")
    [welcome] = await hamid.send("!start")
    assert welcome.source["type"] == "org.matrix.msc3381.poll.start" and welcome.poll is not None
    assert options(welcome) == LANGUAGE_NAMES  # no hint on Matrix: the default first
    # clients without polls show the fallback: the text and the numbered list
    numbered = [f"{n}. {name}" for n, name in enumerate(LANGUAGE_NAMES, start=1)]
    assert welcome.body.split("\n")[-len(numbered) - 1:-1] == numbered
    [notice] = await hamid.press("English")  # a Matrix reply carrying "2"
    assert notice.body.startswith("Privacy notice")
    assert notice.poll["question"]["org.matrix.msc1767.text"].startswith("Privacy notice")
    assert options(notice) == ["I agree", "I do not agree"]
    assert "Reply with the number of your choice." in notice.body
    end = await hamid.poll_end(welcome.event_id)  # the language poll, answered by number, is ended
    assert end.source["content"]["org.matrix.msc1767.text"] == "✓ English"
    recorded, emergency, menu = await hamid.press(1, by="text", expect=3)  # a plain "1"
    await hamid.poll_end(notice.event_id)
    assert "112" in emergency.body
    [topic] = await hamid.press(1)  # into the request dialog
    assert topic.body.startswith("What is the appointment for?")
    person = await world.app.store.people.find("matrix", hamid.id)
    assert person is not None and person.chat_id == hamid.room
    assert (person.language, person.role) == ("en", "newcomer") and person.consented


async def test_onboarding_by_votes(world: MatrixWorld) -> None:
    leila = await world.person("leila")
    [welcome] = await leila.send("/start")  # "/" works as well as "!"
    [notice] = await leila.press("العربية", by="vote")
    assert PrivacySettings().notice_version in notice.body
    end = await leila.poll_end(welcome.event_id)  # the answered poll is ended
    assert end.source["content"]["m.relates_to"] == {"rel_type": "m.reference", "event_id": welcome.event_id}
    await leila.press(1, by="vote", expect=3)
    thanks, best = await leila.press(2, by="vote", expect=2)  # into the guide registration
    person = await world.app.store.people.find("matrix", leila.id)
    assert person is not None and (person.language, person.role) == ("ar", "guide")
    # the best language: 14 languages in one poll, nothing ticked (not even her menu language), no Done
    assert len(options(best)) == 14 and not any(option.startswith("✓") for option in options(best))
    [languages] = await leila.press("العربية", by="vote")
    # the others: 13 languages and "Done" in one poll; its fallback numbers all 14
    assert "العربية" not in options(languages)
    assert len(options(languages)) == 14 and languages.body.splitlines()[-2] == "14. تم"


async def test_language_change_help_and_stale_vote(world: MatrixWorld) -> None:
    hamid = await world.person("hamid")
    await hamid.onboard()
    old_menu = hamid.last_menu()
    [question] = await hamid.send("!language")
    assert question.body.startswith("Which language should Lotse use?")
    # a vote on an older poll does not count (here: its answer 1 would be "Deutsch" now)
    await hamid.vote(old_menu, "1")
    [refused] = await hamid._expect(1)  # noqa: SLF001
    assert "no longer valid" in refused.body
    person = await world.app.store.people.find("matrix", hamid.id)
    assert person is not None and person.language == "en"
    [changed] = await hamid.press("Deutsch", by="vote")
    assert "Deutsch" in changed.body
    [help_text] = await hamid.send("!help")
    assert "!language" in help_text.body and "!start" in help_text.body
    [unknown] = await hamid.send("!fly")
    assert "!fly" in unknown.body and "!help" in unknown.body


async def test_restart_of_lotse_replays_nothing_and_loses_nothing(
        mx_settings: Settings, synapse: SynapseServer, tmp_path: Path) -> None:
    from tests.matrix_harness import bot_account

    account = await bot_account(synapse)
    async with matrix_world(mx_settings, synapse, tmp_path, account=account) as first:
        hamid = await first.person("hamid")
        await hamid.send("!start")
        await hamid.press("English")
        device = first.transport.client.device_id
        session = first.transport.session_file
    assert session.stat().st_mode & 0o777 == 0o600
    # Lotse is down: Hamid agrees meanwhile.
    await hamid.user.say(hamid.room, "1")
    async with matrix_world(mx_settings, synapse, tmp_path, account=account) as second:
        hamid.world = second
        second.users.append(hamid.user)
        recorded, emergency, menu = await hamid._expect(3)  # noqa: SLF001 - what was sent while down
        assert recorded.body.startswith("Thank you. Your consent was recorded")
        assert second.transport.client.device_id == device  # the stored session was reused
        [help_text] = await hamid.send("!help")  # and nothing older was answered again
        assert help_text.body.startswith("You can use these")
        bodies = said_bodies(hamid.user, hamid.room)
        assert sum(b.startswith("Willkommen bei Lotse!") for b in bodies) == 1  # the welcome, once


async def test_first_start_ignores_the_backlog(mx_settings: Settings, synapse: SynapseServer, tmp_path: Path) -> None:
    from tests.matrix_harness import MxPerson, bot_account
    from tests.synapse_server import MatrixUser

    account = await bot_account(synapse)
    user = await MatrixUser.create(synapse, "early")
    room = await user.dm(account[0])
    await user.say(room, "!start")  # before Lotse ever ran
    async with matrix_world(mx_settings, synapse, tmp_path, account=account) as world:
        world.users.append(user)
        await user.wait_for_join(room, account[0], timeout=20)
        person = MxPerson(world, user, room)
        [help_text] = await person.send("!help")  # the first answer is to this, not to the old !start
        assert help_text.body.startswith("Sie können") and "!request" in help_text.body


async def test_lotse_opens_a_dm_to_reach_a_matrix_user_first(world: MatrixWorld) -> None:
    from bot.core.types import Message
    from tests.synapse_server import MatrixUser

    anna = await MatrixUser.create(world.synapse, "anna")
    world.users.append(anna)
    person = await world.app.store.people.get_or_create("matrix", anna.user_id, anna.user_id)
    sent = world.app.router.services.messenger.send(person, Message("Please approve Nasrin <b>&</b>"))
    import asyncio

    send_task = asyncio.create_task(sent)
    room = await anna.wait_for_invite(timeout=20)
    await anna.join(room)
    assert await send_task is not None
    message = await anna.wait_for_message(room, timeout=20)
    assert message.body == "Please approve Nasrin <b>&</b>"
    assert message.source["content"]["formatted_body"] == "Please approve Nasrin &lt;b&gt;&amp;&lt;/b&gt;"
    # the second message goes to the same room
    await world.app.router.services.messenger.send(person, Message("Thank you"))
    assert (await anna.wait_for_message(room, timeout=20)).body == "Thank you"


async def test_files_and_edits(world: MatrixWorld) -> None:
    from bot.core.types import Attachment, Button, Message

    hamid = await world.person("hamid")
    await hamid.send("!start")
    ics = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    transport = world.transport
    await transport.send(hamid.room, Message("Your appointment", attachment=Attachment("termin.ics", ics, "text/calendar")))
    text, file = await hamid._expect(2)  # noqa: SLF001
    assert text.body == "Your appointment"
    assert file.source["content"]["msgtype"] == "m.file" and file.body == "termin.ics"
    assert file.source["content"]["url"].startswith("mxc://")
    progress = await transport.send(hamid.room, Message("Sending: 1 of 3"))
    await hamid._expect(1)  # noqa: SLF001
    await transport.edit(hamid.room, progress, Message("Sending: 2 of 3"))  # a message is edited in place
    edit = await hamid.user.wait_for_event(hamid.room, lambda e: e.source.get("content", {}).get(
        "m.relates_to", {}).get("rel_type") == "m.replace", timeout=20)
    assert edit.source["content"]["m.new_content"]["body"] == "Sending: 2 of 3"
    assert edit.source["content"]["m.relates_to"]["event_id"] == progress
    # a poll cannot be edited into text: the new text comes as a message, the poll is ended
    offer = await transport.send(hamid.room, Message("Offer", ((Button("Accept", "tok"),),)))
    await hamid._expect(1)  # noqa: SLF001
    await transport.edit(hamid.room, offer, Message("Already taken – thank you"))
    [taken] = await hamid._expect(1)  # noqa: SLF001
    assert taken.body == "Already taken – thank you" and taken.poll is None
    assert (await hamid.poll_end(offer)).source["content"]["org.matrix.msc1767.text"] == "Offer"


async def test_a_message_sent_again_with_its_key_arrives_once(mx_settings: Settings, synapse: SynapseServer,
                                                              tmp_path: Path) -> None:
    """A reminder re-sent after a crash (same key) is recognised by the homeserver by its
    transaction id — also by a new Lotse process on the same stored session."""
    from bot.core.types import Message
    from tests.matrix_harness import bot_account

    account = await bot_account(synapse)
    reminder = Message("Reminder: Leila will come with you.", key="reminder-7")
    async with matrix_world(mx_settings, synapse, tmp_path, account=account) as first:
        hamid = await first.person("hamid")
        await hamid.send("!start", expect=1)
        sent = await first.transport.send(hamid.room, reminder)
        [got] = await hamid._expect(1)  # noqa: SLF001
        assert got.body == reminder.text and got.event_id == sent
        assert await first.transport.send(hamid.room, reminder) == sent  # the same process, again
    async with matrix_world(mx_settings, synapse, tmp_path, account=account) as second:
        hamid.world = second
        second.users.append(hamid.user)
        assert await second.transport.send(hamid.room, reminder) == sent  # after a restart, again
        await second.transport.send(hamid.room, Message("Something else"))
        [next_one] = await hamid._expect(1)  # noqa: SLF001
        assert next_one.body == "Something else"
        bodies = [m.body for m in hamid.user.messages(hamid.room)]
        assert bodies.count(reminder.text) == 1


async def test_bad_access_token_stops_lotse_run_with_one_line(synapse: SynapseServer, tmp_path: Path) -> None:
    config = tmp_path / "lotse.toml"
    config.write_text(f'[database]\npath = "lotse.db"\n[matrix]\nenabled = true\nhomeserver = "{synapse.url}"\n'
                      f'user_id = "@nobody:localhost"\naccess_token = "syt_bogus"\n')
    status, out, err = await run_lotse("run", "--config", str(config), cwd=tmp_path)
    assert status == 2
    assert err.strip() == (f"matrix: {synapse.url} refused the access token for @nobody:localhost "
                           "(check [matrix] access_token or LOTSE_MATRIX_ACCESS_TOKEN)")


async def test_one_process_serves_telegram_and_matrix(mx_settings: Settings, synapse: SynapseServer,
                                                      tmp_path: Path) -> None:
    from tests.botapi_server import BotApiServer
    from tests.telegram_harness import TelegramWorld, TgPerson, telegram_settings
    from bot.transports.telegram import TelegramTransport

    async with BotApiServer() as api:
        tg_settings = telegram_settings(mx_settings, api)
        telegram = TelegramTransport(tg_settings.section("telegram"), backoff=0.05)
        async with matrix_world(tg_settings, synapse, tmp_path, also=[telegram]) as world:
            amira = TgPerson(TelegramWorld(api, tg_settings, world.app, telegram), 1001, "Amira", "ar")
            hamid = await world.person("hamid")
            await amira.send("/start")
            await hamid.send("!start")
            await amira.press("العربية")
            await hamid.press("English", by="vote")
            await amira.press(1, expect=3)
            await hamid.press(1, expect=3)
            await amira.press(1)
            await hamid.press(2)
            rows = await world.app.store.db.fetchall(
                "SELECT platform, language, role FROM people WHERE consent_at IS NOT NULL ORDER BY platform")
            assert [tuple(r) for r in rows] == [("matrix", "en", "guide"), ("telegram", "ar", "newcomer")]


async def test_synapse_restart_in_the_middle_lotse_reconnects(world: MatrixWorld) -> None:
    hamid = await world.person("hamid")
    await hamid.send("!start")
    await world.synapse.restart(down_for=1.0)
    [notice] = await hamid.press("English")
    assert notice.body.startswith("Privacy notice")


async def test_rate_limits_are_honoured_but_never_retried_forever(mx_settings: Settings, tmp_path: Path) -> None:
    """A Synapse with its message rate limit on (as production has without override_ratelimit)."""
    import time

    from bot.core.transport import DeliveryError
    from bot.core.types import Message
    from tests.matrix_harness import MxPerson
    from tests.synapse_server import TEMPLATE, MatrixUser, SynapseServer

    strict = tmp_path / "strict.yaml"
    strict.write_text(TEMPLATE.read_text().replace(
        "rc_message:                     {per_second: 10000, burst_count: 100000}",
        "rc_message:                     {per_second: 1, burst_count: 2}"))
    async with SynapseServer(tmp_path / "strict-synapse", template=strict) as synapse:
        password = "pw-" + tmp_path.name[-8:]
        bot_id, _ = await synapse.register("lotsebot", password)  # no override_ratelimit
        async with matrix_world(mx_settings, synapse, tmp_path, account=(bot_id, password)) as world:
            user = await MatrixUser.create(synapse, "olena")
            world.users.append(user)
            room = await user.dm(bot_id)
            await user.wait_for_join(room, bot_id, timeout=20)
            olena = MxPerson(world, user, room)
            started = time.monotonic()
            for n in range(4):  # two pass at once, the others wait for retry_after_ms
                await world.transport.send(room, Message(f"notice {n}"))
            assert time.monotonic() - started >= 1.0
            assert [m.body for m in await olena._expect(4)] == [f"notice {n}" for n in range(4)]  # noqa: SLF001

            import dataclasses

            client = world.transport.client  # give up at the first 429
            client.config = dataclasses.replace(client.config, max_limit_exceeded=0)
            with pytest.raises(DeliveryError, match="M_LIMIT_EXCEEDED"):
                for n in range(5):
                    await world.transport.send(room, Message(f"burst {n}"))


async def test_access_token_from_the_config_instead_of_a_password(mx_settings: Settings, synapse: SynapseServer,
                                                                    tmp_path: Path) -> None:
    import dataclasses

    from bot.app import App
    from bot.transports.matrix import MatrixTransport
    from tests.matrix_harness import MatrixWorld, bot_account, matrix_settings

    user_id, password = await bot_account(synapse)
    token = await synapse.login(user_id, password)
    settings = matrix_settings(mx_settings, synapse, user_id, "", tmp_path / "matrix")
    settings = settings.with_section("matrix", dataclasses.replace(settings.section("matrix"), access_token=token))
    transport = MatrixTransport(settings.section("matrix"))
    app = App(settings, [transport])
    await app.start()
    world = MatrixWorld(synapse, settings, app, transport, user_id, [])
    try:
        hamid = await world.person("hamid")
        [welcome] = await hamid.send("!start")
        assert welcome.body.startswith("Willkommen bei Lotse!")
        assert not transport.session_file.exists()  # nothing to keep: the operator owns the token
    finally:
        await app.stop()
        for user in world.users:
            await user.close()


async def test_hamid_files_a_request_by_replies_and_votes(world: MatrixWorld, clock) -> None:  # noqa: ANN001
    hamid = await world.person("hamid")
    await hamid.send("!start")
    await hamid.press("English")
    await hamid.press(1, expect=3)
    [topic] = await hamid.press(1)
    [day] = await hamid.press("Job centre", by="vote")
    [hour] = await hamid.send("2.12.2026")  # typed; English with German conventions: day first
    assert hour.body.startswith("At what time")
    await hamid.send("10:00")
    await hamid.press("2 hours", by="vote")
    await hamid.press("Langen")  # a reply with the number
    [best] = await hamid.send("Jobcenter Langen, Zimmer 12")
    assert not any(option.startswith("✓") for option in options(best))  # English menus, nothing ticked
    [languages] = await hamid.send("2")  # Persian, the best
    assert "Persian" not in options(languages)
    english = str(options(languages).index("English") + 1)
    [toggled] = await hamid.send(english)  # toggles English: the list comes again as a new poll …
    assert "✓ English" in options(toggled) and toggled.poll is not None
    assert (await hamid.poll_end(languages.event_id)).source["content"]["org.matrix.msc1767.text"] == "✓ English"
    [again] = await hamid.press("✓ English", by="vote")  # … and a vote toggles it back off
    assert "English" in options(again) and not any(option.startswith("✓") for option in options(again))
    await hamid.poll_end(toggled.event_id)
    [toggled] = await hamid.press("English", by="vote")
    [gender] = await hamid.press("Done", by="vote")
    await hamid.poll_end(toggled.event_id)
    await hamid.press("No preference", by="vote")
    [summary] = await hamid.send("Please speak slowly")
    assert "Town: Langen" in summary.body and "Languages: Persian, English" in summary.body
    [received] = await hamid.press("Send request")
    assert received.body.startswith("Thank you! Your request was received.")
    [row] = await world.app.store.db.fetchall("SELECT topic, starts_at, district, note FROM requests")
    assert tuple(row) == ("jobcentre", "2026-12-02T09:00:00+00:00", "Langen", "Please speak slowly")


async def test_a_matrix_guide_registers_and_a_telegram_coordinator_approves(
        db_path: Path, synapse: SynapseServer, tmp_path: Path, clock) -> None:  # noqa: ANN001
    from tests.botapi_server import BotApiServer
    from tests.telegram_harness import TelegramWorld, TgPerson, labels, telegram_settings
    from bot.transports.telegram import TelegramTransport

    settings = make_settings(db_path, coordinators=("telegram:9001",))
    async with BotApiServer() as api:
        tg_settings = telegram_settings(settings, api)
        telegram = TelegramTransport(tg_settings.section("telegram"), backoff=0.05)
        async with matrix_world(tg_settings, synapse, tmp_path, also=[telegram]) as world:
            weber = TgPerson(TelegramWorld(api, tg_settings, world.app, telegram), 9001, "Weber", "de")
            await weber.send("/start")                    # Frau Weber agrees to the notice first:
            await weber.press("Deutsch")                  # nothing else happens for anyone before that
            await weber.press(1, expect=3)
            seen = len(api.messages(9001))
            leila = await world.person("leila")
            await leila.send("!start")
            await leila.press("English")
            await leila.press(1, expect=3)
            await leila.press(2, expect=2)                # volunteer → languages
            for typed in ("1", "11", "14", "8", "9", "1 3", "8", "1", "1", "1", "3", "2", "1"):
                await leila.send(typed)                   # Arabic best, English other, Done, all districts,
            [summary] = leila.received[-1:]               # Done, topics, Done, add Monday 8–12, Done, 2/week, woman
            assert "Languages: Arabic, English" in summary.body
            assert "Districts: All districts" in summary.body and "Monday 08:00–12:00" in summary.body
            await leila.send("1", expect=1)               # confirm
            [notice] = (await api.wait_for_messages(9001, seen + 1))[seen:]
            assert "waits for your approval" in notice["text"] or "Freigabe" in notice["text"]
            await weber.press(1)                          # Genehmigen / Approve
            await weber.press(1)                          # Ja / Yes
            await weber.send("15.10.2026")
            [approved] = await weber.send("20.10.2026")
            [good_news] = await leila._expect(1)  # noqa: SLF001
            assert good_news.body.startswith("Good news: you are approved as a guide!")
            guide = await world.app.store.guides.get((await world.app.store.people.find("matrix", leila.id)).id)
            assert guide.state == "approved" and labels(approved) == []


async def test_a_telegram_newcomer_is_matched_with_a_matrix_guide(mx_settings: Settings, synapse: SynapseServer,
                                                                  tmp_path: Path, clock) -> None:  # noqa: ANN001
    from datetime import UTC, datetime

    from bot.services import guides as standing
    from bot.store.guides import Profile, Slot
    from bot.store.requests import NewRequest
    from tests.botapi_server import BotApiServer
    from tests.telegram_harness import TelegramWorld, TgPerson, telegram_settings
    from bot.transports.telegram import TelegramTransport

    async with BotApiServer() as api:
        tg_settings = telegram_settings(mx_settings, api)
        telegram = TelegramTransport(tg_settings.section("telegram"), backoff=0.05)
        async with matrix_world(tg_settings, synapse, tmp_path, also=[telegram]) as world:
            store = world.app.store
            leila = await world.person("leila")
            await leila.onboard(role=2)                  # English, registers interest as a guide
            guide = await store.people.find("matrix", leila.id)
            await store.guides.save_profile(guide.id, Profile(("ar", "fr", "de"), ("Dreieich",), ("doctor",),
                                                              (Slot(1, 540, 720),), 2, "female"), clock.now)
            assert await standing.approve(store, guide.id, None, clock.now)
            amira = TgPerson(TelegramWorld(api, tg_settings, world.app, telegram), 1001, "Amira", "en")
            await amira.send("/start")
            await amira.press("English")
            await amira.press(1, expect=3)
            await amira.press(1)                         # into the request dialog; filed directly below
            newcomer = await store.people.find("telegram", "1001")
            request_id = await store.requests.create(newcomer.id, NewRequest(
                "doctor", datetime(2026, 12, 1, 8, 30, tzinfo=UTC), 60, "Dreieich", "Praxis Dr. Weber", "female",
                None, ("ar",)), clock.now)
            world.app.dispatch.kick(request_id)
            [offer] = await leila._expect(1)  # noqa: SLF001
            assert offer.body.startswith("Can you come along to an appointment?") and "Amira" not in offer.body
            [details] = await leila.press("Accept", by="vote")
            assert details.body.startswith("Thank you! You are coming with Amira.")
            news = await api.wait_for(lambda: [m for m in api.messages(1001)
                                               if m.get("caption", "").startswith("Good news")])
            assert news[0]["caption"].startswith("Good news: leila")
            assert "(Arabic, French, German) will come with you." in news[0]["caption"]
            assert news[0]["document"]["file_name"] == "appointment.ics"  # the calendar file, on Telegram
            [calendar_file] = await leila._expect(1)  # noqa: SLF001 - and on Matrix, after the details
            assert calendar_file.source["content"]["msgtype"] == "m.file" and calendar_file.body == "appointment.ics"
            assert calendar_file.source["content"]["info"]["mimetype"] == "text/calendar"
            assert (await store.requests.get(request_id)).state == "matched"

            # Monday 9:30 in Berlin: the reminders, one on each platform
            clock.now = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)
            await world.app.reminders.fire_due()
            [to_leila] = await leila._expect(1)  # noqa: SLF001
            assert to_leila.body.startswith("Reminder: you are coming along with Amira.")
            reminder = await api.wait_for(lambda: [m for m in api.messages(1001)
                                                   if m.get("text", "").startswith("Reminder:")] or None)
            assert "Do you still need this appointment?" in reminder[0]["text"]

            # two hours after the end: Leila reports on Matrix, Amira gives feedback on Telegram
            clock.now = datetime(2026, 12, 1, 11, 30, tzinfo=UTC)
            await world.app.reminders.fire_due()
            [asked] = await leila._expect(1)  # noqa: SLF001
            assert asked.body.startswith("Did your appointment with Amira take place?")
            assert options(asked) == ["Yes, it took place", "Amira did not come", "It was cancelled"]
            [how_long] = await leila.press("Yes, it took place", by="vote")
            assert options(how_long) == ["1 hour", "1,5 hours", "2 hours", "3 hours", "4 hours"]
            [recorded] = await leila.press(3)  # a reply with the number
            assert recorded.body == "Thank you! Recorded: 2 hours."
            await amira.press("👍 Good")
            row = await store.db.fetchone("SELECT state, hours, feedback FROM assignments WHERE request_id = ?",
                                          (request_id,))
            assert tuple(row) == ("done", 2.0, "positive")


async def test_a_telegram_coordinator_broadcasts_to_everyone_on_both_platforms(
        db_path: Path, synapse: SynapseServer, tmp_path: Path) -> None:
    from tests.botapi_server import BotApiServer
    from tests.telegram_harness import TelegramWorld, TgPerson, labels, telegram_settings
    from bot.transports.telegram import TelegramTransport

    settings = make_settings(db_path, coordinators=("telegram:9001",))
    async with BotApiServer() as api:
        tg_settings = telegram_settings(settings, api)
        telegram = TelegramTransport(tg_settings.section("telegram"), backoff=0.05)
        async with matrix_world(tg_settings, synapse, tmp_path, also=[telegram]) as world:
            tg = TelegramWorld(api, tg_settings, world.app, telegram)
            weber = TgPerson(tg, 9001, "Weber", "en")
            await weber.onboard()
            amira = TgPerson(tg, 1001, "Amira", "en")
            await amira.onboard()
            hamid = await world.person("hamid")
            await hamid.onboard()
            await weber.send("/broadcast")
            await weber.press("Everyone")
            await weber.press("Done")
            await weber.press("Done")
            await weber.send("Lotse's office is closed on 24 December.")
            [preview] = await weber.press("Show the preview")
            assert preview["text"].split("\n")[4:7] == ["Matrix: 1", "Telegram: 2", "3 recipients in total"]
            await weber.press("Send to 3 people")
            [notice] = await hamid._expect(1)  # noqa: SLF001
            assert notice.body == "Notice from the Lotse coordinators:\n\nLotse's office is closed on 24 December."
            assert notice.source["content"]["msgtype"] == "m.notice"
            await api.wait_for(lambda: [m for m in amira.messages if "24 December" in m["text"]])
            report = await api.wait_for(lambda: [m for m in weber.messages if m["text"].startswith("Report")])
            assert report[0]["text"] == "Report on notice 1:\nDelivered to 3 people."
            assert labels(report[0]) == []


async def test_a_matrix_coordinator_broadcasts_to_people_on_both_platforms(
        db_path: Path, synapse: SynapseServer, tmp_path: Path) -> None:
    """Frau Weber coordinates from Matrix: her `!broadcast` reaches Hamid on Matrix and Amira on
    Telegram, and her progress message and report arrive in her Matrix room."""
    import uuid

    from bot.transports.telegram import TelegramTransport
    from tests.botapi_server import BotApiServer
    from tests.matrix_harness import MxPerson
    from tests.synapse_server import MatrixUser
    from tests.telegram_harness import TelegramWorld, TgPerson, telegram_settings

    weber_user = await MatrixUser.create(synapse, f"weber{uuid.uuid4().hex[:6]}")
    settings = make_settings(db_path, coordinators=(f"matrix:{weber_user.user_id}",))
    async with BotApiServer() as api:
        tg_settings = telegram_settings(settings, api)
        telegram = TelegramTransport(tg_settings.section("telegram"), backoff=0.05)
        async with matrix_world(tg_settings, synapse, tmp_path, also=[telegram]) as world:
            world.users.append(weber_user)
            room = await weber_user.dm(world.bot_user_id)
            await weber_user.wait_for_join(room, world.bot_user_id, timeout=20)
            weber = MxPerson(world, weber_user, room)
            await weber.onboard()
            hamid = await world.person("hamid")
            await hamid.onboard()
            amira = TgPerson(TelegramWorld(api, tg_settings, world.app, telegram), 1001, "Amira", "en")
            await amira.onboard()
            await weber.send("!broadcast")
            await weber.press("Everyone")
            await weber.send("Done")  # every language (typed: the label works as well as the number)
            await weber.send("Done")  # every district
            await weber.send("The office is closed on 24 December.")
            [preview] = await weber.press("Show the preview")
            assert preview.body.split("\n")[4:7] == ["Matrix: 2", "Telegram: 1", "3 recipients in total"]
            await weber.press("Send to 3 people", expect=2)  # her own copy (she is in "everyone") and progress
            [notice] = await hamid._expect(1)  # noqa: SLF001
            assert notice.body == "Notice from the Lotse coordinators:\n\nThe office is closed on 24 December."
            await api.wait_for(lambda: [m for m in amira.messages if "24 December" in m.get("text", "")] or None)
            report = await weber.user.wait_for_event(
                weber.room, lambda e: getattr(e, "body", "").startswith("Report on notice 1"), timeout=20)
            assert report.body == "Report on notice 1:\nDelivered to 3 people."


async def test_a_vote_on_the_thirteen_language_poll_and_the_stable_event_name(world: MatrixWorld) -> None:
    """The guide registration's language pickers: the best language (14 in one poll), then the
    others, 13 languages and "Done" in one poll.  Votes on answers 13 and 14 (beyond where keycaps
    used to end), one of them with the stable m.poll.response name as MSC3381 writes it
    (m.selections)."""
    leila = await world.person("leila")
    await leila.onboard(role=2)
    thanks, best = await leila.send("!guide", expect=2)
    assert len(options(best)) == 14, options(best)
    fourteenth = options(best)[13]
    await leila.vote(best, best.poll["answers"][13]["id"])  # the best language
    [languages] = await leila._expect(1)  # noqa: SLF001
    assert len(options(languages)) == 14 and fourteenth not in options(languages), options(languages)
    thirteenth = options(languages)[12]
    await leila.vote(languages, languages.poll["answers"][12]["id"])
    [toggled] = await leila._expect(1)  # noqa: SLF001
    assert options(toggled)[12] == f"✓ {thirteenth}" and toggled.poll is not None
    assert (await leila.poll_end(languages.event_id)).source["content"]["org.matrix.msc1767.text"] == f"✓ {thirteenth}"
    await leila.vote(toggled, "14", stable=True)  # Done
    [districts] = await leila._expect(1)  # noqa: SLF001
    assert districts.body.startswith("In which districts can you accompany people?"), districts.body
    await leila.poll_end(toggled.event_id)
    guide = await world.app.store.people.find("matrix", leila.id)
    state = await world.app.store.dialogs.get(guide.id)
    assert state is not None and state.step == "districts"
    assert state.data["languages"] == ["de", "fr"]  # German best, French (the thirteenth other) after it


@dataclass(frozen=True)
class Pick(Payload, action="test-pick"):
    number: int


async def test_a_list_longer_than_a_poll_allows_is_a_numbered_notice(world: MatrixWorld) -> None:
    from bot.core.types import Button, Message

    hamid = await world.person("hamid")
    await hamid.send("!start")
    person = await world.app.store.people.find("matrix", hamid.id)

    async def picked(ctx, pick: Pick) -> None:  # noqa: ANN001
        ctx.reply(f"picked {pick.number}")

    world.app.router.button(Pick, picked)
    tokens = await world.app.store.buttons.mint(person.id, [("test-pick", {"number": n}) for n in range(1, 22)])
    buttons = tuple((Button(f"Option {n}", token),) for n, token in enumerate(tokens, start=1))
    await world.transport.send(hamid.room, Message("Pick one", buttons, choice_hint="Reply with the number."))
    [long_list] = await hamid._expect(1)  # noqa: SLF001
    assert long_list.poll is None and long_list.source["content"]["msgtype"] == "m.notice"
    assert options(long_list) == [f"Option {n}" for n in range(1, 22)]
    assert "<ol><li>Option 1</li>" in long_list.source["content"]["formatted_body"]
    [answer] = await hamid.send("21")  # the number chooses
    assert answer.body == "picked 21"


async def test_without_polls_choices_are_numbered_notices(mx_settings: Settings, synapse: SynapseServer,
                                                          tmp_path: Path) -> None:
    """`[matrix] polls = false`, for people whose app shows no polls at all."""
    async with matrix_world(mx_settings, synapse, tmp_path, polls=False) as world:
        hamid = await world.person("hamid")
        [welcome] = await hamid.send("!start")
        assert welcome.poll is None and welcome.source["content"]["msgtype"] == "m.notice"
        assert options(welcome) == LANGUAGE_NAMES
        assert "<ol><li>Deutsch</li>" in welcome.source["content"]["formatted_body"]
        [notice] = await hamid.press("English")
        assert notice.body.startswith("Privacy notice") and notice.poll is None


async def test_a_vote_answers_the_poll_it_was_cast_on(world: MatrixWorld, clock) -> None:  # noqa: ANN001
    """Two offers in a row: the guide accepts the older one by voting on its poll (a vote is not
    bound to the room's latest menu), and declines the newer one."""
    from datetime import UTC, datetime

    from bot.services import guides as standing
    from bot.store.guides import Profile, Slot
    from bot.store.requests import NewRequest

    store = world.app.store
    leila = await world.person("leila")
    await leila.onboard(role=2)
    guide = await store.people.find("matrix", leila.id)
    await store.guides.save_profile(guide.id, Profile(("ar",), ("Dreieich",), ("doctor",), (Slot(1, 480, 1080),),
                                                      3, "female"), clock.now)
    assert await standing.approve(store, guide.id, None, clock.now)
    requests = []
    for name, hour in (("amira", 8), ("hamid", 12)):  # 9:00 and 13:00 in Berlin, Tuesday 1 December
        newcomer = await world.person(name)
        await newcomer.onboard()
        person = await store.people.find("matrix", newcomer.id)
        requests.append(await store.requests.create(person.id, NewRequest(
            "doctor", datetime(2026, 12, 1, hour, 0, tzinfo=UTC), 60, "Dreieich", None, None, None, ("ar",)),
            clock.now))
        world.app.dispatch.kick(requests[-1])
        [offer] = await leila._expect(1)  # noqa: SLF001
        assert offer.body.startswith("Can you come along to an appointment?") and offer.poll is not None
    first, second = [m for m in leila.received if m.body.startswith("Can you come along")]
    assert "9:00" in first.body and "13:00" in second.body
    await leila.vote(first, first.poll["answers"][0]["id"])          # Accept on the older poll
    [details] = await leila._expect(1)  # noqa: SLF001
    assert details.body.startswith("Thank you! You are coming with amira")
    assert (await store.requests.get(requests[0])).state == "matched"
    assert (await store.requests.get(requests[1])).state == "open"
    await leila.poll_end(first.event_id)                              # the answered poll is ended


async def test_mydata_arrives_as_a_file_on_matrix(world: MatrixWorld) -> None:
    import json

    import nio

    hamid = await world.person("hamid")
    await hamid.onboard()
    summary, file = await hamid.send("!mydata", expect=2)
    assert summary.body.startswith("Your data at Lotse:")
    assert file.source["content"]["msgtype"] == "m.file" and file.body == "lotse-mydata.json"
    download = await hamid.user.client.download(file.source["content"]["url"])
    assert isinstance(download, nio.DownloadResponse)
    assert json.loads(download.body)["person"]["platform_user_id"] == hamid.id


async def test_deleteme_forgets_the_matrix_room_and_menu_of_the_person(world: MatrixWorld) -> None:
    hamid = await world.person("hamid")
    await hamid.onboard()
    store = world.app.store
    keys = [r[0] for r in await store.db.fetchall("SELECT key FROM transport_state WHERE platform = 'matrix'")]
    assert f"dm:{hamid.id}" in keys and f"menu:{hamid.room}" in keys
    await hamid.send("!deleteme")
    [last] = await hamid.press(1)
    assert "!start" in last.body
    await world.app.inbox.idle()
    keys = [r[0] for r in await store.db.fetchall("SELECT key FROM transport_state WHERE platform = 'matrix'")]
    assert not [k for k in keys if hamid.id in k or hamid.room in k], keys
    assert await store.people.find("matrix", hamid.id) is None
