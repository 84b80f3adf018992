"""Transcripts of the guide side: registration, availability, pause and resume.

The clock stands at Wednesday 25 November 2026, 10:00 in Berlin (the `clock` fixture); the people
are the guides of SCENARIOS.md.  Each test reads what the person sees and the rows in the database.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

from bot.config import Settings
from bot.core.types import Message
from bot.clock import utcnow
from bot.services import guides as standing
from tests.conftest import Clock, Running, labels

TODAY = date(2026, 11, 25)  # the `clock` fixture's day in Berlin
BEST_PROMPT = "Which language do you speak best?"
LANGUAGE_PROMPT = "Which other languages do you speak well enough to help? Choose all that apply, then press Done."
# The default [area] languages in English, in settings order: the options of the best language.
LANGUAGE_NAMES = ["Arabic", "Persian", "Dari", "Pashto", "Kurdish", "Turkish", "Tigrinya", "Amharic", "Somali",
                  "Ukrainian", "Russian", "English", "French", "German"]


def others(best: str, *names: str) -> str:
    """What to type on the "other languages" step (whose options leave out the best language) to
    toggle `names`: their numbers there, e.g. others("Turkish", "Kurdish") == "5"."""
    options = [name for name in LANGUAGE_NAMES if name != best]
    return " ".join(str(options.index(name) + 1) for name in names)
DISTRICT_PROMPT = "In which districts can you accompany people? Choose all that apply, then press Done."
TOPIC_PROMPT = "Which kinds of appointments are you comfortable with? Choose all that apply, then press Done."
SLOTS_PROMPT = "When are you available each week?"
MAX_PROMPT = "How many appointments a week can you take on at most?"
GENDER_PROMPT = "What is your gender? This is optional."
SUMMARY_PROMPT = "Please check your details:"


async def onboard(lotse: Running, user: str, role: int = 2, language: str = "en") -> list[Message]:
    """Start, English, agree, and choose the menu entry `role` (2: volunteer as a guide)."""
    bot = lotse.transport
    await bot.say(user, "/start", language=language)
    await bot.press(user, 1)
    await bot.press(user, "I agree")
    return await bot.press(user, role)


async def person_id(lotse: Running, user: str) -> int:
    person = await lotse.store.people.find("test", user)
    assert person is not None
    return person.id


async def rows(lotse: Running, sql: str, user: str) -> set[tuple]:
    return {tuple(r) for r in await lotse.store.db.fetchall(sql, (await person_id(lotse, user),))}


async def dialog_data(lotse: Running, user: str) -> tuple[str, dict]:
    row = await lotse.store.db.fetchone("SELECT step, data FROM dialog_states WHERE person_id = ?",
                                        (await person_id(lotse, user),))
    assert row is not None
    return row["step"], json.loads(row["data"])


async def register_mehmet(lotse: Running, user: str = "mehmet") -> Message:
    """Mehmet's registration typed in the shortest way; returns the summary."""
    bot = lotse.transport
    await onboard(lotse, user)
    await bot.say(user, "Turkish")  # best
    await bot.say(user, others("Turkish", "Kurdish", "English", "German"))
    await bot.say(user, "Done")
    await bot.say(user, "1 6")      # Dietzenbach, Rodgau
    await bot.say(user, "Done")
    await bot.say(user, "2 3 6")    # immigration office, job centre, other authority
    await bot.say(user, "Done")
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday"):
        await bot.say(user, "Add a time")
        await bot.say(user, day)
        await bot.say(user, "8-13")
    await bot.say(user, "Done")
    await bot.say(user, "3")
    [summary] = await bot.say(user, "Man")
    assert summary.text.startswith(SUMMARY_PROMPT)
    return summary


async def onboard_weber(lotse: Running) -> None:
    """The coordinator once wrote to Lotse in English, so what she gets is in English."""
    await onboard(lotse, "weber", role=1)


def sent_to(lotse: Running, user: str) -> list[Message]:
    return lotse.transport.messages(user)


