"""A consistent copy of the main database, never of the key store.

Backups hold personal data only as ciphertext; the data keys stay in the key store, so erasing a
customer (destroying their key) also erases them from every backup taken before.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from trustdesk.errors import ConfigurationError, InvalidInput

__all__ = ["backup_database"]


def backup_database(database_url: str, target: Path) -> Path:
    """SQLite: the online backup API (consistent while others write). PostgreSQL: pg_dump."""
    if target.exists():
        raise InvalidInput(f"{target} already exists; choose a new file")
    target.parent.mkdir(parents=True, exist_ok=True)
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise InvalidInput("an in-memory database cannot be backed up")
        source = sqlite3.connect(f"file:{url.database}?mode=ro", uri=True)
        copy = sqlite3.connect(target)
        try:
            with copy:
                source.backup(copy)
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
