"""Coordinators' notices: the dialog, the audience, the outbox and its report (transcripts on the
recording transports; the Telegram error policy, the pace and a SIGKILL in the middle are in
tests/test_broadcast_telegram.py)."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta
from collections.abc import AsyncIterator

import pytest

from bot.app import App
from bot.config import BroadcastSettings, Settings
from bot.clock import utcnow
from bot.store.guides import Profile, Slot
from bot.store.outbox import Audience
from bot.store.requests import NewRequest
from bot.transports.recording import RecordingTransport
from tests.conftest import LANGUAGE_NAMES, labels, set_standing


class TwoPlatforms:
    """Lotse on two recording transports: "test" (standing in for Telegram) and "matrix"."""

    def __init__(self, settings: Settings) -> None:
        self.test = RecordingTransport("test")
        self.matrix = RecordingTransport("matrix")
        self.matrix.command_prefix = "!"
        self.app = App(settings, [self.test, self.matrix])

    @property
    def store(self):  # noqa: ANN201
        return self.app.store

    async def onboard(self, user: str, role: int = 1, platform: str = "test", language: str = "English") -> int:
        bot = self.test if platform == "test" else self.matrix
        prefix = bot.command_prefix
        await bot.say(user, f"{prefix}start", language="en")
        await bot.press(user, language)
        await bot.press(user, 1)
        await bot.press(user, role)
        person = await self.store.people.find(platform, user)
        await self.store.dialogs.clear(person.id)
        return person.id

    async def guide(self, user: str, languages: tuple[str, ...], districts: tuple[str, ...],
                    platform: str = "test", state: str = "approved") -> int:
        person_id = await self.onboard(user, role=2, platform=platform)
        await self.store.guides.save_profile(person_id, Profile(languages, districts, ("doctor",),
                                                                (Slot(0, 480, 720),), 2, None), utcnow())
        await set_standing(self.store, person_id, state)
        return person_id

    async def newcomer(self, user: str, languages: tuple[str, ...], district: str, platform: str = "test") -> int:
        person_id = await self.onboard(user, platform=platform)
        await self.store.requests.create(person_id, NewRequest(
            "doctor", utcnow() + timedelta(days=60), 60, district, None, None, None, languages), utcnow())
        return person_id


@pytest.fixture
def bc_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, broadcast=BroadcastSettings(progress_interval=0.05, retry_backoff=0.01))


@pytest.fixture
async def two(bc_settings: Settings) -> AsyncIterator[TwoPlatforms]:
    world = TwoPlatforms(bc_settings)
    await world.app.start()
    yield world
    await world.app.stop()


async def people(two: TwoPlatforms) -> None:
    """The Kreis Offenbach cast: guides and newcomers on both platforms."""
    await two.onboard("weber")                                              # the coordinator
    await two.guide("mehmet", ("tr", "ku", "de"), ("Dietzenbach", "Rodgau"))
    await two.guide("leila", ("ar", "fr", "de"), ("Dreieich", "Neu-Isenburg"), platform="matrix")
    await two.guide("nasrin", ("fa", "de", "en"), ("*",), state="pending")   # not approved yet
    await two.guide("yonas", ("ti", "am", "en", "de"), ("Rodgau",), platform="matrix")
    await two.newcomer("amira", ("ar", "de"), "Dreieich")
    await two.newcomer("olena", ("uk", "ru"), "Dietzenbach")
    await two.newcomer("hamid", ("fa",), "Langen", platform="matrix")
    await two.newcomer("tesfay", ("ti", "en"), "Rodgau")


async def test_audience_selection(two: TwoPlatforms) -> None:
    await people(two)
    count = two.store.broadcasts.count
    assert await count(Audience("guides")) == {"matrix": 2, "test": 1}            # approved only
    assert await count(Audience("newcomers")) == {"matrix": 1, "test": 4}         # Frau Weber gets a copy
    assert await count(Audience("everyone")) == {"matrix": 3, "test": 5}
    assert await count(Audience("everyone", languages=("ar", "uk", "fa"))) == {"matrix": 2, "test": 2}
    assert await count(Audience("guides", districts=("Rodgau",))) == {"matrix": 1, "test": 1}
    assert await count(Audience("newcomers", ("ti",), ("Rodgau",))) == {"test": 1}
    assert await count(Audience("newcomers", ("ti",), ("Langen",))) == {}
    # an all-districts guide is in every district's audience
    await set_standing(two.store, (await two.store.people.find("test", "nasrin")).id, "approved")
    assert await count(Audience("guides", districts=("Seligenstadt",))) == {"test": 1}


async def test_declined_and_withdrawn_people_never_get_a_notice(two: TwoPlatforms) -> None:
    await people(two)
    await two.test.say("zaid", "/start", language="en")
    await two.test.press("zaid", "English")
    await two.test.press("zaid", "I do not agree")
    assert await two.store.broadcasts.count(Audience("everyone")) == {"matrix": 3, "test": 5}
    broadcast_id = await two.store.broadcasts.create(
        (await two.store.people.find("test", "weber")).id, Audience("newcomers"), {"": "Closed on Friday"}, utcnow())
    olena = await two.store.people.find("test", "olena")
    await two.store.people.record_decline(olena.id, utcnow())              # withdrew after it was queued
    await two.app.broadcast.started(broadcast_id)
    await two.app.broadcast.idle()
    assert await two.store.broadcasts.tally(broadcast_id) == {"sent": 4, "skipped": 1}
    assert not [m for m in two.test.messages("olena") if "Closed on Friday" in m.text]
    assert not [m for m in two.test.messages("zaid") if "Closed on Friday" in m.text]


async def test_only_coordinators_can_broadcast(two: TwoPlatforms, caplog: pytest.LogCaptureFixture) -> None:
    await people(two)
    caplog.set_level(logging.WARNING)
    [refused] = await two.test.say("amira", "/broadcast")
    assert refused.text == "This command is not available to you. Send /help to see your commands."
    assert any("refused /broadcast" in r.message for r in caplog.records)
    assert tuple(await two.store.db.fetchone("SELECT count(*) FROM broadcasts")) == (0,)


async def test_weber_broadcasts_to_newcomers_in_arabic_ukrainian_and_dari(two: TwoPlatforms) -> None:
    await people(two)
    bot = two.test
    [audience] = await bot.say("weber", "/broadcast")
    assert audience.text == "Who should receive the notice?"
    assert labels(audience) == ["All guides", "All newcomers", "Everyone"]
    [languages] = await bot.press("weber", "All newcomers")
    assert labels(languages)[:3] == ["Arabic", "Persian", "Dari"] and labels(languages)[-1] == "Done"
    await bot.press("weber", "Arabic")
    await bot.press("weber", "Ukrainian")
    await bot.press("weber", "Persian")
    [districts] = await bot.press("weber", "Done")
    assert districts.text.startswith("Only certain districts?")
    [text] = await bot.press("weber", "Done")
    assert text.text.startswith("Please type the notice (at most 3.000 characters).")
    [empty, again] = await bot.say("weber", "   ")
    assert empty.text == "The notice is empty. Please type the text." and again.text == text.text
    [versions] = await bot.say("weber", "The immigration office is closed on Friday.")
    assert labels(versions) == [*LANGUAGE_NAMES, "Show the preview"]
    [ask] = await bot.press("weber", "العربية")
    assert ask.text == "Please type the version in العربية."
    [versions] = await bot.say("weber", "مكتب الهجرة مغلق يوم الجمعة.")
    assert versions.text.startswith("Versions so far: العربية.")
    [preview] = await bot.press("weber", "Show the preview")
    lines = preview.text.split("\n")
    assert lines[:7] == ["Preview of your notice", "To: All newcomers", "Languages: Arabic, Ukrainian, Persian",
                         "Districts: all", "Matrix: 1", "Test: 2", "3 recipients in total"]
    assert "The immigration office is closed on Friday." in lines and "مكتب الهجرة مغلق يوم الجمعة." in lines
    assert labels(preview) == ["Send to 3 people", "Cancel"]
    await bot.press("weber", "Send to 3 people")
    await two.app.broadcast.idle()
    # each person got the version in the language they read Lotse in (Amira switches to Arabic first)
    [olena_notice] = [m.text for m in bot.messages("olena") if "closed on Friday" in m.text]
    assert olena_notice == "Notice from the Lotse coordinators:\n\nThe immigration office is closed on Friday."
    [hamid_notice] = [m.text for m in two.matrix.messages("hamid") if "Friday" in m.text]
    assert not [m for m in bot.messages("tesfay") if "Friday" in m.text]       # Tigrinya was not chosen
    # the progress message was edited to the final numbers, and a report followed
    weber = bot.current("weber")
    progress = [s for s in weber if s.message.text.startswith("Notice ")]
    assert progress[-1].edited and progress[-1].message.text.endswith("Sent: 3 · Failed: 0 · Remaining: 0")
    assert weber[-1].message.text.split("\n") == ["Report on notice 1:", "Delivered to 3 people."]
    rows = await two.store.db.fetchall("SELECT state, count(*) FROM broadcast_outbox GROUP BY state")
    assert [tuple(r) for r in rows] == [("sent", 3)]
    # the preview's button again (a double tap, a replayed press): refused, nothing sent twice
    [stale] = await bot.press_token("weber", preview.flat_buttons[0].token)
    assert stale.text == "This button is no longer valid. Please use the latest message."
    assert tuple(await two.store.db.fetchone("SELECT count(*) FROM broadcasts")) == (1,)


async def test_versions_per_language_reach_their_readers(two: TwoPlatforms) -> None:
    await people(two)
    amira = await two.store.people.find("test", "amira")
    await two.store.people.set_language(amira.id, "ar")
    broadcast_id = await two.store.broadcasts.create(
        (await two.store.people.find("test", "weber")).id, Audience("newcomers", ("ar", "uk")),
        {"": "Closed on Friday.", "ar": "مغلق يوم الجمعة."}, utcnow())
    await two.app.broadcast.started(broadcast_id)
    await two.app.broadcast.idle()
    [to_amira] = [m.text for m in two.test.messages("amira") if "الجمعة" in m.text]
    assert "مغلق يوم الجمعة." in to_amira and "Lotse" in to_amira and "Notice from" not in to_amira
    assert [m.text for m in two.test.messages("olena")][-1].endswith("\n\nClosed on Friday.")


async def test_cancel_and_nobody_to_reach(two: TwoPlatforms) -> None:
    await people(two)
    bot = two.test
    await bot.say("weber", "/broadcast")
    await bot.press("weber", "All guides")
    await bot.press("weber", "Somali")
    await bot.press("weber", "Done")
    await bot.press("weber", "Done")
    await bot.say("weber", "Training on Monday")
    [preview] = await bot.press("weber", "Show the preview")
    assert preview.text.split("\n")[4:5] == ["0 recipients in total"]
    assert preview.text.endswith("Nobody matches this audience.") and labels(preview) == ["Cancel"]
    [cancelled] = await bot.press("weber", "Cancel")
    assert cancelled.text == "The notice was not sent."
    assert tuple(await two.store.db.fetchone("SELECT count(*) FROM broadcasts")) == (0,)


async def test_a_blocked_person_is_marked_unreachable_and_reported(two: TwoPlatforms) -> None:
    await people(two)
    two.test.blocked.add("mehmet")
    weber = await two.store.people.find("test", "weber")
    broadcast_id = await two.store.broadcasts.create(weber.id, Audience("guides"), {"": "Meeting"}, utcnow())
    await two.app.broadcast.started(broadcast_id)
    await two.app.broadcast.idle()
    assert await two.store.broadcasts.tally(broadcast_id) == {"sent": 2, "unreachable": 1}
    assert (await two.store.people.find("test", "mehmet")).unreachable_at is not None
    assert two.test.current("weber")[-1].message.text.split("\n") == [
        "Report on notice 1:", "Delivered to 2 people.",
        "1 person could not be reached: they blocked Lotse or left."]


async def test_too_long_text_is_refused(two: TwoPlatforms) -> None:
    await two.onboard("weber")
    bot = two.test
    await bot.say("weber", "/broadcast")
    await bot.press("weber", "Everyone")
    await bot.press("weber", "Done")
    await bot.press("weber", "Done")
    [problem, again] = await bot.say("weber", "x" * 3001)
    assert problem.text == "This is 3.001 characters long; at most 3.000 are possible. Please shorten it."


@pytest.mark.parametrize("left", ["claimed", "sending", "sending, recognised"])
async def test_a_row_cut_off_by_a_crash(bc_settings: Settings, left: str) -> None:
    """Claimed but never left: sent after the restart.  Left while sending (it may have arrived):
    not sent again, and the report says so — unless the platform recognises a repeat by the
    message's key (as Matrix does), then it is sent again under the same key."""
    first = TwoPlatforms(bc_settings)
    await first.app.start()
    await people(first)
    weber = await first.store.people.find("test", "weber")
    broadcast_id = await first.store.broadcasts.create(weber.id, Audience("guides"), {"": "Meeting"}, utcnow())
    cut_off = await first.store.broadcasts.claim("test", utcnow())  # claimed, then the process died
    assert cut_off is not None
    if left.startswith("sending"):
        await first.store.broadcasts.sending(cut_off.id)
    await first.app.stop()

    second = TwoPlatforms(bc_settings)
    second.test.traits = dataclasses.replace(second.test.traits, recognises_repeats=left == "sending, recognised")
    await second.app.start()  # resumes the broadcast from its outbox
    try:
        await second.app.broadcast.idle()
        mehmet = await second.store.people.get(cut_off.person_id)
        got = [m for m in second.test.messages(mehmet.platform_user_id) if "Meeting" in m.text]
        report = second.test.current("weber")[-1].message.text.split("\n")
        if left != "sending":
            assert await second.store.broadcasts.tally(broadcast_id) == {"sent": 3}
            assert len(got) == 1
            assert got[0].key == f"broadcast-{cut_off.id}"  # one key per outbox row, whatever the attempt
            assert report == ["Report on notice 1:", "Delivered to 3 people."]
        else:
            assert await second.store.broadcasts.tally(broadcast_id) == {"sent": 2, "uncertain": 1}
            assert not got
            # the progress message does not call it failed either
            [progress] = [s for s in second.test.current("weber") if s.message.text.startswith("Notice ")]
            assert progress.message.text.split("\n") == [
                "Notice 1: finished.", "Sent: 2 · Failed: 0 · May not have arrived: 1 · Remaining: 0"]
            assert report == [
                "Report on notice 1:", "Delivered to 2 people.",
                "1 message may not have arrived (Lotse restarted, or the platform did not answer in time); "
                "it was not sent again, so that nobody gets it twice."]
    finally:
        await second.app.stop()


