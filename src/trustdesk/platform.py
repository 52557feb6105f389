"""The running platform: settings, the main database and the vault, opened once per process."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from trustdesk.config import Settings
from trustdesk.crypto import Vault, load_or_create_master_key
from trustdesk.db import Database
from trustdesk.errors import ConfigurationError
from trustdesk.keys import adopt_staged_key, parse_ring, read_ring
from trustdesk.private_files import private_dir

__all__ = ["Platform", "missing_database", "no_database_message"]


@dataclass
class Platform:
    settings: Settings
    db: Database
    vault: Vault

    @classmethod
    def open(cls, settings: Settings) -> Platform:
        """Opens storage and checks the master key; a wrong key raises WrongMasterKey here."""
        private_dir(settings.data_dir)  # created owner-only (0700)
        env_key = settings.master_key.get_secret_value() if settings.master_key else None
        key_file = settings.effective_master_key_file
        if env_key:
            vault = Vault.open(settings.effective_keystore_url, parse_ring(env_key))
        else:
            load_or_create_master_key(None, key_file)
            adopt_staged_key(key_file)  # left by an older version's interrupted rotation
            vault = Vault.open(
                settings.effective_keystore_url,
                read_ring(key_file),
                reload=lambda: read_ring(key_file),  # a rotation elsewhere added a key
            )
        return cls(settings=settings, db=Database(settings.effective_database_url), vault=vault)

    def require_schema(self) -> None:
        """Refuse to work on a database whose migrations are not the ones this code expects."""
        from trustdesk import migrate

        current, head = migrate.current_revision(self.db), migrate.head_revision()
        if current is None:
            where = self.db.engine.url.render_as_string(hide_password=True)
            raise ConfigurationError(no_database_message(self.settings, where))
        if current != head:
            raise ConfigurationError(
                f"database is at revision {current or 'none (empty)'}, this version needs {head}: "
                "run `trustdesk db upgrade`"
            )

    def close(self) -> None:
        self.db.dispose()
        self.vault.dispose()


def no_database_message(settings: Settings, where: str) -> str:
    """What to do when there is no database yet (instead of "revision none")."""
    message = f"no database at {where}: run `trustdesk demo` or `trustdesk db upgrade`"
    # Before the data directory moved to the user's data dir, it was ./.trustdesk.
    older = Path(".trustdesk") / "trustdesk.db"
    if "TRUSTDESK_DATA_DIR" not in os.environ and older.is_file():
        message += (
            f" (a database an older version made is in {older.parent.resolve()}: "
            "set TRUSTDESK_DATA_DIR to use it)"
        )
    return message


def missing_database(settings: Settings) -> str | None:
    """The reason no command can work yet when the main database is a SQLite file that does not
    exist; checked before opening anything, so nothing is created on the way."""
    path = settings.sqlite_database_path
    if path is None or path.exists():
        return None
    return no_database_message(settings, str(path))
