"""A guide's standing as coordinators change it: approve, reject, suspend, reactivate.

The states and the moves between them (each one conditional UPDATE in bot/store/guides.py):

- ``approve``:    pending   → approved   (with the vetting dates the coordinator typed)
- ``reject``:     pending   → rejected   (the registration is not approved)
- ``suspend``:    approved  → suspended  (no new offers, no new appointments, no profile changes)
- ``reactivate``: suspended → approved

A rejected guide may register again (their profile turns pending, bot/store/guides.py
`save_profile`); a suspended one may not — only a coordinator ends a suspension.  What either
means for what a guide may still do is bot/services/authority.py's rule; matching offers
requests to approved guides only.

Every function returns True if it changed the guide, False if the guide was not in a state the
move starts from (or is no guide) — nothing changed then.  False, not an exception: two
coordinators pressing at once is an ordinary event (the second one is told that nothing changed),
the same answer `decide` gives.  decided_by / decided_at record who made the latest change and when.

`by` is the coordinator's person id (None: nobody to name, e.g. a setup script); `now` comes from
the caller, who reads it from `bot.clock.utcnow()`.  The coordinator's decision dialog
(handlers/coordinator.py) approves and rejects through here (a rejection with the reason the
coordinator typed, kept in guides.decision_reason); handlers/standing.py suspends and reactivates.
Nothing here talks to anyone: telling the guide and the coordinator is the caller's job, in their
languages.
"""

from __future__ import annotations

from datetime import date, datetime

from bot.store import Store


async def approve(store: Store, guide_id: int, by: int | None, now: datetime,
                  vetting: dict[str, date] | None = None) -> bool:
    """pending → approved, recording the vetting dates given ("training", "pledge",
    "police_certificate"); False if the guide is not pending.  The reason of an earlier rejection
    (the guide registered again since) goes."""
    async with store.transaction():
        changed = await store.guides.decide(guide_id, True, by, now, vetting)
        if changed:
            await store.guides.set_decision_reason(guide_id, None)
    return changed


async def reject(store: Store, guide_id: int, by: int | None, now: datetime, reason: str | None = None) -> bool:
    """pending → rejected, keeping the coordinator's `reason` (free text the guide reads; None: none
    given); False if the guide is not pending (an approved guide is suspended)."""
    async with store.transaction():
        changed = await store.guides.decide(guide_id, False, by, now)
        if changed:
            await store.guides.set_decision_reason(guide_id, reason)
    return changed


async def suspend(store: Store, guide_id: int, by: int | None, now: datetime) -> bool:
    """approved → suspended; False unless the guide is approved.  Appointments already agreed
    stay (the guide may still cancel them or report on them); a coordinator decides about them."""
    return await store.guides.change_state(guide_id, ("approved",), "suspended", by, now)


async def reactivate(store: Store, guide_id: int, by: int | None, now: datetime) -> bool:
    """suspended → approved (the vetting dates recorded before stay); False unless suspended."""
    return await store.guides.change_state(guide_id, ("suspended",), "approved", by, now)
