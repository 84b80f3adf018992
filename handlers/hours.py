"""`hours`: the funding programme's accounts ([programme], bot/services/programme.py).

- A guide reads their own account: this month and this year (hours, allowance in €), what is left
  until the yearly cap and until the weekly average's cap, the months in which the benefits limit
  would be passed (only for a guide marked as receiving benefits) and the tax-free warning; and
  buttons that send the monthly statement (PDF, bot/services/statement.py) of this or last month.
  Without a programme (unit "none") only the hours.
- A coordinator reads every approved guide's year with its warnings, a button each.  A guide's
  view lists the assignments that took place this year with their corrections (who, when, old →
  new, why), a button to correct each (new hours → reason → confirm), and toggles for the two marks:
  also coordinating (higher caps) and receiving benefits (the monthly limit).  The benefits mark is
  sensitive: only that guide and coordinators ever read it, and it is never logged.

Hours, € and dates are formatted with Babel in the reader's locale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from babel.numbers import format_percent

from bot.clock import utcnow
from bot.core.authority import coordinator
from bot.core.context import Context
from bot.core.dialog import END, MSG_NOTHING_CHANGED, NO, YES, Dialog, Invalid, Option, Step, _End
from bot.core.i18n import I18n, N_, load_translations
from bot.core.when import ParseError, parse_duration
from bot.core.payloads import Payload
from bot.core.router import Router
from bot.core.types import Attachment
from bot.services import programme as rules
from bot.services.statement import monthly_statement
from bot.store.programme import Worked
from handlers.authority import MSG_NOT_A_GUIDE
from handlers.coordinator import name_of
from handlers.newcomer import limited
from handlers.reminders import hours_label

REASON_MAX = 300        # characters of a correction's reason
MOST_HOURS = 24.0       # a correction above this is a typing error
CORRECT_BUTTONS = 30    # correction buttons for the latest assignments only (a chat's keyboard is small)

MSG_NO_PROGRAMME = N_("No funding programme is configured, so Lotse shows your hours only.")
MSG_HEADING = N_("Your hours – %(programme)s")
MSG_MONTH_HOURS = N_("This month (%(month)s): %(hours)s")
MSG_YEAR_HOURS = N_("This year (%(year)s): %(hours)s")
MSG_MONTH_PAID = N_("This month (%(month)s): %(hours)s, allowance %(amount)s")
MSG_YEAR_PAID = N_("This year (%(year)s): %(hours)s, allowance %(amount)s")
MSG_YEAR_LEFT = N_("Left until the yearly cap of %(cap)s: %(left)s")
MSG_WEEKLY = N_("Weekly average from %(start)s to %(end)s: %(average)s of at most %(cap)s a week; "
                "%(left)s left in these weeks")
MSG_BOOKED_COUNT = N_("Booked appointments count with their planned length until you report the hours.")
MSG_YOUR_BENEFITS = N_("You are marked as receiving benefits: you may keep at most %(limit)s a month.")
MSG_YOUR_BENEFITS_OVER = N_("In %(months)s your allowance would be more than %(limit)s. Please talk to a "
                            "coordinator before you take on more appointments in that month.")
MSG_YOUR_TAX_FREE = N_("Your allowance this year (%(amount)s) is more than the tax-free %(limit)s. Please ask a "
                       "coordinator or your tax office.")
MSG_STATEMENT_BUTTON = N_("Monthly statement (PDF): %(month)s")
MSG_STATEMENT_SENT = N_("Your statement for %(month)s: %(hours)s, allowance %(amount)s. You can forward it to the "
                        "Jobcenter.")
MSG_STATEMENT_GERMAN_ONLY = N_("The statement is in German only: the PDF cannot be written in your language's "
                               "script.")

MSG_LIST_HEADING = N_("Hours in %(year)s of the approved guides (%(programme)s):")
MSG_LIST_NONE = N_("There are no approved guides.")
MSG_LIST_HEADING_PLAIN = N_("Hours in %(year)s of the approved guides (no funding programme is configured):")
MSG_LIST_ROW = N_("%(name)s: %(hours)s, %(amount)s")
MSG_LIST_ROW_PLAIN = N_("%(name)s: %(hours)s")
MSG_LIST_PICK = N_("Choose a guide to see their appointments, correct hours or change their marks.")
MSG_WARN_LEVEL = N_("%(share)s of the yearly cap reached (%(hours)s of %(cap)s)")
MSG_WARN_OVER = N_("over the yearly cap (%(hours)s of %(cap)s)")
MSG_WARN_BENEFITS = N_("over the benefits limit of %(limit)s in %(months)s")
MSG_WARN_TAX_FREE = N_("over the tax-free %(limit)s")
MSG_WARNING = N_("⚠ %(warning)s")

MSG_GUIDE_HEADING = N_("%(name)s – %(year)s: %(hours)s, allowance %(amount)s")
MSG_MARKS = N_("Also coordinates: %(coordinating)s. Receives benefits: %(benefits)s.")
MSG_WORKED_HEADING = N_("Appointments that took place this year:")
MSG_WORKED_NONE = N_("No appointment took place this year yet.")
MSG_WORKED_ROW = N_("%(date)s: %(hours)s h")
MSG_WORKED_NO_HOURS = N_("%(date)s: no hours reported yet (counted: %(hours)s h)")
MSG_AUDIT = N_("corrected by %(name)s on %(date)s: %(old)s → %(new)s h – %(reason)s")
MSG_NOT_REPORTED = N_("not reported")
MSG_CORRECT_BUTTON = N_("Correct %(date)s (%(hours)s h)")
MSG_MARK_COORDINATING = N_("Mark: also coordinates")
MSG_UNMARK_COORDINATING = N_("Remove mark: also coordinates")
MSG_MARK_BENEFITS = N_("Mark: receives benefits")
MSG_UNMARK_BENEFITS = N_("Remove mark: receives benefits")
MSG_NOW_COORDINATING = N_("%(name)s is now marked as also coordinating: at most %(weekly)s a week on average and "
                          "%(yearly)s a year.")
MSG_NO_LONGER_COORDINATING = N_("%(name)s is no longer marked as also coordinating: at most %(weekly)s a week on "
                                "average and %(yearly)s a year.")
MSG_NOW_BENEFITS = N_("%(name)s is now marked as receiving benefits: at most %(limit)s a month. Only %(name)s and "
                      "coordinators see this mark.")
MSG_NO_LONGER_BENEFITS = N_("%(name)s is no longer marked as receiving benefits.")
MSG_MARK_UNCHANGED = N_("The mark was already set like this. Nothing was changed.")
MSG_NOT_A_GUIDE_ANY_MORE = N_("This person is not a guide. Nothing was changed.")

MSG_CANNOT_CORRECT_NOT_DONE = N_("This appointment did not take place (or was not reported as having taken place), "
                                 "so it has no hours to correct. Nothing was changed.")
MSG_CANNOT_CORRECT_NO_HOURS = N_("%(name)s has not reported the hours of this appointment yet; the follow-up asks "
                                 "them. Only reported hours can be corrected. Nothing was changed.")
MSG_ASK_NEW_HOURS = N_("Correct the hours of %(name)s's appointment on %(date)s (now %(old)s h). "
                       "Please type the new hours, for example 1,5 or 2.")
MSG_BAD_HOURS = N_("Please type the hours as a number between 0 and %(most)s, for example 1,5 or 2.")
MSG_ASK_REASON = N_("Why are the hours corrected? Please write a short reason; %(name)s can read it.")
MSG_REASON_NEEDED = N_("Please write a reason.")
MSG_CONFIRM = N_("Change the hours of the appointment on %(date)s from %(old)s to %(new)s h? Reason: %(reason)s")
MSG_CORRECTED = N_("Corrected: %(old)s → %(new)s h. %(name)s now has %(hours)s this year, allowance %(amount)s.")
MSG_YOUR_HOURS_CORRECTED = N_("A coordinator corrected the hours of your appointment on %(date)s: %(old)s → %(new)s "
                              "h. Reason: %(reason)s")


@dataclass(frozen=True)
class HoursStatement(Payload, action="hours-statement"):
    """A guide's own monthly statement (PDF) of that month."""
    year: int
    month: int