# -- registration -----------------------------------------------------------------------------------
async def test_full_registration_with_buttons(lotse: Running, clock: Clock) -> None:
    bot = lotse.transport
    await onboard_weber(lotse)
    before_weber = len(sent_to(lotse, "weber"))

    intro, best = await onboard(lotse, "mehmet")
    assert intro.text.startswith("Thank you for volunteering!")
    # The best language first, a single choice; the menu language (English) is not pre-ticked.
    assert best.text == BEST_PROMPT
    assert labels(best) == LANGUAGE_NAMES
    [languages] = await bot.press("mehmet", "Turkish")
    assert languages.text == LANGUAGE_PROMPT
    assert labels(languages) == [name for name in LANGUAGE_NAMES if name != "Turkish"] + ["Done"]
    for name in ("Kurdish", "German", "English"):
        [edited] = await bot.press("mehmet", name)
        assert f"✓ {name}" in labels(edited)
    [edited] = await bot.press("mehmet", "✓ English")  # a second tap takes it back
    assert "English" in labels(edited) and "✓ English" not in labels(edited)
    [districts] = await bot.press("mehmet", "Done")
    assert districts.text == DISTRICT_PROMPT
    assert labels(districts) == ["Dietzenbach", "Dreieich", "Langen", "Mühlheim", "Neu-Isenburg", "Rodgau",
                                 "Seligenstadt", "All districts", "Done"]
    await bot.press("mehmet", "Dietzenbach")
    await bot.press("mehmet", "Rodgau")
    [topics] = await bot.press("mehmet", "Done")
    assert topics.text == TOPIC_PROMPT
    assert labels(topics) == ["Doctor or hospital", "Immigration office", "Job centre", "School or day care",
                              "Housing", "Other authority", "Something else", "Done"]
    for name in ("Immigration office", "Job centre", "Other authority"):
        await bot.press("mehmet", name)
    [slots] = await bot.press("mehmet", "Done")
    assert slots.text.splitlines()[:2] == [SLOTS_PROMPT, "No times yet."]
    assert labels(slots) == ["Add a time", "Done"]

    [weekdays] = await bot.press("mehmet", "Add a time")
    assert weekdays.text == "On which day of the week?"
    assert labels(weekdays) == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
                                "Mon–Fri", "Back"]
    [times] = await bot.press("mehmet", "Monday")
    assert times.text.startswith("Monday: from when until when are you available?")
    assert labels(times) == ["08:00–12:00", "12:00–16:00", "16:00–20:00", "Back"]
    [slots] = await bot.press("mehmet", "08:00–12:00")
    assert slots.text.splitlines()[1] == "Monday 08:00–12:00"
    assert labels(slots) == ["Add a time", "Remove a time", "Done"]
    for day in ("Tuesday", "Wednesday", "Thursday"):
        await bot.press("mehmet", "Add a time")
        await bot.press("mehmet", day)
        [slots] = await bot.say("mehmet", "8:00-13:00")
    assert slots.text.splitlines()[1:5] == ["Monday 08:00–12:00", "Tuesday 08:00–13:00",
                                            "Wednesday 08:00–13:00", "Thursday 08:00–13:00"]

    [weekly] = await bot.press("mehmet", "Done")
    assert weekly.text == MAX_PROMPT and labels(weekly) == ["1", "2", "3", "4", "5"]
    [gender] = await bot.press("mehmet", "3")
    assert gender.text.splitlines() == [GENDER_PROMPT, "Lotse uses it only when a newcomer asks for a guide of a "
                                                       "particular gender."]
    assert labels(gender) == ["Woman", "Man", "Diverse", "I prefer not to say"]
    [summary] = await bot.press("mehmet", "Man")
    assert summary.text.splitlines() == [
        SUMMARY_PROMPT, "",
        "Languages: Turkish, Kurdish, German",
        "Districts: Dietzenbach, Rodgau",
        "Topics: Immigration office, Job centre, Other authority",
        "Available:",
        "Monday 08:00–12:00", "Tuesday 08:00–13:00", "Wednesday 08:00–13:00",
        "Thursday 08:00–13:00",
        "At most 3 appointments a week",
        "Gender: Man",
    ]
    assert labels(summary) == ["Confirm", "Change something", "Discard"]
    assert await lotse.store.guides.get(await person_id(lotse, "mehmet")) is None  # nothing saved yet

    [done] = await bot.press("mehmet", "Confirm")
    lines = done.text.splitlines()
    assert lines[0] == "Thank you for registering as a guide!"
    assert "A coordinator checks your registration." in lines
    assert any("basic training" in line for line in lines)
    assert any("confidentiality pledge" in line for line in lines)
    assert "When a coordinator has approved you, you will get a message here." in lines

    guide = await lotse.store.db.fetchone("SELECT * FROM guides WHERE person_id = ?",
                                          (await person_id(lotse, "mehmet"),))
    assert (guide["state"], guide["weekly_max"], guide["gender"], guide["all_districts"]) == (
        "pending", 3, "male", 0)
    assert guide["paused_from"] is None and guide["registered_at"] is not None
    assert await rows(lotse, "SELECT language FROM guide_languages WHERE guide_id = ?", "mehmet") == {
        ("tr",), ("ku",), ("de",)}
    assert await rows(lotse, "SELECT district FROM guide_districts WHERE guide_id = ?", "mehmet") == {
        ("Dietzenbach",), ("Rodgau",)}
    assert await rows(lotse, "SELECT topic FROM guide_topics WHERE guide_id = ?", "mehmet") == {
        ("immigration",), ("jobcentre",), ("authority",)}
    assert await rows(lotse, "SELECT weekday, start_minute, end_minute FROM guide_slots WHERE guide_id = ?",
                      "mehmet") == {(0, 480, 720), (1, 480, 780), (2, 480, 780), (3, 480, 780)}
    person = await lotse.store.people.find("test", "mehmet")
    assert person is not None and person.role == "guide"
    assert await lotse.store.dialogs.get(person.id) is None

    # Frau Weber was told, with the profile and buttons to decide.
    [announcement] = sent_to(lotse, "weber")[before_weber:]
    assert announcement.text.startswith("Mehmet registered as a guide and waits for your approval.")
    assert "Languages: Turkish, Kurdish, German" in announcement.text  # as the store orders them
    assert "Districts: Dietzenbach, Rodgau" in announcement.text
    assert labels(announcement) == ["Approve", "Reject"]
    [question] = await bot.press("weber", "Approve")
    assert question.text == "Approve Mehmet as a guide?"


