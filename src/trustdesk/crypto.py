"""Envelope encryption of personal data, keyed blind indexes, and the key store.

Each data subject (a customer) gets a random AES-256-GCM data key. Data keys are stored only in the
key store, wrapped by the master key; the key store is a database of its own so that a backup of the
main database never contains them. Destroying a subject's data key makes every field encrypted under
it unreadable wherever it was copied (crypto-shredding).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    event,
    insert,
    select,
    update,
)

from trustdesk.db import make_engine, utcnow
from trustdesk.errors import ConfigurationError

__all__ = ["KeyDestroyed", "MasterKey", "Vault", "WrongMasterKey", "generate_master_key"]

_FORMAT = b"\x01"
_NONCE = 12
_CHECK_PLAINTEXT = b"trustdesk-master-key-check"

_meta = MetaData()
keystore_meta = Table(
    "keystore_meta",
    _meta,
    Column("name", String(64), primary_key=True),
    Column("value", LargeBinary, nullable=False),
)
data_keys = Table(
    "data_keys",
    _meta,
    Column("subject_id", String(36), primary_key=True),
    Column("wrapped", LargeBinary, nullable=True),
    Column("master_key_id", String(16), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("destroyed_at", DateTime(timezone=True), nullable=True),
)


class WrongMasterKey(ConfigurationError):
    """The master key cannot unwrap the key store: refuse to start rather than produce garbage."""


class KeyDestroyed(Exception):
    """The subject's data key was destroyed; their personal data is gone for good."""


def generate_master_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True)
class MasterKey:
    key: bytes

    @classmethod
    def parse(cls, text: str) -> MasterKey:
        try:
            raw = base64.urlsafe_b64decode(text.strip().encode())
        except (ValueError, TypeError) as exc:
            raise ConfigurationError("master key is not valid base64") from exc
        if len(raw) != 32:
            raise ConfigurationError("master key must decode to exactly 32 bytes")
        return cls(raw)

    @property
    def key_id(self) -> str:
        return hashlib.sha256(b"key-id" + self.key).hexdigest()[:16]

    def wrap(self, secret: bytes, context: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + AESGCM(self.key).encrypt(nonce, secret, context.encode())

    def unwrap(self, blob: bytes, context: str) -> bytes:
        return AESGCM(self.key).decrypt(blob[:_NONCE], blob[_NONCE:], context.encode())

    def __repr__(self) -> str:
        return f"MasterKey(id={self.key_id})"


def load_or_create_master_key(env_value: str | None, key_file: Path) -> MasterKey:
    if env_value:
        return MasterKey.parse(env_value)
    if key_file.exists():
        return MasterKey.parse(key_file.read_text())
    key_file.parent.mkdir(parents=True, exist_ok=True)
    text = generate_master_key()
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text + "\n")
    return MasterKey.parse(text)


def _normalise(kind: str, value: str) -> str:
    value = unicodedata.normalize("NFKC", value).strip()
    if kind in {"email"}:
        value = value.lower()
    if kind == "phone":
        value = "".join(ch for ch in value if ch.isdigit() or ch == "+")
    return value