@dataclass(frozen=True)
class HoursGuide(Payload, action="hours-guide"):
    """A coordinator's view of one guide's year."""
    guide: int


@dataclass(frozen=True)
class HoursMark(Payload, action="hours-mark"):
    """Set or remove a guide's mark: "coordinating" or "benefits"."""
    guide: int
    mark: str
    value: bool


@dataclass(frozen=True)
class HoursCorrect(Payload, action="hours-correct"):
    """Start correcting one assignment's hours."""
    assignment: int


# -- formatting --------------------------------------------------------------------------------
def hours_text(ctx: Context, hours: float) -> str:
    return hours_label(ctx.i18n, hours)


def months_list(ctx: Context, year: int, months: list[int]) -> str:
    return ctx.i18n.join([ctx.i18n.month(year, m) for m in months])


def _programme_name(ctx: Context) -> str:
    return ctx.settings.programme.name


def _paid(ctx: Context) -> bool:
    return ctx.settings.programme.unit != "none"


# -- the command -------------------------------------------------------------------------------
async def hours(ctx: Context) -> None:
    if ctx.is_coordinator:
        await coordinator_list(ctx)
    else:
        await guide_account(ctx)


async def guide_account(ctx: Context) -> None:
    if await ctx.store.guides.get(ctx.person.id) is None:
        ctx.reply(ctx._(MSG_NOT_A_GUIDE, command=ctx.cmd("guide")))
        return
    programme, zone = ctx.settings.programme, ctx.i18n.zone
    now = ctx.i18n.local(utcnow())
    account = await rules.account(ctx.store, programme, zone, ctx.person.id, now.year)
    this_month = account.months.get(now.month, rules.Month())
    month, year = ctx.i18n.month(now.year, now.month), str(now.year)
    if not _paid(ctx):
        ctx.reply("\n".join([ctx._(MSG_NO_PROGRAMME),
                             ctx._(MSG_MONTH_HOURS, month=month, hours=hours_text(ctx, this_month.hours)),
                             ctx._(MSG_YEAR_HOURS, year=year, hours=hours_text(ctx, account.hours))]))
        return
    lines = [ctx._(MSG_HEADING, programme=_programme_name(ctx)),
             ctx._(MSG_MONTH_PAID, month=month, hours=hours_text(ctx, this_month.hours),
                   amount=ctx.i18n.euro(this_month.allowance)),
             ctx._(MSG_YEAR_PAID, year=year, hours=hours_text(ctx, account.hours),
                   amount=ctx.i18n.euro(account.allowance))]
    if account.left is not None:
        lines.append(ctx._(MSG_YEAR_LEFT, cap=hours_text(ctx, account.caps.yearly),
                           left=hours_text(ctx, account.left)))
    window = await rules.window(ctx.store, programme, zone, ctx.person.id, now.date(), account.caps)
    if window.left is not None:
        last_day = ctx.i18n.local(window.end).date().toordinal() - 1
        lines.append(ctx._(MSG_WEEKLY, start=ctx.i18n.date(window.start, "medium"),
                           end=ctx.i18n.date(date.fromordinal(last_day), "medium"),
                           average=hours_text(ctx, window.average), cap=hours_text(ctx, account.caps.weekly),
                           left=hours_text(ctx, window.left)))
    limit = programme.benefits_monthly_limit
    if account.benefits and limit:
        lines.append(ctx._(MSG_YOUR_BENEFITS, limit=ctx.i18n.euro(limit)))
        if account.benefit_months:
            lines.append(ctx._(MSG_WARNING, warning=ctx._(
                MSG_YOUR_BENEFITS_OVER, months=months_list(ctx, now.year, account.benefit_months),
                limit=ctx.i18n.euro(limit))))
    if rules.over_tax_free(programme, account):
        lines.append(ctx._(MSG_WARNING, warning=ctx._(MSG_YOUR_TAX_FREE, amount=ctx.i18n.euro(account.allowance),
                                                      limit=ctx.i18n.euro(programme.tax_free_yearly))))
    lines.append(ctx._(MSG_BOOKED_COUNT))
    last = (now.year, now.month - 1) if now.month > 1 else (now.year - 1, 12)
    rows = [[(ctx._(MSG_STATEMENT_BUTTON, month=ctx.i18n.month(y, m)), HoursStatement(y, m))]
            for y, m in ((now.year, now.month), last)]
    ctx.reply("\n".join(lines), await ctx.buttons(rows))


