"""The relay (issue 17) on the recording transport: Olena (Ukrainian menus) and Leila (German menus)
agree on where to meet through Lotse; phrases arrive in the reader's language; reminders carry the
meeting point; the conversation closes two days after the appointment; a report reaches Frau Weber
with the last messages; a message to someone who blocked the bot is reported undelivered; the
texts are in mydata, erased by deleteme and purged after the conversation closed.
Clock at Wednesday 25 November 2026, 10:00 in Berlin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.services import retention
from bot.store.requests import NewRequest
from handlers import labels as labels_of
from tests.conftest import Clock, Running, labels
from tests.test_dispatch import person, settle

pytestmark = pytest.mark.usefixtures("clock")

THURSDAY_14 = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)  # 14:00 in Berlin
PLACE = "Haupteingang Rathaus Dietzenbach"


def t(lotse: Running, lang: str, msgid: str, **values: object) -> str:
    return lotse.app.services.catalogs.get(lang).gettext(msgid, **values)


def g(lotse: Running, lang: str, gender: str, msgid: str, **values: object) -> str:
    return lotse.app.services.catalogs.get(lang).gendered(gender, msgid, **values)


def closed_note(lotse: Running, lang: str) -> str:
    i18n = lotse.app.services.catalogs.get(lang)
    return i18n.gettext("This conversation has closed: Lotse passes on messages only until %(time)s after the "
                        "appointment. Thank you!", time=labels_of.minutes_label(i18n, lotse.settings.relay.close_after))


async def olena_and_leila(lotse: Running) -> int:
    """Olena (uk menus; speaks uk, ru, some German) asks for the immigration office in Dietzenbach,
    without a place; Leila (de menus) accepts.  Returns the request id."""
    from bot.store.guides import Profile, Slot
    from bot.services import guides as standing
    from bot.clock import utcnow

    leila = await person(lotse, "leila", language="de")
    await lotse.store.guides.save_profile(leila, Profile(("ar", "fr", "de"), ("Dietzenbach",), ("immigration",),
                                                         (Slot(3, 13 * 60, 17 * 60),), 3, "female"), utcnow())
    assert await standing.approve(lotse.store, leila, None, utcnow())
    olena = await person(lotse, "olena", language="uk", role="newcomer")
    request_id = await lotse.store.requests.create(olena, NewRequest(
        "immigration", THURSDAY_14, 60, "Dietzenbach", None, None, None, ("uk", "ru", "de")), utcnow())
    lotse.app.dispatch.kick(request_id)
    await settle(lotse)
    assert labels(lotse.transport.last_with_buttons("leila").message) == [t(lotse, "de", "Accept"),
                                                                        t(lotse, "de", "Decline")]
    await lotse.transport.press("leila", t(lotse, "de", "Accept"))
    await settle(lotse)
    return request_id


async def test_olena_and_leila_agree_on_where_to_meet(lotse: Running, clock: Clock) -> None:
    bot = lotse.transport
    await olena_and_leila(lotse)
    booked = bot.last_with_buttons("leila").message
    assert t(lotse, "de", "No meeting place was given. Please propose one.") in booked.text
    assert labels(booked) == [t(lotse, "de", "Write to %(name)s", name="Olena"),
                              t(lotse, "de", "Propose a meeting point")]
    news = bot.last_with_buttons("olena").message
    assert labels(news) == [t(lotse, "uk", "Write to your guide")]

    [ask] = await bot.press("leila", t(lotse, "de", "Propose a meeting point"))
    assert ask.text.startswith(t(lotse, "de", "Where do you want to meet %(name)s? For example: at the main entrance "
                                 "of the town hall. Lotse passes it on and adds it to the reminders.", name="Olena"))
    await bot.say("leila", PLACE)
    await settle(lotse)
    proposal = bot.messages("olena")[-1]
    assert proposal.text.splitlines() == [g(lotse, "uk", "female", "Message from your guide %(name)s:", name="Leila"),
                                          t(lotse, "uk", "Let us meet here: %(place)s", place=PLACE)]
    assert labels(proposal) == [t(lotse, "uk", "Reply"), t(lotse, "uk", "Report")]
    assert bot.messages("leila")[-1].text == t(lotse, "de", "Passed on to %(name)s.", name="Olena")

    # Olena answers in her own words, then with a phrase; Leila reads the phrase in German
    [prompt] = await bot.press("olena", t(lotse, "uk", "Reply"))
    assert labels(prompt) == [t(lotse, "uk", msgid) for msgid in (
        "I am running 10 minutes late.", "I am at the entrance.", "Where are you?", "I have to cancel.", "Thank you!")]
    await bot.say("olena", "Добре, до зустрічі о 13:45!")
    await settle(lotse)
    typed = bot.messages("leila")[-1].text.splitlines()
    assert typed == [t(lotse, "de", "Message from %(name)s:", name="Olena"), "Добре, до зустрічі о 13:45!",
                     t(lotse, "de", "(probably written in %(language)s)",
                       language=labels_of.language(lotse.app.services.catalogs.get("de"), "uk"))]
    await bot.press_token("olena", proposal.flat_buttons[0].token)  # Reply, on Leila's message again
    await bot.press("olena", t(lotse, "uk", "I am at the entrance."))
    await settle(lotse)
    assert bot.messages("leila")[-1].text.splitlines()[1] == t(lotse, "de", "I am at the entrance.")
    rows = await lotse.store.db.fetchall("SELECT phrase, body, language, state FROM relay_messages ORDER BY id")
    assert [tuple(r) for r in rows] == [("meet", PLACE, "de", "sent"), (None, "Добре, до зустрічі о 13:45!", "uk", "sent"),
                                        ("entrance", None, "uk", "sent")]
    # the reminder the day before carries the meeting point
    clock.now = THURSDAY_14 - timedelta(hours=24)
    await settle(lotse)
    reminder = [m.text for m in bot.messages("olena") if PLACE in m.text and "Lotse" not in m.text[:3]]
    assert any(g(lotse, "uk", "female", "Reminder: %(name)s will come with you.", name="Leila") in text
               for text in reminder)


async def test_the_conversation_closes_two_days_after_the_appointment(lotse: Running, clock: Clock) -> None:
    bot = lotse.transport
    await olena_and_leila(lotse)
    news = bot.last_with_buttons("olena").message
    await bot.press("olena", t(lotse, "uk", "Write to your guide"))
    await bot.say("olena", "Дякую!")
    await settle(lotse)
    clock.now = THURSDAY_14 + timedelta(hours=1, days=2, minutes=-1)  # still open
    await bot.press_token("olena", news.flat_buttons[0].token)
    assert bot.messages("olena")[-1].text.startswith(t(lotse, "uk", "Your message to %(name)s – type it, or choose one "
                                                       "of these:", name="Leila"))
    clock.now = THURSDAY_14 + timedelta(hours=1, days=2, minutes=1)
    [closed] = await bot.say("olena", "Ще одне питання")
    assert closed.text.splitlines()[0] == closed_note(lotse, "uk")
    [none] = await bot.say("leila", "/write")
    assert none.text == t(lotse, "de", "You have no appointment to write about right now. Once a guide comes with "
                          "you (or you with someone), you can write to each other here.")
    assert (await lotse.store.db.fetchone("SELECT count(*) FROM relay_messages"))[0] == 1
    purged = await retention.purge(lotse.app.services, clock.now)
    assert purged.relayed == 1
    assert (await lotse.store.db.fetchone("SELECT count(*) FROM relay_messages"))[0] == 0


async def test_olena_reports_a_message_and_frau_weber_suspends_the_guide(lotse: Running) -> None:
    bot = lotse.transport
    await person(lotse, "weber", role="newcomer")
    await olena_and_leila(lotse)
    await bot.press("leila", t(lotse, "de", "Write to %(name)s", name="Olena"))
    await bot.say("leila", "Geben Sie mir Ihre Handynummer.")
    await settle(lotse)
    [thanks] = await bot.press("olena", t(lotse, "uk", "Report"))
    assert thanks.text == t(lotse, "uk", "Thank you for telling us. A coordinator will look at this conversation.")
    card = bot.last_with_buttons("weber").message
    assert card.text.startswith("Olena reported a message from Leila about this appointment:")
    assert "Leila: Geben Sie mir Ihre Handynummer." in card.text
    assert labels(card) == ["Close the conversation", "Suspend Leila and close", "No action needed"]
    # reporting twice does nothing more
    await bot.press_token("olena", [m for m in bot.sent if m.chat_id == "olena" and labels(m.message)][-1]
                          .message.flat_buttons[1].token)
    assert bot.messages("olena")[-1].text == t(lotse, "uk", "This message was reported already, or it is no longer "
                                               "kept.")
    await bot.press("weber", "Suspend Leila and close")
    await settle(lotse)
    assert bot.messages("weber")[-1].text == "The guide is suspended and the conversation is closed."
    assert (await lotse.store.guides.get((await lotse.store.people.find("test", "leila")).id)).state == "suspended"
    for user, lang in (("olena", "uk"), ("leila", "de")):
        assert bot.messages(user)[-1].text == t(lotse, lang, "A coordinator has closed this conversation. Lotse "
                                                "passes on no more messages in it.")
    row = await lotse.store.db.fetchone("SELECT reported_at, decided_at FROM relay_messages")
    assert row["reported_at"] and row["decided_at"]
    [closed] = await bot.press("olena", t(lotse, "uk", "Reply"))
    assert closed.text == closed_note(lotse, "uk")


async def test_a_reported_conversation_is_kept_until_a_coordinator_decided(lotse: Running, clock: Clock) -> None:
    bot = lotse.transport
    await person(lotse, "weber", role="newcomer")
    await olena_and_leila(lotse)
    await bot.press("leila", t(lotse, "de", "Write to %(name)s", name="Olena"))
    await bot.say("leila", "Hallo")
    await settle(lotse)
    await bot.press("olena", t(lotse, "uk", "Report"))
    clock.now = THURSDAY_14 + timedelta(days=5)
    assert (await retention.purge(lotse.app.services, clock.now)).relayed == 0
    await bot.press("weber", "No action needed")
    assert (await retention.purge(lotse.app.services, clock.now)).relayed == 1


async def test_a_message_to_someone_who_blocked_the_bot_is_reported_undelivered(lotse: Running) -> None:
    bot = lotse.transport
    await olena_and_leila(lotse)
    bot.blocked.add("leila")
    await bot.press("olena", t(lotse, "uk", "Write to your guide"))
    await bot.press("olena", t(lotse, "uk", "Where are you?"))
    await settle(lotse)
    assert bot.messages("olena")[-1].text == t(
        lotse, "uk", "Your message could not be delivered: %(name)s cannot be reached through Lotse right now. Please "
        "try again later or ask a coordinator.", name="Leila")
    assert (await lotse.store.db.fetchone("SELECT state FROM relay_messages"))[0] == "failed"


async def test_write_command_mydata_and_deleteme(lotse: Running) -> None:
    bot = lotse.transport
    await olena_and_leila(lotse)
    [prompt] = await bot.say("olena", "/write")
    assert prompt.text.startswith(t(lotse, "uk", "Your message to %(name)s – type it, or choose one of these:",
                                    name="Leila"))
    await bot.say("olena", "Я буду з донькою.")
    await settle(lotse)
    olena = await lotse.store.people.find("test", "olena")
    exported = await lotse.store.privacy.export(olena.id)
    assert [(m["direction"], m["body"]) for m in exported["messages_relayed"]] == [("sent", "Я буду з донькою.")]
    leila = await lotse.store.people.find("test", "leila")
    assert [m["direction"] for m in (await lotse.store.privacy.export(leila.id))["messages_relayed"]] == ["received"]
    from bot.services import privacy
    await privacy.erase(lotse.app.services, olena)
    assert (await lotse.store.db.fetchone("SELECT count(*) FROM relay_messages"))[0] == 0


async def test_a_message_stored_but_not_sent_before_a_stop_goes_out_once_after_the_restart(settings) -> None:  # noqa: ANN001
    """A stop between the commit and the wire: the stored message is delivered at the next start,
    once; one that was already leaving (maybe delivered) is not sent again on a platform that
    cannot recognise a repeat."""
    first = await Running(settings).start()
    try:
        await olena_and_leila(first)
        talk = (await first.store.relay.open_of((await first.store.people.find("test", "olena")).id, clock_now(),
                                                settings.relay.close_after))[0]
        olena = (await first.store.people.find("test", "olena")).id
        waiting = await first.store.relay.add(talk, olena, None, "Ich komme mit meiner Tochter.", "uk", clock_now())
        leaving = await first.store.relay.add(talk, olena, "late", None, "uk", clock_now())
        assert await first.store.relay.sending(leaving)
    finally:
        await first.app.stop()
    for _ in range(2):  # started twice: still once
        again = await Running(settings).start()
        try:
            await settle(again)
            got = [m.text for m in again.transport.messages("leila")]
            told = [m.text for m in again.transport.messages("olena")]
        finally:
            await again.app.stop()
        if _ == 0:
            assert [text.splitlines()[1] for text in got] == ["Ich komme mit meiner Tochter."]
            assert told == [t(again, "uk", "Passed on to %(name)s.", name="Leila")]
        else:
            assert got == [] and told == []
    check = await Running(settings).start()
    try:
        states = {r[0]: r[1] for r in await check.store.db.fetchall("SELECT id, state FROM relay_messages")}
    finally:
        await check.app.stop()
    assert states[waiting] == "sent" and states[leaving] == "uncertain"


def clock_now() -> datetime:
    from bot.clock import utcnow
    return utcnow()


async def test_a_photo_of_a_letter_is_passed_on_and_a_stray_or_huge_one_is_explained(lotse: Running) -> None:
    bot = lotse.transport
    await olena_and_leila(lotse)
    [hint] = await bot.send_file("olena", "photo.jpg", b"\xff\xd8 letter", "image/jpeg")
    assert hint.text == t(lotse, "uk", "Lotse passes on photos and files only between you and your guide: tap "
                          "“%(button)s” under the last message about the appointment, or send %(command)s, then the "
                          "photo.", button=t(lotse, "uk", "Write to your guide"), command="/write")
    await bot.say("olena", "/write")
    [too_big] = await bot.send_file("olena", "scan.pdf", b"%PDF", "application/pdf", size=6_000_000)
    assert too_big.text == t(lotse, "uk", "This file is too large to pass on: at most %(size)s.",
                             size=labels_of.megabytes(lotse.app.services.catalogs.get("uk"), 5_000_000))
    letter = b"\xff\xd8\xff\xe0 a letter from the office"
    await bot.send_file("olena", "photo.jpg", letter, "image/jpeg", caption="Лист з відомства")
    await settle(lotse)
    got = bot.messages("leila")[-1]
    assert got.attachment is not None and got.attachment.content == letter
    assert got.attachment.filename == "photo.jpg" and got.attachment.mime_type == "image/jpeg"
    assert got.text.splitlines()[:2] == [t(lotse, "de", "Message from %(name)s:", name="Olena"), "Лист з відомства"]
    assert bot.messages("olena")[-1].text == t(lotse, "uk", "Passed on to %(name)s.", name="Leila")
    row = await lotse.store.db.fetchone("SELECT file_name, body, state FROM relay_messages WHERE file_ref IS NOT NULL")
    assert tuple(row) == ("photo.jpg", "Лист з відомства", "sent")
    assert await lotse.store.dialogs.get((await lotse.store.people.find("test", "olena")).id) is None