async def test_a_report_cut_off_by_a_crash_is_sent_at_the_next_start_once(bc_settings: Settings) -> None:
    """Every row finished and the broadcast marked done, then the process died before the report
    went out: the next start sends the report, the one after does not send it again."""
    first = TwoPlatforms(bc_settings)
    await first.app.start()
    await people(first)
    weber = await first.store.people.find("test", "weber")
    await first.app.stop()

    from bot.store import Store

    store = await Store.open(bc_settings.database.path)  # what the crash left behind
    broadcast_id = await store.broadcasts.create(weber.id, Audience("guides"), {"": "Meeting"}, utcnow())
    while (claim := await store.broadcasts.claim("test", utcnow()) or await store.broadcasts.claim("matrix", utcnow())):
        await store.broadcasts.finish_row(claim.id, "sent", utcnow())
    assert await store.broadcasts.complete(broadcast_id, utcnow())
    await store.close()

    for start in (1, 2):
        world = TwoPlatforms(bc_settings)
        await world.app.start()
        try:
            await world.app.broadcast.idle()
            reports = [m.text for m in world.test.messages("weber") if m.text.startswith("Report on notice 1")]
            assert reports == (["Report on notice 1:\nDelivered to 3 people."] if start == 1 else [])
            assert (await world.store.broadcasts.get(broadcast_id)).state == "reported"
        finally:
            await world.app.stop()


async def test_a_notice_loses_control_and_bidi_characters(two: TwoPlatforms) -> None:
    await two.onboard("weber")
    bot = two.test
    await bot.say("weber", "/broadcast")
    await bot.press("weber", "Everyone")
    await bot.press("weber", "Done")
    await bot.press("weber", "Done")
    await bot.say("weber", "\u202eClosed\x1b[0m on Friday.\u200b\r\nOpen again\u2066 on Monday.\x07")
    [preview] = await bot.press("weber", "Show the preview")
    assert "Closed[0m on Friday.\nOpen again on Monday." in preview.text
    assert not any(c in preview.text for c in "\u202e\x1b\u200b\r\u2066\x07")
