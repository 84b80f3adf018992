"""A new process on the same database continues every dialog where it was."""

from __future__ import annotations

from datetime import timedelta

from bot.config import Settings
from tests.conftest import Clock, Running, labels


async def test_restart_between_steps_keeps_step_answers_and_buttons(settings: Settings) -> None:
    first = await Running(settings).start()
    [welcome] = await first.transport.say("tesfay", "/start", language="en")
    [notice] = await first.transport.press("tesfay", "English")
    await first.app.stop()  # the process goes away; the person still has the notice on screen

    second = await Running(settings).start()
    try:
        # The button from before the restart still works, in the language chosen before it.
        second.transport.sent.extend(first.transport.sent)
        recorded, emergency, menu = await second.transport.press_token("tesfay", notice.flat_buttons[0].token)
        assert recorded.text.startswith("Thank you. Your consent was recorded")
        assert labels(menu) == ["I need someone to come with me", "I want to volunteer as a guide"]
        # ...while the welcome's buttons of the step before stay refused.
        [refused] = await second.transport.press_token("tesfay", welcome.flat_buttons[1].token)
        assert "no longer valid" in refused.text
    finally:
        await second.app.stop()


async def test_restart_then_typed_answer_continues(settings: Settings) -> None:
    first = await Running(settings).start()
    await first.transport.say("olena", "/start", language="de")
    await first.transport.press("olena", "English")
    await first.app.stop()

    second = await Running(settings).start()
    try:
        messages = await second.transport.say("olena", "I agree")
        assert messages[-1].text == "What would you like to do?"
        person = await second.store.people.find("test", "olena")
        assert person is not None and person.language == "en" and person.consented
    finally:
        await second.app.stop()


async def test_expired_dialog_is_forgotten(settings: Settings, clock: Clock) -> None:
    first = await Running(settings).start()
    try:
        await first.transport.say("amira", "/start", language="en")
        clock.advance(settings.bot.dialog_expiry + timedelta(minutes=1))  # she answers after the expiry
        [again] = await first.transport.say("amira", "English")
        # the old form was dropped; before consent that means a fresh onboarding
        assert again.text.startswith("Welcome to Lotse!")
    finally:
        await first.app.stop()
