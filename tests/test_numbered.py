"""The shared numbered list of the transports without buttons (bot/transports/numbered.py)."""

from __future__ import annotations

from bot.core.types import Button, Message
from bot.transports import numbered

MENU = Message("Which language?\nPlease choose.", ((Button("Deutsch", "de"), Button("English", "en")),
                                                   (Button("<العربية>", "ar"),)), choice_hint="Reply with the number.")


def test_plain_and_html_list_the_buttons_in_reading_order() -> None:
    assert numbered.plain(MENU) == ("Which language?\nPlease choose.\n\n1. Deutsch\n2. English\n3. <العربية>\n"
                                    "Reply with the number.")
    assert numbered.rich(MENU) == ("Which language?<br>Please choose.<ol><li>Deutsch</li><li>English</li>"
                                   "<li>&lt;العربية&gt;</li></ol><p>Reply with the number.</p>")
    assert numbered.option_lines(MENU.flat_buttons, "  [{number}] {label}")[0] == "  [1] Deutsch"


def test_a_message_without_buttons_is_its_text() -> None:
    assert numbered.plain(Message("a < b")) == "a < b"
    assert numbered.rich(Message("a < b\nc")) == "a &lt; b<br>c"


def test_a_typed_number_names_a_button() -> None:
    tokens = ["de", "en", "ar"]
    assert numbered.chosen_token(" 2 ", tokens) == "en"
    assert numbered.chosen_token("٣", tokens) == "ar"  # Arabic-Indic digits
    for text in ("0", "4", "2 3", "²", "-1", "two", ""):  # "²" is a digit to isdigit(), not to int()
        assert numbered.chosen_token(text, tokens) is None, text
