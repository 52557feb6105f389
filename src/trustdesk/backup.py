"""A consistent copy of the main database, never of the key store.

Backups hold personal data only as ciphertext; the data keys stay in the key store, so erasing a
customer (destroying their key) also erases them from every backup taken before.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from trustdesk.errors import ConfigurationError, InvalidInput
from trustdesk.private_files import FILE_MODE, private_dir

__all__ = ["backup_database"]


def _create_private(target: Path) -> None:
    """The backup file, created owner-only (0600) before anything is written to it."""
    private_dir(target.parent)
    try:
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError as exc:
        raise InvalidInput(f"{target} already exists; choose a new file") from exc


def backup_database(database_url: str, target: Path) -> Path:
    """SQLite: the online backup API (consistent while others write). PostgreSQL: pg_dump."""
    if target.exists():
        raise InvalidInput(f"{target} already exists; choose a new file")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise InvalidInput("an in-memory database cannot be backed up")
        _create_private(target)
        source = sqlite3.connect(f"file:{url.database}?mode=ro", uri=True)
        copy = sqlite3.connect(target)
        try:
            with copy:
                source.backup(copy)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        finally:
            copy.close()
            source.close()
        return target
    if url.get_backend_name() == "postgresql":
        pg_dump = shutil.which("pg_dump")
        if pg_dump is None:
            raise ConfigurationError(
                "pg_dump is needed to back up PostgreSQL (Debian: postgresql-client)"
            )
        plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
        _create_private(target)  # pg_dump writes into it and keeps its mode
        result = subprocess.run(  # noqa: S603 - fixed program, URL from our own settings
            [pg_dump, "--format=custom", "--file", str(target), "--dbname", plain],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            target.unlink(missing_ok=True)
            raise ConfigurationError(f"pg_dump failed: {result.stderr.strip().splitlines()[-1:]}")
        return target
    raise InvalidInput(f"backups of {url.get_backend_name()} databases are not supported")
