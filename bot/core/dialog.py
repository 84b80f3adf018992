"""A small declarative state machine for forms, persisted per person after every step.

A Dialog is a list of Steps.  Each step has a prompt, and either options (shown as buttons) or a
parser for typed input (raising `Invalid` with a localized explanation to re-ask), and the name
of the next step.  `on_answer` may do the step's side effect and choose another next step.
The state (dialog, step, answers so far, and the tokens of the step's buttons) is one row,
saved in the same transaction as the step's side effect; the prompt is sent only after that
commit.  So a process killed at any point resumes at the step the person last saw, with every
earlier answer kept.

A step may also be a multiple choice (`multi=True`): each tap toggles an option (the message is
edited in place, chosen options marked ✓) until "Done".  A step with options and a parser takes a
typed option number or label first, anything else through the parser (a date step offers the
next days as buttons and also reads "3.12.").  `jump(data, step)` from `on_answer` sends the
person to another step and back to the current one afterwards ("change a field" in a summary).

A dialog's button tokens are random and stored only in the person's own state row, replaced at
every step: pressing a button of an earlier step, of an abandoned dialog or of someone else finds
nothing and is refused as "no longer valid".

A dialog may declare the `authority` it needs (bot/core/authority.py, e.g. a coordinator).  It is
asked when the dialog starts and again before every answer is taken: a person who lost it in the
meantime (removed from [roles], a guide suspended) is told so, the dialog ends, nothing is saved.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.authority import Authority, refused
from bot.core.context import Context
from bot.core.types import Button
from bot.core.i18n import N_
from bot.clock import utcnow
from bot.store.store import Buttons, DialogState

END = "__end__"
RETURN = "_return"  # data key: where to continue after a jumped-to step
MSG_DONE = N_("Done")
MSG_AT_LEAST = N_("Please choose at least one.")
CHECK = "✓ "

Prompt = Callable[[Context, dict[str, Any]], str]
Options = Callable[[Context, dict[str, Any]], Sequence[Sequence["Option"]]]
Parser = Callable[[Context, str, dict[str, Any]], Any]
OnAnswer = Callable[[Context, Any, dict[str, Any]], Awaitable[str | None]]
OnFinish = Callable[[Context, dict[str, Any]], Awaitable[None]]


class Invalid(Exception):
    """Raised by a step's parser: `message` (already translated) explains what to type."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Option:
    value: Any
    label: str
    translate: bool = True  # False for labels that are already final (e.g. language names)

    def text(self, ctx: Context) -> str:
        return ctx._(self.label) if self.translate else self.label


@dataclass(frozen=True)
class Step:
    name: str
    prompt: Prompt
    options: Options | None = None
    parse: Parser | None = None
    next: str = END
    on_answer: OnAnswer | None = None
    multi: bool = False            # a multiple choice; the value is the list of chosen values
    min_choices: int = 0
    preselect: Callable[[Context, dict[str, Any]], list[Any]] | None = None


@dataclass(frozen=True)
class Dialog:
    name: str
    steps: tuple[Step, ...]
    on_finish: OnFinish | None = None
    authority: Authority | None = None  # asked at the start and before every answer

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)


MSG_NOT_AN_OPTION = N_("Please choose one of the options below.")
MSG_STALE_BUTTON = N_("This button is no longer valid. Please use the latest message.")
MSG_NOTHING_CHANGED = N_("Nothing was changed.")


