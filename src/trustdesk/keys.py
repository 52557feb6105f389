"""Master-key rotation: re-wrap every data key under a new master key, data untouched.

The new key is written to `<key file>.next` before the key store changes and moved into place
after, so a crash at any point leaves a key that opens the store (see `Platform.open`).
"""

from __future__ import annotations

import os
from pathlib import Path

from trustdesk.crypto import MasterKey, Vault, generate_master_key

__all__ = ["rotate_master_key", "write_key_file"]


def write_key_file(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def rotate_master_key(vault: Vault, key_file: Path, *, key_in_file: bool) -> tuple[MasterKey, int]:
    """Returns the new key and how many data keys were re-wrapped.

    With the key in a file, the file is replaced (the old key kept as `.retired-<id>`); with the
    key in the environment, the new key is left in `<key_file>.next` for the operator to install.
    """
    text = generate_master_key()
    new = MasterKey.parse(text)
    staged = key_file.with_name(key_file.name + ".next")
    write_key_file(staged, text)
    old = vault.master
    count = vault.rotate_master(new)
    if key_in_file:
        retired = key_file.with_name(f"{key_file.name}.retired-{old.key_id}")
        if key_file.exists():
            key_file.replace(retired)
        staged.replace(key_file)
    return new, count
