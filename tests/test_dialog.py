"""The dialog engine's own rules: a dialog is checked when it is built, a step's prompt is its
msgid in the person's language, `next` defaults to the following step."""

from __future__ import annotations

import pytest

from bot.core.dialog import END, Dialog, Option, Step, rows
from tests.conftest import Running, labels


async def agreed(lotse: Running, user: str, hint: str = "en", language: str = "English",
                 agree: str = "I agree") -> None:
    """/start, the language, the privacy notice agreed (the menu is shown next)."""
    bot = lotse.transport
    await bot.say(user, "/start", language=hint, name=user.capitalize())
    await bot.press(user, language)
    await bot.press(user, agree)


def test_a_step_that_leads_outside_its_dialog_is_refused_when_the_dialog_is_built() -> None:
    elsewhere = Step("elsewhere", "Where?")
    with pytest.raises(ValueError, match="leads to elsewhere"):
        Dialog("broken", (Step("first", "First?", next=elsewhere),))
    with pytest.raises(ValueError, match="two steps with one name"):
        Dialog("twice", (Step("same", "A?"), Step("same", "B?")))


def test_next_defaults_to_the_following_step_and_end_after_the_last() -> None:
    one, two, three = Step("one", "1?"), Step("two", "2?", next=END), Step("three", "3?")
    dialog = Dialog("d", (one, two, three))
    assert dialog.after(one) is two
    assert dialog.after(two) is END
    assert dialog.after(three) is END
    assert dialog.own(Step("two", "")) is two  # a shared step is found by its name