class DialogEngine:
    def __init__(self) -> None:
        self._dialogs: dict[str, Dialog] = {}

    def register(self, dialog: Dialog) -> None:
        if dialog.name in self._dialogs:
            raise ValueError(f"dialog {dialog.name!r} registered twice")
        self._dialogs[dialog.name] = dialog

    def get(self, name: str) -> Dialog | None:
        return self._dialogs.get(name)

    # -- entry points -------------------------------------------------------------------------
    async def start(self, ctx: Context, name: str, data: dict[str, Any] | None = None, at: str | None = None) -> None:
        """Begin dialog `name` (at its first step, or at step `at`), replacing any other dialog."""
        dialog = self._dialogs[name]
        first = at or dialog.steps[0].name
        if dialog.step(first) is None:
            raise KeyError(f"dialog {name}: no step {first!r}")
        state = DialogState(name, secrets.token_hex(4), first, dict(data or {}), utcnow())
        if await self._refused(ctx, dialog, state, at_start=True):
            return
        await self._enter(ctx, dialog, state)  # one statement: no explicit transaction needed

    async def handle_text(self, ctx: Context, state: DialogState, text: str) -> None:
        dialog, step = self._resolve(state)
        if dialog is None or step is None:
            await ctx.store.dialogs.clear(ctx.person.id)
            return
        if await self._refused(ctx, dialog, state):
            return
        text = text.strip()
        if step.multi:
            await self._typed_choices(ctx, dialog, step, state, text)
            return
        value: Any = _NO_MATCH
        if step.options is not None:
            value = self._match_option(ctx, step, state, text)
        if value is _NO_MATCH and step.parse is not None:
            try:
                value = step.parse(ctx, text, state.data)
            except Invalid as problem:
                ctx.reply(problem.message)
                await self._enter(ctx, dialog, state)
                return
        elif value is _NO_MATCH and step.options is not None:
            ctx.reply(ctx._(MSG_NOT_AN_OPTION))
            await self._enter(ctx, dialog, state)
            return
        elif value is _NO_MATCH:
            value = text
        await self._answer(ctx, dialog, step, state, value)

    async def handle_button(self, ctx: Context, state: DialogState, token: str) -> bool:
        """Press one of the current step's buttons; False if `token` is not one of them."""
        if token not in state.buttons:
            return False
        dialog, step = self._resolve(state)
        if dialog is None or step is None:
            return False
        if await self._refused(ctx, dialog, state):
            ctx.answered = ctx.event.message_id  # the dialog ended: its buttons go away
            return True
        value = state.buttons[token]
        if step.multi:
            await self._choice(ctx, dialog, step, state, value, edit=ctx.event.message_id)
            return True
        await self._answer(ctx, dialog, step, state, value)
        ctx.answered = ctx.event.message_id
        return True

    @staticmethod
    def jump(data: dict[str, Any], step: str, back_to: str) -> str:
        """From on_answer: continue at `step`, then return to `back_to` (e.g. the summary)."""
        data[RETURN] = back_to
        return step

    async def cancel(self, ctx: Context) -> None:
        await ctx.store.dialogs.clear(ctx.person.id)

    # -- internals ----------------------------------------------------------------------------
    async def _refused(self, ctx: Context, dialog: Dialog, state: DialogState, at_start: bool = False) -> bool:
        """Ask the dialog's authority; refused: the person is told, a running dialog ends."""
        refusal = await refused(ctx, dialog.authority, state.data, f"dialog {dialog.name} at {state.step}")
        if refusal is None:
            return False
        if at_start:
            ctx.reply(refusal)
        else:
            await ctx.store.dialogs.clear(ctx.person.id)
            ctx.reply("\n".join([refusal, ctx._(MSG_NOTHING_CHANGED)]))
        return True

    def _resolve(self, state: DialogState) -> tuple[Dialog | None, Step | None]:
        dialog = self._dialogs.get(state.dialog)
        return dialog, (dialog.step(state.step) if dialog else None)

    def _match_option(self, ctx: Context, step: Step, state: DialogState, text: str) -> Any:
        options = [opt for row in step.options(ctx, state.data) for opt in row]  # type: ignore[misc]
        if text.isdigit() and 1 <= int(text) <= len(options):
            return options[int(text) - 1].value
        folded = text.casefold()
        for opt in options:
            if opt.text(ctx).casefold() == folded:
                return opt.value
        return _NO_MATCH

    # -- multiple choice ----------------------------------------------------------------------
    def _chosen(self, ctx: Context, step: Step, data: dict[str, Any]) -> list[Any]:
        if step.name in data:
            return list(data[step.name])
        return list(step.preselect(ctx, data)) if step.preselect else []

    async def _choice(self, ctx: Context, dialog: Dialog, step: Step, state: DialogState, value: Any,
                      edit: str | None = None) -> None:
        """A tap (or typed number) on a multiple choice: toggle, or finish with "done"."""
        chosen = self._chosen(ctx, step, state.data)
        if isinstance(value, dict) and value.get("done"):
            if len(chosen) < step.min_choices:
                ctx.reply(ctx._(MSG_AT_LEAST))
                await self._enter(ctx, dialog, state)
                return
            ctx.answered = edit
            await self._answer(ctx, dialog, step, state, chosen)
            return
        toggled = value["toggle"] if isinstance(value, dict) else value
        chosen = [v for v in chosen if v != toggled] if toggled in chosen else chosen + [toggled]
        data = {**state.data, step.name: chosen}
        await self._enter(ctx, dialog, DialogState(state.dialog, state.instance, state.step, data, utcnow()),
                          edit=edit)

    async def _typed_choices(self, ctx: Context, dialog: Dialog, step: Step, state: DialogState, text: str) -> None:
        """Typed "2 5" toggles options 2 and 5; the number or label of Done finishes."""
        options = [o for row in step.options(ctx, state.data) for o in row]  # type: ignore[misc]
        if text.casefold() in (ctx._(MSG_DONE).casefold(), str(len(options) + 1)):
            await self._choice(ctx, dialog, step, state, {"done": True})
            return
        numbers = text.replace(",", " ").split()
        if not numbers or not all(n.isdigit() and 1 <= int(n) <= len(options) for n in numbers):
            matched = self._match_option(ctx, step, state, text)
            if matched is _NO_MATCH:
                ctx.reply(ctx._(MSG_NOT_AN_OPTION))
                await self._enter(ctx, dialog, state)
                return
            await self._choice(ctx, dialog, step, state, matched)
            return
        chosen = self._chosen(ctx, step, state.data)
        for number in numbers:
            value = options[int(number) - 1].value
            chosen = [v for v in chosen if v != value] if value in chosen else chosen + [value]
        data = {**state.data, step.name: chosen}
        await self._enter(ctx, dialog, DialogState(state.dialog, state.instance, state.step, data, utcnow()))

    # -- answering ------------------------------------------------------------------------------
    async def _answer(self, ctx: Context, dialog: Dialog, step: Step, state: DialogState, value: Any) -> None:
        data = dict(state.data)
        data[step.name] = value
        async with ctx.store.transaction():
            chosen = await step.on_answer(ctx, value, data) if step.on_answer else None
            following = chosen or step.next
            if chosen is None and RETURN in data and following != END:
                following = data.pop(RETURN)
            if following == END:
                await ctx.store.dialogs.clear(ctx.person.id)
                if dialog.on_finish:
                    await dialog.on_finish(ctx, data)
                return
            if dialog.step(following) is None:
                raise KeyError(f"dialog {dialog.name}: no step {following!r}")
            await self._enter(ctx, dialog, DialogState(dialog.name, state.instance, following, data, utcnow()))

    async def _enter(self, ctx: Context, dialog: Dialog, state: DialogState, edit: str | None = None) -> None:
        """Save `state` with fresh button tokens and queue its step's prompt (or edit it in place)."""
        step = dialog.step(state.step)
        assert step is not None
        rows: list[tuple[Button, ...]] = []
        values: dict[str, Any] = {}
        chosen = self._chosen(ctx, step, state.data) if step.multi else []

        def button(label: str, value: Any) -> Button:
            token = Buttons.new_token()
            values[token] = value
            return Button(label, token)

        for option_row in (step.options(ctx, state.data) if step.options is not None else ()):
            if step.multi:
                rows.append(tuple(button((CHECK if o.value in chosen else "") + o.text(ctx), {"toggle": o.value})
                                  for o in option_row))
            else:
                rows.append(tuple(button(o.text(ctx), o.value) for o in option_row))
        if step.multi:
            rows.append((button(ctx._(MSG_DONE), {"done": True}),))
        state = DialogState(state.dialog, state.instance, state.step, state.data, utcnow(), values)
        await ctx.store.dialogs.save(ctx.person.id, state)
        if edit is not None:
            ctx.replace(edit, step.prompt(ctx, state.data), tuple(rows))
        else:
            ctx.reply(step.prompt(ctx, state.data), tuple(rows))


class _NoMatch:
    pass


_NO_MATCH = _NoMatch()