async def on_statement(ctx: Context, pressed: HoursStatement) -> None:
    programme = ctx.settings.programme
    if await ctx.store.guides.get(ctx.person.id) is None:
        ctx.reply(ctx._(MSG_NOT_A_GUIDE, command=ctx.cmd("guide")))
        return
    if not 1 <= pressed.month <= 12 or not _paid(ctx):
        ctx.reply(ctx._(MSG_NO_PROGRAMME))
        return
    zone = ctx.i18n.zone
    start, end = rules.month_span(pressed.year, pressed.month, zone)
    worked = [(w.starts_at, w.counted)
              for w in await ctx.store.programme.worked(ctx.person.id, start, end, programme.rounding)
              if w.state == "done"]
    german = ctx.services.catalogs.get("de")
    if german.language != "de":  # the statement is in German even where German is no menu language
        german = I18n("de", load_translations("de"), zone)
    made = monthly_statement(programme, name_of(ctx.person), date(pressed.year, pressed.month, 1), worked,
                             german, ctx.i18n, utcnow())
    month = ctx.i18n.month(pressed.year, pressed.month)
    lines = [ctx._(MSG_STATEMENT_SENT, month=month, hours=hours_text(ctx, made.hours),
                   amount=ctx.i18n.euro(made.amount))]
    if made.german_only and ctx.i18n.language != "de":
        lines.append(ctx._(MSG_STATEMENT_GERMAN_ONLY))
    ctx.reply("\n".join(lines), attachment=Attachment(
        f"lotse-statement-{pressed.year:04d}-{pressed.month:02d}.pdf", made.content, "application/pdf"))


