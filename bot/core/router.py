"""Finds the handler for an event: a pressed button, a command, or the current dialog step.

Order: de-duplicate by platform event id → load (or create) the person → button token / command /
dialog step / fallback.  Replies queued by the handler are sent
after it finished; an unexpected error is logged and the person gets a short apology in their
language instead of silence.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.core import replies
from bot.core.authority import Authority, refused
from bot.core.context import Context, Services
from bot.core.dialog import MSG_STALE_BUTTON, DialogEngine
from bot.core.i18n import N_
from bot.core.text import shorten
from bot.core.types import Event
from bot.clock import utcnow
from bot.core.payloads import Payload
from bot.store.store import Person
from bot.vocabulary import COORDINATOR, EVERYONE, GUIDE, NEWCOMER

log = logging.getLogger(__name__)

CommandHandler = Callable[[Context], Awaitable[None]]
LEAVE_FORM = "cancel"  # the command that, typed inside any dialog, leaves it (after a confirmation)
ButtonHandler = Callable[[Context, Any], Awaitable[None]]  # (ctx, the Payload subclass it was registered for)
Fallback = Callable[[Context], Awaitable[None]]

# Audiences of a command.

MSG_ERROR = N_("Sorry, something went wrong. Please try again in a moment.")
MSG_UNKNOWN_COMMAND = N_("I do not know the command %(command)s. Send %(help)s to see what I can do.")
MSG_NOT_YET = N_("This function is not available yet. Send %(help)s to see what I can do now.")
MSG_SLOW_DOWN = N_("You are sending messages very fast. Please wait a minute; I will not read messages "
                   "sent in the meantime.")
MSG_NOT_FOR_YOU = N_("This command is not available to you. Send %(help)s to see your commands.")


@dataclass(frozen=True)
class CommandSpec:
    name: str
    audience: str
    description: str  # msgid, shown by help and in platform command menus


@dataclass
class _Command:
    spec: CommandSpec
    handler: CommandHandler | None = None


class Router:
    def __init__(self, services: Services, commands: list[CommandSpec]) -> None:
        self.services = services
        self.dialogs = DialogEngine()
        services.dialogs = self.dialogs
        self._commands = {spec.name: _Command(spec) for spec in commands}
        self._buttons: dict[type[Payload], tuple[ButtonHandler, Authority | None]] = {}
        self._guard: Callable[[Context], Awaitable[bool]] | None = None
        self._fallback: Fallback | None = None
        self._files: Fallback | None = None

    # -- registration -------------------------------------------------------------------------
    def command(self, name: str, handler: CommandHandler) -> None:
        if name not in self._commands:
            raise KeyError(f"command {name!r} is not in the command catalog")
        self._commands[name].handler = handler

    def button(self, kind: type[Payload], handler: ButtonHandler, authority: Authority | None = None) -> None:
        """Presses of buttons whose payload is a `kind` go to `handler(ctx, payload)`; `authority`
        (bot/core/authority.py) is asked with the payload's fields at every press."""
        if kind in self._buttons:
            raise ValueError(f"button action {kind.action!r} registered twice")
        self._buttons[kind] = (handler, authority)

    def guard(self, guard: Callable[[Context], Awaitable[bool]]) -> None:
        """Runs before buttons, commands and text; returning True means the guard handled the event
        (onboarding uses it: nothing else happens before consent to the current notice)."""
        self._guard = guard

    def fallback(self, handler: Fallback) -> None:
        """Text outside any dialog."""
        self._fallback = handler

    def files(self, handler: Fallback) -> None:
        """Photos and files a person sends (Event kind "file"), wherever they are."""
        self._files = handler

    # -- queries ------------------------------------------------------------------------------
    def audiences(self, ctx: Context) -> set[str]:
        found = {EVERYONE}
        role = ctx.person.role
        if role in (None, NEWCOMER):
            found.add(NEWCOMER)
        if role in (None, GUIDE):
            found.add(GUIDE)
        if ctx.is_coordinator:  # a coordinator may use every command (their menu lists them all)
            found.update((NEWCOMER, GUIDE, COORDINATOR))
        return found

    def available(self, ctx: Context | None = None, audiences: set[str] | None = None) -> list[CommandSpec]:
        """Implemented commands for a person (or a set of audiences), in catalog order."""
        wanted = audiences if audiences is not None else (self.audiences(ctx) if ctx else None)
        return [c.spec for c in self._commands.values()
                if c.handler is not None and (wanted is None or c.spec.audience in wanted)]

    # -- dispatch -----------------------------------------------------------------------------
    async def handle(self, event: Event, inbox_row: int | None = None) -> None:
        """Handle one event in one transaction: its effects, the record of its event id and its
        inbox row (deleted, or holding the replies until they went out) are committed together, so
        a crash in the middle leaves the event unhandled (it is handled again at the next start),
        a handled event is never handled twice, and its replies are sent at the next start if the
        crash came before they went out.  One person's events arrive here one at a time
        (bot.core.inbox sees to that)."""
        store = self.services.store
        ctx: Context | None = None
        kept = False  # the inbox row holds replies to send
        try:
            async with store.transaction():
                if event.event_id:
                    loaded = await store.people.claim_event(event.platform, event.event_id,
                                                            event.user_id, event.chat_id)
                    if loaded is None:
                        log.debug("duplicate event %s:%s ignored", event.platform, event.event_id)
                        if inbox_row is not None:
                            await store.inbox.done(inbox_row)
                        return
                else:
                    loaded = await store.people.with_dialog(event.platform, event.user_id, event.chat_id)
                person, state = loaded
                if person.unreachable_at is not None:
                    await store.people.mark_reachable(person.id)
                ctx = Context(event, person, self._i18n_for(person, event), self.services, dialog=state)
                if event.throttled:
                    ctx.reply(ctx._(MSG_SLOW_DOWN))
                else:
                    await self._route(ctx)
                if inbox_row is not None:
                    kept = bool(ctx.outbox) or ctx.answered is not None
                    if kept:
                        await store.inbox.handled(inbox_row, replies.to_json(ctx))
                    else:
                        await store.inbox.done(inbox_row)
        except Exception:
            kept = False
            log.exception("handling %s event from %s:%s failed", event.kind, event.platform, event.user_id)
            if inbox_row is not None:  # not again at the next start: it would fail again
                await store.inbox.done(inbox_row)
            if ctx is None:
                return
            ctx.outbox.clear()
            ctx.deferred.clear()
            ctx.answered = None
            ctx.reply(ctx._(MSG_ERROR))
        if ctx is not None:
            await ctx.flush()
            if kept:
                assert inbox_row is not None
                store.inbox.sent(inbox_row)  # deleted with others (bot.core.inbox flushes)

    async def send_stored(self, inbox_row: int, stored: str, platform: str) -> None:
        """Replies that were leaving when the last process stopped: sent again where the platform
        recognises a repeat (they arrive once); elsewhere not (they probably arrived, and a second
        copy is worse than the rare lost one; the log says so)."""
        store = self.services.store
        if platform in self.services.messenger.recognising_repeats():
            await replies.send_stored(self.services, stored)
        else:
            log.warning("inbox: the replies to update %s were being sent when the last process stopped; "
                        "not sent again", inbox_row)
        store.inbox.sent(inbox_row)

    def _i18n_for(self, person: Person, event: Event):  # noqa: ANN202
        catalogs = self.services.catalogs
        return catalogs.get(person.language or catalogs.supported(event.language_hint))

    async def _route(self, ctx: Context) -> None:
        event = ctx.event
        state = ctx.dialog
        if state is not None and utcnow() - state.updated_at > self.services.settings.bot.dialog_expiry:
            await self.dialogs.cancel(ctx)
            state = ctx.dialog = None
        if self._guard is not None and await self._guard(ctx):
            return
        if event.kind == "button":
            await self._button(ctx)
            return
        if event.kind == "command":
            await self._command(ctx)
            return
        if event.kind == "file":
            if self._files is not None:
                await self._files(ctx)
            return
        if state is not None:
            await self.dialogs.handle_text(ctx, state, event.text)
        elif self._fallback is not None:
            await self._fallback(ctx)

    async def _button(self, ctx: Context) -> None:
        """A dialog button is found in the presser's own dialog state; any other in button_tokens.
        Unknown, stale or someone else's: refused, nothing changes.  So is a press by someone who
        lost the authority the action was registered with (asked now, not when it was minted)."""
        token = ctx.event.token
        if ctx.dialog is not None and await self.dialogs.handle_button(ctx, ctx.dialog, token):
            return
        stored = await self.services.store.buttons.get(token)
        payload = Payload.load(stored.action, stored.payload) if stored else None
        handler, authority = self._buttons.get(type(payload), (None, None)) if payload else (None, None)
        if stored is None or stored.person_id != ctx.person.id or payload is None or handler is None:
            ctx.reply(ctx._(MSG_STALE_BUTTON))
            return
        refusal = await refused(ctx, authority, payload.fields(), f"button {payload.action}")
        if refusal is not None:
            ctx.reply(refusal)
            return
        await handler(ctx, payload)

    async def _command(self, ctx: Context) -> None:
        name = ctx.event.command
        if name == LEAVE_FORM and ctx.dialog is not None:  # /cancel inside a form leaves the form (asked first)
            await self.dialogs.ask_stop(ctx, ctx.dialog)
            return
        command = self._commands.get(name)
        help_cmd = ctx.cmd("help")
        if command is None:
            ctx.reply(ctx._(MSG_UNKNOWN_COMMAND, command=ctx.cmd(shorten(name)), help=help_cmd))
        elif command.spec.audience not in self.audiences(ctx):
            if command.spec.audience == COORDINATOR:
                log.warning("refused /%s to %s:%s (not a coordinator)", name, ctx.person.platform,
                            ctx.person.platform_user_id)
            ctx.reply(ctx._(MSG_NOT_FOR_YOU, help=help_cmd))
        elif command.handler is None:
            ctx.reply(ctx._(MSG_NOT_YET, help=help_cmd))
        else:
            await command.handler(ctx)
