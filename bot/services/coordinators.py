"""Who the coordinators are (from [roles] coordinators) as people Lotse can write to."""

from __future__ import annotations

from bot.config import Settings
from bot.store import Store
from bot.store.store import Person


async def coordinator_people(store: Store, settings: Settings) -> list[Person]:
    """Every configured coordinator as a person; one who never wrote to Lotse is created with their
    platform id as chat (where the user id is not the private chat, the transport opens one)."""
    people = []
    for entry in settings.roles.coordinators:
        platform, _, user_id = entry.partition(":")
        person = await store.people.find(platform, user_id)
        if person is None:
            person = await store.people.get_or_create(platform, user_id, user_id)
        people.append(person)
    return people
