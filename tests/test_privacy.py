"""Data rights in the chat: the notice (and asking again when it changes), mydata, deleteme and
withdrawing consent — what people read, what the database holds afterwards, and what is left in
the database file."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path

from bot.config import Settings
from bot.export import assignments_csv
from tests.conftest import Running, labels
from tests.privacy_helpers import file_contains
from tests.test_dispatch import TUESDAY_930, guide, person, request, settle

NOTE, PLACE = "bring the vaccination card", "Kinderarztpraxis Dr. Weber"


def with_privacy(settings: Settings, **values: object) -> Settings:
    return dataclasses.replace(settings, privacy=dataclasses.replace(settings.privacy, **values))


async def onboard(lotse: Running, user: str, language: str = "English", name: str | None = None) -> None:
    """Onboard as a newcomer (the menu's first choice), leaving the request dialog it leads into."""
    bot, name = lotse.transport, name or user.capitalize()
    await bot.say(user, "/start", language="en", name=name)
    await bot.press(user, language, name=name)
    await bot.press(user, 1, name=name)             # I agree
    await bot.press(user, 1, name=name)             # I need someone to come with me
    await lotse.store.dialogs.clear((await lotse.store.people.find("test", user)).id)


async def test_the_notice_names_who_is_responsible_and_the_rules(settings: Settings, db_path: Path) -> None:
    configured = with_privacy(settings, controller="Caritas Offenbach", contact="datenschutz@example.org",
                              dpo="dsb@example.org", notice_url="https://example.org/datenschutz", text_days=30,
                              inactive_months=24)
    lotse = await Running(configured).start()
    try:
        bot = lotse.transport
        await bot.say("amira", "/start", language="en", name="Amira")
        [notice] = await bot.press("amira", "English")
        text = notice.text
        assert text.startswith(f"Privacy notice (version {configured.privacy.notice_version})")
        for part in ("Topics and notes can say something about your health",
                     "Only the coordinators and the guide who comes with you see these details.",
                     "Place and note are deleted 30 days after the appointment.",
                     "after 24 months without use", "/mydata", "/deleteme", "as easy as giving it",
                     "Der Hessische Beauftragte für Datenschutz", "Responsible: Caritas Offenbach, "
                     "datenschutz@example.org.", "Data protection officer: dsb@example.org.",
                     "More: https://example.org/datenschutz", "Do you agree?"):
            assert part in text, part
        assert labels(notice) == ["I agree", "I do not agree"]
    finally:
        await lotse.app.stop()


async def test_a_raised_notice_version_is_asked_again_before_anything_else(settings: Settings) -> None:
    lotse = await Running(settings).start()
    try:
        await onboard(lotse, "olena")
        olena = await lotse.store.people.find("test", "olena")
        assert olena.consent_version == settings.privacy.notice_version
    finally:
        await lotse.app.stop()
    raised = with_privacy(settings, notice_version="2027-01")
    lotse = await Running(raised).start()
    try:
        bot = lotse.transport
        [asked] = await bot.say("olena", "/request")             # nothing else happens before the answer
        assert asked.text.startswith("The privacy notice has changed. Please read it and answer before you go on.")
        assert "Privacy notice (version 2027-01)" in asked.text
        problem, again = await bot.say("olena", "hello")
        assert problem.text == "Please choose one of the options below." and again.text == asked.text
        [thanks] = await bot.press("olena", "I agree")
        assert thanks.text.startswith("Thank you. Your consent was recorded")
        olena = await lotse.store.people.find("test", "olena")
        assert olena.consent_version == "2027-01"
        history = await lotse.store.db.fetchall("SELECT version, action FROM consents WHERE person_id = ? ORDER BY id",
                                                (olena.id,))
        assert [tuple(r) for r in history] == [(settings.privacy.notice_version, "agreed"), ("2027-01", "agreed")]
        [topic] = await bot.say("olena", "/request")
        assert topic.text == "What is the appointment for?"
    finally:
        await lotse.app.stop()


async def test_mydata_is_a_summary_and_a_file_of_everything_stored(lotse: Running, clock) -> None:  # noqa: ANN001
    bot = lotse.transport
    await onboard(lotse, "amira", name="Amira")
    amira = await lotse.store.people.find("test", "amira")
    for day in (TUESDAY_930, TUESDAY_930.replace(day=2)):
        await request(lotse, "amira", starts_at=day)
    [answer] = await bot.say("amira", "/mydata")
    lines = answer.text.splitlines()
    assert lines[:4] == ["Your data at Lotse:", "Name: Amira", "Language: English", "Role: newcomer"]
    assert lines[4].startswith(f"You agreed to notice {lotse.settings.privacy.notice_version} on ")
    assert "2 requests" in lines and "To delete it all, send /deleteme." in lines
    assert answer.attachment is not None and answer.attachment.filename == "lotse-mydata.json"
    exported = json.loads(answer.attachment.content)
    stored = await lotse.store.db.fetchall("SELECT id, place, note, topic FROM requests WHERE person_id = ? ORDER BY id",
                                           (amira.id,))
    assert [(r["id"], r["place"], r["note"], r["topic"]) for r in exported["requests"]] == [tuple(r) for r in stored]
    assert exported["person"]["display_name"] == "Amira" and exported["person"]["platform_user_id"] == "amira"
    assert [c["action"] for c in exported["consents"]] == ["agreed"]
    assert all(r["languages"] == ["ar"] for r in exported["requests"])


async def test_deleteme_erases_a_newcomer_and_withdraws_her_open_request(lotse: Running, db_path: Path,
                                                                          clock) -> None:  # noqa: ANN001
    bot = lotse.transport
    await guide(lotse, "leila")
    await onboard(lotse, "amira-x7q", name="Amira Haddad")
    amira = await lotse.store.people.find("test", "amira-x7q")
    request_id = await request(lotse, "amira-x7q")
    [offer] = [s for s in bot.current("leila") if labels(s.message) == ["Accept", "Decline"]]
    [sure] = await bot.say("amira-x7q", "/deleteme")
    assert sure.text.startswith("Delete all your data at Lotse?")
    assert labels(sure) == ["Yes, delete everything", "No, keep my data"]
    [last] = await bot.press("amira-x7q", "Yes, delete everything")
    assert last.text == ("Your data has been deleted, and Lotse will not write to you again. If you send /start, "
                         "you start from the beginning.")
    await settle(lotse)
    # the guide's offer is withdrawn where she reads it
    [edited] = [s for s in bot.current("leila") if s.message_id == offer.message_id]
    assert "This appointment was cancelled" in edited.message.text and not edited.message.buttons
    row = await lotse.store.db.fetchone("SELECT * FROM people WHERE id = ?", (amira.id,))
    assert row["display_name"] is None and row["platform_user_id"] == f"erased-{amira.id}"
    assert row["erased_at"] is not None and row["language"] is None and row["consent_at"] is None
    kept = await lotse.store.db.fetchone("SELECT state, place, note, topic FROM requests WHERE id = ?", (request_id,))
    assert tuple(kept) == ("cancelled", None, None, "doctor")       # the count stays, without identity
    for table in ("consents", "dialog_states", "button_tokens"):
        assert (await lotse.store.db.fetchone(f"SELECT count(*) FROM {table} WHERE person_id = ?",
                                              (amira.id,)))[0] == 0
    for trace in ("Amira Haddad", "amira-x7q", NOTE, PLACE):
        assert not file_contains(db_path, trace), trace
    [again] = await bot.say("amira-x7q", "/start", language="en")      # a later /start begins from nothing
    assert again.text.startswith("Welcome to Lotse!")
    assert (await lotse.store.people.find("test", "amira-x7q")).id != amira.id


async def test_deleteme_of_a_guide_keeps_her_past_hours_under_the_pseudonym(lotse: Running, clock) -> None:  # noqa: ANN001
    bot = lotse.transport
    leila_id = await guide(lotse, "leila")
    await person(lotse, "amira", "en", "newcomer")
    request_id = await request(lotse, "amira")
    await bot.press("leila", "Accept")
    await settle(lotse)
    assignment = await lotse.store.bookings.active_assignment(request_id)
    assert await lotse.store.bookings.report_outcome(assignment.id, leila_id, "done", TUESDAY_930)
    assert await lotse.store.bookings.report_hours(assignment.id, leila_id, 2.5)
    before = await assignments_csv(lotse.store.stats, date(2026, 12, 1), date(2026, 12, 1), lotse.settings.zone)
    await bot.say("leila", "/deleteme")
    await bot.press("leila", "Yes, delete everything")
    await settle(lotse)
    after = await assignments_csv(lotse.store.stats, date(2026, 12, 1), date(2026, 12, 1), lotse.settings.zone)
    assert after == before and b"2.5" in after                      # the Träger's accounts are unchanged
    kept = await lotse.store.db.fetchone("SELECT hours, state FROM assignments WHERE id = ?", (assignment.id,))
    assert tuple(kept) == (2.5, "done")
    guide_row = await lotse.store.db.fetchone("SELECT state, gender FROM guides WHERE person_id = ?", (leila_id,))
    assert tuple(guide_row) == ("suspended", None)                  # never offered anything again
    assert (await lotse.store.db.fetchone("SELECT count(*) FROM guide_languages WHERE guide_id = ?",
                                          (leila_id,)))[0] == 0


async def test_no_keeps_everything(lotse: Running) -> None:
    bot = lotse.transport
    await onboard(lotse, "hamid")
    await bot.say("hamid", "/deleteme")
    [kept] = await bot.say("hamid", "no")
    assert kept.text == "Nothing was deleted."
    assert (await lotse.store.people.find("test", "hamid")).display_name == "Hamid"


async def test_withdrawing_consent_takes_the_deleteme_path(settings: Settings) -> None:
    lotse = await Running(settings).start()
    try:
        await onboard(lotse, "tesfay")
    finally:
        await lotse.app.stop()
    lotse = await Running(with_privacy(settings, notice_version="2027-01")).start()
    try:
        bot = lotse.transport
        await bot.say("tesfay", "hello")
        [last] = await bot.press("tesfay", "I do not agree")
        assert last.text.startswith("Your data has been deleted")
        await settle(lotse)
        assert await lotse.store.people.find("test", "tesfay") is None
        erased = await lotse.store.db.fetchone("SELECT count(*) FROM people WHERE erased_at IS NOT NULL")
        assert erased[0] == 1
    finally:
        await lotse.app.stop()


async def test_mydata_and_deleteme_in_german(lotse: Running) -> None:
    bot = lotse.transport
    await onboard(lotse, "weber", language="Deutsch", name="Anna Weber")
    [answer] = await bot.say("weber", "/mydata")
    assert answer.text.splitlines()[1].endswith("Anna Weber")
    assert "Your data" not in answer.text and answer.attachment is not None
    [sure] = await bot.say("weber", "/deleteme")
    assert "Lotse" in sure.text and "Delete all your data" not in sure.text
    [last] = await bot.say("weber", "ja")
    assert "/start" in last.text and "Your data has been deleted" not in last.text
    await settle(lotse)
    assert await lotse.store.people.find("test", "weber") is None



async def test_erasure_does_what_the_privacy_map_says(lotse: Running, clock) -> None:  # noqa: ANN001
    """Every column the map says erasure sets to NULL is NULL in the erased person's rows, and every
    table whose rows the map says are deleted holds none of theirs — for a guide with an offer, an
    appointment and reminders, and for the newcomer who asked."""
    from bot.services import privacy
    from bot.store.privacy_map import MAP

    await guide(lotse, "leila")
    await person(lotse, "amira", "en", "newcomer")
    await request(lotse, "amira")
    await lotse.transport.press("leila", "Accept")
    await settle(lotse)
    links = {"people": "id", "guides": "person_id", "assignments": "guide_id", "offers": "guide_id"}
    for name in ("leila", "amira"):
        found = await lotse.store.people.find("test", name)
        await privacy.erase(lotse.app.services, found)
        for table, columns in MAP.items():
            names = [c for c in columns if c in ("person_id", "guide_id")] or ([links[table]] if table in links
                                                                              else [])
            link = links.get(table) or (names[0] if names else None)
            if link is None:
                continue
            rows = await lotse.store.db.fetchall(f"SELECT * FROM {table} WHERE {link} = ?", (found.id,))
            if all(c.erase == "row deleted" for c in columns.values()):
                assert rows == [], f"{table}: rows of {name} left"
            for column, rule in columns.items():
                if rule.erase.startswith("set to NULL"):
                    assert all(row[column] is None for row in rows), f"{table}.{column} of {name} kept"