# -- coordinators ------------------------------------------------------------------------------
def warnings(ctx: Context, account: rules.Account) -> list[str]:
    programme = ctx.settings.programme
    found = []
    if account.caps.yearly and account.hours > account.caps.yearly + 1e-9:
        found.append(ctx._(MSG_WARN_OVER, hours=hours_text(ctx, account.hours),
                           cap=hours_text(ctx, account.caps.yearly)))
    else:
        levels = rules.warning_levels(programme, account)
        if levels:
            found.append(ctx._(MSG_WARN_LEVEL, share=format_percent(levels[-1], locale=ctx.i18n.locale),
                               hours=hours_text(ctx, account.hours), cap=hours_text(ctx, account.caps.yearly)))
    if account.benefit_months:
        found.append(ctx._(MSG_WARN_BENEFITS, limit=ctx.i18n.euro(programme.benefits_monthly_limit),
                           months=months_list(ctx, account.year, account.benefit_months)))
    if rules.over_tax_free(programme, account):
        found.append(ctx._(MSG_WARN_TAX_FREE, limit=ctx.i18n.euro(programme.tax_free_yearly)))
    return [ctx._(MSG_WARNING, warning=w) for w in found]


async def coordinator_list(ctx: Context) -> None:
    approved = [guide_id for guide_id, _ in await ctx.store.guides.in_states(("approved",))]
    if not approved:
        ctx.reply(ctx._(MSG_LIST_NONE))
        return
    year = ctx.i18n.local(utcnow()).year
    accounts = await rules.accounts(ctx.store, ctx.settings.programme, ctx.i18n.zone, approved, year)
    paid = _paid(ctx)
    lines = [ctx._(MSG_LIST_HEADING, year=str(year), programme=_programme_name(ctx)) if paid
             else ctx._(MSG_LIST_HEADING_PLAIN, year=str(year))]
    rows = []
    for guide_id in approved:
        account, name = accounts[guide_id], name_of(await ctx.store.people.get(guide_id))
        lines.append(ctx._(MSG_LIST_ROW, name=name, hours=hours_text(ctx, account.hours),
                           amount=ctx.i18n.euro(account.allowance)) if paid
                     else ctx._(MSG_LIST_ROW_PLAIN, name=name, hours=hours_text(ctx, account.hours)))
        lines += [f"  {w}" for w in warnings(ctx, account)]
        rows.append([(name, HoursGuide(guide_id))])
    lines += ["", ctx._(MSG_LIST_PICK)]
    ctx.reply("\n".join(lines), await ctx.buttons(rows))


