"""The running platform: settings, the main database and the vault, opened once per process."""

from __future__ import annotations

from dataclasses import dataclass

from trustdesk.config import Settings
from trustdesk.crypto import MasterKey, Vault, WrongMasterKey, load_or_create_master_key
from trustdesk.db import Database
from trustdesk.errors import ConfigurationError
from trustdesk.private_files import private_dir

__all__ = ["Platform"]


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
        master = load_or_create_master_key(env_key, key_file)
        staged = key_file.with_name(key_file.name + ".next")
        if env_key is None and staged.exists():
            # A rotation stopped after re-wrapping but before moving the new key into place.
            try:
                vault = Vault.open(
                    settings.effective_keystore_url, MasterKey.parse(staged.read_text())
                )
            except WrongMasterKey:
                staged.unlink()  # stopped before re-wrapping: the old key is still the one
            else:
                key_file.replace(key_file.with_name(f"{key_file.name}.retired-{master.key_id}"))
                staged.replace(key_file)
                return cls(
                    settings=settings, db=Database(settings.effective_database_url), vault=vault
                )
        vault = Vault.open(settings.effective_keystore_url, master)
        return cls(settings=settings, db=Database(settings.effective_database_url), vault=vault)

    def require_schema(self) -> None:
        """Refuse to work on a database whose migrations are not the ones this code expects."""
        from trustdesk import migrate

        current, head = migrate.current_revision(self.db), migrate.head_revision()
        if current != head:
            raise ConfigurationError(
                f"database is at revision {current or 'none (empty)'}, this version needs {head}: "
                "run `trustdesk db upgrade`"
            )

    def close(self) -> None:
        self.db.dispose()
        self.vault.dispose()
