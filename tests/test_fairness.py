"""No one stalls anyone (issue 12): over the real Telegram transport (python-telegram-bot over HTTP)
against the Bot API wire server.

- A person who floods Lotse waits for their own backlog; everybody else is answered in between
  (the inbox's workers take turns between *people*; a person with a backlog holds no worker).
- The per-person rate cap: the first message over it is answered with "please slow down" in the
  person's language, the rest are not read and are counted; a minute later all is normal again.

Orders are read from the calls the server received, never from wall-clock durations.  Where a
test needs "while A's backlog is still there", it holds A's first answer on the server (hold())
until Olena's update is stored — that is, until Lotse asked Telegram for the updates after it.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.config import Settings
from bot.core.router import MSG_SLOW_DOWN
from tests.botapi_server import BotApiServer, Call
from tests.conftest import Clock, make_settings
from tests.telegram_harness import TelegramWorld, telegram_world

AMIRA, OLENA, TESFAY, LEILA = 1001, 1002, 1004, 1005
LOCALES = Path(__file__).resolve().parents[1] / "locales"


def translated(language: str, msgid: str) -> str:
    with open(LOCALES / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        text = read_po(po).get(msgid).string
    assert text and text != msgid, f"no {language} translation of {msgid!r}"
    return text


def settings_with(db_path: Path, **bot: object) -> Settings:
    settings = make_settings(db_path)
    return dataclasses.replace(settings, bot=dataclasses.replace(settings.bot, **bot))


def answers(server: BotApiServer, since: int) -> list[Call]:
    """The bot's messages (sendMessage calls) that arrived at the server after `since` calls."""
    return [c for c in server.calls[since:] if c.method == "sendMessage"]


async def stored(server: BotApiServer, update_id: int) -> None:
    """Wait until Lotse stored update `update_id`: it confirms updates to Telegram (the offset of
    its next getUpdates) only after its inbox stored them."""
    def confirmed() -> bool:
        return any(c.method == "getUpdates" and isinstance(c.params.get("offset"), int)
                   and c.params["offset"] > update_id for c in server.calls)
    await server.wait_for(confirmed, timeout=60, what=f"update {update_id} stored and confirmed")


async def onboard_amira_and_olena(world: TelegramWorld):  # noqa: ANN201
    amira = world.person(AMIRA, "Amira", "ar")
    await amira.onboard("العربية", "أوافق")
    olena = world.person(OLENA, "Olena", "uk")  # Ukrainian is not offered yet: she reads English
    await olena.onboard()
    return amira, olena


async def test_olena_is_answered_while_amira_floods(db_path: Path) -> None:
    """Amira sends 200 messages at once; Olena's /help, sent right after them, is answered while
    Amira's backlog is still being worked through — and Amira's answers keep her order.  No rate
    cap here: the fairness comes from the queues alone."""
    async with telegram_world(settings_with(db_path, rate_limit=0), read_timeout=60) as world:
        amira, olena = await onboard_amira_and_olena(world)
        server = world.server
        since, amira_before = len(server.calls), len(amira.messages)
        first_answer = server.hold("sendMessage", chat_id=AMIRA)  # Amira's backlog cannot be done early
        try:
            for i in range(1, 201):
                server.inject_message(AMIRA, f"/flood{i}")  # unknown commands: each answer names its own
            help_id = server.inject_message(OLENA, "/help")
            await stored(server, help_id)
        finally:
            first_answer.set()
        await server.wait_for_messages(AMIRA, amira_before + 200, timeout=120)
        await world.app.inbox.idle()

        sent = answers(server, since)
        to_amira = [c for c in sent if c.chat_id == AMIRA]
        [to_olena] = [c for c in sent if c.chat_id == OLENA]
        assert "/request" in to_olena.params["text"]  # her help, as on a quiet day
        # Amira's answers in the order she wrote, one each
        assert [re.search(r"/flood\d+", c.params["text"]).group() for c in to_amira] == [
            f"/flood{i}" for i in range(1, 201)]
        # Olena did not wait for Amira's backlog: she came in after 200 of Amira's messages, and
        # was answered after only a few of them (strict first-come-first-served: after all 200)
        amira_first = sum(1 for c in sent[:sent.index(to_olena)] if c.chat_id == AMIRA)
        assert amira_first <= 10, f"Olena was answered only after {amira_first} of Amira's 200 answers"
        assert world.app.inbox.dropped.total() == 0


