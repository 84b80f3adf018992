"""Transcripts of the newcomer's request dialog, myrequests and cancel (recording transport,
clock fixed at Wednesday 25 November 2026, 10:00 in Berlin; min lead time 24 h, Mon–Fri 8–17)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.config import Settings
from bot.store.requests import NewRequest
from tests.conftest import Clock, Running, labels, texts

pytestmark = pytest.mark.usefixtures("clock")

BEST_PROMPT = "Which language do you speak best?"
OTHERS_PROMPT = "Do you speak any other languages? Choose all that fit, then tap Done."
# The default [area] languages in English, in settings order.
LANGUAGE_NAMES = ["Arabic", "Persian", "Dari", "Pashto", "Kurdish", "Turkish", "Tigrinya", "Amharic", "Somali",
                  "Ukrainian", "Russian", "English", "French", "German"]


async def onboard(lotse: Running, user: str, language: str = "en") -> list:
    bot = lotse.transport
    await bot.say(user, "/start", language=language)
    await bot.press(user, 1)
    await bot.press(user, 1)
    return await bot.press(user, 1)  # "I need someone to come with me" starts the request


async def speak(lotse: Running, user: str, best: str, *others: str) -> list:
    """Answer the two language steps: the best language, then the others (by label), then Done;
    returns what follows (the gender question, or the summary after a change)."""
    bot = lotse.transport
    await bot.press(user, best)
    for name in others:
        await bot.press(user, name)
    return await bot.press(user, "Done")


async def fill_until(lotse: Running, user: str, step: str) -> list:
    """Answer the request dialog in English up to (not including) `step`; returns the last answer.
    The languages: English best, no others."""
    bot = lotse.transport
    answers = [("topic", "Doctor or hospital"), ("date", "3.12.2026"), ("time", "9:30"), ("duration", "1 hour"),
               ("district", "Dreieich"), ("place", "Kinderarztpraxis Dr. Weber, Bahnhofstr. 5"),
               ("best_language", "English"), ("languages", "Done"), ("gender", "A woman"), ("note", "Skip")]
    shown = await onboard(lotse, user)
    for name, answer in answers:
        if name == step:
            break
        last = bot.last_with_buttons(user)
        if answer in [b.label for b in last.message.flat_buttons] if last else False:
            shown = await bot.press(user, answer)
        else:
            shown = await bot.say(user, answer)
    return shown


async def test_full_request_transcript(lotse: Running) -> None:
    bot = lotse.transport
    [topic] = await onboard(lotse, "amira")
    assert topic.text == "What is the appointment for?"
    assert labels(topic) == ["Doctor or hospital", "Immigration office", "Job centre", "School or day care",
                             "Housing", "Other authority", "Something else"]
    [day] = await bot.press("amira", "Doctor or hospital")
    assert day.text.startswith("On which day is the appointment?")
    # the next six service days from which 24 h notice is still possible, with weekday names
    assert labels(day) == ["Thu, 26 Nov", "Fri, 27 Nov", "Mon, 30 Nov", "Tue, 1 Dec", "Wed, 2 Dec", "Thu, 3 Dec"]
    [hour] = await bot.press("amira", "Tue, 1 Dec")
    assert hour.text.startswith("At what time does it start?")
    assert labels(hour) == ["08:00", "10:00", "11:00", "13:00", "14:00",
                            "16:00"]
    [duration] = await bot.say("amira", "9:30")
    assert labels(duration) == ["30 minutes", "1 hour", "2 hours", "3 hours", "4 hours"]
    [town] = await bot.press("amira", "1 hour")
    assert "Dreieich" in labels(town)
    [place] = await bot.press("amira", "Dreieich")
    assert labels(place) == ["Skip"]
    [best] = await bot.say("amira", "Kinderarztpraxis <Dr. Weber> & Partner")
    # The best language is asked first, a single choice, two to a row, nothing pre-ticked: the
    # menu language (English) is not taken for a spoken one.
    assert best.text == BEST_PROMPT
    assert labels(best) == LANGUAGE_NAMES
    assert [len(row) for row in best.buttons] == [2] * 7
    [others] = await bot.press("amira", "Arabic")
    assert others.text == OTHERS_PROMPT
    assert labels(others) == [n for n in LANGUAGE_NAMES if n != "Arabic"] + ["Done"]  # the best one not again
    await bot.press("amira", "English")  # toggles, the message is edited in place
    edited = bot.sent[-1]
    assert edited.edited and [label for label in labels(edited.message) if label.startswith("✓")] == ["✓ English"]
    [gender] = await bot.press("amira", "Done")
    assert labels(gender) == ["A woman", "A man", "No preference"]
    [note] = await bot.press("amira", "A woman")
    assert labels(note) == ["Skip"]
    [summary] = await bot.press("amira", "Skip")
    assert summary.text.splitlines() == [
        "Please check your request:",
        "Topic: Doctor or hospital",
        "Date: Tuesday, 1 December 2026",
        "Time: 09:30",
        "Duration: 1 hour",
        "Town: Dreieich",
        "Place: Kinderarztpraxis <Dr. Weber> & Partner",
        "Languages: Arabic, English",
        "Guide: A woman",
        "Note: —",
    ]
    assert labels(summary) == ["Send request", "Change something", "Discard"]
    [received] = await bot.press("amira", "Send request")
    assert received.text.startswith("Thank you! Your request was received.")

    [row] = await lotse.store.db.fetchall("SELECT * FROM requests")
    assert (row["topic"], row["district"], row["duration_minutes"], row["preferred_gender"], row["state"]) == (
        "doctor", "Dreieich", 60, "female", "open")
    assert row["starts_at"] == "2026-12-01T08:30:00+00:00"  # 9:30 in Berlin, stored in UTC
    assert row["note"] is None and row["place"] == "Kinderarztpraxis <Dr. Weber> & Partner"
    langs_rows = await lotse.store.db.fetchall("SELECT language, position FROM request_languages ORDER BY position")
    assert [tuple(r) for r in langs_rows] == [("ar", 0), ("en", 1)]  # the best language first
    assert await lotse.store.dialogs.get(row["person_id"]) is None


@pytest.mark.parametrize("typed, reply", [
    ("next week", "I could not read this date. Please type it like"),
    ("31.2.2027", "I could not read this date."),
    ("20.11.2026", "This date is in the past."),
    ("28.11.2026", "There is no service on Saturday. Service days are: Monday, Tuesday, Wednesday, Thursday, Friday."),
    ("25.11.2026", "This is too soon: a guide needs at least 24 hours notice. For an emergency call 112."),
    ("1.6.2027", "Lotse can arrange appointments up to 90 days ahead."),
])
async def test_invalid_dates_reask_and_keep_the_topic(lotse: Running, typed: str, reply: str) -> None:
    bot = lotse.transport
    await fill_until(lotse, "amira", "date")
    problem, again = await bot.say("amira", typed)
    assert problem.text.startswith(reply)
    assert again.text.startswith("On which day is the appointment?")
    [hour] = await bot.say("amira", "3.12.2026")  # then a good date goes on, the topic kept
    assert hour.text.startswith("At what time")
    state = await lotse.store.dialogs.get((await lotse.store.people.find("test", "amira")).id)
    assert state.data["topic"] == "doctor" and state.data["date"] == "2026-12-03"


@pytest.mark.parametrize("typed, reply", [
    ("soon", "I could not read this time. Please type it like 09:30."),
    ("25:00", "I could not read this time."),
    ("7:00", "Appointments can start between 08:00 and 17:00."),
    ("17:30", "Appointments can start between"),
])
async def test_invalid_times_reask_and_keep_the_date(lotse: Running, typed: str, reply: str) -> None:
    bot = lotse.transport
    await fill_until(lotse, "amira", "time")
    problem, again = await bot.say("amira", typed)
    assert problem.text.startswith(reply)
    assert again.text.startswith("At what time")
    await bot.say("amira", "14.15")
    state = await lotse.store.dialogs.get((await lotse.store.people.find("test", "amira")).id)
    assert state.data["date"] == "2026-12-03" and state.data["time"] == 14 * 60 + 15


async def test_time_too_soon_on_the_next_day(lotse: Running) -> None:
    bot = lotse.transport
    await fill_until(lotse, "amira", "date")
    [hour] = await bot.press("amira", "Thu, 26 Nov")
    assert labels(hour)[0] == "10:00"  # earlier hours are less than 24 h away
    problem, _ = await bot.say("amira", "9:00")
    assert problem.text.startswith("This is too soon")


async def test_overlong_place_and_note_are_refused(lotse: Running, settings: Settings) -> None:
    bot = lotse.transport
    await fill_until(lotse, "amira", "place")
    problem, again = await bot.say("amira", "x" * 201)
    assert problem.text == "Please write at most 200 characters."
    await bot.say("amira", "Rathaus")
    await speak(lotse, "amira", "Arabic")
    await bot.press("amira", "No preference")
    problem, again = await bot.say("amira", "y" * 301)
    assert problem.text == "Please write at most 300 characters."
    [summary] = await bot.say("amira", "Please speak slowly")
    assert "Note: Please speak slowly" in summary.text and "Place: Rathaus" in summary.text


async def test_place_and_note_lose_control_and_bidi_characters(lotse: Running) -> None:
    bot = lotse.transport
    await fill_until(lotse, "amira", "place")
    await bot.say("amira", "Rathaus\u202e\x1b[31m\nZimmer\t3\u2069")
    await speak(lotse, "amira", "Arabic")
    await bot.press("amira", "No preference")
    # the note keeps its line break, Dari's zero-width non-joiner and right-to-left mark
    [summary] = await bot.say("amira", "\u2066Bitte\x00 langsam\u202d\r\nsprechen\u200b\x7f – می\u200cخواهم\u200f")
    assert "Place: Rathaus[31m Zimmer 3\n" in summary.text
    assert "Note: Bitte langsam\nsprechen – می\u200cخواهم\u200f" in summary.text
    await bot.press("amira", "Send request")
    [row] = await lotse.store.db.fetchall("SELECT place, note FROM requests")
    assert row["place"] == "Rathaus[31m Zimmer 3"
    assert row["note"] == "Bitte langsam\nsprechen – می\u200cخواهم\u200f"


async def test_languages_need_a_best_one_and_take_typed_numbers(lotse: Running) -> None:
    bot = lotse.transport
    [best] = await fill_until(lotse, "amira", "best_language")
    assert best.text == BEST_PROMPT and "Done" not in labels(best)
    problem, again = await bot.say("amira", "Done")  # one best language is needed
    assert problem.text == "Please choose one of the options below."
    assert again.text == BEST_PROMPT
    [others] = await bot.say("amira", str(LANGUAGE_NAMES.index("Arabic") + 1))  # a typed number
    assert others.text == OTHERS_PROMPT
    names = [label.removeprefix("✓ ") for label in labels(others)]
    [shown] = await bot.say("amira", f"{names.index('Kurdish') + 1} {names.index('German') + 1}")
    assert [label for label in labels(shown) if label.startswith("✓")] == ["✓ Kurdish", "✓ German"]
    [gender] = await bot.press("amira", "Done")
    assert gender.text.startswith("Would you prefer a guide who is a woman or a man?")
    state = await lotse.store.dialogs.get((await lotse.store.people.find("test", "amira")).id)
    assert state.data["languages"] == ["ar", "ku", "de"]


async def test_no_other_language_is_needed(lotse: Running) -> None:
    bot = lotse.transport
    await fill_until(lotse, "amira", "best_language")
    await bot.press("amira", "Tigrinya")
    [gender] = await bot.press("amira", "Done")  # Done with none chosen: only the best language
    assert gender.text.startswith("Would you prefer a guide who is a woman or a man?")
    state = await lotse.store.dialogs.get((await lotse.store.people.find("test", "amira")).id)
    assert state.data["languages"] == ["ti"]


async def test_a_dari_speaker_who_reads_english_menus(lotse: Running) -> None:
    """Hamid speaks Dari best and some English; he reads Lotse in English because Lotse has no
    Dari menus.  He is recorded Dari-first, not English-first."""
    bot = lotse.transport
    [best] = await fill_until(lotse, "hamid", "best_language")
    hamid = await lotse.store.people.find("test", "hamid")
    assert hamid is not None and hamid.language == "en"  # the menus are English
    assert best.text == BEST_PROMPT and not any(label.startswith("✓") for label in labels(best))
    [others] = await bot.press("hamid", "Dari")
    assert "Dari" not in labels(others) and not any(label.startswith("✓") for label in labels(others))
    await bot.press("hamid", "English")
    await bot.press("hamid", "Done")
    await bot.press("hamid", "A man")
    [summary] = await bot.press("hamid", "Skip")
    assert "Languages: Dari, English" in summary.text.splitlines()
    [received] = await bot.press("hamid", "Send request")
    assert received.text.startswith("Thank you! Your request was received.")
    langs_rows = await lotse.store.db.fetchall("SELECT language, position FROM request_languages ORDER BY position")
    assert [tuple(r) for r in langs_rows] == [("prs", 0), ("en", 1)]


async def test_change_a_field_from_the_summary(lotse: Running) -> None:
    bot = lotse.transport
    await fill_until(lotse, "amira", "note")
    [summary] = await bot.press("amira", "Skip")
    [which] = await bot.press("amira", "Change something")
    assert labels(which) == ["Topic", "Date", "Time", "Duration", "Town", "Place", "Languages", "Guide", "Note"]
    [town] = await bot.press("amira", "Town")
    [summary] = await bot.press("amira", "Rodgau")  # straight back to the summary
    assert "Town: Rodgau" in summary.text and "Time: 09:30" in summary.text
    await bot.press("amira", "Change something")
    await bot.press("amira", "Date")  # a new date asks for the time again, then returns
    [hour] = await bot.say("amira", "2.12.2026")
    assert hour.text.startswith("At what time")
    [summary] = await bot.say("amira", "11:00")
    assert "Date: Wednesday, 2 December 2026" in summary.text and "Time: 11:00" in summary.text


async def test_change_the_languages_from_the_summary_asks_both_steps(lotse: Running) -> None:
    bot = lotse.transport
    await fill_until(lotse, "amira", "note")
    [summary] = await bot.press("amira", "Skip")
    assert "Languages: English" in summary.text.splitlines()
    await bot.press("amira", "Change something")
    [best] = await bot.press("amira", "Languages")
    assert best.text == BEST_PROMPT and labels(best) == LANGUAGE_NAMES  # a single choice again
    [others] = await bot.press("amira", "Arabic")
    assert others.text == OTHERS_PROMPT and "Arabic" not in labels(others)
    # the languages chosen before are still ticked; English stays as another language
    assert [label for label in labels(others) if label.startswith("✓")] == ["✓ English"]
    await bot.press("amira", "Kurdish")
    [summary] = await bot.press("amira", "Done")  # back to the summary, not on to the guide's gender
    assert summary.text.startswith("Please check your request:")
    assert "Languages: Arabic, English, Kurdish" in summary.text.splitlines()
    assert "Guide: A woman" in summary.text.splitlines()
    await bot.press("amira", "Send request")
    langs_rows = await lotse.store.db.fetchall("SELECT language, position FROM request_languages ORDER BY position")
    assert [tuple(r) for r in langs_rows] == [("ar", 0), ("en", 1), ("ku", 2)]


async def test_discard_keeps_nothing(lotse: Running) -> None:
    bot = lotse.transport
    await fill_until(lotse, "amira", "note")
    await bot.press("amira", "Skip")
    [gone] = await bot.press("amira", "Discard")
    assert gone.text.startswith("Your request was discarded.")
    assert await lotse.store.db.fetchall("SELECT * FROM requests") == []


async def test_open_requests_are_capped(lotse: Running, clock: Clock) -> None:
    await onboard(lotse, "olena")
    person = await lotse.store.people.find("test", "olena")
    for days in (2, 3, 4):
        await lotse.store.requests.create(person.id, NewRequest(
            "immigration", clock.now + timedelta(days=days), 60, "Dietzenbach", None, None, None, ("uk",)), clock.now)
    [refused] = await lotse.transport.say("olena", "/request")
    assert refused.text == ("You already have 3 open requests, the most one person can have. "
                            "Send /cancel to cancel one.")


async def test_myrequests_and_cancel(lotse: Running, clock: Clock) -> None:
    bot = lotse.transport
    await onboard(lotse, "olena")
    [none] = await bot.say("olena", "/myrequests")
    assert none.text.startswith("You have no requests yet.")
    person = await lotse.store.people.find("test", "olena")
    thursday_2pm = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
    request_id = await lotse.store.requests.create(person.id, NewRequest(
        "immigration", thursday_2pm, 60, "Dietzenbach", None, None, None, ("uk", "ru")), clock.now)
    [listing] = await bot.say("olena", "/myrequests")
    assert listing.text.splitlines() == ["Your requests:",
                                         "Immigration office – Thu, 3 Dec, 14:00, Dietzenbach: searching for a guide"]
    [leave] = await bot.say("olena", "/cancel")              # still in the request form of her onboarding:
    assert labels(leave) == ["Yes, stop", "No, go on"]      # /cancel leaves the form first …
    await bot.press("olena", "Yes, stop")
    [which] = await bot.say("olena", "/cancel")              # … and then offers to cancel a request
    assert labels(which) == ["Immigration office – Thu, 3 Dec, 14:00, Dietzenbach"]
    [sure] = await bot.press("olena", 1)
    assert labels(sure) == ["Yes, cancel it", "No, keep it"]
    [kept] = await bot.press("olena", "No, keep it")
    assert kept.text == "Your request stays as it is."
    await bot.say("olena", "/cancel")
    await bot.press("olena", 1)
    [done] = await bot.press("olena", "Yes, cancel it")
    assert done.text == "Your request was cancelled."
    assert (await lotse.store.requests.get(request_id)).state == "cancelled"
    [nothing] = await bot.say("olena", "/cancel")
    assert nothing.text == "You have no open requests to cancel."


async def test_restart_in_the_middle_of_a_request_resumes(settings: Settings) -> None:
    first = await Running(settings).start()
    await fill_until(first, "tesfay", "district")
    await first.app.stop()
    second = await Running(settings).start()
    try:
        [place] = await second.transport.say("tesfay", "Rodgau")  # typed label of the district step
        assert place.text.startswith("Where exactly?")
        state = await second.store.dialogs.get((await second.store.people.find("test", "tesfay")).id)
        assert state.data["topic"] == "doctor" and state.data["time"] == 9 * 60 + 30
        assert state.data["district"] == "Rodgau"
    finally:
        await second.app.stop()


async def test_typed_german_and_arabic_dates(lotse: Running) -> None:
    bot = lotse.transport
    await bot.say("amira", "/start", language="ar")
    await bot.press("amira", 1)
    await bot.press("amira", 1)
    await bot.press("amira", 1)
    await bot.press("amira", 1)  # a topic
    [hour] = await bot.say("amira", "٣.١٢.")  # Arabic-Indic digits, day first, no year
    state = await lotse.store.dialogs.get((await lotse.store.people.find("test", "amira")).id)
    assert state.data["date"] == "2026-12-03"
    assert texts([hour])[0] != ""


async def test_typed_numbers_mean_what_they_say_where_options_are_buttons(lotse: Running) -> None:
    """With native buttons (Telegram), a typed "2" at the duration is two hours, never button 2, and
    a typed "1" at the time is one o'clock (refused: outside service hours), never the first button."""
    bot = lotse.transport
    [time_step] = await fill_until(lotse, "amira", "time")
    problem, again = await bot.say("amira", "1")
    assert problem.text.startswith("Appointments can start between") and again.text == time_step.text
    await bot.say("amira", "9:30")
    [district] = await bot.say("amira", "2")
    assert district.text == "In which town is the appointment?"
    state = await lotse.store.dialogs.get((await lotse.store.people.find("test", "amira")).id)
    assert state.data["duration"] == 120                         # "2" = two hours (button 2 is "1 hour")
    await fill_until(lotse, "olena", "duration")
    [_] = await bot.say("olena", "90 min")
    state = await lotse.store.dialogs.get((await lotse.store.people.find("test", "olena")).id)
    assert state.data["duration"] == 90
    await fill_until(lotse, "hamid", "duration")
    wrong, again = await bot.say("hamid", "9 hours")
    assert wrong.text == "An appointment can take from 15 minutes to 8 hours, in quarter hours."
    assert again.text == "About how long will it take?"


async def test_a_bare_number_picks_the_numbered_option_where_options_are_a_list(lotse: Running) -> None:
    """Where options are a numbered list (Matrix, the terminal), the number someone reads picks it;
    a value with its unit ("2 h") or a clock form ("9:30") is always the value."""
    import dataclasses

    lotse.transport.traits = dataclasses.replace(lotse.transport.traits, native_buttons=False)
    bot = lotse.transport
    await fill_until(lotse, "amira", "duration")
    await bot.say("amira", "2")                                     # option 2: "1 hour"
    person = await lotse.store.people.find("test", "amira")
    assert (await lotse.store.dialogs.get(person.id)).data["duration"] == 60
    await fill_until(lotse, "hamid", "duration")
    await bot.say("hamid", "2 h")
    person = await lotse.store.people.find("test", "hamid")
    assert (await lotse.store.dialogs.get(person.id)).data["duration"] == 120