async def test_typed_numbers_all_districts_and_discard(lotse: Running, clock: Clock) -> None:
    """Nasrin types her choices; "All districts" means all; discarding saves nothing."""
    bot = lotse.transport
    await onboard(lotse, "nasrin")
    [languages] = await bot.say("nasrin", "2")     # Persian, the best
    assert languages.text == LANGUAGE_PROMPT and not any(label.startswith("✓") for label in labels(languages))
    [languages] = await bot.say("nasrin", others("Persian", "English", "German"))
    assert [label for label in labels(languages) if label.startswith("✓")] == ["✓ English", "✓ German"]
    [languages] = await bot.say("nasrin", others("Persian", "German"))  # typed again: German off
    assert [label for label in labels(languages) if label.startswith("✓")] == ["✓ English"]
    await bot.say("nasrin", "14")                  # the number of Done (13 other languages)
    await bot.say("nasrin", "2")                   # Dreieich ...
    [districts] = await bot.say("nasrin", "All districts")  # ... and all of them
    assert "✓ All districts" in labels(districts)
    await bot.say("nasrin", "Done")
    await bot.say("nasrin", "1 2 3 4 5")
    await bot.say("nasrin", "done")                # the label of Done, in any case
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        await bot.say("nasrin", "1")  # Add a time
        await bot.say("nasrin", day)
        await bot.say("nasrin", "8-12")  # typed as a range: a number would be a time here
    await bot.say("nasrin", "Done")
    await bot.say("nasrin", "5")
    [summary] = await bot.say("nasrin", "Woman")
    assert "Languages: Persian, English" in summary.text.splitlines()
    assert "Districts: All districts" in summary.text.splitlines()
    assert "Topics: Doctor or hospital, Immigration office, Job centre, School or day care, Housing" \
        in summary.text.splitlines()
    assert summary.text.count("08:00–12:00") == 5

    # Discard: nothing is kept, the role stays what the menu made it.
    [gone] = await bot.say("nasrin", "Discard")
    assert gone.text == "Your registration was discarded. Nothing was saved."
    assert await lotse.store.guides.get(await person_id(lotse, "nasrin")) is None

    # The same answers again, confirmed: all districts is a flag, not a row per district.
    await bot.say("nasrin", "/guide")
    for answer in ("2", others("Persian", "English"), "Done", "Dreieich", "All districts", "Done", "1", "Done", "Add a time", "Friday", "9-12",
                   "Done", "5", "Woman"):
        await bot.say("nasrin", answer)
    await bot.say("nasrin", "Confirm")
    guide = await lotse.store.db.fetchone("SELECT state, all_districts, gender FROM guides WHERE person_id = ?",
                                          (await person_id(lotse, "nasrin"),))
    assert tuple(guide) == ("pending", 1, "female")
    assert await rows(lotse, "SELECT district FROM guide_districts WHERE guide_id = ?", "nasrin") == set()
    saved = await lotse.store.guides.get(await person_id(lotse, "nasrin"))
    assert saved is not None and saved.profile.districts == ("*",) and saved.profile.languages == ("fa", "en")


