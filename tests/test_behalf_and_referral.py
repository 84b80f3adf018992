"""Requests on someone's behalf and referral to professional interpreters (issue 16, parts 4 and 5).

Herr Rahimi (Dari) has no smartphone: Frau Weber files his job-centre request with `requestfor`;
the guide who takes it gets the phone number she entered (or "through the coordinator"), and
whatever Lotse would write to him reaches her, headed with his name.  A request can need a
professional interpreter — the newcomer says so, or a coordinator marks it — and the newcomer is
then sent the language-mediator pool of [referral], once; so is a newcomer nobody was found for.
Recording transport, clock at Wednesday 25 November 2026, 10:00 in Berlin.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from bot.config import ReferralSettings, Settings
from bot.store.guides import Slot
from handlers import labels as labels_of
from tests.conftest import Clock, Running, labels
from tests.test_dispatch import TUESDAY_930, guide, offers_to, person, request, settle

pytestmark = pytest.mark.usefixtures("clock")

POOL = ReferralSettings(name="Sprachmittler-Pool Kreis Offenbach", phone="06074 8180-0000", hours="Mo–Fr 9–15 Uhr",
                        url="https://example.org/sprachmittler", ask_topics=("doctor",))
POOL_LINES = ["Language mediators: Sprachmittler-Pool Kreis Offenbach", "Phone: 06074 8180-0000",
              "Office hours: Mo–Fr 9–15 Uhr", "Web: https://example.org/sprachmittler",
              "Lotse is not an emergency service. In an emergency call 112."]
TUESDAY_MORNING = (Slot(1, 8 * 60, 13 * 60),)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, referral=POOL)


async def file_for_rahimi(lotse: Running, contact: str | None = "0151 2345678", typo: bool = False) -> list:
    """Frau Weber's `requestfor`, answered to the summary; returns the summary."""
    bot = lotse.transport
    [name] = await bot.say("weber", "/requestfor")
    assert name.text == "For whom is the request? Please type their name."
    [reach] = await bot.say("weber", "Herr Rahimi")
    assert reach.text.startswith("How can the guide reach Herr Rahimi? Type a phone number")
    assert labels(reach) == ["Through me"]
    if typo:
        [again, step] = await bot.say("weber", "ask at the Kreis office")
        assert again.text == "Please type a phone number like 0151 23456789 – or choose “Through me”."
        assert step.text.startswith("How can the guide reach Herr Rahimi?")  # only this step again
    [topic] = await (bot.say("weber", contact) if contact else bot.press("weber", "Through me"))
    assert topic.text == "What is the appointment for?"
    await bot.press("weber", "Job centre")
    await bot.say("weber", "1.12.2026")
    await bot.say("weber", "9:30")
    await bot.press("weber", "1 hour")
    [place] = await bot.press("weber", "Langen")
    [best] = await bot.press("weber", "Skip")
    assert best.text == "Which language does Herr Rahimi speak best?"
    [others] = await bot.press("weber", "Dari")
    assert others.text.startswith("Does Herr Rahimi speak any other languages?")
    [gender] = await bot.press("weber", "Done")
    assert gender.text.startswith("Would Herr Rahimi prefer a guide who is a woman or a man?")
    await bot.press("weber", "No preference")
    [summary] = await bot.press("weber", "Skip")
    return summary


async def test_frau_weber_files_for_herr_rahimi_and_the_guide_gets_his_phone(lotse: Running, clock: Clock) -> None:
    bot = lotse.transport
    weber = await person(lotse, "weber", role="newcomer")
    nasrin = await guide(lotse, "nasrin", languages=("prs", "fa", "de"), districts=("Langen",), slots=TUESDAY_MORNING)
    summary = await file_for_rahimi(lotse, typo=True)
    assert summary.text.splitlines()[:3] == ["Please check your request:", "For: Herr Rahimi",
                                             "Contact: 0151 2345678"]
    [received] = await bot.press("weber", "Send request")
    assert received.text.startswith("Thank you! The request for Herr Rahimi was received.")
    row = await lotse.store.db.fetchone("SELECT * FROM requests")
    assert (row["person_id"], row["on_behalf"], row["behalf_name"], row["behalf_phone"], row["topic"]) == (
        weber, 1, "Herr Rahimi", "0151 2345678", "jobcentre")
    assert (await lotse.store.people.get(weber)).role == "newcomer"  # unchanged: filing does not make her one
    await settle(lotse)
    [offer] = offers_to(lotse, "nasrin")
    assert "Rahimi" not in offer.message.text and "0151" not in offer.message.text  # nothing personal before Accept
    await bot.press("nasrin", "Accept")
    await settle(lotse)
    booked = bot.messages("nasrin")[-1].text.splitlines()
    assert booked[0] == "Thank you! You are coming with Herr Rahimi."
    assert "Contact: 0151 2345678" in booked
    assert any(line.startswith("Please meet Herr Rahimi on Tuesday, 1 December 2026 at 09:15") for line in booked)
    news = bot.messages("weber")[-1]
    assert news.text.splitlines()[:2] == ["For Herr Rahimi, whose request you filed:",
                                          "Good news: Nasrin (Dari, Persian, German) will come with you."]
    assert news.attachment is not None  # the calendar file, for her to print or pass on
    # the newcomer's reminder the day before reaches Frau Weber, headed with his name
    clock.now = TUESDAY_930 - timedelta(days=1, minutes=-1)
    await settle(lotse)
    reminders = [m.text for m in bot.messages("weber") if "Reminder:" in m.text]
    assert reminders and reminders[0].startswith("For Herr Rahimi, whose request you filed:\nReminder: Nasrin")
    assert any(m.text.startswith("Reminder:") for m in bot.messages("nasrin"))
    assert (await lotse.store.db.fetchone("SELECT count(*) FROM assignments WHERE guide_id = ?", (nasrin,)))[0] == 1


