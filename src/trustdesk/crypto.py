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
import threading
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    update,
)

from trustdesk.db import make_engine, utcnow
from trustdesk.errors import ConfigurationError

__all__ = ["KeyDestroyed", "MasterKey", "Vault", "WrongMasterKey", "generate_master_key"]

_FORMAT = b"\x01"
_NONCE = 12
_CHECK_PLAINTEXT = b"trustdesk-master-key-check"
_CURRENT = "ring:current"  # id of the master key that wraps new keys


def _secure_delete(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute("PRAGMA secure_delete=ON")


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
    """Encrypts and decrypts personal fields; owns the key store.

    Master keys form a ring: every key in it unwraps, the key store's `ring:current` names the one
    that wraps. A process that meets a key it does not hold reloads its ring (`reload`) once, so a
    running server picks up a key added by a rotation without a restart.
    """

    def __init__(
        self,
        master: MasterKey | Sequence[MasterKey],
        keystore: Engine,
        retired: Iterable[MasterKey] = (),
        *,
        writer: Engine | None = None,
        reload: Callable[[], Sequence[MasterKey]] | None = None,
    ) -> None:
        ring = [master] if isinstance(master, MasterKey) else list(master)
        if not ring:
            raise ConfigurationError("no master key")
        self.keystore = keystore
        self._writer = writer or keystore
        self._reload_ring = reload
        self._ring_lock = threading.Lock()
        self._keys = {k.key_id: k for k in [*ring, *retired]}
        self.master = ring[0]
        _meta.create_all(self._writer)
        self._check_master_key(ring)
        self._blind_key = self._named_key("blind-index")
        self._seal_key = self._named_key("sealing")
        # Search terms get their own key: a term hash can never be compared with a blind index.
        self._terms = hashlib.blake2b(key=self._named_key("search-terms"), digest_size=8)

    @classmethod
    def open(
        cls,
        keystore_url: str,
        master: MasterKey | Sequence[MasterKey],
        retired: Iterable[MasterKey] = (),
        *,
        reload: Callable[[], Sequence[MasterKey]] | None = None,
    ) -> Vault:
        engine = make_engine(keystore_url)
        # SQLite: writes take the lock at BEGIN, so a wrap never reads a stale current key.
        writer = (
            make_engine(keystore_url, immediate=True) if engine.dialect.name == "sqlite" else None
        )
        for eng in (engine, writer):
            if eng is not None and eng.dialect.name == "sqlite":
                # Overwrite deleted key material on disk instead of leaving it in free pages.
                event.listen(eng, "connect", _secure_delete)
        return cls(master, engine, retired, writer=writer, reload=reload)

    # -- master keys ------------------------------------------------------------------------------
    def _check_master_key(self, ring: Sequence[MasterKey]) -> None:
        with self._writer.begin() as conn:
            rows = dict(conn.execute(select(keystore_meta.c.name, keystore_meta.c.value)).all())
            known = {n.removeprefix("check:") for n in rows if n.startswith("check:")}
            for key in ring:
                if key.key_id in known:
                    try:
                        key.unwrap(rows[f"check:{key.key_id}"], "check")
                    except InvalidTag as exc:  # pragma: no cover - key id collision
                        raise WrongMasterKey("master key failed its check") from exc
            current = rows.get(_CURRENT)
            if current is None:
                held = [k for k in ring if k.key_id in known]
                if not held:
                    has_keys = conn.execute(select(data_keys.c.subject_id).limit(1)).first()
                    if has_keys is not None or known:
                        raise WrongMasterKey(
                            "the master key does not match this key store; refusing to start "
                            "(set TRUSTDESK_MASTER_KEY or the key file to the key it was "
                            "created with)"
                        )
                    first = ring[0]
                    conn.execute(
                        insert(keystore_meta).values(
                            name=f"check:{first.key_id}",
                            value=first.wrap(_CHECK_PLAINTEXT, "check"),
                        )
                    )
                    held = [first]
                # A key store from before keyrings: its one checked key is the current one.
                conn.execute(
                    insert(keystore_meta).values(name=_CURRENT, value=held[0].key_id.encode())
                )
                self.master = held[0]
                return
            current_id = current.decode()
            if current_id not in self._keys:
                raise WrongMasterKey(
                    "the master key does not match this key store; refusing to start "
                    f"(it needs master key {current_id}: set TRUSTDESK_MASTER_KEY or the key "
                    "file to the keyring it was created with)"
                )
            self.master = self._keys[current_id]

    def _key(self, key_id: str) -> MasterKey:
        key = self._keys.get(key_id)
        if key is None and self._reload_ring is not None:
            with self._ring_lock:
                fresh = {k.key_id: k for k in self._reload_ring()}
                self._keys = {**self._keys, **fresh}
            key = self._keys.get(key_id)
        if key is None:
            raise WrongMasterKey(f"data wrapped by unknown master key {key_id}")
        return key

    def _current(self, conn: Connection, *, lock: bool) -> MasterKey:
        """The key that wraps now, read in the caller's transaction.

        `lock` (PostgreSQL: FOR SHARE) keeps a rotation from switching keys until this
        transaction ends, so nothing is wrapped under a key the re-wrap has already passed.
        """
        query = select(keystore_meta.c.value).where(keystore_meta.c.name == _CURRENT)
        if lock:
            query = query.with_for_update(read=True)
        value = conn.execute(query).scalar_one()
        self.master = self._key(value.decode())
        return self.master

    def _named_key(self, name: str) -> bytes:
        row_name = f"named:{name}"
        with self._writer.begin() as conn:
            blob = conn.execute(
                select(keystore_meta.c.value).where(keystore_meta.c.name == row_name)
            ).scalar()
            if blob is None:
                key = secrets.token_bytes(32)
                wrapping = self._current(conn, lock=True)
                conn.execute(
                    insert(keystore_meta).values(
                        name=row_name, value=self._wrap(wrapping, key, name)
                    )
                )
                return key
            return self._unwrap(blob, name)

    @staticmethod
    def _wrap(key: MasterKey, secret: bytes, context: str) -> bytes:
        return key.key_id.encode() + b":" + key.wrap(secret, context)

    def _unwrap(self, blob: bytes, context: str) -> bytes:
        key_id, _, wrapped = blob.partition(b":")
        return self._key(key_id.decode()).unwrap(wrapped, context)

    def current_key_id(self) -> str:
        with self.keystore.connect() as conn:
            return self._current(conn, lock=False).key_id

    def ring_ids(self) -> list[str]:
        """Ids of the master keys this process holds (current first)."""
        return [self.master.key_id, *(k for k in self._keys if k != self.master.key_id)]

    def checked_key_ids(self) -> list[str]:
        """Ids of the master keys the key store knows (each has a check value)."""
        with self.keystore.connect() as conn:
            names = conn.execute(
                select(keystore_meta.c.name).where(keystore_meta.c.name.like("check:%"))
            ).scalars()
            return sorted(n.removeprefix("check:") for n in names)

    def key_usage(self) -> dict[str, dict[str, int]]:
        """Per master key id: how many data keys and named keys it wraps."""
        usage: dict[str, dict[str, int]] = {}
        with self.keystore.connect() as conn:
            for key_id, count in conn.execute(
                select(data_keys.c.master_key_id, func.count())
                .where(data_keys.c.wrapped.is_not(None))
                .group_by(data_keys.c.master_key_id)
            ).all():
                usage.setdefault(key_id or "?", {"data_keys": 0, "named_keys": 0})["data_keys"] = (
                    int(count)
                )
            for blob in conn.execute(
                select(keystore_meta.c.value).where(keystore_meta.c.name.like("named:%"))
            ).scalars():
                key_id = blob.partition(b":")[0].decode()
                usage.setdefault(key_id, {"data_keys": 0, "named_keys": 0})["named_keys"] += 1
        return usage

    def add_master_key(self, new: MasterKey) -> None:
        """Make `new` the key that wraps, in every process (the old ones keep unwrapping)."""
        self._keys[new.key_id] = new
        with self._writer.begin() as conn:
            # Takes the row lock: waits for wraps in flight under the old key (PostgreSQL).
            conn.execute(
                update(keystore_meta)
                .where(keystore_meta.c.name == _CURRENT)
                .values(value=new.key_id.encode())
            )
            exists = conn.execute(
                select(keystore_meta.c.name).where(keystore_meta.c.name == f"check:{new.key_id}")
            ).first()
            if exists is None:
                conn.execute(
                    insert(keystore_meta).values(
                        name=f"check:{new.key_id}", value=new.wrap(_CHECK_PLAINTEXT, "check")
                    )
                )
        self.master = new

    def rewrap_batch(self, limit: int = 500) -> int:
        """Re-wrap up to `limit` keys not under the current master key; 0 when none is left.

        Each batch is its own transaction, so a crash loses at most one batch of work and the
        next call carries on; a key destroyed meanwhile is left destroyed.
        """
        done = 0
        with self._writer.begin() as conn:
            current = self._current(conn, lock=True)
            if limit > 0:
                for row in conn.execute(
                    select(keystore_meta.c.name, keystore_meta.c.value).where(
                        keystore_meta.c.name.like("named:%")
                    )
                ).all():
                    if row.value.startswith(current.key_id.encode() + b":"):
                        continue
                    name = row.name.removeprefix("named:")
                    secret = self._unwrap(row.value, name)
                    conn.execute(
                        update(keystore_meta)
                        .where(keystore_meta.c.name == row.name)
                        .values(value=self._wrap(current, secret, name))
                    )
                    done += 1
            stale = conn.execute(
                select(data_keys.c.subject_id, data_keys.c.wrapped)
                .where(
                    data_keys.c.wrapped.is_not(None),
                    or_(
                        data_keys.c.master_key_id.is_(None),
                        data_keys.c.master_key_id != current.key_id,
                    ),
                )
                .limit(max(limit - done, 0))
            ).all()
            for stale_row in stale:
                sid, blob = stale_row.subject_id, stale_row.wrapped
                dek = self._unwrap(blob, f"dek:{sid}")
                conn.execute(
                    update(data_keys)
                    .where(data_keys.c.subject_id == sid, data_keys.c.wrapped == blob)
                    .values(
                        wrapped=self._wrap(current, dek, f"dek:{sid}"),
                        master_key_id=current.key_id,
                    )
                )
                done += 1
        return done

    def retire_master_key(self, key_id: str) -> bool:
        """Forget `key_id` in the key store if it wraps nothing and is not current."""
        with self._writer.begin() as conn:
            if self._current(conn, lock=True).key_id == key_id:
                return False
            in_use = conn.execute(
                select(func.count())
                .select_from(data_keys)
                .where(data_keys.c.master_key_id == key_id, data_keys.c.wrapped.is_not(None))
            ).scalar_one()
            named = conn.execute(
                select(keystore_meta.c.value).where(keystore_meta.c.name.like("named:%"))
            ).scalars()
            if in_use or any(b.startswith(key_id.encode() + b":") for b in named):
                return False
            conn.execute(delete(keystore_meta).where(keystore_meta.c.name == f"check:{key_id}"))
        return True

    def rotate_master(self, new: MasterKey) -> int:
        """Re-wrap every data key and named key under `new` and retire the others (one process)."""
        old = self.checked_key_ids()
        usage = self.key_usage()
        count = sum(u["data_keys"] for k, u in usage.items() if k != new.key_id)
        self.add_master_key(new)
        while self.rewrap_batch():
            pass
        for key_id in old:
            if key_id != new.key_id:
                self.retire_master_key(key_id)
        return count

    # -- data keys --------------------------------------------------------------------------------
    def new_subjects(self, count: int) -> list[str]:
        """Create `count` subjects, each with a fresh data key, in one key-store transaction."""
        ids = [str(uuid.uuid4()) for _ in range(count)]
        now = utcnow()
        if ids:
            with self._writer.begin() as conn:
                current = self._current(conn, lock=True)
                conn.execute(
                    insert(data_keys),
                    [
                        {
                            "subject_id": sid,
                            "wrapped": self._wrap(current, secrets.token_bytes(32), f"dek:{sid}"),
                            "master_key_id": current.key_id,
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
        with self._writer.begin() as conn:
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
        if self._writer is not self.keystore:
            self._writer.dispose()