async def test_invalid_answers_reask_the_same_step_and_keep_earlier_answers(lotse: Running, clock: Clock) -> None:
    bot = lotse.transport
    await onboard(lotse, "yonas")

    # Done where one best language is needed.
    refused, again = await bot.say("yonas", "Done")
    assert refused.text == "Please choose one of the options below."
    assert again.text == BEST_PROMPT and not any(label.startswith("✓") for label in labels(again))
    await bot.say("yonas", "7")  # Tigrinya
    await bot.say("yonas", others("Tigrinya", "Amharic", "English", "German"))
    [districts] = await bot.say("yonas", "Done")
    assert districts.text == DISTRICT_PROMPT
    refused, again = await bot.say("yonas", "Done")
    assert refused.text == "Please choose at least one." and again.text == DISTRICT_PROMPT
    await bot.press("yonas", "Rodgau")
    await bot.press("yonas", "Done")
    refused, again = await bot.press("yonas", "Done")
    assert refused.text == "Please choose at least one." and again.text == TOPIC_PROMPT
    await bot.say("yonas", "5")
    [slots] = await bot.say("yonas", "Done")

    # Done on the slot list without any slot.
    refused, again = await bot.press("yonas", "Done")
    assert refused.text == "Please add at least one time first."
    assert again.text.startswith(SLOTS_PROMPT) and "No times yet." in again.text
    await bot.press("yonas", "Add a time")
    [times] = await bot.press("yonas", "Saturday")

    # A range that ends before it starts.
    refused, again = await bot.say("yonas", "18-10")
    assert refused.text.splitlines() == ["The end of the time must be after its start.",
                                         "Please type a time range like 9-13 or 9:00-12:30."]
    assert again.text == times.text and labels(again) == labels(times)  # still Saturday
    # Something that is no time at all.
    refused, again = await bot.say("yonas", "in the evening")
    assert refused.text.splitlines()[0] == "I could not read this time."
    assert again.text.startswith("Saturday: ")
    refused, again = await bot.say("yonas", "25-26")
    assert refused.text.splitlines()[0] == "I could not read this time."
    step, data = await dialog_data(lotse, "yonas")
    assert step == "slot_time" and data["slot_day"] == 5
    assert data["languages"] == ["ti", "am", "en", "de"] and data["districts"] == ["Rodgau"]
    assert data["topics"] == ["housing"] and "slot_list" not in data

    [slots] = await bot.say("yonas", "10-18")
    assert "Saturday 10:00–18:00" in slots.text.splitlines()
    await bot.press("yonas", "Add a time")
    await bot.press("yonas", "Tuesday")
    await bot.say("yonas", "from 5 to 9 pm")
    await bot.press("yonas", "Done")
    await bot.press("yonas", "2")
    [summary] = await bot.press("yonas", "I prefer not to say")
    assert summary.text.splitlines()[2:] == [
        "Languages: Tigrinya, Amharic, English, German", "Districts: Rodgau", "Topics: Housing", "Available:",
        "Tuesday 17:00–21:00", "Saturday 10:00–18:00", "At most 2 appointments a week",
        "Gender: I prefer not to say"]
    await bot.press("yonas", "Confirm")
    assert await rows(lotse, "SELECT weekday, start_minute, end_minute FROM guide_slots WHERE guide_id = ?",
                      "yonas") == {(1, 17 * 60, 21 * 60), (5, 600, 1080)}
    guide = await lotse.store.db.fetchone("SELECT gender FROM guides WHERE person_id = ?",
                                          (await person_id(lotse, "yonas"),))
    assert guide["gender"] is None


async def test_change_a_field_from_the_summary_returns_to_the_summary(lotse: Running, clock: Clock) -> None:
    bot = lotse.transport
    await register_mehmet(lotse)
    [change] = await bot.say("mehmet", "Change something")
    assert change.text == "What do you want to change?"
    assert labels(change) == ["Languages", "Districts", "Topics", "Weekly availability", "Appointments per week",
                              "Gender", "Back"]
    [districts] = await bot.press("mehmet", "Districts")
    assert districts.text == DISTRICT_PROMPT
    assert [label for label in labels(districts) if label.startswith("✓")] == ["✓ Dietzenbach", "✓ Rodgau"]
    await bot.press("mehmet", "✓ Dietzenbach")
    await bot.press("mehmet", "Seligenstadt")
    [summary] = await bot.press("mehmet", "Done")
    assert summary.text.startswith(SUMMARY_PROMPT)  # back at the summary, not on to the topics
    assert "Districts: Rodgau, Seligenstadt" in summary.text.splitlines()

    # The slot editor is several steps; Done leads back to the summary too.
    await bot.press("mehmet", "Change something")
    [slots] = await bot.press("mehmet", "Weekly availability")
    assert slots.text.startswith(SLOTS_PROMPT)
    await bot.press("mehmet", "Remove a time")
    await bot.press("mehmet", "Thursday 08:00–13:00")
    await bot.press("mehmet", "Add a time")
    await bot.press("mehmet", "Friday")
    [slots] = await bot.press("mehmet", "16:00–20:00")
    assert slots.text.startswith(SLOTS_PROMPT)
    [summary] = await bot.press("mehmet", "Done")
    assert summary.text.startswith(SUMMARY_PROMPT)
    assert "Friday 16:00–20:00" in summary.text and "Thursday" not in summary.text

    await bot.press("mehmet", "Change something")
    await bot.press("mehmet", "Appointments per week")
    [summary] = await bot.press("mehmet", "1")
    assert "At most 1 appointment a week" in summary.text.splitlines()
    await bot.press("mehmet", "Change something")
    [summary] = await bot.press("mehmet", "Back")
    assert summary.text.startswith(SUMMARY_PROMPT)

    await bot.press("mehmet", "Confirm")
    assert await rows(lotse, "SELECT district FROM guide_districts WHERE guide_id = ?", "mehmet") == {
        ("Rodgau",), ("Seligenstadt",)}
    assert await rows(lotse, "SELECT weekday, start_minute, end_minute FROM guide_slots WHERE guide_id = ?",
                      "mehmet") == {(0, 480, 780), (1, 480, 780), (2, 480, 780), (4, 960, 1200)}
    guide = await lotse.store.db.fetchone("SELECT weekly_max FROM guides WHERE person_id = ?",
                                          (await person_id(lotse, "mehmet"),))
    assert guide["weekly_max"] == 1