def test_rows_lays_out_options_and_keeps_every_one() -> None:
    options = [Option(i, str(i)) for i in range(7)]
    assert [[o.value for o in row] for row in rows(options, 3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert rows([], 2) == []


async def test_a_msgid_prompt_with_values_reads_in_the_persons_language(lotse: Running) -> None:
    """The request's date step is a msgid with an example date as its value: German words, a German date."""
    bot = lotse.transport
    await agreed(lotse, "amira", hint="de", language="Deutsch", agree="Ich bin einverstanden")
    [topic] = await bot.press("amira", "Ich brauche eine Begleitung")
    assert topic.text == "Worum geht es bei dem Termin?" and "Arztpraxis oder Krankenhaus" in labels(topic)
    [day] = await bot.press("amira", "Arztpraxis oder Krankenhaus")
    assert day.text.startswith("An welchem Tag ist der Termin?")
    assert "%(" not in day.text and any(ch.isdigit() for ch in day.text)


async def test_stop_typed_in_any_step_ends_the_dialog(lotse: Running) -> None:
    bot = lotse.transport
    await agreed(lotse, "amira")
    await bot.press("amira", "I need someone to come with me")
    [sure] = await bot.say("amira", "Stop")
    assert sure.text == "Stop here? Your answers in this form are not kept."
    [stopped] = await bot.press("amira", "Yes, stop")
    assert stopped.text == "Stopped. Send /help to see what you can do."
    person = await lotse.store.people.find("test", "amira")
    assert await lotse.store.dialogs.get(person.id) is None
    [not_understood, _menu] = await bot.say("amira", "hello there")  # no step is waiting any more
    assert not_understood.text.startswith("Sorry, I did not understand that.")


async def test_yes_and_no_typed_choose_the_options_that_declare_them(lotse: Running) -> None:
    bot = lotse.transport
    await bot.say("olena", "/start", language="en", name="Olena")
    await bot.press("olena", "English")
    [recorded, *_] = await bot.say("olena", "yes")  # "I agree", typed as a word
    assert recorded.text.startswith("Thank you. Your consent was recorded")
    person = await lotse.store.people.find("test", "olena")
    assert person.consented


@pytest.mark.parametrize("typed, label", [
    ("بلي", "بلی"),               # Arabic yeh typed for the Persian one
    ("كار", "کار"),               # Arabic kaf for the Persian one
    ("سهشنبه", "سه\u200cشنبه"),   # without the zero-width non-joiner
    ("  DONE ", "Done"),
    ("\u200fتم", "تم"),           # a direction mark from the keyboard
    ("مساءً", "مساء"),            # vowel signs are optional
    ("termine", "Terminé"),        # accents on Latin letters are optional
    ("الغاء", "إلغاء"),            # alef with or without hamza
    ("uberspringen", "Überspringen"),
    ("Evet", "evet"),
])
def test_typed_answers_are_compared_folded(typed: str, label: str) -> None:
    from bot.core.text import fold

    assert fold(typed) == fold(label)
    assert fold("نعم") != fold("لا") and fold("й") == "й"  # Cyrillic letters keep their marks


async def test_a_languages_step_saved_before_the_best_language_was_asked_still_finishes(lotse: Running) -> None:
    """A request dialog saved by the version that asked all languages in one step (no best
    language in its answers): the first language chosen counts as the best."""
    from bot.clock import utcnow
    from bot.store.store import DialogState

    bot = lotse.transport
    await agreed(lotse, "hamid")
    hamid = await lotse.store.people.find("test", "hamid")
    answers = {"topic": "doctor", "date": "2026-12-01", "time": 600, "duration": 60, "district": "Langen",
               "place": None}
    await lotse.store.dialogs.save(hamid.id, DialogState("request", "old1", "languages", answers, utcnow()))
    await bot.say("hamid", "3")                    # Dari, among all the languages (none excluded)
    [gender] = await bot.say("hamid", "Done")
    assert gender.text.startswith("Would you prefer a guide who is a woman or a man?")
    state = await lotse.store.dialogs.get(hamid.id)
    assert state.data["languages"] == ["prs"] and state.data["best_language"] == "prs"


async def test_stop_cancel_and_the_cancel_command_leave_a_form_after_asking(lotse: Running) -> None:
    bot = lotse.transport
    await agreed(lotse, "amira")
    await bot.press("amira", "I need someone to come with me")
    [day] = await bot.press("amira", "Doctor or hospital")
    [sure] = await bot.say("amira", "/cancel")                      # the form, not an existing request
    assert sure.text == "Stop here? Your answers in this form are not kept."
    assert labels(sure) == ["Yes, stop", "No, go on"]
    [back] = await bot.press("amira", "No, go on")
    assert back.text == day.text                                    # where she was, the topic kept
    person = await lotse.store.people.find("test", "amira")
    assert (await lotse.store.dialogs.get(person.id)).data["topic"] == "doctor"
    await bot.say("amira", "cancel")
    [stopped] = await bot.say("amira", "yes")
    assert stopped.text == "Stopped. Send /help to see what you can do."
    assert await lotse.store.dialogs.get(person.id) is None


async def test_free_text_naming_a_topic_starts_the_request_with_it(lotse: Running) -> None:
    bot = lotse.transport
    await agreed(lotse, "amira", hint="ar")
    person = await lotse.store.people.find("test", "amira")
    await lotse.store.dialogs.clear(person.id)                       # she left the menu
    said, day = await bot.say("amira", "I need help at the doctor tomorrow")
    assert said.text == "You need someone to come with you: Doctor or hospital. Let us arrange it."
    assert day.text.startswith("On which day is the appointment?")
    state = await lotse.store.dialogs.get(person.id)
    assert (state.dialog, state.data["topic"]) == ("request", "doctor")


async def test_free_text_in_arabic_and_without_a_topic(lotse: Running) -> None:
    bot = lotse.transport
    await agreed(lotse, "hamid", hint="ar", language="العربية", agree="أوافق")
    person = await lotse.store.people.find("test", "hamid")
    await lotse.store.dialogs.clear(person.id)
    said, _ = await bot.say("hamid", "أحتاج مرافقة إلى الطبيب")
    assert (await lotse.store.dialogs.get(person.id)).data["topic"] == "doctor", said.text
    await lotse.store.dialogs.clear(person.id)
    sorry, menu = await bot.say("hamid", "مرحبا")                     # no topic: the menu, with a hint
    assert "/help" in sorry.text and len(menu.flat_buttons) == 2


async def test_a_specific_topic_wins_over_the_general_authority(lotse: Running) -> None:
    bot = lotse.transport
    await agreed(lotse, "olena")
    person = await lotse.store.people.find("test", "olena")
    await lotse.store.dialogs.clear(person.id)
    await bot.say("olena", "I have to go to the immigration office")   # "office" is also an authority word
    assert (await lotse.store.dialogs.get(person.id)).data["topic"] == "immigration"
