"""The funding programme's money rules ([programme] in the config), in one place: what an assignment
counts (bot/store/programme.py), the caps per role, the allowance per month, the benefits limit
and the tax-free amount, and a guide's account for a year.

Hessen's WIR pays €5 an hour: on average at most 6 hours a week (over `average_weeks` weeks) and
276 a year, 9 and 414 for a guide who also coordinates.  Other states pay per month or per
accompaniment (`unit`).  Caps apply in hours whatever the unit; 0 means no cap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import ProgrammeSettings
from bot.store.programme import window_span as weeks_span, year_span

__all__ = ["Account", "Caps", "Month", "account", "allowance", "build_account", "caps", "over_caps",
           "over_tax_free", "rounded", "warning_levels", "window_span", "year_span"]


@dataclass(frozen=True)
class Caps:
    weekly: float   # average hours a week at most, 0: none
    yearly: float   # hours a year at most, 0: none


def caps(programme: ProgrammeSettings, coordinating: bool) -> Caps:
    if programme.unit == "none":
        return Caps(0.0, 0.0)
    if coordinating:
        return Caps(programme.weekly_cap_coordinating or programme.weekly_cap,
                    programme.yearly_cap_coordinating or programme.yearly_cap)
    return Caps(programme.weekly_cap, programme.yearly_cap)


def rounded(programme: ProgrammeSettings, hours: float) -> float:
    """Hours as the programme counts them (in steps of `rounding`, halves up)."""
    step = programme.rounding
    if not step:
        return hours
    return int(hours / step + 0.5 + 1e-9) * step


def paid(state: str) -> bool:
    """Whether an assignment that counts is paid (and reported to the funder): once it took place.
    A booked one counts toward the caps only; a year's report names those still booked apart."""
    return state == "done"


def allowance(programme: ProgrammeSettings, hours: float, assignments: int) -> float:
    """€ for one month with these counted hours and assignments."""
    if programme.unit == "hour":
        return round(hours * programme.rate, 2)
    if programme.unit == "assignment":
        return round(assignments * programme.rate, 2)
    if programme.unit == "month":
        return programme.rate if assignments else 0.0
    return 0.0