async def test_an_approved_guide_changes_the_profile_and_stays_approved(lotse: Running, clock: Clock) -> None:
    bot = lotse.transport
    await onboard_weber(lotse)
    await register_mehmet(lotse, "leila")
    await bot.say("leila", "Confirm")
    leila = await person_id(lotse, "leila")
    weber = await person_id(lotse, "weber")
    assert await lotse.store.guides.decide(leila, True, weber, utcnow())
    announced = len(sent_to(lotse, "weber"))

    [profile] = await bot.say("leila", "/guide")
    lines = profile.text.splitlines()
    assert lines[:2] == ["You are registered as a guide.", "State: approved"]
    assert "Languages: Turkish, Kurdish, English, German" in lines and "Gender: Man" in lines
    assert labels(profile) == ["Change something", "Leave it as it is"]
    [kept] = await bot.press("leila", "Leave it as it is")
    assert kept.text == "Nothing was changed."

    await bot.say("leila", "/guide")
    await bot.press("leila", "Change something")
    [best] = await bot.press("leila", "Languages")
    assert best.text == BEST_PROMPT and labels(best) == LANGUAGE_NAMES
    [languages] = await bot.press("leila", "Arabic")  # then the others, her current ones ticked
    assert languages.text == LANGUAGE_PROMPT
    assert [label for label in labels(languages) if label.startswith("✓")] == [
        "✓ Kurdish", "✓ Turkish", "✓ English", "✓ German"]
    await bot.say("leila", others("Arabic", "French", "Turkish", "Kurdish"))  # French on, Turkish and Kurdish off
    [summary] = await bot.press("leila", "Done")
    assert summary.text.startswith(SUMMARY_PROMPT)
    await bot.press("leila", "Change something")
    await bot.press("leila", "Gender")
    [summary] = await bot.press("leila", "Woman")
    assert "Languages: Arabic, English, French, German" in summary.text.splitlines()
    [saved] = await bot.press("leila", "Confirm")
    assert saved.text.splitlines() == ["Your profile was saved.", "State: approved"]

    guide = await lotse.store.guides.get(leila)
    assert guide is not None and guide.state == "approved" and guide.profile.gender == "female"
    assert guide.profile.languages == ("ar", "en", "fr", "de")  # in the order chosen
    assert len(sent_to(lotse, "weber")) == announced  # no new approval needed


async def test_a_rejected_guide_who_registers_again_waits_for_approval_again(lotse: Running, clock: Clock) -> None:
    """Frau Weber rejects Leila's registration with its buttons; Leila changes her profile and
    confirms: she is pending again, and the coordinator is told once more."""
    bot = lotse.transport
    await onboard_weber(lotse)
    await register_mehmet(lotse, "leila")
    await bot.say("leila", "Confirm")
    leila = await person_id(lotse, "leila")
    await bot.press("weber", "Reject")
    await bot.press("weber", "Yes")
    [done] = await bot.say("weber", "Please do the basic training first.")
    assert done.text == "The registration of Leila was rejected."
    assert (await lotse.store.guides.get(leila)).state == "rejected"  # type: ignore[union-attr]
    assert bot.messages("leila")[-1].text.endswith("\nReason: Please do the basic training first.")
    announced = len(sent_to(lotse, "weber"))

    [profile] = await bot.say("leila", "/guide")
    assert "State: not approved" in profile.text.splitlines()
    await bot.press("leila", "Change something")
    await bot.press("leila", "Appointments per week")
    await bot.press("leila", "2")
    [thanks] = await bot.press("leila", "Confirm")
    assert thanks.text.startswith("Thank you for registering as a guide!")
    guide = await lotse.store.guides.get(leila)
    assert guide is not None and guide.state == "pending" and guide.profile.weekly_max == 2
    [announcement] = sent_to(lotse, "weber")[announced:]
    assert announcement.text.startswith("Leila registered as a guide") and labels(announcement) == ["Approve",
                                                                                                  "Reject"]
    # approved this time: the reason of the rejection goes with it
    assert await lotse.store.guides.decision_reason(leila) == "Please do the basic training first."
    assert await standing.approve(lotse.store, leila, None, utcnow())
    assert await lotse.store.guides.decision_reason(leila) is None