def _yes_no(ctx: Context, value: bool) -> str:
    return ctx._("yes") if value else ctx._("no")


async def _audit_lines(ctx: Context, assignment_id: int) -> list[str]:
    lines = []
    for c in await ctx.store.programme.corrections(assignment_id):
        by = name_of(await ctx.store.people.get(c.corrected_by)) if c.corrected_by is not None else "?"
        old = ctx.i18n.number(c.old_hours) if c.old_hours is not None else ctx._(MSG_NOT_REPORTED)
        lines.append(ctx._(MSG_AUDIT, name=by, date=ctx.i18n.date(c.corrected_at, "medium"), old=old,
                           new=ctx.i18n.number(c.new_hours), reason=c.reason))
    return lines


async def on_guide(ctx: Context, pressed: HoursGuide) -> None:
    guide = await ctx.store.people.get(pressed.guide)
    if guide is None or await ctx.store.guides.get(pressed.guide) is None:
        ctx.reply(ctx._(MSG_NOT_A_GUIDE_ANY_MORE))
        return
    programme, zone = ctx.settings.programme, ctx.i18n.zone
    now = utcnow()
    year = ctx.i18n.local(now).year
    account = await rules.account(ctx.store, programme, zone, pressed.guide, year)
    name = name_of(guide)
    lines = [ctx._(MSG_GUIDE_HEADING, name=name, year=str(year), hours=hours_text(ctx, account.hours),
                   amount=ctx.i18n.euro(account.allowance))]
    if account.left is not None:
        lines.append(ctx._(MSG_YEAR_LEFT, cap=hours_text(ctx, account.caps.yearly), left=hours_text(ctx, account.left)))
    lines += warnings(ctx, account)
    lines.append(ctx._(MSG_MARKS, coordinating=_yes_no(ctx, account.coordinating), benefits=_yes_no(ctx, account.benefits)))
    start, end = rules.year_span(year, zone)
    done = [w for w in await ctx.store.programme.worked(pressed.guide, start, end, programme.rounding)
            if w.state == "done"]
    lines += ["", ctx._(MSG_WORKED_HEADING) if done else ctx._(MSG_WORKED_NONE)]
    for worked in done:
        day = ctx.i18n.date(worked.starts_at, "medium")
        if worked.hours is None:
            lines.append(ctx._(MSG_WORKED_NO_HOURS, date=day, hours=ctx.i18n.number(worked.counted)))
        else:
            lines.append(ctx._(MSG_WORKED_ROW, date=day, hours=ctx.i18n.number(worked.hours)))
        lines += [f"  {line}" for line in await _audit_lines(ctx, worked.assignment_id)]
    correctable = [w for w in done if w.hours is not None][-CORRECT_BUTTONS:]
    if len(correctable) < len([w for w in done if w.hours is not None]):
        lines.append(ctx.ngettext("Buttons to correct are shown for the latest appointment only.",
                                  "Buttons to correct are shown for the latest %(count)s appointments.",
                                  CORRECT_BUTTONS))
    rows: list[list[tuple[str, Payload]]] = [
        [(ctx._(MSG_CORRECT_BUTTON, date=ctx.i18n.date(w.starts_at, "medium"), hours=ctx.i18n.number(w.hours or 0)),
          HoursCorrect(w.assignment_id))] for w in correctable]
    rows.append([(ctx._(MSG_UNMARK_COORDINATING if account.coordinating else MSG_MARK_COORDINATING),
                  HoursMark(pressed.guide, "coordinating", not account.coordinating))])
    if programme.benefits_monthly_limit or account.benefits:
        rows.append([(ctx._(MSG_UNMARK_BENEFITS if account.benefits else MSG_MARK_BENEFITS),
                      HoursMark(pressed.guide, "benefits", not account.benefits))])
    ctx.reply("\n".join(lines), await ctx.buttons(rows))


