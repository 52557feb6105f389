"""Files that hold keys or personal data are readable by their owner only, whatever the umask.

With the usual umask 022 a new file is 0644: any local account could read the database, the key
store, a backup or a data-subject export. These helpers create such files 0600 (directories 0700)
and tighten ones that already exist, so an installation made before this check is mended the next
time it is opened. SQLite gives its -wal and -shm files the database file's mode.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import TextIO

__all__ = ["FILE_MODE", "private_dir", "private_file", "write_private"]

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Creates `path` (and missing parents) owner-only; an existing directory is left as it is
    (it may be a shared one the operator chose), the files TrustDesk puts in it are not."""
    if not path.exists():
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        path.chmod(DIR_MODE)  # mkdir's mode passes through the umask
    return path


def private_file(path: Path) -> Path:
    """Makes sure `path` exists and is owner-only before anyone else (SQLite) writes to it;
    also tightens its SQLite companions (-wal, -shm, -journal) if they exist."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(fd)
    for candidate in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))):
        _tighten(candidate)
    return path


def write_private(path: Path, data: bytes) -> Path:
    """Writes `data` to `path` (created or replaced) readable by its owner only."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fh.fileno(), FILE_MODE)  # an existing file keeps its mode through O_CREAT
        fh.write(data)
    return path


def open_private_text(path: Path) -> TextIO:
    """A text file opened for writing (created or replaced) readable by its owner only: rejects
    files name external ids and quote the values they refuse."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # an existing file keeps its mode through O_CREAT
    return os.fdopen(fd, "w", encoding="utf-8", newline="")


def _tighten(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError, PermissionError):
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(FILE_MODE)
