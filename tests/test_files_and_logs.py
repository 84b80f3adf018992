"""Files only their owner can read, and logs without secrets.

The database's directory is 0700; the database, its -wal and -shm, CSV exports, backups and the
Matrix session file are 0600 whatever the umask.  The bot token never reaches a log line, at any
level, and nothing a person wrote or is called is logged at INFO or above.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
import sqlite3
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import cli
from bot.transports.registry import MatrixSettings
from bot.store import Store
from bot.clock import utcnow
from tests.botapi_server import BotApiServer
from tests.conftest import make_settings, run_lotse
from tests.telegram_harness import telegram_world

UMASKS = [0o000, 0o022]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=UMASKS, ids=lambda u: f"umask{u:03o}")
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """The process umask for the test (subprocesses inherit it); restored afterwards."""
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


# -- permissions -----------------------------------------------------------------------------------

async def test_db_upgrade_creates_a_private_directory_and_file(tmp_path: Path, umask: int) -> None:
    config = tmp_path / "lotse.toml"
    config.write_text('[database]\npath = "data/lotse.db"\n')
    status, out, err = await run_lotse("db", "upgrade", "--config", str(config), cwd=tmp_path)
    assert status == 0, err
    assert mode(tmp_path / "data") == 0o700
    assert mode(tmp_path / "data" / "lotse.db") == 0o600


async def test_wal_and_shm_are_private_while_lotse_runs(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "data" / "lotse.db"
    store = await Store.open(path)
    try:
        await store.people.get_or_create("telegram", "1", "1")
        for suffix in ("-wal", "-shm"):
            side = Path(f"{path}{suffix}")
            assert side.exists(), f"{side.name} missing: is the database in WAL mode?"
            assert mode(side) == 0o600, f"{side.name} is {mode(side):o}"
        assert mode(path) == 0o600 and mode(path.parent) == 0o700
    finally:
        await store.close()


async def test_an_existing_open_database_and_directory_are_tightened(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "data" / "lotse.db"
    await (await Store.open(path)).close()
    os.chmod(path.parent, 0o755)
    os.chmod(path, 0o644)
    await (await Store.open(path)).close()
    assert (mode(path.parent), mode(path)) == (0o700, 0o600)


async def test_export_file_is_private(tmp_path: Path, umask: int) -> None:
    await (await Store.open(tmp_path / "lotse.db")).close()
    config = tmp_path / "lotse.toml"
    config.write_text('[database]\npath = "lotse.db"\n')
    out = tmp_path / "report.csv"
    out.write_text("old and world-readable")
    os.chmod(out, 0o644)
    status, _, err = await run_lotse("export", "--config", str(config), "--from", "2026-01-01",
                                     "--to", "2026-12-31", "--out", str(out), cwd=tmp_path)
    assert status == 0, err
    assert mode(out) == 0o600
    assert out.read_bytes().startswith(b"\xef\xbb\xbfdate;")


async def test_export_to_an_unusable_file_is_one_line(tmp_path: Path) -> None:
    await (await Store.open(tmp_path / "lotse.db")).close()
    config = tmp_path / "lotse.toml"
    config.write_text('[database]\npath = "lotse.db"\n')
    status, _, err = await run_lotse("export", "--config", str(config), "--from", "2026-01-01",
                                     "--to", "2026-12-31", "--out", str(tmp_path), cwd=tmp_path)
    assert status == 2 and "Traceback" not in err
    assert err.strip().splitlines() == [err.strip()] and str(tmp_path) in err


def test_matrix_session_file_is_private(tmp_path: Path, umask: int) -> None:
    from bot.transports.matrix import MatrixTransport

    transport = MatrixTransport(MatrixSettings(homeserver="http://127.0.0.1:1", user_id="@lotse:test",
                                               password="pw", session_dir=tmp_path / "matrix"))
    (tmp_path / "matrix").mkdir()
    transport.session_file.write_text("{}")
    os.chmod(transport.session_file, 0o644)
    transport._write_session("DEVICE", "syt_secret_token")
    assert mode(transport.session_file) == 0o600


# -- lotse db backup -------------------------------------------------------------------------------

async def test_backup_of_a_database_in_use_is_complete_and_private(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "lotse.db"
    config = tmp_path / "lotse.toml"
    config.write_text('[database]\npath = "lotse.db"\n')
    store = await Store.open(path)  # a running Lotse: its last write is still in lotse.db-wal
    try:
        person = await store.people.get_or_create("telegram", "4711", "4711")
        await store.people.record_consent(person.id, "2026-11", utcnow(), "Amira")
        assert Path(f"{path}-wal").stat().st_size > 0
        backup = tmp_path / "backups" / "lotse-1.db"
        backup.parent.mkdir()
        status, out, err = await run_lotse("db", "backup", str(backup), "--config", str(config), cwd=tmp_path)
        assert status == 0, err
        assert len(out.strip().splitlines()) == 1 and str(backup) in out
        assert mode(backup) == 0o600
        assert sorted(p.name for p in backup.parent.iterdir()) == ["lotse-1.db"]  # no -wal, no leftovers
        copy = sqlite3.connect(backup)
        try:
            assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert copy.execute("SELECT display_name FROM people WHERE platform_user_id = '4711'").fetchone() == ("Amira",)
        finally:
            copy.close()

        status, _, err = await run_lotse("db", "backup", str(backup), "--config", str(config), cwd=tmp_path)
        assert status == 2 and err.strip().splitlines() == [err.strip()] and "--force" in err and str(backup) in err
        await store.people.get_or_create("telegram", "4712", "4712")
        status, _, err = await run_lotse("db", "backup", str(backup), "--force", "--config", str(config),
                                         cwd=tmp_path)
        assert status == 0, err
        copy = sqlite3.connect(backup)
        try:
            assert copy.execute("SELECT count(*) FROM people").fetchone() == (2,)
        finally:
            copy.close()
        assert mode(backup) == 0o600
    finally:
        await store.close()


# -- no secrets in the logs ------------------------------------------------------------------------

@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Logging configured as `lotse --log-level DEBUG` does, into a string."""
    stream = io.StringIO()
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    quiet = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "nio", "nio.responses")}
    handler = cli.configure_logging("DEBUG", stream)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)
    for each in handlers:
        each.filters = [f for f in each.filters if f.__class__.__module__ != "bot.logsafe"]
    for name, was in quiet.items():
        logging.getLogger(name).setLevel(was)