def month_span(year: int, month: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return (datetime.combine(date(year, month, 1), time(0), zone), datetime.combine(following, time(0), zone))


def window_span(day: date, programme: ProgrammeSettings, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The weeks the weekly average is taken over: `average_weeks` weeks ending with `day`'s week."""
    return weeks_span(day, programme.average_weeks, zone)


def over_caps(programme: ProgrammeSettings, limits: Caps, year_hours: float, window_hours: float,
              request_hours: float) -> list[tuple[str, dict[str, Any]]]:
    """Why taking on `request_hours` more would pass a cap: ("yearly_cap" | "weekly_cap", values)."""
    found: list[tuple[str, dict[str, Any]]] = []
    if limits.yearly and year_hours + request_hours > limits.yearly + 1e-9:
        found.append(("yearly_cap", {"hours": round(year_hours, 2), "cap": limits.yearly}))
    if limits.weekly and window_hours + request_hours > limits.weekly * programme.average_weeks + 1e-9:
        found.append(("weekly_cap", {"average": round((window_hours + request_hours) / programme.average_weeks, 2),
                                     "cap": limits.weekly, "weeks": programme.average_weeks}))
    return found


@dataclass(frozen=True)
class Month:
    hours: float = 0.0
    assignments: int = 0
    allowance: float = 0.0
    over_benefits: bool = False   # a guide marked as receiving benefits would keep more than allowed


@dataclass(frozen=True)
class Account:
    """A guide's year: hours and € per month (1–12), totals, what is left until the caps."""

    guide_id: int
    year: int
    coordinating: bool
    benefits: bool
    caps: Caps
    months: dict[int, Month] = field(default_factory=dict)

    @property
    def hours(self) -> float:
        return round(sum(m.hours for m in self.months.values()), 2)

    @property
    def allowance(self) -> float:
        return round(sum(m.allowance for m in self.months.values()), 2)

    @property
    def left(self) -> float | None:
        """Hours left until the yearly cap (None: no cap)."""
        return None if not self.caps.yearly else round(max(0.0, self.caps.yearly - self.hours), 2)

    @property
    def share(self) -> float | None:
        return None if not self.caps.yearly else self.hours / self.caps.yearly

    @property
    def benefit_months(self) -> list[int]:
        return [number for number, month in sorted(self.months.items()) if month.over_benefits]


def build_account(programme: ProgrammeSettings, guide_id: int, year: int, coordinating: bool, benefits: bool,
                  counted: list[tuple[datetime, float]], zone: ZoneInfo) -> Account:
    """The account from the assignments that count (appointment start, hours counted)."""
    per_month: dict[int, list[float]] = {}
    for starts_at, hours in counted:
        local = starts_at.astimezone(zone)
        if local.year == year:
            per_month.setdefault(local.month, []).append(hours)
    months = {}
    for number, hours in per_month.items():
        total = round(sum(hours), 2)
        paid = allowance(programme, total, len(hours))
        over = bool(benefits and programme.benefits_monthly_limit and paid > programme.benefits_monthly_limit)
        months[number] = Month(total, len(hours), paid, over)
    return Account(guide_id, year, coordinating, benefits, caps(programme, coordinating), months)


async def account(store: Any, programme: ProgrammeSettings, zone: ZoneInfo, guide_id: int, year: int) -> Account:
    coordinating, benefits = await store.programme.marks(guide_id)
    start, end = year_span(year, zone)
    rows = await store.programme.counted(start, end, programme.rounding, guide_id)
    return build_account(programme, guide_id, year, coordinating, benefits, [(at, h) for _, at, h, _ in rows], zone)


async def accounts(store: Any, programme: ProgrammeSettings, zone: ZoneInfo, guide_ids: list[int],
                   year: int) -> dict[int, Account]:
    """`account` of several guides, from one reading of the year's assignments and of their marks."""
    start, end = year_span(year, zone)
    per_guide: dict[int, list[tuple[datetime, float]]] = {guide_id: [] for guide_id in guide_ids}
    for guide, at, hours, _ in await store.programme.counted(start, end, programme.rounding):
        if guide in per_guide:
            per_guide[guide].append((at, hours))
    entries = await store.programme.guides(guide_ids)
    return {guide_id: build_account(programme, guide_id, year, bool(entry and entry.coordinating),
                                    bool(entry and entry.benefits), counted, zone)
            for guide_id, counted in per_guide.items() for entry in (entries.get(guide_id),)}


@dataclass(frozen=True)
class Window:
    """The weeks the weekly average is taken over, and where a guide stands in them."""
    start: datetime
    end: datetime
    hours: float
    average: float        # hours a week on average
    left: float | None    # hours left in these weeks until the average reaches the cap (None: no cap)


async def window(store: Any, programme: ProgrammeSettings, zone: ZoneInfo, guide_id: int, day: date,
                 limits: Caps) -> Window:
    start, end = window_span(day, programme, zone)
    hours = round((await store.programme.hours([guide_id], start, end, programme.rounding)).get(guide_id, 0.0), 2)
    weeks = programme.average_weeks
    left = None if not limits.weekly else round(max(0.0, limits.weekly * weeks - hours), 2)
    return Window(start, end, hours, round(hours / weeks, 2), left)


def statement_total(programme: ProgrammeSettings, worked: list[tuple[datetime, float]]) -> tuple[float, float]:
    """(hours, €) of a month's statement: the assignments that took place, as counted."""
    hours = round(sum(h for _, h in worked), 2)
    return hours, allowance(programme, hours, len(worked))


def over_tax_free(programme: ProgrammeSettings, account_: Account) -> bool:
    return bool(programme.tax_free_yearly and account_.allowance > programme.tax_free_yearly)


def warning_levels(programme: ProgrammeSettings, account_: Account) -> list[float]:
    """The [programme] warn_at shares of the yearly cap the account has reached."""
    share = account_.share
    return [] if share is None else [level for level in sorted(programme.warn_at) if share >= level]


async def new_warning(store: Any, programme: ProgrammeSettings, zone: ZoneInfo, guide_id: int, year: int,
                      now: datetime) -> tuple[Account, float] | None:
    """After a booking or a change of hours: the highest share of the yearly cap (warn_at) the
    guide has newly reached, with their account — each level is told once a year (all reached
    levels are noted, so a jump past two tells one); None when nothing new."""
    if caps(programme, False).yearly == 0 and caps(programme, True).yearly == 0:
        return None
    found = await account(store, programme, zone, guide_id, year)
    newest = None
    for level in warning_levels(programme, found):
        if await store.programme.warned(guide_id, year, level, now):
            newest = level
    return None if newest is None else (found, newest)
