"""The claim journal: a local, append-only note, written just before a round's final dots, of
which messages' "." may be on its way to the SMTP server.

Why: a database commit is durable on the database server before the client hears so; on
PostgreSQL a run killed while that answer travels back leaves messages marked committed whose
"." was never written. The journal is written by the process holding the SMTP sockets, with one
`write()` that survives the process being killed (the page cache is the kernel's), so a restart on
the same host knows exactly which messages may have reached the server: those noted are
`unconfirmed`, the others are sent again. A run on another host, without the file, stays
conservative (every committed message is `unconfirmed`).

Files: `<data dir>/outbox-claims/<claim token>.log`, created when a batch is claimed and removed
once its outcomes are recorded.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from trustdesk.private_files import FILE_MODE, private_dir

__all__ = ["ClaimJournal"]


class ClaimJournal:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._open: dict[str, int] = {}

    def _path(self, token: str) -> Path:
        return self.directory / f"{token}.log"

    def begin(self, token: str) -> None:
        private_dir(self.directory)
        fd = os.open(self._path(token), os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        os.write(fd, f"pid {os.getpid()}\n".encode())
        self._open[token] = fd

    def note(self, token: str, ids: list[int]) -> None:
        """Called right before the dots of `ids` are written: one write() call."""
        fd = self._open.get(token)
        if fd is not None and ids:
            os.write(fd, (" ".join(map(str, ids)) + "\n").encode())

    def end(self, token: str) -> None:
        fd = self._open.pop(token, None)
        if fd is not None:
            os.close(fd)
        self.forget(token)

    def close_all(self) -> None:
        """Close files without removing them (a run stopping with outcomes unrecorded)."""
        for fd in self._open.values():
            os.close(fd)
        self._open.clear()

    def noted(self, token: str) -> set[int] | None:
        """Ids noted for `token`; None when this host has no journal for it or the run that
        writes it is still alive (a run past its lease may be about to note more)."""
        try:
            lines = self._path(token).read_text(encoding="ascii").splitlines()
        except FileNotFoundError:
            return None
        if not lines or not lines[0].startswith("pid ") or _alive(int(lines[0][4:])):
            return None
        return {int(part) for line in lines[1:] for part in line.split()}

    def forget(self, token: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(token).unlink()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