async def test_through_the_coordinator_names_her_to_the_guide(lotse: Running) -> None:
    bot = lotse.transport
    await person(lotse, "weber", role="newcomer")
    await guide(lotse, "nasrin", languages=("prs", "de"), districts=("Langen",), slots=TUESDAY_MORNING)
    summary = await file_for_rahimi(lotse, contact=None)
    assert "Contact: Through me" in summary.text.splitlines()
    await bot.press("weber", "Send request")
    assert (await lotse.store.db.fetchone("SELECT behalf_phone FROM requests"))[0] is None
    await settle(lotse)
    await bot.press("nasrin", "Accept")
    await settle(lotse)
    assert "Contact: through the coordinator Weber" in bot.messages("nasrin")[-1].text.splitlines()


async def test_a_coordinator_files_more_than_the_cap_of_one_person_and_only_coordinators_may(lotse: Running) -> None:
    bot = lotse.transport
    await person(lotse, "weber", role="newcomer")
    for _ in range(lotse.settings.requests.max_open_per_person + 1):
        await file_for_rahimi(lotse)
        received, *_ = await bot.press("weber", "Send request")  # and, nobody fitting, the escalation card
        assert received.text.startswith("Thank you! The request for Herr Rahimi was received.")
    assert (await lotse.store.db.fetchone("SELECT count(*) FROM requests"))[0] == \
        lotse.settings.requests.max_open_per_person + 1
    await person(lotse, "amira", role="newcomer")
    [refused] = await bot.say("amira", "/requestfor")
    assert refused.text == "This command is not available to you. Send /help to see your commands."
    assert await lotse.store.dialogs.get((await lotse.store.people.find("test", "amira")).id) is None


async def test_changing_the_name_from_the_summary(lotse: Running) -> None:
    bot = lotse.transport
    await person(lotse, "weber", role="newcomer")
    await file_for_rahimi(lotse)
    [change] = await bot.press("weber", "Change something")
    assert labels(change)[:2] == ["Name", "Contact"]
    await bot.press("weber", "Name")
    [summary] = await bot.say("weber", "Herr Ahmad Rahimi")
    assert "For: Herr Ahmad Rahimi" in summary.text.splitlines()


async def test_amira_says_she_needs_an_interpreter_and_gets_the_pool_in_arabic(lotse: Running) -> None:
    bot = lotse.transport
    await guide(lotse, "leila", slots=TUESDAY_MORNING)
    amira = await person(lotse, "amira", language="ar", role="newcomer")
    i18n = lotse.app.services.catalogs.get("ar")
    await bot.say("amira", "/request")
    [question] = await bot.press("amira", i18n.gettext("Doctor or hospital"))
    assert question.text == i18n.gettext("Guides come along but do not interpret. Is a professional interpreter "
                                         "needed, for example for a diagnosis?")
    [day] = await bot.press("amira", i18n.gettext("Yes, an interpreter is needed"))
    assert day.text.startswith(i18n.gettext("On which day is the appointment? Choose a day or type the date, for "
                                            "example %(example)s.", example="§").split("§")[0])
    for typed in ("1.12.2026", "9:30"):
        await bot.say("amira", typed)
    await bot.press("amira", 2)  # 1 hour
    await bot.press("amira", "Dreieich")
    await bot.press("amira", i18n.gettext("Skip"))
    await bot.press("amira", labels_of.language(i18n, "ar"))
    for pressed in ("Done", "A woman", "Skip"):
        await bot.press("amira", i18n.gettext(pressed))
    summary = bot.messages("amira")[-1]
    assert i18n.gettext("Professional interpreter: %(value)s", value=i18n.gettext("needed")) in summary.text
    await bot.press("amira", i18n.gettext("Send request"))
    referral = bot.messages("amira")[-1].text
    assert referral.splitlines()[0] == i18n.gettext(
        "Guides come along but are volunteers, not interpreters. For a diagnosis, a treatment or a court hearing "
        "you may need a professional interpreter.")
    assert i18n.gettext("Language mediators: %(name)s", name=POOL.name) in referral
    assert i18n.gettext("Lotse is not an emergency service. In an emergency call 112.") in referral
    row = await lotse.store.db.fetchone("SELECT interpreter, referred_at FROM requests WHERE person_id = ?", (amira,))
    assert row["interpreter"] == 1 and row["referred_at"] is not None
    await settle(lotse)
    [offer] = offers_to(lotse, "leila")
    assert "A professional interpreter is needed. The guide comes along but does not interpret." in offer.message.text