async def on_mark(ctx: Context, pressed: HoursMark) -> None:
    ctx.answered = ctx.event.message_id
    guide = await ctx.store.people.get(pressed.guide)
    if guide is None or await ctx.store.guides.get(pressed.guide) is None or \
            pressed.mark not in ("coordinating", "benefits"):
        ctx.reply(ctx._(MSG_NOT_A_GUIDE_ANY_MORE))
        return
    if not await ctx.store.programme.set_mark(pressed.guide, pressed.mark, pressed.value):
        ctx.reply(ctx._(MSG_MARK_UNCHANGED))
        return
    programme, name = ctx.settings.programme, name_of(guide)
    if pressed.mark == "coordinating":
        limits = rules.caps(programme, pressed.value)
        ctx.reply(ctx._(MSG_NOW_COORDINATING if pressed.value else MSG_NO_LONGER_COORDINATING, name=name,
                        weekly=hours_text(ctx, limits.weekly), yearly=hours_text(ctx, limits.yearly)))
    elif pressed.value:
        ctx.reply(ctx._(MSG_NOW_BENEFITS, name=name, limit=ctx.i18n.euro(programme.benefits_monthly_limit)))
    else:
        ctx.reply(ctx._(MSG_NO_LONGER_BENEFITS, name=name))


# -- correcting hours --------------------------------------------------------------------------
async def _correctable(ctx: Context, assignment_id: int) -> tuple[int, Worked] | str:
    """(guide, the assignment) if its hours can be corrected, else the refusal in words."""
    found = await ctx.store.programme.worked_one(assignment_id, ctx.settings.programme.rounding)
    if found is None or found[1].state != "done":
        return ctx._(MSG_CANNOT_CORRECT_NOT_DONE)
    if found[1].hours is None:
        return ctx._(MSG_CANNOT_CORRECT_NO_HOURS, name=name_of(await ctx.store.people.get(found[0])))
    return found


async def on_correct(ctx: Context, pressed: HoursCorrect) -> None:
    found = await _correctable(ctx, pressed.assignment)
    if isinstance(found, str):
        ctx.reply(found)
        return
    guide_id, worked = found
    await ctx.services.dialogs.start(ctx, CORRECT_DIALOG, {
        "assignment": worked.assignment_id, "guide": guide_id, "old": worked.hours,
        "starts_at": worked.starts_at.isoformat(), "name": name_of(await ctx.store.people.get(guide_id))})


def _when(ctx: Context, data: dict[str, Any]) -> str:
    return ctx.i18n.date(datetime.fromisoformat(data["starts_at"]), "medium")


