"""A real Synapse homeserver on loopback for end-to-end tests of Lotse's Matrix transport.

Synapse lives in its **own** virtualenv (``<repo>/.synapse/venv``, git-ignored): it pins Twisted
and friends, which must not leak into the project's venv. The first use installs it from PyPI
(~10-30 s); later uses find a stamp file and cost nothing.

Typical use (the ``synapse`` fixture below does the first two lines for a whole session)::

    async with running_synapse(tmp_dir) as server:           # SynapseServer, started
        alice = await MatrixUser.create(server, "alice", "pw")
        bot_id, bot_token = await server.register("lotse", "pw")
        room_id = await alice.dm(bot_id)
        await alice.say(room_id, "hello")
        reply = await alice.wait_for_message(room_id, lambda e: "Welcome" in e.body)
        await alice.close()

Public API:

* ``ensure_synapse(venv_dir=DEFAULT_VENV, requirement=SYNAPSE_REQUIREMENT, verify=...) -> Path``
  (python of the Synapse venv; blocking, fcntl-locked, stamp file).
* ``SynapseServer(data_dir, *, python=None, port=None, template=TEMPLATE)`` with ``url``,
  ``server_name``, ``port``, ``data_dir``, ``log_path``, ``pid``, ``running``,
  ``registration_shared_secret``; ``await start(timeout=60)``, ``await stop(timeout=10)``,
  ``await restart(down_for=0.0)``, ``await register(username, password, admin=False) ->
  (user_id, access_token)``, ``await login(user, password, device_id=None) -> access_token``,
  ``await override_ratelimit(admin_token, user_id)``, ``log_tail(lines=40) -> str``.
* ``running_synapse(data_dir)``: async context manager (install if needed, start, stop).
* ``synapse``: session-scoped pytest fixture (see its docstring for conftest use).
* ``MatrixUser``: a test person on a real ``nio.AsyncClient``.

The server object is bound to no event loop (a ``subprocess.Popen`` and a fresh aiohttp session
per request), so a session-scoped server can be used from tests running in function-scoped loops.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import weakref
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import nio
import pytest_asyncio

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VENV = REPO_ROOT / ".synapse" / "venv"
TEMPLATE = Path(__file__).resolve().parent / "synapse" / "homeserver.template.yaml"

# 1.140 (Oct 2025) .. 1.163 were on PyPI when this was written; stay below a future 2.0.
SYNAPSE_REQUIREMENT = "matrix-synapse>=1.140,<2"

_STAMP_NAME = ".lotse-synapse-installed"


class SynapseError(RuntimeError):
    """A non-2xx answer from Synapse (``status``, ``errcode``, ``body``)."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        self.errcode = body.get("errcode") if isinstance(body, dict) else None
        super().__init__(f"{method} {path} -> HTTP {status}: {body}")


class SynapseStartError(RuntimeError):
    """Synapse did not come up; the message carries the tail of homeserver.log."""


# --------------------------------------------------------------------------------------------
# Installation
# --------------------------------------------------------------------------------------------


