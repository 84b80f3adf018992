"""What a handler gets: the person, their language, the store and services, and a reply queue.

Replies are queued and sent by the router after the handler (and its transaction) finished, so
nothing is sent for a change that was rolled back, and no network wait happens inside a
transaction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.core import payloads
from bot.core.i18n import N_, Catalogs, I18n
from bot.core.messenger import Messenger
from bot.core.payloads import Rows
from bot.core.types import Attachment, Button, Event, Message
from bot.store import Store
from bot.store.store import DialogState, Person

if TYPE_CHECKING:
    from bot.core.dialog import DialogEngine


MSG_CHOICE_HINT = N_("Reply with the number of your choice.")


@dataclass
class Services:
    """The application's long-lived parts, shared by every handler."""

    settings: Settings
    store: Store
    catalogs: Catalogs
    messenger: Messenger
    dialogs: "DialogEngine" = None  # type: ignore[assignment]  # set by the router
    # Called with each newly confirmed request's id (dispatch subscribes here).
    request_listeners: list[Callable[["Context", int], Awaitable[None]]] = field(default_factory=list)
    dispatch: Any = None  # bot.services.dispatch.Dispatch, set by the app
    reminders: Any = None  # bot.services.reminders.ReminderService, set by the app
    broadcast: Any = None  # bot.services.broadcast.BroadcastSender, set by the app
    retention_texts: Any = None  # handlers.privacy.RetentionTexts (what retention asks), set by the app


@dataclass
class Context:
    event: Event
    person: Person
    i18n: I18n
    services: Services
    dialog: DialogState | None = None  # the person's current dialog, loaded by the router
    outbox: list[tuple[Person, Message, str | None]] = field(default_factory=list)  # (to, what, edit id)
    answered: str | None = None  # id of a message whose button was used: its buttons go away
    deferred: list[Callable[[], Awaitable[None]]] = field(default_factory=list)  # run after the commit

    # -- conveniences ---------------------------------------------------------------------
    @property
    def store(self) -> Store:
        return self.services.store

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def is_coordinator(self) -> bool:
        return self.settings.is_coordinator(self.person.platform, self.person.platform_user_id)

    def _(self, msgid: str, **values: object) -> str:
        return self.i18n.gettext(msgid, **values)

    def ngettext(self, singular: str, plural: str, count: int, **values: object) -> str:
        return self.i18n.ngettext(singular, plural, count, **values)

    def cmd(self, name: str, person: Person | None = None) -> str:
        """A command as `person` (default: this one) types it on their platform ("/help", "!help")."""
        return self.services.messenger.command(person or self.person, name)

    def use_role(self, role: str) -> None:
        self.person = dataclasses.replace(self.person, role=role)

    def use_language(self, language: str) -> None:
        self.i18n = self.services.catalogs.get(language)
        self.person = dataclasses.replace(self.person, language=language)

    # -- output ---------------------------------------------------------------------------
    async def buttons(self, rows: Rows, person: Person | None = None) -> tuple[tuple[Button, ...], ...]:
        """Rows of (label, typed payload) as Buttons for `person` (default: this one), one opaque
        token each; only that person can use them."""
        return await payloads.mint(self.store, (person or self.person).id, rows)

    def i18n_for(self, person: Person) -> I18n:
        """Another person's language (for messages to them)."""
        return self.services.catalogs.get(person.language)

    def message_for(self, person: Person, text: str, buttons: tuple[tuple[Button, ...], ...] = ()) -> Message:
        hint = self.i18n_for(person).gettext(MSG_CHOICE_HINT) if buttons else ""
        return Message(text, buttons, None, hint)

    def reply(self, text: str, buttons: tuple[tuple[Button, ...], ...] = (),
              attachment: Attachment | None = None) -> None:
        self.outbox.append((self.person, self.message(text, buttons, attachment), None))

    def replace(self, message_id: str, text: str, buttons: tuple[tuple[Button, ...], ...] = ()) -> None:
        """Edit one of the bot's messages to this person (e.g. a multiple choice after a tap)."""
        self.outbox.append((self.person, self.message(text, buttons), message_id))

    def message(self, text: str, buttons: tuple[tuple[Button, ...], ...] = (),
                attachment: Attachment | None = None) -> Message:
        """A Message in this person's language (with the hint for platforms without buttons)."""
        hint = self._(MSG_CHOICE_HINT) if buttons else ""
        return Message(text, buttons, attachment, hint)

    def send_to(self, person: Person, message: Message) -> None:
        self.outbox.append((person, message, None))

    async def flush(self) -> None:
        if self.answered is not None:
            answered, self.answered = self.answered, None
            await self.services.messenger.clear_buttons(self.person, answered)
        queued, self.outbox = self.outbox, []
        for person, message, edit in queued:
            if edit is None:
                await self.services.messenger.send(person, message)
            else:
                await self.services.messenger.edit(person, edit, message)
        deferred, self.deferred = self.deferred, []
        for work in deferred:
            await work()

    def later(self, work: Callable[[], Awaitable[None]]) -> None:
        """Run `work` after this event's transaction committed and its replies went out (work that
        has its own transaction and talks to other people, e.g. dispatch)."""
        self.deferred.append(work)
