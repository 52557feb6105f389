"""Checking a hash chain: the shared half of the audit trail and the consent ledger.

Each entry stores the hash of the one before it and ids run without gaps; a head row remembers the
last entry. Editing an entry breaks its own hash, removing one breaks the next link (or the id
sequence), truncating the end disagrees with the head.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["GENESIS", "ChainReport", "verify_links"]

GENESIS = "0" * 64


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str | None = None
    head_id: int = 0
    head_hash: str = GENESIS


def verify_links(
    batches: Iterable[Sequence[Any]],
    digest: Callable[[Any], str],
    head: tuple[int, str] | None,
    noun: str = "entry",
) -> ChainReport:
    """Walk `batches` (entries with id, prev_hash, hash; in id order) and report the first fault.

    `head` is the head row's (last id, last hash), None when there is no head row.
    """
    prev_hash, prev_id, checked = GENESIS, 0, 0
    for rows in batches:
        for entry in rows:
            if entry.id != prev_id + 1:
                return ChainReport(False, checked, entry.id, f"an earlier {noun} was removed")
            if entry.prev_hash != prev_hash:
                return ChainReport(
                    False, checked, entry.id, f"its link to the previous {noun} does not match"
                )
            if digest(entry) != entry.hash:
                return ChainReport(False, checked, entry.id, "its content was altered")
            prev_hash, prev_id = entry.hash, entry.id
            checked += 1
    plural = "entries" if noun == "entry" else f"{noun}s"
    if head is None:
        if checked:
            return ChainReport(False, checked, prev_id, "the chain head is missing")
        return ChainReport(True, 0)
    if head != (prev_id, prev_hash):
        return ChainReport(
            False, checked, prev_id + 1, f"{plural} at the end of the chain are missing"
        )
    return ChainReport(True, checked, head_id=prev_id, head_hash=prev_hash)
