"""A small declarative state machine for forms, persisted per person after every step.

A Dialog is a tuple of Steps.  A step's prompt is its message id (N_), or several shown as lines,
with `values` giving their placeholders; only a prompt built from parts is a function.  It has
either options (shown as buttons) or a parser for typed input (raising `Invalid` with a localized
explanation to re-ask), or both.  After an answer the dialog goes on at `next` (a Step object;
by default the step that follows in the dialog's tuple, END after the last one); `on_answer` may do
the step's side effect and return another Step, or END.  Steps and dialogs are referenced as
objects; their names are only what is stored (the state row and the answers are keyed by them),
and a Dialog checks when it is built that every step it names is one of its own.

The state (dialog, step, answers so far, and the tokens of the step's buttons) is one row,
saved in the same transaction as the step's side effect; the prompt is sent only after that
commit.  So a process killed at any point resumes at the step the person last saw, with every
earlier answer kept.

A step may also be a multiple choice (`multi=True`): each tap toggles an option (the message is
edited in place, chosen options marked ✓) until "Done".  A step with options and a parser takes a
typed option number or label first, anything else through the parser (a date step offers the
next days as buttons and also reads "3.12.").  `jump(data, step, back_to)` from `on_answer` sends
the person to another step and back to `back_to` afterwards ("change a field" in a summary).

A dialog's button tokens are random and stored only in the person's own state row, replaced at
every step: pressing a button of an earlier step, of an abandoned dialog or of someone else finds
nothing and is refused as "no longer valid".

A dialog may declare the `authority` it needs (bot/core/authority.py, e.g. a coordinator).  It is
asked when the dialog starts and again before every answer is taken: a person who lost it in the
meantime (removed from [roles], a guide suspended) is told so, the dialog ends, nothing is saved.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.core.authority import Authority, refused
from bot.core.context import Context
from bot.core.types import Button
from bot.core.i18n import N_
from bot.core.text import fold
from bot.clock import utcnow
from bot.store.store import Buttons, DialogState

MSG_DONE = N_("Done")
# Words a person may type instead of tapping: "stop" ends any dialog; "yes"/"no" choose an option
# that declares them (Option.typed).  Each in the person's language, and in English everywhere.
MSG_STOP = N_("stop")
MSG_CANCEL = N_("cancel")
MSG_STOPPED = N_("Stopped. Send %(help)s to see what you can do.")
YES, NO = (N_("yes"),), (N_("no"),)
MSG_AT_LEAST = N_("Please choose at least one.")
CHECK = "✓ "
RETURN = "_return"  # data key: the name of the step where to continue after a jumped-to step


class _End:
    """Where a dialog goes after its last answer."""

    def __repr__(self) -> str:
        return "END"


END = _End()

Prompt = Callable[[Context, dict[str, Any]], str]
Values = Callable[[Context, dict[str, Any]], Mapping[str, object]]
Options = Callable[[Context, dict[str, Any]], Sequence[Sequence["Option"]]]
Parser = Callable[[Context, str, dict[str, Any]], Any]
OnAnswer = Callable[[Context, Any, dict[str, Any]], Awaitable["Step | _End | None"]]
OnFinish = Callable[[Context, dict[str, Any]], Awaitable[None]]
T = TypeVar("T")


def rows(items: Sequence[T], per_row: int) -> list[list[T]]:
    """Options (or buttons) laid out `per_row` to a row, the last row shorter."""
    return [list(items[i:i + per_row]) for i in range(0, len(items), per_row)]


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
    typed: tuple[str, ...] = ()  # msgids of short words that also choose it when typed (YES, NO)

    def text(self, ctx: Context) -> str:
        return ctx._(self.label) if self.translate else self.label


@dataclass(frozen=True)
class Step:
    name: str                      # stored: the state row's step, and the key of its answer
    prompt: str | tuple[str, ...] | Prompt  # msgid(s), shown as lines; a function only for composed prompts
    values: Values | None = None   # the placeholders of the msgid prompt
    options: Options | None = None
    parse: Parser | None = None
    next: Step | _End | None = None  # None: the step that follows in the dialog (END after the last)
    on_answer: OnAnswer | None = None
    multi: bool = False            # a multiple choice; the value is the list of chosen values
    min_choices: int = 0
    preselect: Callable[[Context, dict[str, Any]], list[Any]] | None = None

    def text(self, ctx: Context, data: dict[str, Any]) -> str:
        if callable(self.prompt):
            return self.prompt(ctx, data)
        values = self.values(ctx, data) if self.values is not None else {}
        msgids = (self.prompt,) if isinstance(self.prompt, str) else self.prompt
        return "\n".join(ctx._(msgid, **values) for msgid in msgids)


@dataclass(frozen=True)
class Dialog:
    name: str
    steps: tuple[Step, ...]
    on_finish: OnFinish | None = None
    authority: Authority | None = None  # asked at the start and before every answer

    def __post_init__(self) -> None:
        names = [s.name for s in self.steps]
        if len(set(names)) != len(names):
            raise ValueError(f"dialog {self.name}: two steps with one name")
        for s in self.steps:
            if isinstance(s.next, Step) and s.next.name not in names:
                raise ValueError(f"dialog {self.name}: step {s.name} leads to {s.next.name}, not one of its steps")

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)

    def own(self, step: Step | str) -> Step:
        """This dialog's step of that name (a step may be shared by several dialogs, and an answer
        or the state row names one by its stored name)."""
        name = step if isinstance(step, str) else step.name
        found = self.step(name)
        if found is None:
            raise KeyError(f"dialog {self.name}: no step {name!r}")
        return found

    def after(self, step: Step) -> Step | _End:
        if step.next is not None:
            return step.next
        index = self.steps.index(self.own(step))
        return self.steps[index + 1] if index + 1 < len(self.steps) else END


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
    async def start(self, ctx: Context, dialog: Dialog, data: dict[str, Any] | None = None,
                    at: Step | None = None) -> None:
        """Begin `dialog` (at its first step, or at step `at`), replacing any other dialog."""
        if self._dialogs.get(dialog.name) is not dialog:
            raise KeyError(f"dialog {dialog.name!r} is not registered")
        first = dialog.own(at) if at is not None else dialog.steps[0]
        state = DialogState(dialog.name, secrets.token_hex(4), first.name, dict(data or {}), utcnow())
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
        if step is not STOP and fold(text) in {fold(ctx._(w)) for w in (MSG_STOP, MSG_CANCEL)} | {MSG_STOP, MSG_CANCEL}:
            await self.ask_stop(ctx, state)
            return
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
    def jump(data: dict[str, Any], step: Step, back_to: Step) -> Step:
        """From on_answer: continue at `step`, then return to `back_to` (e.g. the summary)."""
        data[RETURN] = back_to.name
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

    async def ask_stop(self, ctx: Context, state: DialogState) -> None:
        """"stop", "cancel" (or /cancel in a form): ask before leaving; "No" goes back to the step."""
        dialog, step = self._resolve(state)
        if dialog is None or step is None:
            return
        data = {**state.data, RETURN_AFTER_STOP: state.step}
        await self._enter(ctx, dialog, DialogState(state.dialog, state.instance, STOP.name, data, utcnow()))

    def _resolve(self, state: DialogState) -> tuple[Dialog | None, Step | None]:
        dialog = self._dialogs.get(state.dialog)
        if dialog is not None and state.step == STOP.name:
            return dialog, STOP
        return dialog, (dialog.step(state.step) if dialog else None)

    @staticmethod
    def numbers_choose(ctx: Context, step: Step) -> bool:
        """Whether a bare typed number picks the option of that number.  Where options are a
        numbered list (no native buttons) it does — the person reads the numbers.  Where they are
        buttons, a number is a value when the step reads typed values ("2" at the duration is two
        hours, "1" at the time is one o'clock), and an option number only at steps that have none."""
        traits = ctx.services.messenger.traits(ctx.person.platform)
        return step.parse is None or (traits is not None and not traits.native_buttons)

    def _match_option(self, ctx: Context, step: Step, state: DialogState, text: str) -> Any:
        options = [opt for row in step.options(ctx, state.data) for opt in row]  # type: ignore[misc]
        if text.isdigit() and 1 <= int(text) <= len(options) and self.numbers_choose(ctx, step):
            return options[int(text) - 1].value
        folded = fold(text)
        for opt in options:
            if fold(opt.text(ctx)) == folded:
                return opt.value
        for opt in options:
            if any(folded in (fold(ctx._(word)), word) for word in opt.typed):
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
        if fold(text) in (fold(ctx._(MSG_DONE)), str(len(options) + 1)):
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
        if step is STOP:
            data = dict(state.data)
            back = data.pop(RETURN_AFTER_STOP, None)
            if value or dialog.step(back or "") is None:
                await ctx.store.dialogs.clear(ctx.person.id)
                ctx.reply(ctx._(MSG_STOPPED, help=ctx.cmd("help")))
            else:
                await self._enter(ctx, dialog, DialogState(dialog.name, state.instance, back, data, utcnow()))
            return
        data = dict(state.data)
        data[step.name] = value
        async with ctx.store.transaction():
            chosen = await step.on_answer(ctx, value, data) if step.on_answer else None
            following = chosen if chosen is not None else dialog.after(step)
            if chosen is None and RETURN in data and following is not END:
                following = dialog.own(data.pop(RETURN))
            if isinstance(following, _End):
                await ctx.store.dialogs.clear(ctx.person.id)
                if dialog.on_finish:
                    await dialog.on_finish(ctx, data)
                return
            following = dialog.own(following)
            await self._enter(ctx, dialog, DialogState(dialog.name, state.instance, following.name, data, utcnow()))

    async def _enter(self, ctx: Context, dialog: Dialog, state: DialogState, edit: str | None = None) -> None:
        """Save `state` with fresh button tokens and queue its step's prompt (or edit it in place)."""
        step = STOP if state.step == STOP.name else dialog.step(state.step)
        assert step is not None
        buttons: list[tuple[Button, ...]] = []
        values: dict[str, Any] = {}
        chosen = self._chosen(ctx, step, state.data) if step.multi else []

        def button(label: str, value: Any) -> Button:
            token = Buttons.new_token()
            values[token] = value
            return Button(label, token)

        for option_row in (step.options(ctx, state.data) if step.options is not None else ()):
            if step.multi:
                buttons.append(tuple(button((CHECK if o.value in chosen else "") + o.text(ctx), {"toggle": o.value})
                                  for o in option_row))
            else:
                buttons.append(tuple(button(o.text(ctx), o.value) for o in option_row))
        if step.multi:
            buttons.append((button(ctx._(MSG_DONE), {"done": True}),))
        state = DialogState(state.dialog, state.instance, state.step, state.data, utcnow(), values)
        await ctx.store.dialogs.save(ctx.person.id, state)
        if edit is not None:
            ctx.replace(edit, step.text(ctx, state.data), tuple(buttons))
        else:
            ctx.reply(step.text(ctx, state.data), tuple(buttons))


RETURN_AFTER_STOP = "_back_from_stop"  # data key: the step to go back to when "No, go on"
STOP = Step("_stop", N_("Stop here? Your answers in this form are not kept."),
            options=lambda ctx, data: [[Option(True, N_("Yes, stop"), typed=YES)],
                                       [Option(False, N_("No, go on"), typed=NO)]])


class _NoMatch:
    pass


_NO_MATCH = _NoMatch()