def ensure_synapse(
    venv_dir: Path = DEFAULT_VENV,
    requirement: str = SYNAPSE_REQUIREMENT,
    verify: str = "import synapse.app.homeserver, signedjson.key",
) -> Path:
    """Install ``requirement`` into its own venv at ``venv_dir`` unless already done.

    Returns the venv's python. Idempotent; the fast path is one small file read. Concurrent
    callers (pytest-xdist workers, two terminals) serialise on an fcntl lock next to the venv,
    and a half-finished install (no stamp) is thrown away and redone; so is a venv installed
    for another ``requirement``. ``verify`` is Python code run in the new venv before the stamp
    is written. Blocking: call it via ``asyncio.to_thread`` from async code.
    """
    venv_dir = Path(venv_dir).absolute()
    python = venv_dir / "bin" / "python"
    stamp = venv_dir / _STAMP_NAME
    expected = f"{requirement}\n"

    def installed() -> bool:
        try:
            return stamp.read_text() == expected and python.exists()
        except OSError:
            return False

    if installed():
        return python

    venv_dir.parent.mkdir(parents=True, exist_ok=True)
    lock_path = venv_dir.parent / f"{venv_dir.name}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        if installed():  # somebody else finished while we waited
            return python
        print(f"tests/synapse_server.py: installing {requirement} into {venv_dir}"
              " (first use only, ~30 s)", file=sys.stderr, flush=True)
        if venv_dir.exists():  # stale: older pin, broken interpreter, or an aborted install
            shutil.rmtree(venv_dir)
        # sys.executable may itself be a venv's python; `-m venv` uses its base interpreter.
        _run_install_step([sys.executable, "-m", "venv", str(venv_dir)], "create the Synapse venv")
        _run_install_step(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             requirement],
            f"pip install {requirement!r}",
        )
        _run_install_step([str(python), "-c", verify], f"verify the install ({verify})")
        tmp = stamp.with_suffix(".tmp")
        tmp.write_text(expected)
        tmp.replace(stamp)
    return python


def _run_install_step(cmd: list[str], what: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).strip()[-4000:]
        raise RuntimeError(f"could not {what} (exit {proc.returncode}): {' '.join(cmd)}\n{output}")


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_is_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:port (SO_REUSEADDR, like Twisted: TIME_WAIT is ok)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


_libc = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


def _die_with_parent() -> None:
    """preexec_fn: SIGTERM Synapse if the thread that started it dies (pytest killed hard).

    Runs in the child between fork and exec, so it must not import or allocate much.
    """
    if _libc is not None:
        _libc.prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


_live_servers: weakref.WeakSet[SynapseServer] = weakref.WeakSet()


@atexit.register
def _kill_leftovers() -> None:
    for server in list(_live_servers):
        server.stop_sync()


