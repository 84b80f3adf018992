"""The database file on disk: private permissions, and one clear line when the path is unusable.

SQLite creates `lotse.db-wal` and `-shm` with the permissions of the main file, so creating the
main file 0600 (whatever the umask) before SQLite opens it keeps all three private.  The
directory that holds them is Lotse's own (data/ by default) and is made 0700.

Everything that can go wrong with the path before SQLite gets it (a directory, no permission, a
file that is no SQLite database) raises `DatabaseFileError`, phrased as one line that names the
file; the CLI prints it and exits with status 2.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

SQLITE_HEADER = b"SQLite format 3\x00"
FILE_MODE = 0o600
DIR_MODE = 0o700


class DatabaseFileError(Exception):
    """The database path cannot be used; the message is one line naming the file."""


def tighten(path: Path | str, mode: int) -> None:
    """chmod `path` to `mode` if it is more open than that and ours to change (else leave it)."""
    try:
        current = stat.S_IMODE(os.stat(path).st_mode)
        if current & ~mode:
            os.chmod(path, current & mode)
    except OSError:
        pass


def create_private(path: Path | str, *, exclusive: bool = False) -> int:
    """Open `path` for writing as a new (or truncated) file of mode 0600 whatever the umask;
    returns the file descriptor.  `exclusive` refuses an existing file (FileExistsError)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    except OSError:
        pass
    return fd


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


def _check_header(path: Path, header: bytes) -> None:
    if header and header != SQLITE_HEADER:
        raise DatabaseFileError(f"database: {path} is not an SQLite database (is [database] path right?)")


def prepare(path: Path, *, read_only: bool = False) -> None:
    """Make `path` ready for SQLite, or raise DatabaseFileError.

    Writable: create the directory (0700) and the file (0600) if missing, tighten existing
    ones, and check that the file is an SQLite database and the directory writable (SQLite
    keeps -wal and -shm next to the file).  Read-only: the file must exist and be a database.
    """
    if path.is_dir():
        raise DatabaseFileError(f"database: {path} is a directory, not a database file")
    if read_only:
        try:
            with open(path, "rb") as fh:
                header = fh.read(100)
        except FileNotFoundError:
            raise DatabaseFileError(f"database: no database at {path}") from None
        except OSError as exc:
            raise DatabaseFileError(f"database: cannot read {path}: {_reason(exc)}") from None
        _check_header(path, header[:len(SQLITE_HEADER)])
        wal = len(header) > 18 and header[18] == 2  # file format "read version" 2: WAL mode
        if wal and not Path(f"{path}-shm").exists() and not os.access(path.parent, os.W_OK | os.X_OK):
            raise DatabaseFileError(f"database: cannot read {path}: its directory {path.parent} is not writable "
                                    f"(SQLite needs {path.name}-shm there)")
        return
    directory = path.parent
    if not directory.exists():
        try:
            directory.mkdir(parents=True, mode=DIR_MODE)
        except OSError as exc:
            raise DatabaseFileError(f"database: cannot create the directory {directory} for {path}: "
                                    f"{_reason(exc)}") from None
    elif not directory.is_dir():
        raise DatabaseFileError(f"database: cannot use {path}: {directory} is not a directory")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    except PermissionError:
        what = "read and write" if path.exists() else "create"
        raise DatabaseFileError(f"database: cannot {what} {path}: permission denied") from None
    except OSError as exc:
        raise DatabaseFileError(f"database: cannot open {path}: {_reason(exc)}") from None
    try:
        _check_header(path, os.read(fd, len(SQLITE_HEADER)))  # touch nothing that is not ours
        if stat.S_IMODE(os.fstat(fd).st_mode) & ~FILE_MODE:
            try:
                os.fchmod(fd, FILE_MODE)
            except OSError:
                pass
    finally:
        os.close(fd)
    tighten(directory, DIR_MODE)
    for suffix in ("-wal", "-shm", "-journal"):
        tighten(f"{path}{suffix}", FILE_MODE)
    if not os.access(directory, os.W_OK | os.X_OK):
        raise DatabaseFileError(f"database: cannot use {path}: its directory {directory} is not writable "
                                f"(SQLite keeps {path.name}-wal and {path.name}-shm there)")
