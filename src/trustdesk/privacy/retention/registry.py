"""Retention targets: the records a capability holds for a data-map system, and how to delete or
anonymise the ones past a cutoff. Capabilities declare them in the manifest
(`Capability(retention=...)`); `trustdesk.capabilities.wire` registers them here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

__all__ = ["RetentionTarget", "register_retention", "registered_targets"]


@dataclass(frozen=True)
class RetentionTarget:
    """`count(session, cutoff)`: records past `cutoff` not yet deleted or anonymised;
    `apply(session, cutoff, action)`: does `action` to them (never commits), returns how many."""

    system: str  # the data-map system id whose rule applies
    records: str  # what they are, in a few words ("feedback messages")
    actions: tuple[str, ...]  # delete and/or anonymise
    count: Callable[[Session, datetime], int]
    apply: Callable[[Session, datetime, str], int]


_TARGETS: dict[tuple[str, str], RetentionTarget] = {}


def register_retention(target: RetentionTarget) -> None:
    """Add a target (idempotent: the same system and records again replace it)."""
    _TARGETS[(target.system, target.records)] = target


def registered_targets() -> list[RetentionTarget]:
    from trustdesk.capabilities import wire

    wire()
    return list(_TARGETS.values())
