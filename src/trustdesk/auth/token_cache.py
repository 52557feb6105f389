"""API tokens recently found valid, so a busy API does not look each one up on every request.

An entry lives `TTL_S` seconds. Revoking a token through TrustDesk drops it at once in this process;
a server in another process stops accepting it within `TTL_S` (the price of a lookup-free hot path,
documented in docs/architecture.md). Expiry is checked on every use, cached or not.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

from trustdesk.access.principal import Principal

__all__ = ["TTL_S", "forget", "get", "put"]

TTL_S = 2.0
_MAX_ENTRIES = 10_000
_entries: dict[tuple[str, str], tuple[float, Principal, datetime | None]] = {}
_lock = threading.Lock()


def _clock() -> float:
    return time.monotonic()


def get(database: str, token_hash: str) -> tuple[Principal, datetime | None] | None:
    """The principal and expiry of a token found valid less than `TTL_S` ago, else None."""
    hit = _entries.get((database, token_hash))
    if hit is None or _clock() - hit[0] >= TTL_S:
        return None
    return hit[1], hit[2]


def put(database: str, token_hash: str, principal: Principal, expires_at: datetime | None) -> None:
    with _lock:
        if len(_entries) >= _MAX_ENTRIES:
            _entries.clear()
        _entries[(database, token_hash)] = (_clock(), principal, expires_at)


def forget(token_hash: str) -> None:
    """Drop a token everywhere in this process (it was revoked)."""
    with _lock:
        for key in [k for k in _entries if k[1] == token_hash]:
            del _entries[key]
