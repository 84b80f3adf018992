"""The moment "nobody is free for Hamid" (SCENARIOS.md) on Matrix: real matrix-nio against the real
Synapse.  Hamid reads Dari (prs); Frau Weber and the guides use Matrix too.  The test's clock
stands at Tuesday 1 December 2026, 12:00 in Berlin, when Hamid asks."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path

from tests import moments as m
from tests.conftest import Clock, make_settings
from tests.matrix_harness import MatrixWorld, MxPerson, Said, bot_account, matrix_world, options, said
from tests.moments import rows, tr
from tests.synapse_server import MatrixUser, SynapseServer


async def joined(world: MatrixWorld, name: str, language: str, profile=None) -> tuple[MxPerson, int]:  # noqa: ANN001
    person = await world.person(name.lower())
    store = world.app.store
    if profile is None:
        person_id = await m.member(store, "matrix", person.id, name, language, "newcomer")
    else:
        person_id = await m.approved_guide(store, "matrix", person.id, name, language, profile)
    # the DM the person opened is the chat Lotse writes to
    await store.db.execute("UPDATE people SET chat_id = ? WHERE id = ?", (person.room, person_id))
    return person, person_id


async def settle(world: MatrixWorld) -> None:
    await world.app.scheduler.settle()
    await world.app.dispatch.idle()
    await world.app.scheduler.settle()
    await world.app.inbox.idle()


async def test_nobody_is_free_for_hamid_and_frau_weber_assigns_nasrin(db_path: Path, synapse: SynapseServer,
                                                                      tmp_path: Path, clock: Clock) -> None:
    clock.now = m.HAMID_ASKS  # Tuesday 12:00: his letter came late, the appointment is Thursday 14:00
    account = await bot_account(synapse)
    weber_user = await MatrixUser.create(synapse, f"weber{uuid.uuid4().hex[:6]}")
    settings = make_settings(db_path, coordinators=(f"matrix:{weber_user.user_id}",))
    async with matrix_world(settings, synapse, tmp_path, account=account) as world:
        store = world.app.store
        world.users.append(weber_user)
        room = await weber_user.dm(account[0])
        await weber_user.wait_for_join(room, account[0], timeout=20)
        weber = MxPerson(world, weber_user, room)
        weber_id = await m.member(store, "matrix", weber.id, "Weber", "de", "newcomer")
        await store.db.execute("UPDATE people SET chat_id = ? WHERE id = ?", (room, weber_id))
        farid, _ = await joined(world, "Farid", "de", m.FARID)
        nasrin, nasrin_id = await joined(world, "Nasrin", "fa", m.NASRIN)
        for name, profile in (("Leila", m.LEILA), ("Mehmet", m.MEHMET), ("Yonas", m.YONAS)):
            await joined(world, name, "de", profile)
        hamid, hamid_id = await joined(world, "Hamid", "prs")
        request_id = await m.file_request(store, hamid_id, m.hamid_request())
        world.app.dispatch.kick(request_id)

        # The one wave: Farid; he does not answer, and his offer runs out
        [offer] = await farid._expect(1)  # noqa: SLF001
        assert options(offer) == [tr(settings, "de", "Accept"), tr(settings, "de", "Decline")]
        await settle(world)
        [(expires,)] = await rows(store, "SELECT expires_at FROM offers WHERE request_id = ?", request_id)
        clock.now = datetime.fromisoformat(expires)
        await settle(world)

        # Frau Weber is told, two days before, with the ranked guides and why each was not offered
        [card] = await weber._expect(1)  # noqa: SLF001
        [(escalated_at,)] = await rows(store, "SELECT escalated_at FROM requests WHERE id = ?", request_id)
        assert timedelta(hours=44) <= m.HAMID_APPOINTMENT - datetime.fromisoformat(escalated_at) < timedelta(hours=48)
        assert card.body.startswith(tr(settings, "de", "Nobody has taken this request yet:"))
        for name in ("Nasrin", "Leila", "Mehmet", "Yonas"):
            [line] = [ln for ln in card.body.split("\n") if ln.startswith(f"{name} – ")]
            not_offered = tr(settings, "de", "%(name)s – not offered: %(reasons)s", name=name, reasons="")
            assert line.startswith(not_offered) and len(line) > len(not_offered) + 5, line
        await weber.press(tr(settings, "de", "Assign %(name)s", name="Nasrin"))  # a reply with the number
        await weber.press(1, by="vote")  # assign anyway

        # Nasrin gets it as an offer and accepts; Hamid is told, in Dari
        [nasrins_offer] = await nasrin._expect(1)  # noqa: SLF001
        assert nasrins_offer.body.startswith(tr(settings, "fa", "Can you come along to an appointment?"))
        await nasrin.press(tr(settings, "fa", "Accept"), by="vote")
        good_news = m.good_news_line(settings, "prs", "Nasrin", "female", m.NASRIN)
        news = await hamid.user.wait_for_event(  # a poll now: it carries "Write to your guide"
            hamid.room, lambda e: said(e) and Said(e).body.startswith(good_news),
            timeout=20, what="Hamid's good news in Dari")
        assert news is not None
        assert await rows(store, "SELECT guide_id, assigned_by FROM assignments WHERE request_id = ?",
                          request_id) == [(nasrin_id, weber_id)]
