"""The cache in front of the public trust centre: rendered documents keyed by (database,
document). An entry is used while this capability's own tables are unchanged (`stamp`, read by one
query at most once every `CHECK_S` seconds per process, so a statement published from another
process shows within that time; writes in this process clear it at once) and for at most `TTL_S`
seconds, after which figures and disclosures from other capabilities are read again. When only the
time ran out, one request rebuilds while the others get the previous copy."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["CACHE", "CHECK_S", "TTL_S", "PageCache"]

TTL_S = 30.0
CHECK_S = 1.0


class PageCache:
    """Rendered public documents keyed by (database, document), valid while the stamp is the
    same and for at most `ttl_s` seconds. When only the time ran out, one request rebuilds while
    the others are served the previous copy (no stampede of builds under load)."""

    def __init__(self, ttl_s: float = TTL_S) -> None:
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], tuple[tuple[Any, ...], float, Any]] = {}
        self._checked: dict[tuple[str, str], float] = {}
        self._building: set[tuple[str, str]] = set()

    def peek(self, db_key: str, name: str) -> Any | None:
        """The entry without reading the stamp, if it was checked less than `CHECK_S` ago and its
        time has not run out; else None (then `get` with a fresh stamp)."""
        key = (db_key, name)
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(key)
            if found is None or now >= found[1] or now - self._checked.get(key, 0.0) >= CHECK_S:
                return None
            return found[2]

    def get(self, db_key: str, name: str, stamp: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        key = (db_key, name)
        with self._lock:
            found = self._entries.get(key)
            fresh = found is not None and found[0] == stamp
            if fresh:
                self._checked[key] = time.monotonic()  # the stamp was read just now
            if (
                found is not None
                and fresh
                and (time.monotonic() < found[1] or key in self._building)
            ):
                return found[2]
            self._building.add(key)
        try:
            value = build()
        finally:
            with self._lock:
                self._building.discard(key)
        with self._lock:
            self._entries[key] = (stamp, time.monotonic() + self.ttl_s, value)
            self._checked[key] = time.monotonic()
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._checked.clear()


CACHE = PageCache()
