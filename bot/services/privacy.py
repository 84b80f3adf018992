"""A person's data rights, the same from the chat (`deleteme`, withdrawing consent) and from the
operator's command line (`lotse privacy erase`).

Erasure first keeps promises made to others: the person's open requests are cancelled (offers
withdrawn, an assigned guide told), a guide's future appointments are handed back (the newcomer
told, dispatch looks for someone else) and offers waiting for their answer are withdrawn (dispatch
goes on with the others).  Then bot/store/privacy.py anonymises what is left in one transaction,
and the write-ahead log is folded into the database file, where secure_delete has zeroed the old
values.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from bot.clock import utcnow
from bot.store.store import Person

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Erased:
    """What erasing someone changed for others (the command line prints it)."""

    requests_cancelled: int
    appointments_handed_back: int
    offers_withdrawn: int


async def erase(services: Any, person: Person) -> Erased:
    """Erase `person` (services: the running App's, or the command line's without transports)."""
    store, dispatch, now = services.store, getattr(services, "dispatch", None), utcnow()
    cancelled = 0
    for request in await store.requests.cancellable(person.id, now):
        if await store.requests.cancel(request.id, person.id, now):
            cancelled += 1
            if dispatch is not None:
                await dispatch.request_cancelled(request)
    handed_back = await store.bookings.upcoming_of_guide(person.id, now)
    for assignment in handed_back:
        if dispatch is not None:
            await dispatch.guide_cancelled(person, assignment.id)
        else:
            await store.bookings.end_assignment(assignment.id, "cancelled_by_guide", now)
            await store.bookings.reopen(assignment.request_id)
    async with store.transaction():
        reopened = await store.privacy.withdraw_open_offers(person.id, now)
        await store.privacy.anonymise(person.id, now)
    for request_id in reopened:
        if dispatch is not None:
            dispatch.kick(request_id)
    await store.db.checkpoint()
    log.info("privacy: person %s erased", person.id)
    return Erased(cancelled, len(handed_back), len(reopened))


async def export(services: Any, person: Person) -> bytes:
    """Everything stored about `person` as a JSON file (UTF-8, readable, stable key order)."""
    data = await services.store.privacy.export(person.id)
    return json.dumps({"lotse_data_export": 1, "exported_at": utcnow().isoformat(), **data},
                      ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
