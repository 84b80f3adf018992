"""Bad files: one clear line on stderr naming the file, exit status 2, no traceback, no hang.

For the database path of `lotse run`, `lotse console`, `lotse db upgrade`, `lotse export` (and
`lotse db backup`): a directory, an unwritable directory, an unwritable file, a file that is no
SQLite database, a database written by a newer Lotse.  For --config: a directory, an unreadable
file, a file that is not UTF-8; a UTF-8 byte order mark is accepted.

Permissions: as root, file modes stop nobody, so those runs drop root's two override capabilities
(CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH) with setpriv — root then obeys modes like anyone else.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

from bot.store import Store
from bot.store.migrations import discover
from tests.conftest import checkout_env

RUN = ("run",)
CONSOLE = ("console",)
UPGRADE = ("db", "upgrade")
EXPORT = ("export", "--from", "2026-01-01", "--to", "2026-12-31")
BACKUP = ("db", "backup", "backup.db")
COMMANDS = {"run": RUN, "console": CONSOLE, "db upgrade": UPGRADE, "export": EXPORT, "db backup": BACKUP}
KNOWN = max(m.version for m in discover())


async def lotse(*args: str, cwd: Path, as_user: bool = False) -> tuple[int, str, str]:
    """`lotse ARGS` in a real subprocess with stdin closed; `as_user`: without root's power to
    ignore file modes."""
    prefix: list[str] = []
    if as_user and os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root, which ignores file modes, and setpriv (to drop that power) is missing")
        prefix = [setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--"]
    process = await asyncio.create_subprocess_exec(
        *prefix, sys.executable, "-m", "bot.cli", *args, cwd=cwd, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=checkout_env())
    try:
        out, err = await asyncio.wait_for(process.communicate(), 60)
    except TimeoutError:
        process.kill()
        await process.wait()
        pytest.fail(f"lotse {' '.join(args)} hangs")
    if prefix and process.returncode != 0 and err.decode().startswith("setpriv:"):
        pytest.skip(f"running as root and cannot drop capabilities: {err.decode().strip()}")
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def assert_one_line(status: int, err: str, *names: str) -> str:
    assert "Traceback" not in err, err
    line = err.strip()
    assert status == 2, err
    assert len(line.splitlines()) == 1, err
    for name in names:
        assert name in line, f"{name!r} not named in {line!r}"
    return line


def config_for(tmp_path: Path, db: Path) -> Path:
    config = tmp_path / "lotse.toml"
    config.write_text(f'[database]\npath = "{db}"\n')
    return config


async def new_database(path: Path) -> None:
    await (await Store.open(path)).close()


# -- the database path -----------------------------------------------------------------------------

@pytest.mark.parametrize("command", COMMANDS)
async def test_database_path_is_a_directory(tmp_path: Path, command: str) -> None:
    db = tmp_path / "lotse.db"
    db.mkdir()
    status, _, err = await lotse(*COMMANDS[command], "--config", str(config_for(tmp_path, db)), cwd=tmp_path)
    assert "directory" in assert_one_line(status, err, str(db))


@pytest.mark.parametrize("command", COMMANDS)
async def test_database_file_is_not_sqlite(tmp_path: Path, command: str) -> None:
    db = tmp_path / "lotse.db"
    db.write_text("name;phone\nAmira;0170 1234567\n")
    os.chmod(db, 0o644)
    status, _, err = await lotse(*COMMANDS[command], "--config", str(config_for(tmp_path, db)), cwd=tmp_path)
    assert "not an SQLite database" in assert_one_line(status, err, str(db))
    assert db.read_text() == "name;phone\nAmira;0170 1234567\n" and oct(db.stat().st_mode & 0o777) == "0o644"


@pytest.mark.parametrize("command", ["run", "console", "db upgrade", "export"])
async def test_database_written_by_a_newer_lotse_is_refused(tmp_path: Path, command: str) -> None:
    db = tmp_path / "lotse.db"
    await new_database(db)
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 'x')",
                     (KNOWN + 4,))
    conn.close()
    status, _, err = await lotse(*COMMANDS[command], "--config", str(config_for(tmp_path, db)), cwd=tmp_path)
    line = assert_one_line(status, err, str(db))
    assert f"written by a newer Lotse (schema {KNOWN + 4}, this one knows {KNOWN})" in line
    assert "upgrade Lotse or restore a backup" in line
    with sqlite3.connect(db) as conn:  # nothing ran on it
        assert conn.execute("SELECT count(*) FROM people").fetchone() == (0,)
        assert conn.execute("SELECT max(version) FROM schema_migrations").fetchone() == (KNOWN + 4,)
    conn.close()


@pytest.mark.parametrize("command", COMMANDS)
async def test_database_in_an_unwritable_directory_that_has_none_yet(tmp_path: Path, command: str) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    os.chmod(locked, 0o555)
    db = locked / "lotse.db"
    status, _, err = await lotse(*COMMANDS[command], "--config", str(config_for(tmp_path, db)), cwd=tmp_path,
                                 as_user=True)
    assert_one_line(status, err, str(db))
    assert not db.exists()


@pytest.mark.parametrize("command", COMMANDS)
async def test_existing_database_in_an_unwritable_directory(tmp_path: Path, command: str) -> None:
    """SQLite keeps lotse.db-wal and -shm next to the file: a writer, and a reader of a WAL
    database with no -shm yet, need the directory writable."""
    locked = tmp_path / "locked"
    locked.mkdir()
    db = locked / "lotse.db"
    await new_database(db)
    os.chmod(locked, 0o555)
    status, _, err = await lotse(*COMMANDS[command], "--config", str(config_for(tmp_path, db)), cwd=tmp_path,
                                 as_user=True)
    assert "not writable" in assert_one_line(status, err, str(db))


@pytest.mark.parametrize("command", ["run", "console", "db upgrade"])
async def test_unwritable_database_file(tmp_path: Path, command: str) -> None:
    db = tmp_path / "lotse.db"
    await new_database(db)
    os.chmod(db, 0o400)
    status, _, err = await lotse(*COMMANDS[command], "--config", str(config_for(tmp_path, db)), cwd=tmp_path,
                                 as_user=True)
    assert "permission denied" in assert_one_line(status, err, str(db))


@pytest.mark.parametrize("command", ["export", "db backup"])
async def test_readers_read_an_unwritable_database_file(tmp_path: Path, command: str) -> None:
    """Export and backup only read: a database file they may not write is fine for them."""
    db = tmp_path / "lotse.db"
    await new_database(db)
    os.chmod(db, 0o400)
    status, _, err = await lotse(*COMMANDS[command], "--config", str(config_for(tmp_path, db)), cwd=tmp_path,
                                 as_user=True)
    assert status == 0 and "Traceback" not in err, err


# -- the config file -------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["run", "console", "db upgrade", "export"])
async def test_config_is_a_directory(tmp_path: Path, command: str) -> None:
    config = tmp_path / "lotse.toml"
    config.mkdir()
    status, _, err = await lotse(*COMMANDS[command], "--config", str(config), cwd=tmp_path)
    assert "directory" in assert_one_line(status, err, str(config))


@pytest.mark.parametrize("command", ["run", "console", "db upgrade", "export"])
async def test_config_is_unreadable(tmp_path: Path, command: str) -> None:
    config = tmp_path / "lotse.toml"
    config.write_text('[database]\npath = "lotse.db"\n')
    os.chmod(config, 0o000)
    status, _, err = await lotse(*COMMANDS[command], "--config", str(config), cwd=tmp_path, as_user=True)
    assert "permission denied" in assert_one_line(status, err, str(config))


@pytest.mark.parametrize("command", ["run", "console", "db upgrade", "export"])
async def test_config_is_not_utf8(tmp_path: Path, command: str) -> None:
    config = tmp_path / "lotse.toml"
    config.write_bytes('[area]\ndistricts = ["Mühlheim", "Dreieich"]\n'.encode("latin-1"))
    status, _, err = await lotse(*COMMANDS[command], "--config", str(config), cwd=tmp_path)
    assert "not UTF-8" in assert_one_line(status, err, str(config))


async def test_config_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    config = tmp_path / "lotse.toml"
    config.write_bytes(b"\xef\xbb\xbf" + '[database]\npath = "from-bom.db"\n[area]\ndistricts = ["Mühlheim"]\n'
                       .encode("utf-8"))
    status, out, err = await lotse(*UPGRADE, "--config", str(config), cwd=tmp_path)
    assert status == 0, err
    assert "applied 0001_" in out
    assert (tmp_path / "from-bom.db").exists()
