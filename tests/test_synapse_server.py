"""The Synapse test harness itself: a real homeserver, real nio clients, restart."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import nio
import pytest

from tests.synapse_server import (
    REPO_ROOT,
    MatrixError,
    MatrixUser,
    SynapseError,
    SynapseServer,
    SynapseStartError,
    TEMPLATE,
    ensure_synapse,
    synapse,  # noqa: F401  (the session fixture; harmless if conftest.py imports it too)
)


async def whoami(server: SynapseServer, token: str) -> str:
    return (await server.request("GET", "/_matrix/client/v3/account/whoami", token=token))[
        "user_id"
    ]


async def test_synapse_answers_versions(synapse: SynapseServer) -> None:  # noqa: F811
    assert synapse.url == f"http://127.0.0.1:{synapse.port}"
    assert synapse.server_name == "localhost"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{synapse.url}/_matrix/client/versions") as resp:
            assert resp.status == 200
            versions = (await resp.json())["versions"]
    assert "v1.1" in versions
    # pid is Synapse itself, not a wrapper shell
    cmdline = Path(f"/proc/{synapse.pid}/cmdline").read_bytes().split(b"\0")
    assert b"synapse.app.homeserver" in cmdline
    assert "STARTING SERVER" in synapse.log_path.read_text()  # Synapse's own log goes there


def test_ensure_synapse_is_fast_when_installed() -> None:
    start = time.monotonic()
    python = ensure_synapse()
    assert time.monotonic() - start < 0.5
    assert python == REPO_ROOT / ".synapse" / "venv" / "bin" / "python"
    assert python.exists()


def test_ensure_synapse_installs_once_under_concurrency(tmp_path: Path) -> None:
    """Two processes at once on an empty dir: one creates the venv, the other waits and reuses
    it. ("pip" stands in for matrix-synapse to keep this at a few seconds.)"""
    venv = tmp_path / "venv"
    code = (
        "import sys; from pathlib import Path; from tests.synapse_server import ensure_synapse;"
        f"print(ensure_synapse(Path({str(venv)!r}), requirement='pip', verify='import pip'))"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code], cwd=REPO_ROOT, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, results):
        assert proc.returncode == 0, err
        assert out.strip() == str(venv / "bin" / "python")
    announcements = sum(err.count("installing pip into") for _, err in results)
    assert announcements == 1, [err for _, err in results]
    assert (venv / ".lotse-synapse-installed").read_text() == "pip\n"  # the stamp


async def test_register_login_and_ratelimit_override(synapse: SynapseServer) -> None:  # noqa: F811
    user_id, token = await synapse.register("reggie", "secret-1")
    assert user_id == "@reggie:localhost"
    assert await whoami(synapse, token) == user_id

    assert await whoami(synapse, await synapse.login("reggie", "secret-1")) == user_id
    assert await whoami(synapse, await synapse.login(user_id, "secret-1")) == user_id
    with pytest.raises(SynapseError) as wrong:
        await synapse.login("reggie", "wrong")
    assert wrong.value.status == 403 and wrong.value.errcode == "M_FORBIDDEN"
    with pytest.raises(SynapseError) as taken:
        await synapse.register("reggie", "other")
    assert taken.value.errcode == "M_USER_IN_USE"

    admin_id, admin_token = await synapse.register("root", "secret-2", admin=True)
    quoted = user_id.replace("@", "%40").replace(":", "%3A")
    account = await synapse.request("GET", f"/_synapse/admin/v2/users/{quoted}", token=admin_token)
    assert account["admin"] is False
    await synapse.override_ratelimit(admin_token, user_id)
    limits = await synapse.request(
        "GET", f"/_synapse/admin/v1/users/{quoted}/override_ratelimit", token=admin_token
    )
    assert limits == {"messages_per_second": 0, "burst_count": 0}
    with pytest.raises(SynapseError) as not_admin:
        await synapse.override_ratelimit(token, admin_id)
    assert not_admin.value.status == 403


async def test_dm_message_reaction_and_reply(synapse: SynapseServer) -> None:  # noqa: F811
    alice = await MatrixUser.create(synapse, "alice", "alice-pw")
    bob = await MatrixUser.create(synapse, "bob", "bob-pw")
    try:
        room_id = await alice.dm(bob.user_id)
        assert await bob.wait_for_invite() == room_id
        await bob.join(room_id)
        await alice.wait_for_join(room_id, bob.user_id)

        sent_id = await alice.say(room_id, "hello bob")
        message = await bob.wait_for_message(room_id, lambda e: e.body == "hello bob")
        assert isinstance(message, nio.RoomMessageText)
        assert (message.sender, message.event_id) == (alice.user_id, sent_id)
        invite = next(e for e in bob.events[room_id] if isinstance(e, nio.RoomMemberEvent)
                      and e.state_key == bob.user_id and e.membership == "invite")
        assert invite.content.get("is_direct") is True

        # Own messages never match; events are returned once each, in order.
        await bob.say(room_id, "my own words")
        reply_id = await bob.reply(room_id, sent_id, "hi alice")
        assert (await alice.wait_for_message(room_id)).body == "my own words"
        reply = await alice.wait_for_message(room_id)
        assert (reply.event_id, reply.body) == (reply_id, "hi alice")
        assert reply.source["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == sent_id

        await alice.react(room_id, reply_id, "👍")
        reaction = await bob.wait_for_event(room_id, lambda e: isinstance(e, nio.ReactionEvent))
        assert (reaction.key, reaction.reacts_to, reaction.sender) == ("👍", reply_id,
                                                                     alice.user_id)

        with pytest.raises(AssertionError) as nothing_new:
            await bob.wait_for_message(room_id, timeout=0.3)
        report = str(nothing_new.value)
        assert "'hello bob'" in report and "'my own words'" in report and "👍" in report

        # A fresh login syncs once first: history is not mistaken for new messages.
        bob2 = await MatrixUser.log_in(synapse, "bob", "bob-pw")
        try:
            assert bob2.device_id != bob.device_id
            with pytest.raises(AssertionError):
                await bob2.wait_for_message(room_id, timeout=0.3)
            await alice.say(room_id, "fresh")
            assert (await bob2.wait_for_message(room_id)).body == "fresh"
        finally:
            await bob2.close()
    finally:
        await alice.close()
        await bob.close()


async def test_nio_errors_become_exceptions(synapse: SynapseServer) -> None:  # noqa: F811
    erin = await MatrixUser.create(synapse, "erin")
    try:
        with pytest.raises(MatrixError, match="RoomCreateError|M_"):
            await erin.dm("@nobody:elsewhere.invalid")
        with pytest.raises(MatrixError, match="JoinError"):
            await erin.join("!nonexistent:localhost")
    finally:
        await erin.close()


async def test_restart_keeps_accounts_and_clients_reconnect(
    synapse: SynapseServer,  # noqa: F811
) -> None:
    carol = await MatrixUser.create(synapse, "carol", "carol-pw")
    dave = await MatrixUser.create(synapse, "dave", "dave-pw")
    try:
        room_id = await carol.dm(dave.user_id)
        await dave.join(await dave.wait_for_invite(room_id))
        await carol.say(room_id, "before restart")
        await dave.wait_for_message(room_id, lambda e: e.body == "before restart")

        old_pid, old_url = synapse.pid, synapse.url
        # dave is inside a long-poll /sync when the server goes away
        waiting = asyncio.create_task(
            dave.wait_for_message(room_id, lambda e: e.body == "after restart", timeout=30)
        )
        await asyncio.sleep(0.2)
        await synapse.restart(down_for=0.5)
        assert synapse.running and synapse.pid != old_pid and synapse.url == old_url

        assert await whoami(synapse, await synapse.login("carol", "carol-pw")) == carol.user_id
        assert await whoami(synapse, dave.access_token) == dave.user_id  # tokens survive
        await carol.say(room_id, "after restart")  # carol's nio client reconnects by itself
        message = await waiting
        assert message.sender == carol.user_id
    finally:
        await carol.close()
        await dave.close()
        if not synapse.running:  # leave a usable server to the rest of the session
            await synapse.start()


async def test_start_refuses_a_busy_port(synapse: SynapseServer, tmp_path: Path) -> None:  # noqa: F811
    clash = SynapseServer(tmp_path, python=synapse.python, port=synapse.port)
    with pytest.raises(SynapseStartError, match="already in use"):
        await clash.start()
    assert not clash.running


async def test_start_failure_reports_the_log(synapse: SynapseServer, tmp_path: Path) -> None:  # noqa: F811
    template = tmp_path / "broken.yaml"
    template.write_text(TEMPLATE.read_text().replace("name: sqlite3", "name: nosuchengine"))
    broken = SynapseServer(tmp_path / "data", python=synapse.python, template=template)
    with pytest.raises(SynapseStartError) as failed:
        await broken.start(timeout=30)
    message = str(failed.value)
    assert "exited with code" in message and "nosuchengine" in message, message
    assert not broken.running
