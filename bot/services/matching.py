"""Matching: which guides may take a request, and in which order to ask them — pure, no I/O.

Everything comes in as arguments (the request as a `Need`, the guides as `Candidate`s, the weights,
the zone, the travel buffer); nothing reads a clock, a file or the database.  `Need` and
`Candidate` are defined in bot/store/matching.py (the store imports nothing above it) and
re-exported here.

Hard filters — a guide failing any of them is not offered the request; each is a named reason:

    not_approved        the guide's state is not 'approved'
    paused              paused on the appointment's local date (paused_until None: until resume)
    no_shared_language  speaks none of the newcomer's languages
    district            neither "all districts" nor the request's district
    no_slot             no weekly slot on the local weekday covers the WHOLE appointment, start to
                        end, in local time of the configured zone (so it holds across DST changes)
    overlap             an active assignment overlaps the appointment widened by the travel buffer
                        on both sides
    weekly_max          assignments_in_week >= weekly_max
    gender              the newcomer asked for a gender and the guide's differs (or is unknown)
    declined            the guide declined this request before
    cancelled           the guide accepted this request (or was assigned it) and cancelled: they
                        are never offered it again (a coordinator may still ask them by hand)

Score — the sum of named components, each from `[matching.weights]` (WeightsSettings) w.*:

    first_language  = w.first_language   if the guide speaks need.languages[0]
    other_language  = w.other_language   if not, but speaks another of need.languages
    district        = w.district         if the guide names the district (not only "all districts")
    topic           = w.topic            if the guide chose the request's topic
    fairness        = w.fairness / (1 + assignments_30d)
    continuity      = w.continuity       if helped_newcomer > 0 and not helped_badly
    reliability     = w.reliability * clamp((offers_accepted + 3) / (offers_total + 4)
                                            - 0.25 * no_shows, 0, 1)

Reliability starts every guide with a prior of 3 accepts in 4 offers, so a new guide scores 0.75
and a guide's own record takes over as offers accumulate; each no-show costs a quarter.  Without
a hard filter failing, nothing else excludes: a low score only means "asked later".

The score is computed for every candidate, eligible or not, so the coordinator's view can show both
why a guide was not offered and how they would have ranked.

Explanations: `explain(evaluation)` gives one (msgid, values) pair per exclusion, then one per
component that earned points.  Each msgid is English, marked with N_ for extraction, and uses named
placeholders; the values are raw domain values for the handler to localize before it substitutes
them (bot.core.i18n.I18n.gettext(msgid, **values)):

    language            a language code          → handlers.labels.language
    languages           a tuple of language codes → handlers.labels.languages
    district            a district name (as is)
    topic               a topic key              → handlers.labels.topic
    state               a guide state            → handlers.labels.GUIDE_STATES
    gender              'female' / 'male'        → handlers.labels.PREFERRED_GENDERS
    weekday             0 = Monday               → handlers.labels.weekday
    start_minute, end_minute   local minutes     → handlers.labels.clock
    paused_from, paused_until  local dates       → handlers.labels.day
    busy_from, busy_until      aware datetimes   → I18n.datetime / I18n.time
    points              a float rounded to 2 places → I18n.number
    count, weekly_max, accepted, offers, no_shows   ints
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from bot.config import ProgrammeSettings, WeightsSettings
from bot.services import programme as money
from bot.core.i18n import N_
from bot.store.matching import Candidate, Need, appointment_window

__all__ = [
    "COMPONENTS", "REASONS", "Candidate", "Component", "Evaluation", "Need",
    "evaluate", "explain", "rank",
]

REASONS = ("not_approved", "paused", "no_shared_language", "district", "no_slot", "overlap",
           "weekly_max", "gender", "declined", "cancelled", "yearly_cap", "weekly_cap")
COMPONENTS = ("first_language", "other_language", "district", "topic", "fairness", "continuity",
              "reliability")

# Reliability: a prior of PRIOR_ACCEPTED accepts in PRIOR_OFFERS offers; each no-show costs this much.
PRIOR_OFFERS = 4
PRIOR_ACCEPTED = 3
NO_SHOW_PENALTY = 0.25

_EXCLUSION_TEXT = {
    "not_approved": N_("not approved (%(state)s)"),
    "paused": N_("paused from %(paused_from)s to %(paused_until)s"),
    "paused_open": N_("paused since %(paused_from)s, until they resume"),
    "no_shared_language": N_("speaks none of the newcomer's languages (%(languages)s)"),
    "district": N_("does not serve %(district)s"),
    "no_slot": N_("no weekly slot covers %(weekday)s %(start_minute)s–%(end_minute)s"),
    "overlap": N_("has another appointment from %(busy_from)s to %(busy_until)s"),
    "weekly_max": N_("already has %(count)s appointments that week (at most %(weekly_max)s)"),
    "gender": N_("the newcomer asked for: %(gender)s"),
    "declined": N_("declined this request"),
    "cancelled": N_("cancelled this request after taking it on"),
    "yearly_cap": N_("would pass the programme's yearly cap: %(hours)s of %(cap)s hours this year"),
    "weekly_cap": N_("would pass the programme's weekly average: %(average)s hours a week over %(weeks)s weeks "
                     "(at most %(cap)s)"),
}
_COMPONENT_TEXT = {
    "first_language": N_("speaks the first language, %(language)s (+%(points)s)"),
    "other_language": N_("speaks another of the newcomer's languages, %(languages)s (+%(points)s)"),
    "district": N_("serves %(district)s by name (+%(points)s)"),
    "topic": N_("comfortable with the topic %(topic)s (+%(points)s)"),
    "fairness": N_("assignments in the last 30 days: %(count)s (+%(points)s)"),
    "continuity": N_("helped this newcomer before, and it went well (+%(points)s)"),
    "reliability": N_("offers accepted: %(accepted)s of %(offers)s, no-shows: %(no_shows)s (+%(points)s)"),
}


class Component(NamedTuple):
    name: str      # one of COMPONENTS
    points: float


@dataclass(slots=True, eq=False)
class Evaluation:
    """One candidate judged for one need.  `points` holds every component in COMPONENTS order;
    `components` lists those that earned points.  (Not frozen: rank() builds thousands.)"""

    context: "_Context"            # the need as seen in local time, shared by a whole ranking
    candidate: Candidate
    eligible: bool
    exclusions: tuple[str, ...]    # reasons from REASONS, in that order; () when eligible
    score: float
    points: tuple[float, ...]

    @property
    def need(self) -> Need:
        return self.context.need

    @property
    def guide_id(self) -> int:
        return self.candidate.guide_id

    @property
    def components(self) -> list[Component]:
        return [Component(name, p) for name, p in zip(COMPONENTS, self.points) if p]


class _Context:
    """Everything that depends only on the need, computed once per ranking."""

    __slots__ = ("need", "weights", "first", "others", "district", "topic", "weekday", "start_minute",
                 "end_minute", "day", "busy_from", "busy_until", "gender", "declined", "cancelled", "w_first",
                 "w_other", "w_district", "w_topic", "w_fairness", "w_continuity", "w_reliability", "programme",
                 "hours", "caps", "caps_coordinating")

    def __init__(self, need: Need, weights: WeightsSettings, zone: ZoneInfo, travel_buffer: timedelta,
                 programme: ProgrammeSettings | None = None) -> None:
        self.need = need
        # the programme's caps, when it has any (None: nothing to check)
        self.programme = programme
        self.hours = money.rounded(programme, need.duration_minutes / 60) if programme else 0.0
        self.caps = money.caps(programme, False) if programme else None
        self.caps_coordinating = money.caps(programme, True) if programme else None
        if self.caps is not None and not (self.caps.yearly or self.caps.weekly or self.caps_coordinating.yearly
                                          or self.caps_coordinating.weekly):
            self.programme = self.caps = self.caps_coordinating = None
        self.weights = weights
        self.first = need.languages[0] if need.languages else None
        self.others = frozenset(need.languages[1:]) - {self.first}
        self.district = need.district
        self.topic = need.topic
        self.weekday, self.start_minute, self.end_minute, self.day = appointment_window(need, zone)
        self.busy_from = need.starts_at - travel_buffer
        self.busy_until = need.ends_at + travel_buffer
        self.gender = need.preferred_gender
        self.declined = need.declined
        self.cancelled = need.cancelled
        self.w_first = float(weights.first_language)
        self.w_other = float(weights.other_language)
        self.w_district = float(weights.district)
        self.w_topic = float(weights.topic)
        self.w_fairness = float(weights.fairness)
        self.w_continuity = float(weights.continuity)
        self.w_reliability = float(weights.reliability)


_ELIGIBLE: tuple[str, ...] = ()


def _evaluate(x: _Context, c: Candidate) -> Evaluation:
    """The filters in REASONS order, then the components in COMPONENTS order (see the module
    docstring).  Runs once per candidate: plain comparisons, no allocation beyond the result."""
    exclusions: list[str] | None = None
    if c.state != "approved":
        exclusions = ["not_approved"]
    paused_from = c.paused_from
    if paused_from is not None and paused_from <= x.day and (c.paused_until is None or x.day <= c.paused_until):
        exclusions = (exclusions or []) + ["paused"]
    languages = c.languages
    first = x.first in languages
    other = not first and not languages.isdisjoint(x.others)
    if not (first or other):
        exclusions = (exclusions or []) + ["no_shared_language"]
    named = x.district in c.districts
    if not (named or c.all_districts):
        exclusions = (exclusions or []) + ["district"]
    weekday, start, end = x.weekday, x.start_minute, x.end_minute
    for d, s, e in c.slots:
        if d == weekday and s <= start and end <= e:
            break
    else:
        exclusions = (exclusions or []) + ["no_slot"]
    if c.busy:
        lo, hi = x.busy_from, x.busy_until
        for bs, be in c.busy:
            if bs < hi and lo < be:
                exclusions = (exclusions or []) + ["overlap"]
                break
    if c.assignments_in_week >= c.weekly_max:
        exclusions = (exclusions or []) + ["weekly_max"]
    if x.gender is not None and c.gender != x.gender:
        exclusions = (exclusions or []) + ["gender"]
    if c.guide_id in x.declined:
        exclusions = (exclusions or []) + ["declined"]
    if c.guide_id in x.cancelled:
        exclusions = (exclusions or []) + ["cancelled"]
    if x.programme is not None:
        for reason, _ in money.over_caps(x.programme, x.caps_coordinating if c.coordinating else x.caps,
                                         c.hours_year, c.hours_window, x.hours):
            exclusions = (exclusions or []) + [reason]

    reliability = (c.offers_accepted + PRIOR_ACCEPTED) / (c.offers_total + PRIOR_OFFERS)
    if c.no_shows:
        reliability -= NO_SHOW_PENALTY * c.no_shows
        if reliability < 0.0:
            reliability = 0.0
    if reliability > 1.0:
        reliability = 1.0
    points = (
        x.w_first if first else 0.0,
        x.w_other if other else 0.0,
        x.w_district if named else 0.0,
        x.w_topic if x.topic in c.topics else 0.0,
        x.w_fairness / (1 + c.assignments_30d),
        x.w_continuity if c.helped_newcomer > 0 and not c.helped_badly else 0.0,
        x.w_reliability * reliability,
    )
    if exclusions is None:
        return Evaluation(x, c, True, _ELIGIBLE, sum(points), points)
    return Evaluation(x, c, False, tuple(exclusions), sum(points), points)


def evaluate(need: Need, candidate: Candidate, weights: WeightsSettings, zone: ZoneInfo,
             travel_buffer: timedelta, programme: ProgrammeSettings | None = None) -> Evaluation:
    """Judge one candidate: hard filters (exclusions) and score (components)."""
    return _evaluate(_Context(need, weights, zone, travel_buffer, programme), candidate)


def _order(e: Evaluation) -> tuple[bool, float, int, int]:
    c = e.candidate
    return (not e.eligible, -e.score, c.assignments_30d, c.guide_id)


def rank(need: Need, candidates: Iterable[Candidate], weights: WeightsSettings, zone: ZoneInfo,
         travel_buffer: timedelta, programme: ProgrammeSettings | None = None) -> list[Evaluation]:
    """Every candidate judged and ordered: the eligible first, by score (highest first), ties by
    fewer assignments in the last 30 days, then by guide id; the ineligible after them in the same
    order, so a coordinator sees why each was not offered.  Nothing is dropped.  With a
    `programme` that has caps, a guide the request would take past one is not eligible (the
    candidates must then carry their hours: Matching.candidates(..., programme))."""
    x = _Context(need, weights, zone, travel_buffer, programme)
    evaluations = [_evaluate(x, c) for c in candidates]
    evaluations.sort(key=_order)
    return evaluations


def _round(points: float) -> float:
    return round(points, 2)


def _exclusion(reason: str, e: Evaluation) -> tuple[str, dict]:
    need, c = e.need, e.candidate
    if reason == "not_approved":
        return _EXCLUSION_TEXT[reason], {"state": c.state}
    if reason == "paused":
        if c.paused_until is None:
            return _EXCLUSION_TEXT["paused_open"], {"paused_from": c.paused_from}
        return _EXCLUSION_TEXT[reason], {"paused_from": c.paused_from, "paused_until": c.paused_until}
    if reason == "no_shared_language":
        return _EXCLUSION_TEXT[reason], {"languages": need.languages}
    if reason == "district":
        return _EXCLUSION_TEXT[reason], {"district": need.district}
    if reason == "no_slot":
        x = e.context
        return _EXCLUSION_TEXT[reason], {"weekday": x.weekday, "start_minute": x.start_minute,
                                         "end_minute": x.end_minute}
    if reason == "overlap":
        lo, hi = e.context.busy_from, e.context.busy_until
        start, end = next(((bs, be) for bs, be in c.busy if bs < hi and lo < be), c.busy[0])
        return _EXCLUSION_TEXT[reason], {"busy_from": start, "busy_until": end}
    if reason == "weekly_max":
        return _EXCLUSION_TEXT[reason], {"count": c.assignments_in_week, "weekly_max": c.weekly_max}
    if reason == "gender":
        return _EXCLUSION_TEXT[reason], {"gender": need.preferred_gender}
    if reason in ("yearly_cap", "weekly_cap"):
        x = e.context
        limits = x.caps_coordinating if c.coordinating else x.caps
        found = dict(money.over_caps(x.programme, limits, c.hours_year, c.hours_window, x.hours))
        return _EXCLUSION_TEXT[reason], found[reason]
    return _EXCLUSION_TEXT[reason], {}


def _component(name: str, points: float, e: Evaluation) -> tuple[str, dict]:
    need, c = e.need, e.candidate
    values: dict[str, object] = {"points": _round(points)}
    if name == "first_language":
        values["language"] = need.languages[0]
    elif name == "other_language":
        values["languages"] = tuple(lang for lang in need.languages[1:] if lang in c.languages)
    elif name == "district":
        values["district"] = need.district
    elif name == "topic":
        values["topic"] = need.topic
    elif name == "fairness":
        values["count"] = c.assignments_30d
    elif name == "reliability":
        values.update(accepted=c.offers_accepted, offers=c.offers_total, no_shows=c.no_shows)
    return _COMPONENT_TEXT[name], values


def explain(evaluation: Evaluation) -> list[tuple[str, dict]]:
    """One (msgid, values) line per exclusion, then one per component that earned points."""
    lines = [_exclusion(reason, evaluation) for reason in evaluation.exclusions]
    lines += [_component(name, points, evaluation) for name, points in zip(COMPONENTS, evaluation.points) if points]
    return lines
