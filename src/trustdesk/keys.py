"""The master keyring and online master-key rotation.

The key file holds the ring, one base64 key per line, newest first; `TRUSTDESK_MASTER_KEY` may
hold it too, comma-separated. Every key in the ring unwraps; the key store's `ring:current` names
the one that wraps (see `crypto.Vault`). Rotation, while servers keep running:

1. a new key is added at the top of the key file (written and synced before anything else, so
   every key the key store will ever use is on disk first);
2. the key store makes it current: from then on every process wraps new data keys with it (a
   process that does not hold it yet re-reads the key file);
3. data keys still under older keys are re-wrapped in batches, one transaction each; a crash or
   kill loses at most one batch, and running `keys rotate-master` again carries on;
4. an older key is retired (its check value deleted, its line removed from the key file) only when
   it wraps nothing.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trustdesk.crypto import MasterKey, Vault, generate_master_key
from trustdesk.errors import ConfigurationError

__all__ = [
    "RotationReport",
    "adopt_staged_key",
    "keyring_status",
    "parse_ring",
    "read_ring",
    "rotate_master_key",
    "write_key_file",
    "write_ring",
]

Audit = Callable[[str, str, dict[str, Any]], None]
Progress = Callable[[int, int], None]


def write_key_file(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def parse_ring(text: str) -> list[MasterKey]:
    """Keys from a key file (one per line, `#` comments) or from the environment (commas)."""
    keys: list[MasterKey] = []
    for line in text.replace(",", "\n").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key = MasterKey.parse(line)
            if key.key_id not in {k.key_id for k in keys}:
                keys.append(key)
    if not keys:
        raise ConfigurationError("the master key file holds no key")
    return keys


def read_ring(path: Path) -> list[MasterKey]:
    return parse_ring(path.read_text())


def _key_text(key: MasterKey) -> str:
    import base64

    return base64.urlsafe_b64encode(key.key).decode()


def write_ring(path: Path, keys: Sequence[MasterKey]) -> None:
    write_key_file(path, "\n".join(_key_text(k) for k in keys))


def adopt_staged_key(key_file: Path) -> None:
    """A `<key file>.next` left by an older version's interrupted rotation joins the ring."""
    staged = key_file.with_name(key_file.name + ".next")
    if not staged.exists():
        return
    ring = read_ring(key_file) if key_file.exists() else []
    new = parse_ring(staged.read_text())
    write_ring(key_file, [*new, *[k for k in ring if k.key_id not in {n.key_id for n in new}]])
    staged.unlink()


@contextmanager
def _rotation_lock(key_file: Path) -> Iterator[None]:
    lock = key_file.with_name(key_file.name + ".lock")
    fd = os.open(lock, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigurationError("another key rotation is running") from None
        yield
    finally:
        os.close(fd)


@dataclass
class RotationReport:
    current: str
    started: bool  # a new key was made current by this run (False: an earlier run resumed)
    rewrapped: int = 0  # data keys
    retired: list[str] = field(default_factory=list)
    still_in_use: list[str] = field(default_factory=list)
    new_key_file: Path | None = None  # environment keys: where the new key waits to be installed


def _sweep(
    vault: Vault, *, batch: int, pause_s: float, progress: Progress | None
) -> tuple[int, list[str], list[str]]:
    current = vault.current_key_id()
    usage = vault.key_usage()
    total = sum(u["data_keys"] + u["named_keys"] for k, u in usage.items() if k != current)
    data_total = sum(u["data_keys"] for k, u in usage.items() if k != current)
    done = 0
    if progress:
        progress(done, total)
    while n := vault.rewrap_batch(batch):
        done += n
        if progress:
            progress(done, max(total, done))
        if pause_s:
            time.sleep(pause_s)
    retired: list[str] = []
    kept: list[str] = []
    for key_id in vault.checked_key_ids():
        if key_id == current:
            continue
        (retired if vault.retire_master_key(key_id) else kept).append(key_id)
    left = sum(u["data_keys"] for k, u in vault.key_usage().items() if k != current)
    return max(data_total - left, 0), retired, kept


def rotate_master_key(
    vault: Vault,
    key_file: Path,
    *,
    env_ring: Sequence[MasterKey] | None = None,
    batch: int = 500,
    pause_s: float = 0.0,
    progress: Progress | None = None,
    audit: Audit | None = None,
) -> RotationReport:
    """Start a rotation (or finish an interrupted one) while other processes keep running.

    With the ring in the key file, a new key is made and added there. With the ring in the
    environment the operator adds the key: if the environment's first key is not current yet it
    is adopted; otherwise a new key is written to `<key file>.next` and nothing else changes.
    """
    audit = audit or (lambda _action, _key, _changes: None)
    with _rotation_lock(key_file):
        current = vault.current_key_id()
        checked = set(vault.checked_key_ids())
        ring = list(env_ring) if env_ring is not None else read_ring(key_file)
        started = False
        if ring[0].key_id != current and ring[0].key_id not in checked:
            new = ring[0]  # added by the operator, or by a run stopped before step 2
        elif checked - {current}:
            new = None  # a run stopped while re-wrapping: carry on
        elif env_ring is not None:
            staged = key_file.with_name(key_file.name + ".next")
            write_key_file(staged, generate_master_key())
            return RotationReport(current=current, started=False, new_key_file=staged)
        else:
            new = MasterKey.parse(generate_master_key())
            ring = [new, *(k for k in ring if k.key_id in checked)]
            write_ring(key_file, ring)
        if new is not None:
            vault.add_master_key(new)
            started = True
            audit("master_key.rotation_started", new.key_id, {"previous": current})
        done, retired, kept = _sweep(vault, batch=batch, pause_s=pause_s, progress=progress)
        current = vault.current_key_id()
        if env_ring is None and retired:
            # Only once the key store no longer needs them: drop retired keys from the file.
            still = set(vault.checked_key_ids())
            write_ring(key_file, [k for k in read_ring(key_file) if k.key_id in still])
        for key_id in retired:
            audit("master_key.retired", key_id, {"current": current, "rewrapped": done})
        return RotationReport(
            current=current, started=started, rewrapped=done, retired=retired, still_in_use=kept
        )


def keyring_status(vault: Vault, *, source: str) -> dict[str, Any]:
    """Keys in the ring, what each wraps, and whether a rotation is under way."""
    current = vault.current_key_id()
    checked = set(vault.checked_key_ids())
    usage = vault.key_usage()
    held = vault.ring_ids()
    keys: list[dict[str, Any]] = []
    pending = 0
    for key_id in [current, *sorted((checked | set(held) | set(usage)) - {current})]:
        u = usage.get(key_id, {"data_keys": 0, "named_keys": 0})
        if key_id == current:
            state = "current"
        elif key_id not in checked:
            state = "unknown to the key store" if u["data_keys"] + u["named_keys"] else "unused"
        elif u["data_keys"] + u["named_keys"]:
            state = "retiring (re-wrap pending)"
        else:
            state = "retiring (ready to retire)"
        if key_id != current:
            pending += u["data_keys"] + u["named_keys"]
        keys.append(
            {
                "id": key_id,
                "state": state,
                "in_this_process": key_id in held,
                "in_key_store": key_id in checked,
                "data_keys": u["data_keys"],
                "named_keys": u["named_keys"],
            }
        )
    return {
        "source": source,
        "current": current,
        "rotation": "in progress" if checked - {current} else "idle",
        "pending_rewraps": pending,
        "keys": keys,
    }
