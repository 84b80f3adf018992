"""A cancellation sends the other side a cancelling calendar file: the same UID as the file sent
with the match, METHOD:CANCEL, STATUS:CANCELLED and a higher SEQUENCE (RFC 5545), so a phone's
calendar removes or strikes the entry instead of keeping a dead appointment."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar

from tests.conftest import Clock, Running
from tests.test_dispatch import guide, person, request, settle


def event_of(attachment) -> tuple[str, object]:  # noqa: ANN001
    calendar = Calendar.from_ical(attachment.content)
    [event] = [c for c in calendar.walk() if c.name == "VEVENT"]
    return str(calendar.get("method")), event


async def matched(lotse: Running) -> tuple[object, object]:
    await guide(lotse, "leila")
    await person(lotse, "amira", "en", "newcomer")
    await request(lotse, "amira")
    await lotse.transport.press("leila", "Accept")
    await settle(lotse)
    [to_guide] = [m for m in lotse.transport.messages("leila") if m.attachment]
    [to_newcomer] = [m for m in lotse.transport.messages("amira") if m.attachment]
    return event_of(to_guide.attachment), event_of(to_newcomer.attachment)


async def test_the_newcomer_cancels_and_the_guide_gets_a_cancelling_file(lotse: Running, clock: Clock) -> None:
    (method, first), _ = await matched(lotse)
    assert method == "PUBLISH"
    clock.now += timedelta(hours=1)
    bot = lotse.transport
    await bot.say("amira", "/cancel")
    await bot.press("amira", 1)
    await bot.press("amira", "Yes, cancel it")
    await settle(lotse)
    last = lotse.transport.messages("leila")[-1]
    assert last.text.startswith("Amira cancelled this appointment") and last.attachment is not None
    method, cancel = event_of(last.attachment)
    assert method == "CANCEL" and str(cancel.get("status")) == "CANCELLED"
    assert str(cancel.get("uid")) == str(first.get("uid"))
    assert int(cancel.get("sequence")) > int(first.get("sequence"))


async def test_the_guide_cancels_and_the_newcomer_gets_a_cancelling_file(lotse: Running, clock: Clock) -> None:
    _, (method, first) = await matched(lotse)
    clock.now += timedelta(hours=1)
    bot = lotse.transport
    await bot.say("leila", "/appointments")
    await bot.press("leila", "Cancel")
    await bot.press("leila", "Yes, I cannot come")
    await settle(lotse)
    last = [m for m in lotse.transport.messages("amira") if m.attachment][-1]
    assert last.text.startswith("Your guide cannot come after all")
    method, cancel = event_of(last.attachment)
    assert method == "CANCEL" and str(cancel.get("uid")) == str(first.get("uid"))
    assert int(cancel.get("sequence")) > int(first.get("sequence"))