def _hours_values(ctx: Context, data: dict[str, Any]) -> dict[str, object]:
    return {"name": data["name"], "date": _when(ctx, data), "old": ctx.i18n.number(data["old"])}


def _parse_hours(ctx: Context, text: str, data: dict[str, Any]) -> float:
    """Hours as people type them elsewhere in Lotse ("1,5", "2 h", "90 min", "۱٫۵"): parse_duration."""
    try:
        value = parse_duration(text) / 60
    except ParseError:
        value = -1.0
    if not 0 < value <= MOST_HOURS:
        raise Invalid(ctx._(MSG_BAD_HOURS, most=ctx.i18n.number(MOST_HOURS)))
    return value


def _parse_reason(ctx: Context, text: str, data: dict[str, Any]) -> str:
    reason = limited(REASON_MAX, lines=False)(ctx, text, data).strip()
    if not reason:
        raise Invalid(ctx._(MSG_REASON_NEEDED))
    return reason


def _confirm_values(ctx: Context, data: dict[str, Any]) -> dict[str, object]:
    return {"date": _when(ctx, data), "old": ctx.i18n.number(data["old"]), "new": ctx.i18n.number(data["hours"]),
            "reason": data["reason"]}


def _yes_no_options(ctx: Context, data: dict[str, Any]) -> list[list[Option]]:
    return [[Option(True, N_("Yes"), typed=YES), Option(False, N_("No"), typed=NO)]]


async def _confirm_answer(ctx: Context, value: Any, data: dict[str, Any]) -> _End:
    if not value:
        ctx.reply(ctx._(MSG_NOTHING_CHANGED))
        return END
    found = await _correctable(ctx, int(data["assignment"]))
    if isinstance(found, str):
        ctx.reply(found)
        return END
    guide_id, worked = found
    now = utcnow()
    old = await ctx.store.programme.correct_hours(worked.assignment_id, ctx.person.id, float(data["hours"]),
                                                  str(data["reason"]), now)
    if old is False or old is None:
        ctx.reply(ctx._(MSG_CANNOT_CORRECT_NOT_DONE))
        return END
    programme = ctx.settings.programme
    year = ctx.i18n.local(worked.starts_at).year
    account = await rules.account(ctx.store, programme, ctx.i18n.zone, guide_id, year)
    guide = await ctx.store.people.get(guide_id)
    ctx.reply("\n".join([
        ctx._(MSG_CORRECTED, old=ctx.i18n.number(old), new=ctx.i18n.number(float(data["hours"])), name=data["name"],
              hours=hours_text(ctx, account.hours), amount=ctx.i18n.euro(account.allowance)),
        *await _audit_lines(ctx, worked.assignment_id)]))
    if guide is not None:
        i18n = ctx.i18n_for(guide)
        ctx.send_to(guide, ctx.message_for(guide, i18n.gettext(
            MSG_YOUR_HOURS_CORRECTED, date=i18n.date(worked.starts_at, "medium"), old=i18n.number(old),
            new=i18n.number(float(data["hours"])), reason=str(data["reason"]))))
    return END


CORRECT_DIALOG = Dialog("hours-correct", (
    Step("hours", MSG_ASK_NEW_HOURS, values=_hours_values, parse=_parse_hours),
    Step("reason", MSG_ASK_REASON, values=lambda ctx, data: {"name": data["name"]}, parse=_parse_reason),
    Step("confirm", MSG_CONFIRM, values=_confirm_values, options=_yes_no_options, on_answer=_confirm_answer),
), authority=coordinator)


def register(router: Router) -> None:
    router.command("hours", hours)
    router.button(HoursStatement, on_statement)
    router.button(HoursGuide, on_guide, authority=coordinator)
    router.button(HoursMark, on_mark, authority=coordinator)
    router.button(HoursCorrect, on_correct, authority=coordinator)
    router.dialogs.register(CORRECT_DIALOG)