class Vault:
    """Encrypts and decrypts personal fields; owns the key store."""

    def __init__(
        self, master: MasterKey, keystore: Engine, retired: Iterable[MasterKey] = ()
    ) -> None:
        self.master = master
        self.keystore = keystore
        self._keys = {master.key_id: master, **{k.key_id: k for k in retired}}
        _meta.create_all(keystore)
        self._check_master_key()
        self._blind_key = self._named_key("blind-index")
        self._seal_key = self._named_key("sealing")
        # Search terms get their own key: a term hash can never be compared with a blind index.
        self._terms = hashlib.blake2b(key=self._named_key("search-terms"), digest_size=8)

    @classmethod
    def open(cls, keystore_url: str, master: MasterKey, retired: Iterable[MasterKey] = ()) -> Vault:
        engine = make_engine(keystore_url)
        if engine.dialect.name == "sqlite":
            # Overwrite deleted key material on disk instead of leaving it in free pages.
            @event.listens_for(engine, "connect")
            def _secure_delete(dbapi_conn: Any, _record: Any) -> None:
                dbapi_conn.execute("PRAGMA secure_delete=ON")

        return cls(master, engine, retired)

    # -- master key -------------------------------------------------------------------------------
    def _check_master_key(self) -> None:
        with self.keystore.begin() as conn:
            rows = dict(conn.execute(select(keystore_meta.c.name, keystore_meta.c.value)).all())
            check_name = f"check:{self.master.key_id}"
            if check_name in rows:
                try:
                    self.master.unwrap(rows[check_name], "check")
                except InvalidTag as exc:  # pragma: no cover - key id collision
                    raise WrongMasterKey("master key failed its check") from exc
                return
            has_keys = conn.execute(select(data_keys.c.subject_id).limit(1)).first() is not None
            if has_keys or any(name.startswith("check:") for name in rows):
                raise WrongMasterKey(
                    "the master key does not match this key store; refusing to start "
                    "(set TRUSTDESK_MASTER_KEY or the key file to the key it was created with)"
                )
            conn.execute(
                insert(keystore_meta).values(
                    name=check_name, value=self.master.wrap(_CHECK_PLAINTEXT, "check")
                )
            )

    def _named_key(self, name: str) -> bytes:
        row_name = f"named:{name}"
        with self.keystore.begin() as conn:
            blob = conn.execute(
                select(keystore_meta.c.value).where(keystore_meta.c.name == row_name)
            ).scalar()
            if blob is None:
                key = secrets.token_bytes(32)
                conn.execute(
                    insert(keystore_meta).values(name=row_name, value=self._wrap(key, name))
                )
                return key
            return self._unwrap(blob, name)

    def _wrap(self, secret: bytes, context: str) -> bytes:
        return self.master.key_id.encode() + b":" + self.master.wrap(secret, context)

    def _unwrap(self, blob: bytes, context: str) -> bytes:
        key_id, _, wrapped = blob.partition(b":")
        key = self._keys.get(key_id.decode())
        if key is None:
            raise WrongMasterKey(f"data wrapped by unknown master key {key_id.decode()}")
        return key.unwrap(wrapped, context)

    def rotate_master(self, new: MasterKey) -> int:
        """Re-wrap every data key and named key under `new`; the encrypted data is not touched."""
        self._keys[new.key_id] = new
        old = self.master
        self.master = new
        count = 0
        with self.keystore.begin() as conn:
            for row in conn.execute(
                select(data_keys).where(data_keys.c.wrapped.is_not(None))
            ).all():
                dek = self._unwrap(row.wrapped, f"dek:{row.subject_id}")
                conn.execute(
                    update(data_keys)
                    .where(data_keys.c.subject_id == row.subject_id)
                    .values(
                        wrapped=self._wrap(dek, f"dek:{row.subject_id}"), master_key_id=new.key_id
                    )
                )
                count += 1
            for row in conn.execute(
                select(keystore_meta).where(keystore_meta.c.name.like("named:%"))
            ).all():
                name = row.name.removeprefix("named:")
                secret = self._unwrap(row.value, name)
                conn.execute(
                    update(keystore_meta)
                    .where(keystore_meta.c.name == row.name)
                    .values(value=self._wrap(secret, name))
                )
            conn.execute(delete(keystore_meta).where(keystore_meta.c.name == f"check:{old.key_id}"))
            conn.execute(
                insert(keystore_meta).values(
                    name=f"check:{new.key_id}", value=new.wrap(_CHECK_PLAINTEXT, "check")
                )
            )
        return count

    # -- data keys --------------------------------------------------------------------------------
    def new_subjects(self, count: int) -> list[str]:
        """Create `count` subjects, each with a fresh data key, in one key-store transaction."""
        ids = [str(uuid.uuid4()) for _ in range(count)]
        now = utcnow()
        if ids:
            with self.keystore.begin() as conn:
                conn.execute(
                    insert(data_keys),
                    [
                        {
                            "subject_id": sid,
                            "wrapped": self._wrap(secrets.token_bytes(32), f"dek:{sid}"),
                            "master_key_id": self.master.key_id,
                            "created_at": now,
                        }
                        for sid in ids
                    ],
                )
        return ids

    def data_keys(self, subject_ids: Iterable[str]) -> dict[str, bytes]:
        """Unwrapped data keys of the live subjects among `subject_ids` (destroyed: absent)."""
        wanted = list(dict.fromkeys(subject_ids))
        found: dict[str, bytes] = {}
        with self.keystore.connect() as conn:
            for chunk in range(0, len(wanted), 500):
                rows = conn.execute(
                    select(data_keys.c.subject_id, data_keys.c.wrapped).where(
                        data_keys.c.subject_id.in_(wanted[chunk : chunk + 500]),
                        data_keys.c.wrapped.is_not(None),
                    )
                ).all()
                for sid, wrapped in rows:
                    found[sid] = self._unwrap(wrapped, f"dek:{sid}")
        return found

    def destroy(self, subject_id: str) -> bool:
        """Crypto-shred: erase the subject's data key. Returns False if it was already gone."""
        with self.keystore.begin() as conn:
            result = conn.execute(
                update(data_keys)
                .where(data_keys.c.subject_id == subject_id, data_keys.c.wrapped.is_not(None))
                .values(wrapped=None, master_key_id=None, destroyed_at=utcnow())
            )
        return bool(result.rowcount)

    def is_destroyed(self, subject_id: str) -> bool:
        return subject_id not in self.data_keys([subject_id])

    # -- fields -----------------------------------------------------------------------------------
    def encrypt(self, key: bytes, subject_id: str, field: str, value: str | None) -> bytes | None:
        if value is None:
            return None
        nonce = os.urandom(_NONCE)
        aad = f"{subject_id}|{field}".encode()
        return _FORMAT + nonce + AESGCM(key).encrypt(nonce, value.encode(), aad)

    def decrypt(
        self, key: bytes | None, subject_id: str, field: str, blob: bytes | None
    ) -> str | None:
        if blob is None:
            return None
        if key is None:
            raise KeyDestroyed(subject_id)
        if blob[:1] != _FORMAT:
            raise ValueError("unknown ciphertext format")
        aad = f"{subject_id}|{field}".encode()
        return AESGCM(key).decrypt(blob[1 : 1 + _NONCE], blob[1 + _NONCE :], aad).decode()

    def blind_index(self, kind: str, value: str | None) -> str | None:
        """Keyed hash for exact-match lookups without decrypting anything."""
        if not value:
            return None
        msg = f"{kind}:{_normalise(kind, value)}".encode()
        return hmac.new(self._blind_key, msg, hashlib.sha256).hexdigest()

    def term_hashes(self, terms: Iterable[str]) -> list[int]:
        """Keyed 64-bit hashes (signed, to fit a BIGINT) of already normalised search terms.

        BLAKE2b in keyed mode is a PRF like HMAC-SHA256 and about three times faster here.
        """
        hashes: list[int] = []
        for term in terms:
            h = self._terms.copy()
            h.update(term.encode())
            hashes.append(int.from_bytes(h.digest(), "big", signed=True))
        return hashes

    def seal(self, context: str, value: str) -> bytes:
        """Encrypt a staff-side secret (e.g. a TOTP seed) under the key store's sealing key."""
        nonce = os.urandom(_NONCE)
        return (
            _FORMAT
            + nonce
            + AESGCM(self._seal_key).encrypt(nonce, value.encode(), context.encode())
        )

    def unseal(self, context: str, blob: bytes) -> str:
        return (
            AESGCM(self._seal_key)
            .decrypt(blob[1 : 1 + _NONCE], blob[1 + _NONCE :], context.encode())
            .decode()
        )

    def signing_key(self, purpose: str) -> bytes:
        """A stable secret for signing (sessions, links), derived from a key-store key."""
        return hmac.new(self._blind_key, f"signing:{purpose}".encode(), hashlib.sha256).digest()

    def dispose(self) -> None:
        self.keystore.dispose()