# -- availability -----------------------------------------------------------------------------------
async def test_availability_shows_adds_merges_and_removes(lotse: Running, clock: Clock) -> None:
    bot = lotse.transport
    await register_mehmet(lotse)
    await bot.say("mehmet", "Confirm")

    [slots] = await bot.say("mehmet", "/availability")
    lines = slots.text.splitlines()
    assert lines[:5] == [SLOTS_PROMPT, "Monday 08:00–13:00", "Tuesday 08:00–13:00",
                         "Wednesday 08:00–13:00", "Thursday 08:00–13:00"]
    assert lines[-1] == "Add or remove times. Your changes are saved when you press Done."
    assert labels(slots) == ["Add a time", "Remove a time", "Done"]

    [choice] = await bot.press("mehmet", "Remove a time")
    assert choice.text == "Which time do you want to remove?"
    assert labels(choice) == ["Monday 08:00–13:00", "Tuesday 08:00–13:00",
                              "Wednesday 08:00–13:00", "Thursday 08:00–13:00", "Back"]
    [slots] = await bot.press("mehmet", "Tuesday 08:00–13:00")
    remaining = [SLOTS_PROMPT, "Monday 08:00–13:00", "Wednesday 08:00–13:00",
                 "Thursday 08:00–13:00", ""]
    assert slots.text.splitlines()[:5] == remaining
    # Back, from the weekdays or from the list to remove, leaves the list as it is.
    await bot.press("mehmet", "Add a time")
    [slots] = await bot.press("mehmet", "Back")
    assert slots.text.splitlines()[:5] == remaining
    await bot.press("mehmet", "Remove a time")
    [slots] = await bot.press("mehmet", "Back")
    assert slots.text.splitlines()[:5] == remaining
    # A time that overlaps another on the same day joins it.
    await bot.press("mehmet", "Add a time")
    await bot.press("mehmet", "Monday")
    [slots] = await bot.say("mehmet", "12:30-15")
    assert "Monday 08:00–15:00" in slots.text.splitlines()
    await bot.press("mehmet", "Add a time")
    await bot.press("mehmet", "Wednesday")
    await bot.say("mehmet", "15-18")
    # Nothing is saved before Done.
    assert await rows(lotse, "SELECT weekday FROM guide_slots WHERE guide_id = ?", "mehmet") == {
        (0,), (1,), (2,), (3,)}
    [saved] = await bot.press("mehmet", "Done")
    assert saved.text.splitlines() == ["Your weekly availability was saved:", "Monday 08:00–15:00",
                                       "Wednesday 08:00–13:00", "Wednesday 15:00–18:00",
                                       "Thursday 08:00–13:00"]
    assert await rows(lotse, "SELECT weekday, start_minute, end_minute FROM guide_slots WHERE guide_id = ?",
                      "mehmet") == {(0, 480, 900), (2, 480, 780), (2, 900, 1080), (3, 480, 780)}
    assert await lotse.store.dialogs.get(await person_id(lotse, "mehmet")) is None

    # Removing every time and pressing Done is refused; the list stays empty until a time is added.
    await bot.say("mehmet", "/availability")
    for _ in range(4):
        await bot.press("mehmet", "Remove a time")
        [slots] = await bot.press("mehmet", 1)
    assert "No times yet." in slots.text.splitlines() and labels(slots) == ["Add a time", "Done"]
    refused, again = await bot.press("mehmet", "Done")
    assert refused.text == "Please add at least one time first." and again.text.startswith(SLOTS_PROMPT)
    assert len(await rows(lotse, "SELECT id FROM guide_slots WHERE guide_id = ?", "mehmet")) == 4


async def test_commands_for_guides_only_hint_at_registering(lotse: Running, clock: Clock) -> None:
    """Someone who chose "volunteer" in the menu but has not registered yet."""
    bot = lotse.transport
    await onboard(lotse, "yonas")
    for command in ("/availability", "/pause", "/resume"):
        [hint] = await bot.say("yonas", command)
        assert hint.text == "You are not registered as a guide yet. To register, send /guide."
    assert await lotse.store.guides.get(await person_id(lotse, "yonas")) is None
    # The registration they had begun is still there.
    [languages] = await bot.say("yonas", "English")
    assert languages.text == LANGUAGE_PROMPT


# -- pause and resume -------------------------------------------------------------------------------
async def test_pause_until_resume_then_resume(lotse: Running, clock: Clock) -> None:
    bot = lotse.transport
    await register_mehmet(lotse)
    await bot.say("mehmet", "Confirm")
    mehmet = await person_id(lotse, "mehmet")

    [question] = await bot.say("mehmet", "/pause")
    assert question.text.splitlines() == ["While you pause, Lotse offers you no requests.",
                                          "How long do you want to pause?"]
    assert labels(question) == ["Until I resume", "For a period"]
    [paused] = await bot.press("mehmet", "Until I resume")
    assert paused.text == ("You are paused from 25 Nov 2026 until you send /resume. Lotse offers you no requests "
                           "until then.")
    guide = await lotse.store.guides.get(mehmet)
    assert guide is not None and (guide.paused_from, guide.paused_until) == (TODAY, None)
    assert guide.paused_on(TODAY) and guide.paused_on(TODAY + timedelta(days=400))

    [profile] = await bot.say("mehmet", "/guide")
    assert "Paused from 25 Nov 2026 until you send /resume." in profile.text.splitlines()

    [back] = await bot.say("mehmet", "/resume")
    assert back.text == "Welcome back! Your pause has ended and Lotse offers you requests again."
    guide = await lotse.store.guides.get(mehmet)
    assert guide is not None and guide.paused_from is None and not guide.paused_on(TODAY)
    [again] = await bot.say("mehmet", "/resume")
    assert again.text == "You are not paused, so there is nothing to resume."


