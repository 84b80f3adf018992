"""Transcripts of onboarding through the recording transport: what was sent, which buttons."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.config import PrivacySettings
from bot.clock import utcnow
from bot.core.payloads import Payload
from bot.store.store import DialogState
from tests.conftest import LANGUAGE_NAMES, Running, labels, texts


async def test_onboarding_in_english_transcript(lotse: Running) -> None:
    bot = lotse.transport
    [welcome] = await bot.say("amira", "/start", language="en")
    assert welcome.text.startswith("Welcome to Lotse!")
    assert labels(welcome) == ["English", "Deutsch", *LANGUAGE_NAMES[2:]]  # the hint first

    [notice] = await bot.press("amira", "English")
    assert notice.text.startswith(f"Privacy notice (version {PrivacySettings().notice_version})")
    assert labels(notice) == ["I agree", "I do not agree"]

    recorded, emergency, menu = await bot.press("amira", "I agree")
    assert recorded.text.startswith("Thank you. Your consent was recorded on ")
    assert "112" in emergency.text and "not an emergency service" in emergency.text
    assert menu.text == "What would you like to do?"
    assert labels(menu) == ["I need someone to come with me", "I want to volunteer as a guide"]

    [request] = await bot.press("amira", 1)  # the choice leads straight into the request dialog
    assert request.text == "What is the appointment for?"
    # every answered question lost its buttons; the messages themselves stay
    assert bot.cleared == [("amira", s.message_id) for s in bot.sent if s.message.buttons][:-1]

    person = await lotse.store.people.find("test", "amira")
    assert person is not None
    assert person.language == "en" and person.role == "newcomer"
    assert person.consent_version == PrivacySettings().notice_version
    assert person.consent_at is not None and abs((utcnow() - person.consent_at).total_seconds()) < 60
    assert person.display_name == "Amira"
    assert (await lotse.store.dialogs.get(person.id)).dialog == "request"


@pytest.mark.parametrize("shown, stored", [
    ("\u202eanieL\u202c", "anieL"),                         # a right-to-left override would show "Leina"
    ("Amira\u2069 \u2066(Coordinator)", "Amira (Coordinator)"),  # isolates Lotse sets around values
    ("Le\u200bila\u200f", "Leila"),                          # invisible: no second "Leila" that differs
    ("Amira\x1b[2J\n\tWeber\x07", "Amira[2J Weber"),            # control characters, a line break
    ("\u200e\u202d\x00", None),                                # nothing visible left: no name
    ("نسرین\u200cجان", "نسرین\u200cجان"),                     # a zero-width non-joiner belongs to Persian
])
async def test_display_names_lose_control_and_bidi_characters(lotse: Running, shown: str, stored: str | None) -> None:
    bot = lotse.transport
    await bot.say("amira", "/start", language="en")
    await bot.press("amira", "English")
    await bot.press("amira", "I agree", name=shown)
    person = await lotse.store.people.find("test", "amira")
    assert person is not None and person.display_name == stored


async def test_onboarding_in_german_suggests_german_first(lotse: Running) -> None:
    bot = lotse.transport
    [welcome] = await bot.say("nasrin", "hallo", language="de-DE")
    assert labels(welcome)[0] == "Deutsch"
    [notice] = await bot.press("nasrin", "Deutsch")
    assert notice.text.startswith("Datenschutzhinweis")
    recorded, emergency, menu = await bot.press("nasrin", 1)
    assert "112" in emergency.text
    assert menu.text != "What would you like to do?"  # translated
    await bot.press("nasrin", 2)
    person = await lotse.store.people.find("test", "nasrin")
    assert person is not None and person.role == "guide" and person.language == "de"
    assert (await lotse.store.dialogs.get(person.id)).dialog == "guide"  # the registration began


async def test_onboarding_in_arabic_is_translated_and_isolates_values(lotse: Running) -> None:
    bot = lotse.transport
    [welcome] = await bot.say("amira", "/start", language="ar")
    assert labels(welcome)[0] == "العربية"
    # The welcome is in the hint's language already.
    assert any("\u0600" <= ch <= "\u06ff" for ch in welcome.text)
    [notice] = await bot.press("amira", "العربية")
    assert PrivacySettings().notice_version in notice.text and any("\u0600" <= ch <= "\u06ff" for ch in notice.text)
    # the version number is wrapped in bidi isolates so it reads left to right
    assert f"\u2068{PrivacySettings().notice_version}\u2069" in notice.text
    recorded, emergency, menu = await bot.press("amira", 1)
    assert "112" in emergency.text
    await bot.press("amira", 1)
    [help_text] = await bot.say("amira", "/help")
    assert "\u2068/request\u2069" in help_text.text
    assert "\u2068/language\u2069" in help_text.text


async def test_decline_keeps_nothing_but_the_decision(lotse: Running) -> None:
    bot = lotse.transport
    store = lotse.store
    await bot.say("olena", "/start", language="en", name="Olena")
    await bot.press("olena", "English")
    olena = await store.people.find("test", "olena")
    # A button minted for her outside the dialog (the dialog keeps its own buttons in its state row):
    # declining must remove it, not rely on there being none.
    await store.buttons.mint(olena.id, [("offer", {"offer": 1, "accept": True})])
    assert await store.db.fetchone("SELECT 1 FROM button_tokens WHERE person_id = ?", (olena.id,)) is not None
    [answer] = await bot.press("olena", "I do not agree")
    assert "/start" in answer.text
    row = await store.db.fetchone("SELECT * FROM people WHERE platform_user_id = 'olena'")
    assert row["declined_at"] is not None
    assert row["language"] is None and row["display_name"] is None and row["role"] is None
    assert row["consent_at"] is None
    assert await store.db.fetchone("SELECT 1 FROM dialog_states WHERE person_id = ?", (row["id"],)) is None
    assert await store.db.fetchone("SELECT 1 FROM button_tokens WHERE person_id = ?", (row["id"],)) is None
    # The store keeps the same promise on its own: the dialog engine clears the onboarding state
    # after any final answer, so only a direct call shows that record_decline removes a dialog.
    hamid = await store.people.get_or_create("test", "hamid", "hamid")
    await store.dialogs.save(hamid.id, DialogState("onboarding", "1", "consent", {"language": "fa"}, utcnow(),
                                                   {"tok": "decline"}))
    await store.buttons.mint(hamid.id, [("offer", {"offer": 2, "accept": True})])
    await store.people.record_decline(hamid.id, utcnow())
    assert await store.dialogs.get(hamid.id) is None
    assert await store.db.fetchone("SELECT 1 FROM button_tokens WHERE person_id = ?", (hamid.id,)) is None
    # Writing again gets a clear answer, not a silent drop and not the whole onboarding.
    [again] = await bot.say("olena", "hello?", language="en")
    assert "cannot help you" in again.text and "/start" in again.text
    # /start lets her change her mind.
    [welcome] = await bot.say("olena", "/start", language="en")
    assert labels(welcome)[0] == "English"


async def test_nothing_but_onboarding_before_consent(lotse: Running) -> None:
    bot = lotse.transport
    [first] = await bot.say("tesfay", "/request", language="en")
    assert first.text.startswith("Welcome to Lotse!")
    # help and language work before consent
    [help_text] = await bot.say("tesfay", "/help", language="en")
    assert "/language" in help_text.text
    # a name is not stored before consent
    row = await lotse.store.db.fetchone("SELECT display_name, consent_at FROM people WHERE platform_user_id = 'tesfay'")
    assert row["display_name"] is None and row["consent_at"] is None


async def _onboard(lotse: Running, user: str, language: str = "en", role: int = 1) -> None:
    bot = lotse.transport
    await bot.say(user, "/start", language=language)
    await bot.press(user, 1)
    await bot.press(user, "I agree" if language == "en" else 1)
    await bot.press(user, role)
    person = await lotse.store.people.find("test", user)
    await lotse.store.dialogs.clear(person.id)  # leave the request / registration it led into


async def test_help_lists_commands_of_the_role(lotse: Running) -> None:
    await _onboard(lotse, "amira")
    [help_text] = await lotse.transport.say("amira", "/help")
    lines = help_text.text.splitlines()
    assert lines[0] == f"You can use these {len(lines) - 2} commands:"
    assert lines[1:7] == ["/start – Start over and show the menu",
                          "/help – Show what you can do here",
                          "/language – Change the language",
                          "/request – Ask for someone to come with you",
                          "/myrequests – See your requests",
                          "/cancel – Cancel a request"]
    assert not any(line.startswith(("/availability", "/pending", "/approve")) for line in lines)
    assert "112" in lines[-1]


async def test_unknown_and_unavailable_commands_get_a_hint(lotse: Running) -> None:
    bot = lotse.transport
    await _onboard(lotse, "amira")
    [unknown] = await bot.say("amira", "/fly")
    assert unknown.text == "I do not know the command /fly. Send /help to see what I can do."
    [not_yours] = await bot.say("amira", "/broadcast")
    assert "not available to you" in not_yours.text
    [later] = await bot.say("amira", "/stats")
    assert "not available to you" in later.text
    await _onboard(lotse, "weber", role=2)  # listed as coordinator in the fixture settings
    from bot.core.router import CommandSpec, _Command
    from bot.vocabulary import EVERYONE

    lotse.app.router._commands["later"] = _Command(CommandSpec("later", EVERYONE, "Later"))  # noqa: SLF001
    [coordinator] = await bot.say("weber", "/later")        # in the catalog, no handler yet
    assert "not available yet" in coordinator.text
    [pending] = await bot.say("weber", "/pending")
    assert pending.text == "Nobody is waiting for approval."


async def test_an_unknown_long_command_is_echoed_short(lotse: Running) -> None:
    bot = lotse.transport
    await _onboard(lotse, "amira")
    [unknown] = await bot.say("amira", "/" + "x" * 10_000)
    assert unknown.text == f"I do not know the command /{'x' * 32}…. Send /help to see what I can do."
    [exact] = await bot.say("amira", "/" + "y" * 32)  # up to the limit it is shown whole
    assert f"/{'y' * 32}. " in exact.text and "…" not in exact.text


async def test_language_change_at_any_time(lotse: Running) -> None:
    bot = lotse.transport
    await _onboard(lotse, "amira")
    [question] = await bot.say("amira", "/language")
    assert question.text == "Which language should Lotse use?"
    assert labels(question)[0] == "English"  # current language first
    [changed] = await bot.press("amira", "Deutsch")
    assert "Deutsch" in changed.text and changed.text != "From now on Lotse writes to you in Deutsch."
    person = await lotse.store.people.find("test", "amira")
    assert person is not None and person.language == "de"
    [help_text] = await bot.say("amira", "/help")
    assert "/language" in help_text.text and "Change the language" not in help_text.text


async def test_forged_token_is_refused_and_changes_nothing(lotse: Running) -> None:
    bot = lotse.transport
    await bot.say("amira", "/start", language="en")
    before = await lotse.store.db.fetchall("SELECT * FROM dialog_states")
    [refused] = await bot.press_token("amira", "forged-token")
    assert refused.text == "This button is no longer valid. Please use the latest message."
    assert refused.buttons == ()
    after = await lotse.store.db.fetchall("SELECT * FROM dialog_states")
    assert [tuple(r) for r in before] == [tuple(r) for r in after]


async def test_stale_button_of_an_earlier_step_is_refused(lotse: Running) -> None:
    bot = lotse.transport
    [welcome] = await bot.say("amira", "/start", language="en")
    old_token = welcome.flat_buttons[2].token  # Arabic, on the language step
    await bot.press("amira", "English")
    [refused] = await bot.press_token("amira", old_token)
    assert "no longer valid" in refused.text
    person = await lotse.store.people.find("test", "amira")
    assert person is not None and person.language == "en"
    state = await lotse.store.dialogs.get(person.id)
    assert state is not None and state.step == "consent"


async def test_someone_elses_button_is_refused(lotse: Running) -> None:
    bot = lotse.transport
    [welcome] = await bot.say("amira", "/start", language="en")
    await bot.say("leila", "/start", language="en")
    [refused] = await bot.press_token("leila", welcome.flat_buttons[0].token)
    assert "no longer valid" in refused.text
    amira = await lotse.store.people.find("test", "amira")
    assert amira is not None and amira.language is None
    leila_state = await lotse.store.dialogs.get((await lotse.store.people.find("test", "leila")).id)
    assert leila_state is not None and leila_state.step == "language"


async def test_typed_answers_to_option_steps(lotse: Running) -> None:
    bot = lotse.transport
    await bot.say("hamid", "/start", language="en")
    [notice] = await bot.say("hamid", "english")  # the label, typed
    assert notice.text.startswith("Privacy notice")
    reask, notice_again = await bot.say("hamid", "maybe")
    assert reask.text == "Please choose one of the options below."
    assert notice_again.text == notice.text and labels(notice_again) == labels(notice)
    # the buttons shown before the re-ask are replaced by the new ones
    [refused] = await bot.press_token("hamid", notice.flat_buttons[0].token)
    assert "no longer valid" in refused.text
    messages = await bot.say("hamid", "1")  # the number, typed
    assert texts(messages)[-1] == "What would you like to do?"


async def test_redelivered_event_is_handled_once(lotse: Running) -> None:
    bot = lotse.transport
    first = await bot.say("amira", "/start", language="en", event_id="update-1")
    again = await bot.say("amira", "/start", language="en", event_id="update-1")
    assert len(first) == 1 and again == []


async def test_text_outside_any_dialog_gets_a_hint(lotse: Running) -> None:
    await _onboard(lotse, "amira")
    hint, menu = await lotse.transport.say("amira", "I need help on Tuesday")   # no topic named
    assert hint.text == "Sorry, I did not understand that. Send /help to see what I can do."
    assert menu.text == "What would you like to do?"                          # and never a dead end


async def test_start_after_onboarding_shows_the_menu_again(lotse: Running) -> None:
    await _onboard(lotse, "amira")
    [menu] = await lotse.transport.say("amira", "/start")
    assert menu.text == "What would you like to do?"
    await lotse.transport.press("amira", 2)
    person = await lotse.store.people.find("test", "amira")
    assert person is not None and person.role == "guide"


async def test_a_failing_handler_answers_with_an_apology(lotse: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    await _onboard(lotse, "amira")

    async def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("boom")

    monkeypatch.setattr(lotse.app.router, "_fallback", broken)
    [sorry] = await lotse.transport.say("amira", "hello")
    assert sorry.text == "Sorry, something went wrong. Please try again in a moment."


@dataclass(frozen=True)
class TestOffer(Payload, action="test-offer"):
    __test__ = False  # not a pytest test class
    offer: int


async def test_buttons_outside_dialogs_are_bound_to_their_person(lotse: Running) -> None:
    """Tokens minted with ctx.buttons (offers and the like) go to their action's handler, with their
    typed payload, only for the person they were made for."""
    router = lotse.app.router
    pressed: list[tuple[str, object]] = []

    async def on_press(ctx, payload: TestOffer) -> None:  # noqa: ANN001
        pressed.append((ctx.person.platform_user_id, payload))
        ctx.reply("accepted")

    async def offer(ctx) -> None:  # noqa: ANN001
        ctx.reply("An offer", await ctx.buttons([[("Accept", TestOffer(7))]]))

    router.button(TestOffer, on_press)
    monkey_spec = router._commands["stats"]  # noqa: SLF001 - borrow a coordinator command slot
    monkey_spec.handler = offer
    await _onboard(lotse, "weber")
    await _onboard(lotse, "amira")
    [shown] = await lotse.transport.say("weber", "/stats")
    token = shown.flat_buttons[0].token
    [refused] = await lotse.transport.press_token("amira", token)
    assert "no longer valid" in refused.text and pressed == []
    [ok] = await lotse.transport.press_token("weber", token)
    assert ok.text == "accepted" and pressed == [("weber", TestOffer(7))]
    stored = await lotse.store.db.fetchone("SELECT action, payload FROM button_tokens WHERE token = ?", (token,))
    assert tuple(stored) == ("test-offer", '{"offer": 7}')


async def test_a_stored_payload_that_does_not_fit_its_action_is_refused(lotse: Running) -> None:
    """A token row whose fields do not fit its action's payload (an older version's, or forged in
    the database) is refused like an unknown token; the handler never sees it."""
    router = lotse.app.router
    pressed: list[object] = []

    async def on_press(ctx, payload: TestOffer) -> None:  # noqa: ANN001
        pressed.append(payload)

    router.button(TestOffer, on_press)
    await _onboard(lotse, "weber")
    weber = await lotse.store.people.find("test", "weber")
    wrong = [{"offer": "7"}, {"offer": 7, "extra": 1}, {}, {"offer": True}, [7]]
    tokens = await lotse.store.buttons.mint(weber.id, [("test-offer", w) for w in wrong] + [("no-such", {"offer": 7})])
    for token in tokens:
        [refused] = await lotse.transport.press_token("weber", token)
        assert "no longer valid" in refused.text
    assert pressed == []
    [token] = await lotse.store.buttons.mint(weber.id, [("test-offer", {"offer": 7})])
    await lotse.transport.press_token("weber", token)
    assert pressed == [TestOffer(7)]


async def test_a_failed_event_is_not_marked_handled_so_a_redelivery_is_served(lotse: Running,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    await _onboard(lotse, "amira")
    original = lotse.app.router._fallback  # noqa: SLF001

    async def broken(ctx):  # noqa: ANN001, ANN202
        await ctx.store.people.set_role(ctx.person.id, "guide")  # an effect that must roll back
        raise RuntimeError("crash in the middle")

    monkeypatch.setattr(lotse.app.router, "_fallback", broken)
    [sorry] = await lotse.transport.say("amira", "hello", event_id="update-7")
    assert sorry.text.startswith("Sorry, something went wrong")
    assert (await lotse.store.people.find("test", "amira")).role == "newcomer"  # rolled back
    monkeypatch.setattr(lotse.app.router, "_fallback", original)
    served, _menu = await lotse.transport.say("amira", "hello", event_id="update-7")  # the redelivery
    assert served.text.startswith("Sorry, I did not understand that.")
    assert await lotse.transport.say("amira", "hello", event_id="update-7") == []  # now it is handled