async def test_two_floods_and_two_workers_do_not_hold_up_a_third_person(db_path: Path) -> None:
    """With only two workers and two people flooding at once, a third person is still answered
    before either backlog is done: a person waiting for their own backlog holds no worker."""
    async with telegram_world(settings_with(db_path, rate_limit=0, workers=2), read_timeout=60) as world:
        amira, olena = await onboard_amira_and_olena(world)
        tesfay = world.person(TESFAY, "Tesfay", "en")
        await tesfay.onboard()
        server = world.server
        since = len(server.calls)
        before = {AMIRA: len(amira.messages), TESFAY: len(tesfay.messages)}
        # both workers busy with a flooder each until Olena's message is stored
        gates = [server.hold("sendMessage", chat_id=AMIRA), server.hold("sendMessage", chat_id=TESFAY)]
        try:
            for i in range(1, 101):
                server.inject_message(AMIRA, f"/flood{i}")
                server.inject_message(TESFAY, f"/flood{i}")
            help_id = server.inject_message(OLENA, "/help")
            await stored(server, help_id)
        finally:
            for gate in gates:
                gate.set()
        for person, count in before.items():
            await server.wait_for_messages(person, count + 100, timeout=120)
        await world.app.inbox.idle()

        sent = answers(server, since)
        [to_olena] = [c for c in sent if c.chat_id == OLENA]
        earlier = sent[:sent.index(to_olena)]
        for flooder in (AMIRA, TESFAY):
            answered = sum(1 for c in earlier if c.chat_id == flooder)
            assert answered <= 10, f"Olena was answered only after {answered} of {flooder}'s 100 answers"


async def test_the_rate_cap_slows_a_flood_down_politely(db_path: Path, clock: Clock,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    """rate_limit = 20 per minute, Lotse's clock standing still: of Amira's 50 messages 20 are
    answered, the 21st is answered with "please slow down" in Arabic, the other 29 are not read
    and are counted.  Olena is not affected.  A minute later Amira is answered normally again."""
    caplog.set_level(logging.INFO, logger="bot.core.inbox")  # INFO: would show a line logged too low
    slow_down = translated("ar", MSG_SLOW_DOWN)
    async with telegram_world(settings_with(db_path, rate_limit=20)) as world:
        amira, olena = await onboard_amira_and_olena(world)
        clock.advance(timedelta(minutes=1))  # onboarding took 4 of their 20; full buckets again
        server, inbox = world.server, world.app.inbox
        since = len(server.calls)
        for _ in range(50):
            server.inject_message(AMIRA, "مرحبا؟ هل من أحد هنا؟")  # the same message, pasted 50 times
        help_id = server.inject_message(OLENA, "/help")
        await stored(server, help_id)  # so every one of Amira's 50 was stored or dropped before it
        await server.wait_for(lambda: [c for c in answers(server, since) if c.chat_id == OLENA],
                              what="Olena's answer")
        await inbox.idle()

        to_amira = [c.params["text"] for c in answers(server, since) if c.chat_id == AMIRA]
        assert to_amira.count(slow_down) == 1
        assert to_amira[-1] == slow_down  # her 21st message, answered in her order
        # she is at the request's first question: each message read is answered with "please
        # choose one of the options" and the question again — 20 times, then the "slow down"
        choose, question = to_amira[:2]
        assert to_amira[:-1] == [choose, question] * 20
        assert inbox.dropped[("telegram", str(AMIRA))] == 29
        [to_olena] = [c.params["text"] for c in answers(server, since) if c.chat_id == OLENA]
        assert "/request" in to_olena and inbox.dropped[("telegram", str(OLENA))] == 0
        assert await world.app.store.inbox.count() == 0  # nothing dropped was stored

        clock.advance(timedelta(minutes=1))
        [again] = await amira.send("/help")
        assert "/request" in again["text"] and again["text"] != slow_down
        # the operator sees it at `lotse run`'s default log level (WARNING)
        assert [r.levelno for r in caplog.records
                if r.getMessage() == "rate cap: dropped 29 event(s) from telegram:1001"] == [logging.WARNING]
        assert inbox.dropped[("telegram", str(AMIRA))] == 29


async def test_a_german_speaker_is_asked_to_slow_down_in_german(db_path: Path, clock: Clock) -> None:
    """rate_limit = 5: of 8 /help at once, 5 are answered, then one "slow down" in German; 2 dropped."""
    slow_down = translated("de", MSG_SLOW_DOWN)
    async with telegram_world(settings_with(db_path, rate_limit=5)) as world:
        leila = world.person(LEILA, "Leila", "de")  # German menus
        await leila.onboard("Deutsch", "Ich bin einverstanden")
        clock.advance(timedelta(minutes=1))
        since = len(world.server.calls)
        ids = [world.server.inject_message(LEILA, "/help") for _ in range(8)]
        await stored(world.server, ids[-1])
        await world.app.inbox.idle()
        texts = [c.params["text"] for c in answers(world.server, since)]
        assert len(texts) == 6 and texts[-1] == slow_down and slow_down not in texts[:-1]
        assert world.app.inbox.dropped[("telegram", str(LEILA))] == 2