async def test_pause_for_a_period_refuses_bad_dates(lotse: Running, clock: Clock) -> None:
    bot = lotse.transport
    await register_mehmet(lotse, "leila")
    await bot.say("leila", "Confirm")
    leila = await person_id(lotse, "leila")

    await bot.say("leila", "/pause")
    [start] = await bot.press("leila", "For a period")
    assert start.text == "From which day on? Choose Today or type a date like 25/11/2026."
    assert labels(start) == ["Today"]
    refused, again = await bot.say("leila", "after christmas")
    assert refused.text == "I could not read this date. Please type it like 25/11/2026."
    assert again.text == start.text and labels(again) == ["Today"]
    refused, again = await bot.say("leila", "2/30")
    assert refused.text == "There is no such date. Please type it like 25/11/2026."
    assert again.text == start.text
    refused, again = await bot.say("leila", "24.11.2026")
    assert refused.text == "This date is in the past. Please type today's date or a later one."
    [until] = await bot.say("leila", "20.12.")  # Leila's holiday: 20 December ...
    assert until.text == "Until which day (inclusive)? Please type a date like 25/11/2026."
    refused, again = await bot.say("leila", "19.12.2026")
    assert refused.text == "The pause cannot end before it starts (20 Dec 2026). Please type a later date."
    assert again.text == until.text
    refused, again = await bot.say("leila", "soon")
    assert refused.text == "I could not read this date. Please type it like 25/11/2026."
    step, data = await dialog_data(lotse, "leila")
    assert step == "pause_until" and data["pause_from"] == "2026-12-20"
    assert (await lotse.store.guides.get(leila)).paused_from is None  # type: ignore[union-attr]

    [paused] = await bot.say("leila", "6.1.")  # ... to 6 January: the January after the start
    assert paused.text.startswith("You are paused from 20 Dec 2026 to 6 Jan 2027.")
    guide = await lotse.store.guides.get(leila)
    assert guide is not None and (guide.paused_from, guide.paused_until) == (date(2026, 12, 20), date(2027, 1, 6))
    assert not guide.paused_on(TODAY) and guide.paused_on(date(2026, 12, 24))
    assert not guide.paused_on(date(2027, 1, 7))
    [profile] = await bot.say("leila", "/guide")
    assert "Paused from 20 Dec 2026 to 6 Jan 2027." in profile.text.splitlines()

    # The end is read from the start on: "6.1." after a start in December 2027 is January 2028.
    await bot.say("leila", "/pause")
    await bot.press("leila", "For a period")
    await bot.say("leila", "20.12.2027")
    [paused] = await bot.say("leila", "6.1.")
    assert paused.text.startswith("You are paused from 20 Dec 2027 to 6 Jan 2028.")

    # A pause from today, with the button.
    await bot.say("leila", "/pause")
    await bot.press("leila", "For a period")
    await bot.press("leila", "Today")
    [paused] = await bot.say("leila", "25.11.2026")
    assert paused.text.startswith("You are paused from 25 Nov 2026 to 25 Nov 2026.")
    guide = await lotse.store.guides.get(leila)
    assert guide is not None and (guide.paused_from, guide.paused_until) == (TODAY, TODAY)
    [ended] = await bot.say("leila", "/resume")
    assert ended.text.startswith("Welcome back!")


