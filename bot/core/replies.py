"""An event's replies, kept in its inbox row between the commit that handled it and their sending.

The router sends replies after the handling transaction committed (no network wait inside a
transaction, nothing sent for a change that was rolled back).  A crash in between would lose them
while the update is already acknowledged to the platform and marked handled; so the handling
transaction stores them in the inbox row (`to_json`), and a restart sends what it finds there
(`send_stored`) where the platform recognises a repeat; elsewhere it does not, as a copy may have
arrived (at most once, like reminders).  Work queued with `Context.later` is not stored: the services it starts keep
their own state and resume at start (offers, broadcasts).
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from typing import Any

from bot.core.context import Context, Services
from bot.core.types import Attachment, Button, Message

log = logging.getLogger(__name__)


def to_json(ctx: Context) -> str:
    """The queued replies of `ctx`.  Those to a platform that recognises a repeat get a
    key (unless they have one), so one sent again after a crash is delivered only once."""
    repeats = ctx.services.messenger.recognising_repeats()
    keyed = []
    for person, message, edit in ctx.outbox:
        if message.key is None and edit is None and person.platform in repeats:
            message = Message(message.text, message.buttons, message.attachment, message.choice_hint,
                              key=f"reply-{uuid.uuid4().hex}")  # row ids are reused
        keyed.append((person, message, edit))
    ctx.outbox = keyed
    return json.dumps({
        "answered": [ctx.person.id, ctx.answered] if ctx.answered is not None else None,
        "outbox": [{"to": person.id, "edit": edit, "message": _message(message)} for person, message, edit in keyed],
    }, ensure_ascii=False, separators=(",", ":"))


def _message(message: Message) -> dict[str, Any]:
    attachment = message.attachment
    return {"text": message.text, "buttons": [[[b.label, b.token] for b in row] for row in message.buttons],
            "attachment": None if attachment is None else
            {"filename": attachment.filename, "mime_type": attachment.mime_type,
             "content": base64.b64encode(attachment.content).decode("ascii")},
            "choice_hint": message.choice_hint, "key": message.key}


def _from(data: dict[str, Any]) -> Message:
    attachment = data["attachment"]
    return Message(data["text"], tuple(tuple(Button(label, token) for label, token in row) for row in data["buttons"]),
                   None if attachment is None else
                   Attachment(attachment["filename"], base64.b64decode(attachment["content"]), attachment["mime_type"]),
                   data["choice_hint"], data["key"])


async def send_stored(services: Services, text: str) -> None:
    """Send replies stored by `to_json` (at the start after a crash)."""
    data = json.loads(text)
    people = services.store.people
    messenger = services.messenger
    if data["answered"] is not None:
        person = await people.get(data["answered"][0])
        if person is not None:
            await messenger.clear_buttons(person, data["answered"][1])
    for entry in data["outbox"]:
        person = await people.get(entry["to"])
        if person is None:  # erased meanwhile
            continue
        if entry["edit"] is None:
            await messenger.send(person, _from(entry["message"]))
        else:
            await messenger.edit(person, entry["edit"], _from(entry["message"]))