async def test_other_topics_are_not_asked_and_no_answer_leaves_it_unmarked(lotse: Running) -> None:
    bot = lotse.transport
    await person(lotse, "amira", role="newcomer")
    await bot.say("amira", "/request")
    [day] = await bot.press("amira", "Housing")
    assert day.text.startswith("On which day is the appointment?")
    # back and choose the doctor: now asked, and "no" (typed) leaves it unmarked
    await bot.say("amira", "stop")
    await bot.press("amira", "Yes, stop")
    await bot.say("amira", "/request")
    await bot.press("amira", "Doctor or hospital")
    [day] = await bot.say("amira", "no")
    assert day.text.startswith("On which day is the appointment?")


async def test_frau_weber_marks_a_request_and_amira_is_referred_once(lotse: Running) -> None:
    bot = lotse.transport
    await person(lotse, "weber", role="newcomer")
    await guide(lotse, "leila", slots=TUESDAY_MORNING)
    request_id = await request(lotse)
    await bot.press("leila", "Accept")
    await settle(lotse)
    [_, card] = await bot.say("weber", "/interpreter")
    assert card.text.startswith("Doctor or hospital on Tuesday, 1 December 2026 at 09:30")
    assert labels(card) == ["Needs an interpreter"]
    [done] = await bot.press("weber", "Needs an interpreter")
    assert done.text == "Marked. The newcomer was sent where to find a professional interpreter."
    amira_got = bot.messages("amira")[-1].text.splitlines()
    assert amira_got[1:] == POOL_LINES
    assert bot.messages("leila")[-1].text.endswith(
        "A professional interpreter is needed. The guide comes along but does not interpret.")
    assert (await lotse.store.requests.get(request_id)).interpreter
    # the same button again (an old message): already marked, nobody is told twice
    before = len(bot.messages("amira"))
    await bot.press_token("weber", card.flat_buttons[0].token)
    assert bot.messages("weber")[-1].text == "This request is already marked as needing an interpreter."
    assert len(bot.messages("amira")) == before
    [nothing] = await bot.say("weber", "/interpreter")
    assert nothing.text == "There are no upcoming requests to mark."


async def test_nobody_found_in_time_sends_the_pool_with_still_looking_once(lotse: Running) -> None:
    bot = lotse.transport
    await person(lotse, "weber", role="newcomer")
    request_id = await request(lotse, "hamid", languages=("prs",), gender=None, district="Langen")
    still = [m.text for m in bot.messages("hamid") if m.text.startswith("Lotse is still looking")]
    assert len(still) == 1
    assert still[0].splitlines()[1:] == ["You can also ask the language mediators for help:", *POOL_LINES]
    assert (await lotse.store.requests.get(request_id)).referred_at is not None
    card = bot.last_with_buttons("weber").message
    assert labels(card)[-1] == "Needs an interpreter"


async def test_without_a_pool_nobody_found_says_only_still_looking(settings: Settings, tmp_path) -> None:  # noqa: ANN001
    plain = dataclasses.replace(settings, referral=ReferralSettings())
    lotse = await Running(plain).start()
    try:
        await person(lotse, "weber", role="newcomer")
        request_id = await request(lotse, "hamid", languages=("prs",), gender=None, district="Langen")
        [still] = [m.text for m in lotse.transport.messages("hamid") if m.text.startswith("Lotse is still looking")]
        assert "\n" not in still
        assert (await lotse.store.requests.get(request_id)).referred_at is None
    finally:
        await lotse.app.stop()


async def test_retention_and_erasure_clear_the_name_and_phone(lotse: Running, clock: Clock) -> None:
    bot = lotse.transport
    weber = await person(lotse, "weber", role="newcomer")
    await file_for_rahimi(lotse)
    await bot.press("weber", "Send request")
    await settle(lotse)
    cleared = await lotse.store.privacy.clear_texts(TUESDAY_930 + timedelta(days=1))
    assert len(cleared) == 1
    row = await lotse.store.db.fetchone("SELECT on_behalf, behalf_name, behalf_phone, topic FROM requests")
    assert tuple(row) == (1, None, None, "jobcentre")  # the statistics stay, the identity goes
    await file_for_rahimi(lotse)
    await bot.press("weber", "Send request")
    await lotse.store.privacy.anonymise(weber, clock.now)  # the coordinator's own erasure
    rows = await lotse.store.db.fetchall("SELECT behalf_name, behalf_phone FROM requests")
    assert [tuple(r) for r in rows] == [(None, None), (None, None)]