class SynapseServer:
    """A Synapse subprocess on ``127.0.0.1:port`` with its state in ``data_dir``.

    ``restart()`` keeps port, data dir and secrets, so accounts, rooms and access tokens survive.
    """

    server_name = "localhost"

    def __init__(
        self,
        data_dir: Path,
        *,
        python: Path | None = None,
        port: int | None = None,
        template: Path = TEMPLATE,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.python = Path(python) if python is not None else None  # None: ensure_synapse()
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.template = Path(template)
        self.config_path = self.data_dir / "homeserver.yaml"
        self.log_path = self.data_dir / "homeserver.log"
        self.signing_key_path = self.data_dir / f"{self.server_name}.signing.key"
        self.registration_shared_secret = secrets.token_hex(32)
        self._macaroon_secret = secrets.token_hex(32)
        self._form_secret = secrets.token_hex(32)
        self.process: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"<SynapseServer {self.url} pid={self.pid} dir={self.data_dir}>"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    async def __aenter__(self) -> SynapseServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, timeout: float = 60) -> None:
        """Write the config, make a signing key (once), launch Synapse, wait for /versions.

        Synapse gets SIGTERM if the thread that started it dies (PR_SET_PDEATHSIG, so a
        SIGKILLed pytest leaves no orphan): call this from the event loop's thread, not from a
        short-lived worker thread.
        """
        if self.running:
            raise RuntimeError(f"{self!r} is already running")
        if self.python is None:
            self.python = await asyncio.to_thread(ensure_synapse)
        # Another server on our port would answer the readiness poll in our stead.
        if not _port_is_free(self.port):
            raise SynapseStartError(f"cannot start Synapse: 127.0.0.1:{self.port} is already in use")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._write_config()
        if not self.signing_key_path.exists():
            await asyncio.to_thread(self._generate_signing_key)

        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== tests/synapse_server.py: starting on {self.url} =====\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [str(self.python), "-m", "synapse.app.homeserver", "-c", str(self.config_path)],
                cwd=self.data_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                preexec_fn=_die_with_parent,  # noqa: PLW1509
            )
        _live_servers.add(self)
        try:
            await self._wait_ready(timeout)
        except BaseException:
            self.stop_sync()
            raise

    async def stop(self, timeout: float = 10) -> None:
        """SIGTERM, wait up to ``timeout`` s, then SIGKILL. A no-op when not running."""
        proc = self.process
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            deadline = time.monotonic() + timeout
            while proc.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            if proc.poll() is None:
                proc.kill()
                while proc.poll() is None:
                    await asyncio.sleep(0.02)
        self.process = None
        _live_servers.discard(self)

    def stop_sync(self, timeout: float = 10) -> None:
        """Blocking ``stop()`` for finalizers and atexit."""
        proc = self.process
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.process = None
        _live_servers.discard(self)

    async def restart(self, down_for: float = 0.0) -> None:
        """Stop, stay down ``down_for`` seconds, start again on the same port and data dir."""
        await self.stop()
        if down_for:
            await asyncio.sleep(down_for)
        await self.start()

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no homeserver.log)"
        return "\n".join(text.splitlines()[-lines:])

    def _write_config(self) -> None:
        dir_escaped = json.dumps(str(self.data_dir))[1:-1]  # valid inside YAML double quotes
        config = (
            self.template.read_text()
            .replace("@PORT@", str(self.port))
            .replace("@DIR@", dir_escaped)
            .replace("@SECRET@", self.registration_shared_secret)
            .replace("@MACAROON@", self._macaroon_secret)
            .replace("@FORM@", self._form_secret)
        )
        leftover = re.findall(r"@[A-Z_]+@", config)
        if leftover:
            raise ValueError(f"{self.template}: unfilled placeholders {sorted(set(leftover))}")
        self.config_path.write_text(config)

    def _generate_signing_key(self) -> None:
        assert self.python is not None
        script = self.python.parent / "generate_signing_key"
        cmd = (
            [str(script)] if script.exists()
            else [str(self.python), "-m", "synapse._scripts.generate_signing_key"]
        )
        _run_install_step([*cmd, "-o", str(self.signing_key_path)], "generate a signing key")

    async def _wait_ready(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        last_error: object = None
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            while True:
                code = self.process.poll()
                if code is not None:
                    raise SynapseStartError(
                        f"Synapse exited with code {code} while starting on {self.url};"
                        f" {self.log_path}:\n{self.log_tail()}"
                    )
                try:
                    async with http.get(f"{self.url}/_matrix/client/versions") as resp:
                        if resp.status == 200:
                            return
                        last_error = f"HTTP {resp.status}"
                except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                    last_error = exc
                if time.monotonic() > deadline:
                    raise SynapseStartError(
                        f"Synapse (pid {self.pid}) did not answer /_matrix/client/versions on"
                        f" {self.url} within {timeout} s (last error: {last_error!r});"
                        f" {self.log_path}:\n{self.log_tail()}"
                    )
                await asyncio.sleep(0.05)

    # -- HTTP helpers --------------------------------------------------------------------------

    async def request(
        self, method: str, path: str, body: Any = None, *, token: str | None = None,
        timeout: float = 30,
    ) -> Any:
        """One JSON request to the server; raises :class:`SynapseError` on a non-2xx answer."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client_timeout = aiohttp.ClientTimeout(total=timeout)
        async with aiohttp.ClientSession(timeout=client_timeout) as http:
            async with http.request(method, self.url + path, json=body, headers=headers) as resp:
                try:
                    data = await resp.json(content_type=None)
                except ValueError:
                    data = await resp.text()
                if resp.status >= 300:
                    raise SynapseError(method, path, resp.status, data)
                return data

    async def register(self, username: str, password: str, admin: bool = False) -> tuple[str, str]:
        """Create an account via the shared-secret admin API; returns (user_id, access_token)."""
        path = "/_synapse/admin/v1/register"
        nonce = (await self.request("GET", path))["nonce"]
        mac = hmac.new(self.registration_shared_secret.encode(), digestmod=hashlib.sha1)
        for part in (nonce, username, password):
            mac.update(part.encode())
            mac.update(b"\x00")
        mac.update(b"admin" if admin else b"notadmin")
        answer = await self.request(
            "POST", path,
            {"nonce": nonce, "username": username, "password": password, "admin": admin,
             "mac": mac.hexdigest()},
        )
        return answer["user_id"], answer["access_token"]

    async def login(self, user: str, password: str, device_id: str | None = None) -> str:
        """Password login (``user`` is a localpart or an mxid); returns the access token.

        Every login without ``device_id`` creates a new device.
        """
        body: dict[str, Any] = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user},
            "password": password,
        }
        if device_id:
            body["device_id"] = device_id
        return (await self.request("POST", "/_matrix/client/v3/login", body))["access_token"]

    async def override_ratelimit(self, admin_token: str, user_id: str) -> None:
        """Exempt ``user_id`` from message rate limits (what a production bot account needs)."""
        await self.request(
            "POST", f"/_synapse/admin/v1/users/{quote(user_id, safe='')}/override_ratelimit",
            {"messages_per_second": 0, "burst_count": 0}, token=admin_token,
        )


@contextlib.asynccontextmanager
async def running_synapse(
    data_dir: Path, *, venv_dir: Path = DEFAULT_VENV
) -> AsyncIterator[SynapseServer]:
    """Install Synapse if needed, start it with its state in ``data_dir``, stop it on exit."""
    python = await asyncio.to_thread(ensure_synapse, venv_dir)
    server = SynapseServer(data_dir, python=python)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


# One server per test process even if both conftest.py and a test module import the fixture
# (each import makes its own FixtureDef; they share the server and the last one stops it).
_shared: dict[str, Any] = {"server": None, "users": 0}


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def synapse(tmp_path_factory: Any) -> AsyncIterator[SynapseServer]:
    """A running :class:`SynapseServer` for the whole test session.

    Put ``from tests.synapse_server import synapse  # noqa: F401`` into conftest.py. Tests need
    no asyncio marks: the server is a separate process and this object is bound to no loop.
    A test that calls ``stop()`` must ``start()`` it again (``restart()`` does both).
    """
    if _shared["server"] is None:
        python = await asyncio.to_thread(ensure_synapse)
        server = SynapseServer(tmp_path_factory.mktemp("synapse"), python=python)
        await server.start()
        _shared["server"] = server
    _shared["users"] += 1
    server = _shared["server"]
    try:
        yield server
    finally:
        _shared["users"] -= 1
        if _shared["users"] == 0:
            _shared["server"] = None
            await server.stop()


# --------------------------------------------------------------------------------------------
# A test person
# --------------------------------------------------------------------------------------------


class MatrixError(RuntimeError):
    """nio answered with an error object instead of the expected response."""


def _check(response: Any, expected: type, what: str) -> Any:
    if not isinstance(response, expected):
        raise MatrixError(f"{what} failed: {response!r}")
    return response


# Room timelines of up to 100 events per sync, so a chatty bot is not cut off ("limited").
_SYNC_FILTER = {"room": {"timeline": {"limit": 100}}}


def describe_event(event: Any) -> str:
    kind = event.source.get("type", type(event).__name__) if hasattr(event, "source") else "?"
    text = getattr(event, "body", None)
    if text is None and isinstance(event, nio.ReactionEvent):
        text = f"{event.key} -> {event.reacts_to}"
    if text is None and isinstance(event, nio.RoomMemberEvent):
        text = f"{event.state_key} {event.membership}"
    suffix = f" {text!r}" if text is not None else ""
    return f"{getattr(event, 'sender', '?')} {kind}/{type(event).__name__}{suffix}"


class MatrixUser:
    """A person in a test, on a real ``nio.AsyncClient`` (no E2EE).

    Every event that arrives by sync is kept per room; ``wait_for_*`` return the first event not
    returned before that matches, so a reply synced while waiting for another is not lost. The
    first sync at login is only used for its token: history is never mistaken for news.
    """

    def __init__(self, server: SynapseServer, client: nio.AsyncClient, password: str) -> None:
        self.server = server
        self.client = client
        self.password = password
        self.since: str | None = None
        self.events: dict[str, list[Any]] = {}
        self.invites: list[str] = []
        self._taken: set[int] = set()  # id() of events already returned by wait_for_*
        self._taken_invites: set[str] = set()

    @property
    def user_id(self) -> str:
        return self.client.user_id

    @property
    def access_token(self) -> str:
        return self.client.access_token

    @property
    def device_id(self) -> str:
        return self.client.device_id

    def __repr__(self) -> str:
        return f"<MatrixUser {self.user_id}>"

    async def __aenter__(self) -> MatrixUser:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @classmethod
    async def create(
        cls, server: SynapseServer, name: str, password: str | None = None, *,
        admin: bool = False,
    ) -> MatrixUser:
        """Register ``@name:localhost`` and log in (a fresh device)."""
        password = password or secrets.token_urlsafe(12)
        await server.register(name, password, admin=admin)
        return await cls.log_in(server, name, password)

    @classmethod
    async def log_in(cls, server: SynapseServer, name: str, password: str) -> MatrixUser:
        """Log in to an existing account, then sync once to skip its history."""
        user_id = name if name.startswith("@") else f"@{name}:{server.server_name}"
        config = nio.AsyncClientConfig(
            encryption_enabled=False,
            max_limit_exceeded=0,  # a 429 is an error here, not a silent sleep-and-retry
            request_timeout=30,
        )
        client = nio.AsyncClient(server.url, user_id, config=config)
        user = cls(server, client, password)
        try:
            await user._call(client.login(password, device_name="lotse-test"), nio.LoginResponse,
                             "login")
            await user.sync(full_state=True, record=False)
        except BaseException:
            await client.close()
            raise
        return user

    async def close(self) -> None:
        await self.client.close()

    async def _call(self, coro: Any, expected: type, what: str, timeout: float = 30) -> Any:
        """Await a nio call with a deadline (nio retries lost connections forever)."""
        try:
            response = await asyncio.wait_for(coro, timeout)
        except asyncio.TimeoutError:
            raise MatrixError(f"{self.user_id}: {what} got no answer within {timeout} s") from None
        return _check(response, expected, f"{self.user_id}: {what}")

    # -- rooms and messages ------------------------------------------------------------------

    async def dm(self, other_user_id: str) -> str:
        """Create a direct-message room (``is_direct``) inviting ``other_user_id``; its id."""
        response = await self._call(
            self.client.room_create(
                is_direct=True, preset=nio.RoomPreset.trusted_private_chat,
                invite=[other_user_id],
            ),
            nio.RoomCreateResponse, f"create a DM with {other_user_id}",
        )
        return response.room_id

    async def join(self, room_id: str) -> None:
        await self._call(self.client.join(room_id), nio.JoinResponse, f"join {room_id}")

    async def leave(self, room_id: str) -> None:
        await self._call(self.client.room_leave(room_id), nio.RoomLeaveResponse,
                         f"leave {room_id}")

    async def send(self, room_id: str, content: dict[str, Any],
                   event_type: str = "m.room.message") -> str:
        """Send any event; returns its event id."""
        response = await self._call(
            self.client.room_send(room_id, event_type, content, ignore_unverified_devices=True),
            nio.RoomSendResponse, f"send {event_type} to {room_id}",
        )
        return response.event_id

    async def say(self, room_id: str, text: str) -> str:
        return await self.send(room_id, {"msgtype": "m.text", "body": text})

    async def reply(self, room_id: str, event_id: str, text: str) -> str:
        return await self.send(room_id, {
            "msgtype": "m.text", "body": text,
            "m.relates_to": {"m.in_reply_to": {"event_id": event_id}},
        })

    async def react(self, room_id: str, event_id: str, key: str) -> str:
        return await self.send(
            room_id,
            {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}},
            "m.reaction",
        )

    # -- sync and waiting ----------------------------------------------------------------------

    async def sync(self, timeout_ms: int = 0, *, full_state: bool = False,
                   record: bool = True) -> nio.SyncResponse:
        """One /sync from the stored since-token; new events go to ``events``/``invites``."""
        response = await self._call(
            self.client.sync(timeout=timeout_ms, sync_filter=_SYNC_FILTER, since=self.since,
                             full_state=full_state or None),
            nio.SyncResponse, "sync", timeout=timeout_ms / 1000 + 30,
        )
        self.since = response.next_batch
        if record:
            for room_id, info in response.rooms.join.items():
                self.events.setdefault(room_id, []).extend(info.timeline.events)
            for room_id in response.rooms.invite:
                if room_id not in self.invites:
                    self.invites.append(room_id)
        return response

    async def wait_for_event(
        self, room_id: str, predicate: Callable[[Any], bool], timeout: float = 10,
        what: str = "an event",
    ) -> Any:
        """The first not-yet-returned event in ``room_id`` matching ``predicate``.

        Syncs (long-poll) until it arrives; AssertionError listing what did arrive otherwise.
        """
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events.get(room_id, []):
                if id(event) not in self._taken and predicate(event):
                    self._taken.add(id(event))
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(self._timeout_report(room_id, what, timeout))
            try:
                await asyncio.wait_for(self.sync(int(min(remaining, 5) * 1000)), remaining)
            except asyncio.TimeoutError:
                pass  # reported above on the next turn

    async def wait_for_message(
        self, room_id: str, predicate: Callable[[Any], bool] | None = None, timeout: float = 10,
    ) -> nio.RoomMessage:
        """The next m.room.message (m.text, m.notice, ...) from someone else matching
        ``predicate`` (which gets the nio event: ``.body``, ``.sender``, ``.event_id``,
        ``.source``)."""
        return await self.wait_for_event(
            room_id,
            lambda e: isinstance(e, nio.RoomMessage) and e.sender != self.user_id
            and (predicate is None or predicate(e)),
            timeout, what="a message from someone else matching the predicate",
        )

    async def wait_for_join(self, room_id: str, user_id: str, timeout: float = 10) -> Any:
        """The m.room.member event in which ``user_id`` joins ``room_id``."""
        return await self.wait_for_event(
            room_id,
            lambda e: isinstance(e, nio.RoomMemberEvent) and e.state_key == user_id
            and e.membership == "join",
            timeout, what=f"{user_id} joining",
        )

    async def wait_for_invite(self, room_id: str | None = None, timeout: float = 10) -> str:
        """The id of the next room this user is invited to (or wait for ``room_id``)."""
        deadline = time.monotonic() + timeout
        while True:
            for invited in self.invites:
                if invited not in self._taken_invites and room_id in (None, invited):
                    self._taken_invites.add(invited)
                    return invited
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"{self.user_id}: timed out after {timeout} s waiting for an invite to"
                    f" {room_id or 'any room'};"
                    f" invites seen: {self.invites}"
                )
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.sync(int(min(remaining, 5) * 1000)), remaining)

    def messages(self, room_id: str) -> list[nio.RoomMessage]:
        """Every m.room.message seen in ``room_id`` since login (anyone's, in order)."""
        return [e for e in self.events.get(room_id, []) if isinstance(e, nio.RoomMessage)]

    def _timeout_report(self, room_id: str, what: str, timeout: float) -> str:
        seen = self.events.get(room_id, [])
        lines = [f"{self.user_id}: timed out after {timeout} s waiting for {what} in {room_id}."]
        lines.append(f"Events in that room since login ({len(seen)}; * = already returned):")
        lines += [f"  {'*' if id(e) in self._taken else ' '} {describe_event(e)}"
                  for e in seen[-30:]] or ["  (none)"]
        others = {r: len(evs) for r, evs in self.events.items() if r != room_id}
        if others:
            lines.append(f"Other rooms (event counts): {others}")
        if self.invites:
            lines.append(f"Invites: {self.invites}")
        return "\n".join(lines)
