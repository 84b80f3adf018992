"""The relay across platforms, end to end: Olena writes on Telegram (real python-telegram-bot over
the Bot API wire server, Ukrainian menus), Leila on Matrix (real matrix-nio against the real
Synapse, German menus).  Leila proposes where to meet, Olena answers in her words and with a
phrase; each reads in their own language, and nothing either receives names the other's account:
the raw Telegram calls and the Matrix events are searched for the ids.
Clock at Wednesday 25 November 2026, 10:00 in Berlin."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from bot.services import guides as standing
from bot.store.guides import Profile, Slot
from bot.store.requests import NewRequest
from bot.transports.telegram import TelegramTransport
from handlers import labels as labels_of
from tests.botapi_server import BotApiServer
from tests.conftest import Clock, make_settings
from tests.matrix_harness import matrix_world, options
from tests.synapse_server import SynapseServer
from tests.telegram_harness import TelegramWorld, TgPerson, labels, telegram_settings

OLENA_TG, OLENA_USERNAME = 740123456, "olena_kyiv"
THURSDAY_14 = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
PLACE = "Haupteingang Rathaus Dietzenbach"


async def test_olena_on_telegram_and_leila_on_matrix_agree_where_to_meet(
        db_path: Path, synapse: SynapseServer, tmp_path: Path, clock: Clock) -> None:
    async with BotApiServer() as api:
        settings = telegram_settings(make_settings(db_path), api)
        telegram = TelegramTransport(settings.section("telegram"), backoff=0.05)
        async with matrix_world(settings, synapse, tmp_path, also=[telegram]) as world:
            store, catalogs = world.app.store, world.app.services.catalogs
            de, uk = catalogs.get("de"), catalogs.get("uk")
            leila = await world.person("leila")
            await leila.onboard(language="Deutsch", role=2)
            guide = await store.people.find("matrix", leila.id)
            await store.guides.save_profile(guide.id, Profile(("ar", "fr", "de"), ("Dietzenbach",), ("immigration",),
                                                              (Slot(3, 13 * 60, 17 * 60),), 3, "female"), clock.now)
            assert await standing.approve(store, guide.id, None, clock.now)
            shown = guide.display_name  # what Element shows as her name (Synapse's default: the localpart)

            api.user(OLENA_TG, first_name="Olena", language_code="uk", username=OLENA_USERNAME)
            olena = TgPerson(TelegramWorld(api, settings, world.app, telegram), OLENA_TG, "Olena", "uk")
            await olena.send("/start")
            await olena.press("Українська")
            await olena.press(1, expect=3)
            newcomer = await store.people.find("telegram", str(OLENA_TG))
            request_id = await store.requests.create(newcomer.id, NewRequest(
                "immigration", THURSDAY_14, 60, "Dietzenbach", None, None, None, ("uk", "ru", "de")), clock.now)
            world.app.dispatch.kick(request_id)

            [offer] = await leila._expect(1)  # noqa: SLF001
            assert options(offer) == [de.gettext("Accept"), de.gettext("Decline")]
            [booked] = await leila.press(de.gettext("Accept"), by="vote")
            assert booked.body.startswith(de.gendered("female", "Thank you! You are coming with %(name)s.",
                                                      name="Olena"))
            assert de.gettext("No meeting place was given. Please propose one.") in booked.body
            assert options(booked) == [de.gettext("Write to %(name)s", name="Olena"),
                                       de.gettext("Propose a meeting point")]
            await leila._expect(1)  # noqa: SLF001 - the calendar file
            news = await api.wait_for(lambda: [m for m in api.messages(OLENA_TG) if labels(m)
                                               == [uk.gettext("Write to your guide")]] or None, what="the news")
            assert news[0]["caption"].startswith(uk.gendered("female", "Good news: %(name)s (%(languages)s) will come "
                                                             "with you.", name=shown,
                                                             languages=labels_of.languages(uk, ["ar", "fr", "de"])))

            # Leila proposes the meeting point (a reply with the option's number, as in Element)
            [ask] = await leila.press(de.gettext("Propose a meeting point"))
            assert ask.body.startswith(de.gettext(
                "Where do you want to meet %(name)s? For example: at the main entrance of the town hall. Lotse passes "
                "it on and adds it to the reminders.", name="Olena"))
            [passed] = await leila.send(PLACE)
            assert passed.body == de.gettext("Passed on to %(name)s.", name="Olena")
            proposal = await api.wait_for(lambda: [m for m in api.messages(OLENA_TG) if PLACE in m.get("text", "")]
                                          or None, what="the meeting point")
            assert proposal[0]["text"].splitlines() == [
                uk.gendered("female", "Message from your guide %(name)s:", name=shown),
                uk.gettext("Let us meet here: %(place)s", place=PLACE)]

            # Olena answers on Telegram: in her own words, then with a phrase
            [prompt] = await olena.press(uk.gettext("Reply"))
            assert labels(prompt)[1] == uk.gettext("I am at the entrance.")
            await olena.send("Добре, до зустрічі о 13:45!")  # (her confirmation: "Passed on to …")
            [typed] = await leila._expect(1)  # noqa: SLF001
            assert options(typed) == [de.gettext("Reply"), de.gettext("Report")]
            assert typed.body.splitlines()[:3] == [
                de.gettext("Message from %(name)s:", name="Olena"), "Добре, до зустрічі о 13:45!",
                de.gettext("(probably written in %(language)s)", language=labels_of.language(de, "uk"))]
            await olena.press_data(proposal[0]["message_id"], proposal[0]["reply_markup"]["inline_keyboard"][0][0]
                                   ["callback_data"])
            await olena.press(uk.gettext("I am at the entrance."))
            [phrase] = await leila._expect(1)  # noqa: SLF001
            assert phrase.body.splitlines()[1] == de.gettext("I am at the entrance.")
            rows = await store.db.fetchall("SELECT sender_id, state FROM relay_messages ORDER BY id")
            assert [(r[0], r[1]) for r in rows] == [(guide.id, "sent"), (newcomer.id, "sent"), (newcomer.id, "sent")]

            # a photo of the office's letter, from Telegram to Matrix; a PDF back from Matrix to Telegram
            await olena.press_data(proposal[0]["message_id"], proposal[0]["reply_markup"]["inline_keyboard"][0][0]
                                   ["callback_data"])
            letter = b"\xff\xd8\xff\xe0JFIF letter from the Auslaenderbehoerde " + bytes(range(256)) * 40
            api.inject_photo(OLENA_TG, letter, caption="Ось лист")
            [with_photo, photo] = await leila._expect(2)  # noqa: SLF001 - the text, then the file
            assert with_photo.body.splitlines()[:3] == [
                de.gettext("Message from %(name)s:", name="Olena"), "Ось лист",
                de.gettext("(probably written in %(language)s)", language=labels_of.language(de, "uk"))]
            assert photo.source["content"]["msgtype"] == "m.file"
            got = await leila.user.client.download(mxc=photo.source["content"]["url"])
            assert got.body == letter  # the bytes Olena sent, fetched from Telegram and uploaded to Synapse
            [answer] = await leila.press(de.gettext("Reply"))
            assert answer.body.startswith(de.gettext("Your message to %(name)s – type it, or choose one of these:",
                                                     name="Olena"))
            pdf = b"%PDF-1.4 Terminbestaetigung " + bytes(range(256)) * 8
            uploaded, _ = await leila.user.client.upload(lambda *_: pdf, content_type="application/pdf",
                                                          filename="termin.pdf", filesize=len(pdf))
            await leila.user.send(leila.room, {"msgtype": "m.file", "body": "termin.pdf", "url": uploaded.content_uri,
                                               "info": {"mimetype": "application/pdf", "size": len(pdf)}})
            document = await api.wait_for(lambda: [c for c in api.sent(OLENA_TG, "sendDocument")
                                                   if c.params["document"].filename == "termin.pdf"] or None,
                                          what="the PDF on Telegram")
            assert document[0].params["document"].data == pdf
            assert document[0].params["caption"].startswith(
                uk.gendered("female", "Message from your guide %(name)s:", name=shown))
            await world.app.inbox.idle()
            rows = await store.db.fetchall("SELECT file_name, state FROM relay_messages WHERE file_ref IS NOT NULL")
            assert sorted(tuple(r) for r in rows) == [("photo.jpg", "sent"), ("termin.pdf", "sent")]

            # neither side ever received the other's account: the raw wire, both ways
            to_olena = json.dumps([call.params for call in api.sent(OLENA_TG)], ensure_ascii=False, default=repr)
            assert PLACE in to_olena
            for secret in (leila.id, f"@{shown}", leila.room):
                assert secret not in to_olena
            to_leila = json.dumps([m.source for m in leila.received], ensure_ascii=False)
            assert "Добре, до зустрічі" in to_leila
            for secret in (str(OLENA_TG), OLENA_USERNAME):
                assert secret not in to_leila
