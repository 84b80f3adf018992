"""The languages a person speaks, asked as two steps shared by the request and the guide
registration: "Which language do you speak best?" (one), then "Any others?" (several, or none).

The menu language is not a spoken language: a Dari speaker who reads English menus is not
recorded English-first, so nothing is pre-ticked.  The answer is stored as one list, the best
language first (`languages`), which matching, statistics and the export read.
"""

from __future__ import annotations

from typing import Any

from bot.core.context import Context
from bot.core.dialog import Option, Step, rows
from handlers import labels

BEST, OTHERS = "best_language", "languages"


def _options(ctx: Context, data: dict[str, Any], without: str | None = None) -> list[list[Option]]:
    return rows([Option(code, labels.language(ctx, code), translate=False)
                 for code in ctx.settings.area.languages if code != without], 2)


def steps(best: str, others: str, values: Any = None) -> tuple[Step, Step]:
    """The two steps, with these prompts (msgids, filled in by `values` if given); a "change
    languages" jumps to the first, and the second follows it before the jump returns."""

    async def best_answered(ctx: Context, value: Any, data: dict[str, Any]) -> Step:
        return others_step  # also after a jump from the summary: both steps, then back

    async def others_answered(ctx: Context, value: Any, data: dict[str, Any]) -> Step | None:
        first = data.get(BEST) or (value[0] if value else None)  # a dialog saved before the two steps
        if first is None:
            return best_step
        data[BEST] = first
        data[OTHERS] = [first, *(code for code in value if code != first)]
        return None

    best_step = Step(BEST, best, values=values, options=_options, on_answer=best_answered)
    others_step = Step(OTHERS, others, values=values,
                       options=lambda ctx, data: _options(ctx, data, without=data.get(BEST)),
                       multi=True, on_answer=others_answered)
    return best_step, others_step
