"""What every notifier shares: messages that start outside a conversation (dispatch, reminders)
and still speak each recipient's language and carry buttons only that recipient can use."""

from __future__ import annotations


from bot.core.context import MSG_CHOICE_HINT, Services
from bot.core.i18n import I18n, N_
from bot.core import payloads
from bot.core.payloads import Rows
from bot.core.types import Attachment, Message
from bot.store.store import Person


MSG_FOR_SOMEONE = N_("For %(name)s, whose request you filed:")


class Notifier:
    def __init__(self, services: Services) -> None:
        self.services = services

    def _i18n(self, person: Person) -> I18n:
        return self.services.catalogs.get(person.language)

    async def _buttons(self, person: Person, rows: Rows) -> tuple:
        return await payloads.mint(self.services.store, person.id, rows)

    def _message(self, person: Person, text: str, buttons: tuple = (), attachment: Attachment | None = None,
                 key: str | None = None) -> Message:
        i18n = self._i18n(person)
        hint = i18n.gettext(MSG_CHOICE_HINT) if buttons else ""
        if person.acting_for:  # a coordinator reads what the person they filed for would
            text = "\n".join([i18n.gettext(MSG_FOR_SOMEONE, name=person.acting_for), text])
        return Message(text, buttons, attachment, hint, key)

    async def _send(self, person: Person, text: str, buttons: tuple = (),
                    attachment: Attachment | None = None) -> str | None:
        """Best effort: a failure is logged (and an unreachable person marked)."""
        return await self.services.messenger.send(person, self._message(person, text, buttons, attachment))

    async def _gender(self, guide: Person | None) -> str | None:
        return await self.services.store.guides.gender(guide.id) if guide is not None else None

    def _cmd(self, person: Person, name: str) -> str:
        return self.services.messenger.command(person, name)
