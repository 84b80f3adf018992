"""A guide's standing as coordinators change it (bot/services/guides.py): approve, reject, suspend,
reactivate — what each does to the offers Lotse makes, which moves are refused, and what the guide's
row records about who changed it and when.

The clock stands at Wednesday 25 November 2026, 10:00 in Berlin; the people are those of
SCENARIOS.md (Frau Weber and Herr Yilmaz coordinate; Leila, Samira and Nasrin guide).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.clock import utcnow
from bot.services import guides as standing
from bot.store import Store
from bot.store.db import from_db_time
from bot.store.guides import Profile, Slot
from tests.conftest import Clock, Running, set_standing
from tests.test_dispatch import TUESDAY_930, guide, offers_to, request

pytestmark = pytest.mark.usefixtures("clock")

NEXT_TUESDAY_930 = TUESDAY_930 + timedelta(days=7)
MOVES = {"approve": standing.approve, "reject": standing.reject, "suspend": standing.suspend,
         "reactivate": standing.reactivate}
# The one state each move starts from, and where it leads.
ALLOWED = {"approve": ("pending", "approved"), "reject": ("pending", "rejected"),
           "suspend": ("approved", "suspended"), "reactivate": ("suspended", "approved")}


# -- what matching offers ----------------------------------------------------------------------
async def test_a_suspended_guide_is_not_offered_and_a_reactivated_one_is_again(lotse: Running) -> None:
    store = lotse.store
    weber = (await store.people.get_or_create("test", "weber", "weber")).id
    leila = await guide(lotse, "leila")
    await guide(lotse, "samira")

    assert await standing.suspend(store, leila, weber, utcnow())
    await request(lotse)
    assert not offers_to(lotse, "leila")
    assert offers_to(lotse, "samira")             # the request itself went out: only Leila is left out

    assert await standing.reactivate(store, leila, weber, utcnow())
    await request(lotse, "olena", starts_at=NEXT_TUESDAY_930)
    assert offers_to(lotse, "leila")


async def test_a_rejected_guide_is_never_offered(lotse: Running) -> None:
    store = lotse.store
    nasrin = (await store.people.get_or_create("test", "nasrin", "nasrin")).id
    await store.guides.save_profile(nasrin, Profile(("ar", "de"), ("Dreieich",), ("doctor",), (Slot(1, 540, 720),),
                                                    3, "female"), utcnow())
    await guide(lotse, "samira")
    assert await standing.reject(store, nasrin, None, utcnow())
    await request(lotse)
    assert offers_to(lotse, "samira") and not lotse.transport.messages("nasrin")
    assert not await standing.approve(store, nasrin, None, utcnow())  # a rejection is not undone by approving
    assert (await store.guides.get(nasrin)).state == "rejected"  # type: ignore[union-attr]


# -- which moves are allowed --------------------------------------------------------------------
@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "lotse.db")
    yield opened
    await opened.close()


async def registered(store: Store, name: str = "leila") -> int:
    """A guide who registered just now: pending."""
    guide_id = (await store.people.get_or_create("test", name, name)).id
    assert await store.guides.save_profile(guide_id, Profile(("ar", "de"), ("Dreieich",), ("doctor",),
                                                             (Slot(1, 540, 720),), 3, "female"), utcnow())
    return guide_id


@pytest.mark.parametrize("state", ["pending", "approved", "rejected", "suspended"])
@pytest.mark.parametrize("move", sorted(MOVES))
async def test_each_move_starts_from_one_state_only(store: Store, move: str, state: str) -> None:
    guide_id = await registered(store)
    await set_standing(store, guide_id, state)
    before = await store.guides.get(guide_id)
    changed = await MOVES[move](store, guide_id, None, utcnow())
    start, end = ALLOWED[move]
    assert changed == (state == start)
    after = await store.guides.get(guide_id)
    assert after is not None and after.state == (end if changed else state)
    if not changed:
        assert after == before


@pytest.mark.parametrize("move", sorted(MOVES))
async def test_nobody_who_is_no_guide_changes(store: Store, move: str) -> None:
    newcomer = (await store.people.get_or_create("test", "amira", "amira")).id
    assert not await MOVES[move](store, newcomer, None, utcnow())
    assert not await MOVES[move](store, newcomer + 100, None, utcnow())
    assert await store.guides.get(newcomer) is None


async def test_of_two_coordinators_suspending_at_once_one_wins(store: Store) -> None:
    guide_id = await registered(store)
    await set_standing(store, guide_id, "approved")
    weber = (await store.people.get_or_create("test", "weber", "weber")).id
    yilmaz = (await store.people.get_or_create("test", "yilmaz", "yilmaz")).id
    outcomes = await asyncio.gather(standing.suspend(store, guide_id, weber, utcnow()),
                                    standing.suspend(store, guide_id, yilmaz, utcnow()))
    assert sorted(outcomes) == [False, True]
    assert (await decided(store, guide_id))[0] == (weber if outcomes[0] else yilmaz)


# -- who and when -----------------------------------------------------------------------------
async def decided(store: Store, guide_id: int) -> tuple:
    row = await store.db.fetchone("SELECT decided_by, decided_at FROM guides WHERE person_id = ?", (guide_id,))
    assert row is not None
    return row[0], from_db_time(row[1])


async def test_the_row_records_who_changed_the_standing_and_when(store: Store, clock: Clock) -> None:
    guide_id = await registered(store)
    weber = (await store.people.get_or_create("test", "weber", "weber")).id
    yilmaz = (await store.people.get_or_create("test", "yilmaz", "yilmaz")).id
    assert await decided(store, guide_id) == (None, None)

    training = date(2026, 10, 15)
    assert await standing.approve(store, guide_id, weber, utcnow(), {"training": training})
    assert await decided(store, guide_id) == (weber, clock.now)

    clock.advance(timedelta(days=20))
    assert await standing.suspend(store, guide_id, yilmaz, utcnow())
    assert await decided(store, guide_id) == (yilmaz, clock.now)

    refused_at = clock.now
    clock.advance(timedelta(hours=1))
    assert not await standing.suspend(store, guide_id, weber, utcnow())  # a refused move records nothing
    assert await decided(store, guide_id) == (yilmaz, refused_at)

    clock.advance(timedelta(days=3))
    assert await standing.reactivate(store, guide_id, weber, utcnow())
    assert await decided(store, guide_id) == (weber, clock.now)
    guide_row = await store.guides.get(guide_id)
    assert guide_row is not None and guide_row.state == "approved"
    assert guide_row.vetting["training"] == training  # the vetting recorded at approval stays


async def test_rejecting_records_the_coordinator(store: Store, clock: Clock) -> None:
    guide_id = await registered(store)
    weber = (await store.people.get_or_create("test", "weber", "weber")).id
    assert await standing.reject(store, guide_id, weber, utcnow())
    assert await decided(store, guide_id) == (weber, clock.now)
