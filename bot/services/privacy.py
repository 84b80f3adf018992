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
from typing import Any

from bot.clock import utcnow
from bot.store.store import Person

log = logging.getLogger(__name__)


async def erase(services: Any, person: Person) -> None:
    """Erase `person` (services: the running App's, or the command line's without transports)."""
    store, dispatch, now = services.store, getattr(services, "dispatch", None), utcnow()
    for request in await store.requests.cancellable(person.id, now):
        if await store.requests.cancel(request.id, person.id, now) and dispatch is not None:
            await dispatch.request_cancelled(request)
    for assignment in await store.bookings.upcoming_of_guide(person.id, now):
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


async def export(services: Any, person: Person) -> bytes:
    """Everything stored about `person` as a JSON file (UTF-8, readable, stable key order)."""
    data = await services.store.privacy.export(person.id)
    return json.dumps({"lotse_data_export": 1, "exported_at": utcnow().isoformat(), **data},
                      ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
