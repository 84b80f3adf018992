"""What matching reads: a request as a `Need`, and the guides who could take it as `Candidate`s.

The two records live here, with the queries that fill them, because the store imports nothing above
it; bot/services/matching.py (the pure ranking) re-exports them.

`candidates()` costs three queries, whatever the number of guides:

1. the guide rows, each with its languages, districts and topics as text (columns that triggers
   keep current, migration 0007).  With the prefilter only approved guides who have a weekly slot
   covering the appointment's local time (guide_slots_by_weekday drives the query: it is the most
   selective condition), share a language (guide_languages_by_language) and serve the district
   (all districts, or the guide_districts key); the covering slot comes with its row.  Without
   the prefilter every guide, with all their slots (the coordinator's "why not" view);
2. the assignment figures of exactly those guides (their ids as one JSON array, through
   json_each): busy intervals near the date, counts in the appointment's week and in the 30 days
   before, history with this newcomer, no-shows;
3. their offer statistics (answered offers, accepted ones).

Guides without assignments or offers get zeros; nothing is queried per guide.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.store.db import Database, from_db_time, to_db_time
from bot.store.programme import Programme, window_span, year_span

# Districts may contain spaces; the unit separator never appears in a name.
_SEP = "\x1f"
# A weekly slot travels as one number, (weekday * 1440 + start) * 1441 + end: cheaper to build in
# SQL and to read in Python than three.
_SLOT_BASE = 1441


@dataclass(frozen=True)
class Need:
    """One request as matching sees it."""

    request_id: int
    newcomer_id: int
    languages: tuple[str, ...]        # the newcomer's first language first
    district: str
    topic: str
    starts_at: datetime               # aware, UTC
    duration_minutes: int
    preferred_gender: str | None      # 'female' / 'male' / None
    declined: frozenset[int] = frozenset()  # guides who declined this request
    cancelled: frozenset[int] = frozenset()  # guides who accepted this request and then cancelled it

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)


@dataclass(frozen=True)
class Candidate:
    """One guide with everything the filters and the score need, for one request.

    With the prefilter the store fills `slots` with the slots that cover the appointment (the
    prefilter found them; the guide's other slots cannot change the verdict); without it, with
    all of them.
    """

    guide_id: int
    state: str
    languages: frozenset[str]
    all_districts: bool
    districts: frozenset[str]
    topics: frozenset[str]
    slots: tuple[tuple[int, int, int], ...]          # (weekday 0 = Monday, start, end) local minutes
    weekly_max: int
    gender: str | None
    paused_from: date | None
    paused_until: date | None                        # None with paused_from set: until resume
    busy: tuple[tuple[datetime, datetime], ...] = ()  # UTC start/end of active assignments near the date
    assignments_in_week: int = 0                      # active/done in the appointment's local ISO week
    assignments_30d: int = 0                          # active/done in the 30 days before the appointment
    helped_newcomer: int = 0                          # earlier active/done assignments with this newcomer
    helped_badly: bool = False                        # any with them had negative feedback or a no-show
    offers_total: int = 0                             # answered offers: accepted, declined or expired
    offers_accepted: int = 0
    no_shows: int = 0
    coordinating: bool = False                        # marked as also coordinating (the programme's higher caps)
    hours_year: float = 0.0                           # hours counted in the appointment's year (programme)
    hours_window: float = 0.0                         # … in the weeks of the programme's weekly average


_new = object.__new__
_set = object.__setattr__


def _candidate(values: dict) -> Candidate:
    """A Candidate without the frozen dataclass's per-field __setattr__ (2 µs → 0.5 µs each; this
    runs once per guide).  `values` must hold every field, as the one caller below does."""
    candidate = _new(Candidate)
    _set(candidate, "__dict__", values)
    return candidate


def appointment_window(need: Need, zone: ZoneInfo) -> tuple[int, int, int, date]:
    """(local weekday, start minute, end minute, local date) of the appointment.  The end minute
    may exceed 1440 when it ends after local midnight (no weekly slot covers that)."""
    start = need.starts_at.astimezone(zone)
    end = need.ends_at.astimezone(zone)
    start_minute = start.hour * 60 + start.minute
    end_minute = end.hour * 60 + end.minute + (end.date() - start.date()).days * 1440
    return start.weekday(), start_minute, end_minute, start.date()


# How far around the appointment active assignments are loaded as busy intervals: longer than any
# appointment plus travel buffer could reach.
BUSY_HORIZON = timedelta(days=1)

# The prefilter: approved, a slot covers the appointment's local time, shares a language, serves the
# district.  The weekly slot is the most selective condition (a weekday and an hour), so the rows
# come from guide_slots_by_weekday, each with the guide it belongs to; language
# (guide_languages_by_language) and district (its primary key) are then checked per guide.
# Driving from the language instead would visit nearly every guide (almost all speak German).
# A guide with two covering slots that day (overlapping slots) comes twice; candidates() merges.
PREFILTER = (
    "FROM guide_slots s CROSS JOIN guides g ON g.person_id = s.guide_id "
    "WHERE s.weekday = :weekday AND s.start_minute <= :start_minute AND s.end_minute >= :end_minute "
    "AND g.state = 'approved' "
    "AND EXISTS (SELECT 1 FROM guide_languages l WHERE l.guide_id = g.person_id "
    "            AND l.language IN (SELECT value FROM json_each(:languages))) "
    "AND (g.all_districts OR EXISTS (SELECT 1 FROM guide_districts d "
    "                                WHERE d.guide_id = g.person_id AND d.district = :district))"
)

# languages_text, districts_text and topics_text are kept by triggers (migration 0007).
_PROFILE_COLUMNS = (
    "g.person_id, g.state, g.weekly_max, g.gender, g.all_districts, g.paused_from, g.paused_until, "
    "g.languages_text, g.districts_text, g.topics_text"
)
# With the prefilter, the slot that matched travels with its row; without, every slot of the guide.
_PREFILTERED_SQL = (
    f"SELECT {_PROFILE_COLUMNS}, "
    f"CAST((s.weekday * 1440 + s.start_minute) * {_SLOT_BASE} + s.end_minute AS TEXT) {PREFILTER}"
)
_ALL_SQL = (
    f"SELECT {_PROFILE_COLUMNS}, "
    f"(SELECT group_concat((weekday * 1440 + start_minute) * {_SLOT_BASE} + end_minute, ' ') "
    " FROM guide_slots WHERE guide_id = g.person_id) "
    "FROM guides g ORDER BY g.person_id"
)

_ASSIGNMENT_SQL = (
    "SELECT a.guide_id, "
    " sum(a.state IN ('active', 'done') AND r.starts_at >= :week_start AND r.starts_at < :week_end), "
    " sum(a.state IN ('active', 'done') AND r.starts_at >= :month_start AND r.starts_at < :starts_at), "
    " sum(a.state = 'done' AND r.person_id = :newcomer), "  # continuity: appointments that took place
    " max(r.person_id = :newcomer AND (a.feedback = 'negative' OR a.state = 'no_show')), "
    " sum(a.state = 'no_show'), "
    " group_concat(CASE WHEN a.state = 'active' AND r.starts_at >= :busy_from AND r.starts_at < :busy_to "
    "              THEN r.starts_at || ' ' || r.duration_minutes END, ',') "
    "FROM json_each(:ids) j "
    "JOIN assignments a ON a.guide_id = j.value "
    "JOIN requests r ON r.id = a.request_id "
    "WHERE r.id != :request_id "
    "GROUP BY a.guide_id"
)

_OFFER_SQL = (
    "SELECT o.guide_id, count(*), sum(o.state = 'accepted') "
    "FROM json_each(:ids) j "
    "JOIN offers o ON o.guide_id = j.value AND o.state IN ('accepted', 'declined', 'expired') "
    "GROUP BY o.guide_id"
)


def prefilter_params(need: Need, zone: ZoneInfo) -> dict[str, object]:
    weekday, start_minute, end_minute, _ = appointment_window(need, zone)
    return {"languages": json.dumps(list(need.languages)), "district": need.district,
            "weekday": weekday, "start_minute": start_minute, "end_minute": end_minute}


def prefilter_sql(columns: str = "g.*") -> str:
    """The prefilter as a plain SELECT of guide rows (the benchmark's baseline)."""
    return f"SELECT {columns} {PREFILTER}"


class Matching:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def need(self, request_id: int) -> Need | None:
        """The request as a Need (None if there is no such request), in one query."""
        row = await self.db.fetchone(
            # continuity is with the newcomer: for a request filed on someone's behalf Lotse knows
            # only the coordinator (person_id), so nobody (0)
            "SELECT r.id, CASE WHEN r.on_behalf = 1 THEN 0 ELSE r.person_id END, r.topic, r.starts_at, r.duration_minutes, r.district, r.preferred_gender, "
            " (SELECT group_concat(language, ' ') FROM "
            "   (SELECT language FROM request_languages WHERE request_id = r.id ORDER BY position)), "
            " (SELECT group_concat(guide_id, ' ') FROM offers WHERE request_id = r.id AND state = 'declined'), "
            " (SELECT group_concat(guide_id, ' ') FROM assignments "
            "   WHERE request_id = r.id AND state = 'cancelled_by_guide') "
            "FROM requests r WHERE r.id = ?", (request_id,))
        if row is None:
            return None
        return Need(
            request_id=row[0], newcomer_id=row[1], topic=row[2],
            starts_at=from_db_time(row[3]).astimezone(UTC),  # type: ignore[union-attr]
            duration_minutes=row[4], district=row[5], preferred_gender=row[6],
            languages=tuple((row[7] or "").split()),
            declined=frozenset(int(g) for g in (row[8] or "").split()),
            cancelled=frozenset(int(g) for g in (row[9] or "").split()),
        )

    async def candidates(self, need: Need, zone: ZoneInfo, *, prefilter: bool = True,
                         programme: Any = None) -> list[Candidate]:
        """The guides to rank for `need`: with `prefilter`, only the plausible ones (see
        PREFILTER); without, every guide (a coordinator's "why not" view).  Three queries."""
        if prefilter:
            rows = await self.db.fetchall(_PREFILTERED_SQL, prefilter_params(need, zone))
        else:
            rows = await self.db.fetchall(_ALL_SQL)
        if not rows:
            return []
        guide_ids = [row[0] for row in rows]
        if prefilter and len(set(guide_ids)) != len(guide_ids):
            rows = _merge_slots(rows)
            guide_ids = [row[0] for row in rows]
        ids = json.dumps(guide_ids)
        _, _, _, day = appointment_window(need, zone)
        monday = day - timedelta(days=day.weekday())
        week_start = datetime.combine(monday, time(0), tzinfo=zone)
        week_end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=zone)
        assignment_rows = await self.db.fetchall(_ASSIGNMENT_SQL, {
            "ids": ids, "request_id": need.request_id, "newcomer": need.newcomer_id,
            "week_start": to_db_time(week_start), "week_end": to_db_time(week_end),
            "month_start": to_db_time(need.starts_at - timedelta(days=30)),
            "starts_at": to_db_time(need.starts_at),
            "busy_from": to_db_time(need.starts_at - BUSY_HORIZON),
            "busy_to": to_db_time(need.ends_at + BUSY_HORIZON),
        })
        offer_rows = await self.db.fetchall(_OFFER_SQL, {"ids": ids})
        assignments = {r[0]: r for r in assignment_rows}
        offers = {r[0]: r for r in offer_rows}
        build = _Builder()
        found = [build(row, assignments.get(row[0]), offers.get(row[0])) for row in rows]
        if programme is not None and programme.unit != "none":
            await self._programme_hours(found, need, zone, programme, ids)
        return found

    async def _programme_hours(self, found: list[Candidate], need: Need, zone: ZoneInfo, programme: Any,
                               ids: str) -> None:
        """The hours each candidate has in the appointment's year and in the weekly average's
        weeks (Programme.hours), and their coordinating mark: three more queries, only when a
        programme is paid."""
        _, _, _, day = appointment_window(need, zone)
        spans = {"year": year_span(day.year, zone), "window": window_span(day, programme.average_weeks, zone)}
        hours = Programme(self.db).hours
        guide_ids = [candidate.guide_id for candidate in found]
        sums = {name: await hours(guide_ids, start, end, programme.rounding, leave_out=need.request_id)
                for name, (start, end) in spans.items()}
        marks = {r[0]: bool(r[1]) for r in await self.db.fetchall(
            "SELECT person_id, coordinating FROM guides WHERE person_id IN (SELECT value FROM json_each(?))",
            (ids,))}
        for candidate in found:
            candidate.__dict__.update(hours_year=sums["year"].get(candidate.guide_id, 0.0),
                                      hours_window=sums["window"].get(candidate.guide_id, 0.0),
                                      coordinating=marks.get(candidate.guide_id, False))