# -- restart ----------------------------------------------------------------------------------------
async def test_restart_in_the_middle_of_the_registration_continues(settings: Settings, clock: Clock) -> None:
    first = await Running(settings).start()
    try:
        await onboard(first, "nasrin")
        await first.transport.say("nasrin", "2")  # Persian, the best
        await first.transport.say("nasrin", others("Persian", "English", "German"))
        await first.transport.say("nasrin", "Done")
        await first.transport.press("nasrin", "Dreieich")
        [districts] = await first.transport.press("nasrin", "Langen")  # the message Nasrin still sees
    finally:
        await first.app.stop()

    second = await Running(settings).start()
    try:
        bot = second.transport
        bot.sent.extend(first.transport.sent)
        step, data = await dialog_data(second, "nasrin")
        assert step == "districts" and data["languages"] == ["fa", "en", "de"]
        assert data["districts"] == ["Dreieich", "Langen"]
        # Her screen's button from before the restart still works, on the same step.
        token = next(b.token for b in districts.flat_buttons if b.label == "Neu-Isenburg")
        [edited] = await bot.press_token("nasrin", token, message_id=bot.sent[-1].message_id)
        assert [label for label in labels(edited) if label.startswith("✓")] == [
            "✓ Dreieich", "✓ Langen", "✓ Neu-Isenburg"]
        [topics] = await bot.say("nasrin", "Done")
        assert topics.text == TOPIC_PROMPT
        for answer in ("1", "Done", "Add a time", "Monday", "8-12", "Done", "4"):
            await bot.say("nasrin", answer)
        [summary] = await bot.say("nasrin", "Woman")
        assert "Languages: Persian, English, German" in summary.text.splitlines()
        assert "Districts: Dreieich, Langen, Neu-Isenburg" in summary.text.splitlines()
        await bot.say("nasrin", "Confirm")
        assert await rows(second, "SELECT language FROM guide_languages WHERE guide_id = ?", "nasrin") == {
            ("en",), ("fa",), ("de",)}
        assert await rows(second, "SELECT district FROM guide_districts WHERE guide_id = ?", "nasrin") == {
            ("Dreieich",), ("Langen",), ("Neu-Isenburg",)}
    finally:
        await second.app.stop()


async def test_restart_in_the_slot_editor_keeps_the_chosen_weekday(settings: Settings, clock: Clock) -> None:
    first = await Running(settings).start()
    try:
        await register_mehmet(first)
        await first.transport.say("mehmet", "Confirm")
        await first.transport.say("mehmet", "/availability")
        await first.transport.press("mehmet", "Add a time")
        await first.transport.press("mehmet", "Friday")
    finally:
        await first.app.stop()

    second = await Running(settings).start()
    try:
        [slots] = await second.transport.say("mehmet", "9-12")
        assert "Friday 09:00–12:00" in slots.text.splitlines()
        [saved] = await second.transport.say("mehmet", "Done")
        assert saved.text.startswith("Your weekly availability was saved:")
        assert (4, 540, 720) in await rows(second, "SELECT weekday, start_minute, end_minute FROM guide_slots "
                                                   "WHERE guide_id = ?", "mehmet")
    finally:
        await second.app.stop()


async def test_arabic_guide_sees_arabic_names_and_isolated_times(lotse: Running, clock: Clock) -> None:
    """In Arabic, language and weekday names come from the locale; times stay isolated in the text."""
    bot = lotse.transport
    await bot.say("amal", "/start", language="ar")
    await bot.press("amal", 1)  # العربية
    await bot.press("amal", 1)  # agree
    best = (await bot.press("amal", 2))[-1]
    assert labels(best)[0] == "العربية" and len(labels(best)) == 14
    assert not any(label.startswith("✓") for label in labels(best))  # the menu language is not pre-ticked
    [languages] = await bot.say("amal", "1")  # Arabic, the best
    assert "العربية" not in labels(languages) and len(labels(languages)) == 14  # 13 others and Done
    await bot.say("amal", "14")  # Done
    await bot.say("amal", "2")   # Dreieich
    await bot.say("amal", "9")   # Done (7 districts, all districts, Done)
    await bot.say("amal", "1")   # doctor
    await bot.say("amal", "8")   # Done
    await bot.say("amal", "1")   # Add a time
    [times] = await bot.say("amal", "1")  # Monday
    assert "\u2068الاثنين\u2069" in times.text
    [slots] = await bot.say("amal", "٩-١٣")  # Arabic-Indic digits
    assert "\u2068الاثنين\u2069" in slots.text
    step, data = await dialog_data(lotse, "amal")
    assert step == "slots" and data["slot_list"] == [[0, 540, 780]]
    assert data["languages"] == ["ar"] and data["districts"] == ["Dreieich"] and data["topics"] == ["doctor"]


async def test_a_newcomer_who_registers_becomes_a_guide(lotse: Running, clock: Clock) -> None:
    """Tesfay chose "I need someone" in the menu; `guide` is open to everyone and makes him a guide."""
    bot = lotse.transport
    await onboard(lotse, "tesfay", role=1)
    [refused] = await bot.say("tesfay", "/availability")
    assert "not available to you" in refused.text  # a newcomer has no guide commands
    intro, best = await bot.say("tesfay", "/guide")
    assert best.text == BEST_PROMPT
    for answer in ("7", others("Tigrinya", "English"), "Done", "Rodgau", "Done", "Housing", "Done", "Add a time", "Saturday", "10-14", "Done",
                   "1", "Man", "Confirm"):
        await bot.say("tesfay", answer)
    person = await lotse.store.people.find("test", "tesfay")
    assert person is not None and person.role == "guide"
    guide = await lotse.store.guides.get(person.id)
    assert guide is not None and guide.state == "pending" and guide.profile.languages == ("ti", "en")
    [slots] = await bot.say("tesfay", "/availability")
    assert "Saturday 10:00–14:00" in slots.text.splitlines()