async def test_the_token_is_in_no_log_line_at_debug(db_path: Path, captured_logs: io.StringIO) -> None:
    settings = make_settings(db_path)
    async with BotApiServer(token="424242:AAH-secret_token_value-42") as server:
        async with telegram_world(settings, server) as world:
            cli.register_secrets(world.settings)
            amira = world.person(1001, "Amira", "en")
            [welcome] = await amira.send("/start")
            assert "Lotse" in welcome["text"]
            await amira.press("English")
        logs = captured_logs.getvalue()
    assert "getUpdates" in logs and "sendMessage" in logs  # the requests were logged …
    assert server.token not in logs                        # … without the token
    assert "AAH-secret_token_value-42" not in logs and "424242:" not in logs


def test_the_redaction_covers_arguments_tracebacks_and_unconfigured_tokens(captured_logs: io.StringIO) -> None:
    from bot import logsafe

    logsafe.add_secret("matrix-password-value")
    log = logging.getLogger("tests.files_and_logs")
    log.warning("HTTP Request: %s %s", "POST", "https://api.telegram.org/bot987654:XYZ_abc-123/getMe")
    log.info("logging in with %r", {"password": "matrix-password-value"})
    try:
        raise RuntimeError("GET /_matrix/client/v3/sync?access_token=syt_abc&since=s1 failed")
    except RuntimeError:
        log.exception("sync failed")
    logs = captured_logs.getvalue()
    assert "987654:XYZ_abc-123" not in logs and "/bot<redacted>/getMe" in logs
    assert "matrix-password-value" not in logs
    assert "syt_abc" not in logs and "Traceback" in logs


async def _lotse_run(tmp_path: Path, server: BotApiServer, level: str) -> str:
    """`lotse --log-level LEVEL run` against the wire server: a newcomer says /start and picks a
    language; the process is stopped with SIGTERM; returns its stderr."""
    config = tmp_path / "lotse.toml"
    config.write_text(f'[database]\npath = "lotse.db"\n[telegram]\nenabled = true\ntoken = "{server.token}"\n'
                      f'base_url = "{server.url}"\npoll_timeout = "1s"\n')
    polls = len(server.sent(method="getUpdates"))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "--log-level", level, "run", "--config", str(config), cwd=tmp_path,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        await server.wait_for(lambda: len(server.sent(method="getUpdates")) > polls or None, timeout=60)
        server.user(1001, first_name="Amira", language_code="en")
        server.inject_message(1001, "/start")
        [welcome] = await server.wait_for_messages(1001, 1, timeout=30)
        data = welcome["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        server.press_button(1001, welcome["message_id"], data)
        await server.wait_for_messages(1001, 2, timeout=30)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    return err.decode()


async def test_lotse_run_at_debug_logs_requests_without_the_token(tmp_path: Path) -> None:
    async with BotApiServer(token="515151:AAE-another_secret_token") as server:
        logs = await _lotse_run(tmp_path, server, "DEBUG")
    assert "getUpdates" in logs
    assert server.token not in logs and "AAE-another_secret_token" not in logs


async def test_lotse_run_at_info_logs_no_requests_no_names_no_texts(tmp_path: Path) -> None:
    async with BotApiServer(token="616161:AAF-yet_another_secret") as server:
        logs = await _lotse_run(tmp_path, server, "INFO")
    assert "serving as @" in logs                       # INFO is on …
    assert "HTTP Request" not in logs                   # … but httpx does not log every request
    assert server.token not in logs
    assert "Amira" not in logs and "/start" not in logs
