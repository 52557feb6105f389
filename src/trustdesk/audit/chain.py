"""Hash-chained, append-only audit trail.

Each entry stores the hash of the one before it, and a one-row head table holds the last hash,
so editing, deleting or truncating entries breaks a link that `verify` finds. Entries are
written in the same transaction as the change they describe.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from trustdesk.db import Base, UTCDateTime, utcnow

__all__ = ["AuditEntry", "ChainReport", "diff", "entries", "record", "verify"]

GENESIS = "0" * 64
PERSONAL_MARK = "[personal data changed]"


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(120), nullable=False)
    action: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    entity_type: Mapped[str] = mapped_column(String(40), nullable=False)
    entity_id: Mapped[str] = mapped_column(String(160), nullable=False)
    diff: Mapped[str] = mapped_column(Text, nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class AuditHead(Base):
    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer, nullable=False)
    last_hash: Mapped[str] = mapped_column(String(64), nullable=False)


def _digest(entry: AuditEntry) -> str:
    payload = json.dumps(
        [
            entry.id,
            entry.at.isoformat(),
            entry.actor,
            entry.action,
            entry.entity_type,
            entry.entity_id,
            entry.diff,
            entry.prev_hash,
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def diff(
    before: Mapping[str, Any], after: Mapping[str, Any], personal: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Changed fields as {field: [old, new]}; personal fields say only that they changed."""
    out: dict[str, Any] = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old != new:
            out[key] = PERSONAL_MARK if key in personal else [old, new]
    return out


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str | int,
    changes: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry in the caller's transaction. `changes` must hold no personal data."""
    head = session.get(AuditHead, 1, with_for_update=True)
    if head is None:
        head = AuditHead(id=1, last_id=0, last_hash=GENESIS)
        session.add(head)
    entry = AuditEntry(
        at=utcnow(),
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        diff=json.dumps(changes or {}, sort_keys=True, default=str, ensure_ascii=False),
        prev_hash=head.last_hash,
        hash="",
    )
    session.add(entry)
    session.flush()
    entry.hash = _digest(entry)
    head.last_id = entry.id
    head.last_hash = entry.hash
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str | None = None


def verify(session: Session, batch: int = 5000) -> ChainReport:
    """Walk the chain from the start and report the first entry whose link or content is wrong."""
    prev_hash, prev_id, checked = GENESIS, 0, 0
    last_seen = 0
    while True:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.id > last_seen).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not rows:
            break
        for entry in rows:
            if entry.prev_hash != prev_hash:
                reason = (
                    "an earlier entry was removed"
                    if entry.id != prev_id + 1
                    else "its link to the previous entry does not match"
                )
                return ChainReport(False, checked, entry.id, reason)
            if _digest(entry) != entry.hash:
                return ChainReport(False, checked, entry.id, "its content was altered")
            prev_hash, prev_id = entry.hash, entry.id
            checked += 1
        last_seen = rows[-1].id
        session.expunge_all()
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_id != prev_id or head.last_hash != prev_hash):
        return ChainReport(
            False, checked, head.last_id, "entries at the end of the chain are missing"
        )
    if head is None and checked:
        return ChainReport(False, checked, prev_id, "the chain head is missing")
    return ChainReport(True, checked)


def entries(
    session: Session,
    *,
    entity_type: str | None = None,
    entity_id: str | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.id > after_id).order_by(AuditEntry.id).limit(limit)
    if entity_type:
        query = query.where(AuditEntry.entity_type == entity_type)
    if entity_id:
        query = query.where(AuditEntry.entity_id == entity_id)
    return list(session.scalars(query))