def _merge_slots(rows: list) -> list[tuple]:
    """One row per guide: a guide with several covering slots came once per slot."""
    merged: dict[int, tuple] = {}
    for row in rows:
        known = merged.get(row[0])
        merged[row[0]] = tuple(row) if known is None else (*known[:-1], f"{known[-1]} {row[-1]}")
    return list(merged.values())


class _Builder:
    """Turns the rows of one candidates() call into Candidates.  Many guides share the same
    languages, districts, topics or slots, so each distinct text is parsed once and the frozenset
    or tuple shared (they are immutable)."""

    def __init__(self) -> None:
        self.words: dict[str | None, frozenset[str]] = {None: frozenset()}
        self.districts: dict[str | None, frozenset[str]] = {None: frozenset()}
        self.slots: dict[str | None, tuple[tuple[int, int, int], ...]] = {None: ()}
        self.dates: dict[str | None, date | None] = {None: None}

    def _words(self, text: str) -> frozenset[str]:
        found = self.words[text] = frozenset(text.split(" "))
        return found

    def _districts(self, text: str) -> frozenset[str]:
        found = self.districts[text] = frozenset(text.split(_SEP))
        return found

    def _slots(self, text: str) -> tuple[tuple[int, int, int], ...]:
        decoded = []
        for number in text.split(" "):
            rest, end = divmod(int(number), _SLOT_BASE)
            weekday, start = divmod(rest, 1440)
            decoded.append((weekday, start, end))
        found = self.slots[text] = tuple(sorted(decoded))
        return found

    def _date(self, text: str) -> date:
        found = self.dates[text] = date.fromisoformat(text)
        return found

    def __call__(self, row, assignment, offer) -> Candidate:  # noqa: ANN001 - sqlite rows
        (guide_id, state, weekly_max, gender, all_districts, paused_from, paused_until,
         languages, districts, topics, slots) = row
        words, dates = self.words, self.dates
        values = {
            "guide_id": guide_id, "state": state,
            "languages": words[languages] if languages in words else self._words(languages),
            "all_districts": bool(all_districts),
            "districts": self.districts[districts] if districts in self.districts else self._districts(districts),
            "topics": words[topics] if topics in words else self._words(topics),
            "slots": self.slots[slots] if slots in self.slots else self._slots(slots),
            "weekly_max": weekly_max, "gender": gender,
            "paused_from": dates[paused_from] if paused_from in dates else self._date(paused_from),
            "paused_until": dates[paused_until] if paused_until in dates else self._date(paused_until),
            "busy": (), "assignments_in_week": 0, "assignments_30d": 0, "helped_newcomer": 0,
            "helped_badly": False, "offers_total": 0, "offers_accepted": 0, "no_shows": 0,
            "coordinating": False, "hours_year": 0.0, "hours_window": 0.0,
        }
        if assignment is not None:
            _, in_week, in_30d, helped, badly, no_shows, busy = assignment
            values["assignments_in_week"] = in_week
            values["assignments_30d"] = in_30d
            values["helped_newcomer"] = helped
            values["helped_badly"] = bool(badly)
            values["no_shows"] = no_shows
            if busy:
                values["busy"] = _busy(busy)
        if offer is not None:
            values["offers_total"] = offer[1]
            values["offers_accepted"] = offer[2]
        return _candidate(values)


def _busy(text: str | None) -> tuple[tuple[datetime, datetime], ...]:
    if not text:
        return ()
    intervals = []
    for item in text.split(","):
        starts, minutes = item.split(" ")
        start = datetime.fromisoformat(starts)
        intervals.append((start, start + timedelta(minutes=int(minutes))))
    return tuple(sorted(intervals))
