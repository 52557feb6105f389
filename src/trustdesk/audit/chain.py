"""Hash-chained, append-only audit trail.

Each entry stores the hash of the one before it, and a one-row head table holds the last hash,
so editing, deleting or truncating entries breaks a link that `verify` finds. Entries are
written in the same transaction as the change they describe.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from trustdesk.db import Base, UTCDateTime, utcnow
from trustdesk.hashchain import GENESIS, ChainReport, verify_links

__all__ = [
    "AuditEntry",
    "ChainReport",
    "Change",
    "diff",
    "entries",
    "kinds",
    "newest_entries",
    "record",
    "record_many",
    "verify",
]

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


def _digest(entry: AuditEntry | Mapping[str, Any]) -> str:
    get = entry.__getitem__ if isinstance(entry, Mapping) else entry.__getattribute__
    payload = json.dumps(
        [
            get("id"),
            get("at").isoformat(),
            get("actor"),
            get("action"),
            get("entity_type"),
            get("entity_id"),
            get("diff"),
            get("prev_hash"),
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


@dataclass(frozen=True)
class Change:
    """One audited state change. `changes` must hold no personal data (see `diff`)."""

    action: str
    entity_type: str
    entity_id: str | int
    changes: Mapping[str, Any] | None = None


def record_many(session: Session, *, actor: str, items: Sequence[Change]) -> int:
    """Append entries in the caller's transaction, chained in order, with one insert.

    Ids are assigned from the locked head row, so the chain and the ids advance together.
    """
    if not items:
        return 0
    head = session.get(AuditHead, 1, with_for_update=True)
    if head is None:
        head = AuditHead(id=1, last_id=0, last_hash=GENESIS)
        session.add(head)
    at = utcnow()
    prev_hash, next_id = head.last_hash, head.last_id + 1
    rows: list[dict[str, Any]] = []
    for item in items:
        row: dict[str, Any] = {
            "id": next_id,
            "at": at,
            "actor": actor,
            "action": item.action,
            "entity_type": item.entity_type,
            "entity_id": str(item.entity_id),
            "diff": json.dumps(item.changes or {}, sort_keys=True, default=str, ensure_ascii=False),
            "prev_hash": prev_hash,
        }
        row["hash"] = prev_hash = _digest(row)
        rows.append(row)
        next_id += 1
    session.execute(insert(AuditEntry), rows)
    head.last_id, head.last_hash = next_id - 1, prev_hash
    session.flush()
    return len(rows)


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str | int,
    changes: Mapping[str, Any] | None = None,
) -> None:
    """Append one entry in the caller's transaction. `changes` must hold no personal data."""
    record_many(session, actor=actor, items=[Change(action, entity_type, entity_id, changes)])


def verify(session: Session, batch: int = 5000) -> ChainReport:
    """Walk the chain from the start and report the first entry whose link or content is wrong."""

    def batches() -> Iterator[Sequence[AuditEntry]]:
        last = 0
        while rows := session.scalars(
            select(AuditEntry).where(AuditEntry.id > last).order_by(AuditEntry.id).limit(batch)
        ).all():
            yield rows
            last = rows[-1].id
            session.expunge_all()

    return verify_links(batches(), _digest, _head(session))


def _head(session: Session) -> tuple[int, str] | None:
    head = session.get(AuditHead, 1)
    return (head.last_id, head.last_hash) if head else None


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


def newest_entries(
    session: Session,
    *,
    action: str | None = None,
    actor: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> tuple[list[AuditEntry], int | None]:
    """A page of entries, newest first; `action` matches exactly or as a prefix ending in a dot
    ("user." is every user action), `actor` matches exactly. The second value is the cursor of
    the next (older) page, if any."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit + 1)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    if action:
        if action.endswith("."):
            query = query.where(AuditEntry.action.startswith(action, autoescape=True))
        else:
            query = query.where(AuditEntry.action == action)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def kinds(session: Session) -> list[str]:
    """Every action recorded so far (for a filter's choices), in alphabetical order."""
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
