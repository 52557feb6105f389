"""The consent ledger: append-only, hash-chained events, verified like the audit trail.

Each event stores the hash of the one before it and its own hash over every field; the head row
holds the last id and hash. Editing, deleting or truncating events breaks a link `verify` finds,
and `proof` packages one customer's events with the links that tie them into the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from trustdesk.db import utcnow
from trustdesk.hashchain import GENESIS, ChainReport, verify_links
from trustdesk.privacy.models import ConsentEvent, ConsentHead

__all__ = [
    "GENESIS",
    "ChainReport",
    "EntryCheck",
    "NewEvent",
    "StoredEvent",
    "append",
    "check_entries",
    "customer_events",
    "digest",
    "lock_head",
    "preference_states",
    "verify",
]

_FIELDS = (
    "id",
    "at",
    "customer_id",
    "purpose",
    "channel",
    "state",
    "source",
    "notice_version",
    "actor",
    "prev_hash",
)


@dataclass(frozen=True)
class NewEvent:
    customer_id: int
    purpose: str
    channel: str
    state: str
    source: str
    notice_version: str


@dataclass(frozen=True)
class StoredEvent:
    id: int
    at: datetime
    customer_id: int
    purpose: str
    channel: str
    state: str
    source: str
    notice_version: str
    actor: str
    prev_hash: str
    hash: str


def digest(event: Mapping[str, Any] | ConsentEvent | StoredEvent) -> str:
    """SHA-256 over every field but the hash itself, in a fixed order and encoding."""
    get = event.__getitem__ if isinstance(event, Mapping) else event.__getattribute__
    values = [get(name) for name in _FIELDS]
    values[1] = values[1].isoformat()
    payload = json.dumps(values, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def lock_head(session: Session) -> None:
    """Holds every append back until this transaction ends (to rebuild what they update)."""
    _locked_head(session)


def _locked_head(session: Session) -> ConsentHead:
    """The head row, locked for this transaction (FOR UPDATE; SQLite writers are serial anyway)."""
    head = session.get(ConsentHead, 1, with_for_update=True, populate_existing=True)
    if head is not None:
        return head
    # First append ever: two writers may both find no head; only one insert wins.
    values = {"id": 1, "last_id": 0, "last_hash": GENESIS}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(postgresql.insert(ConsentHead).values(values).on_conflict_do_nothing())
    else:
        session.execute(sqlite.insert(ConsentHead).values(values).on_conflict_do_nothing())
    head = session.get(ConsentHead, 1, with_for_update=True, populate_existing=True)
    assert head is not None
    return head


def append(session: Session, events: Sequence[NewEvent], *, actor: str) -> list[StoredEvent]:
    """Chain `events` after the head in the caller's transaction; returns them as stored."""
    if not events:
        return []
    head = _locked_head(session)
    at = utcnow()
    prev_hash, next_id = head.last_hash, head.last_id + 1
    rows: list[dict[str, Any]] = []
    for event in events:
        row: dict[str, Any] = {
            "id": next_id,
            "at": at,
            "customer_id": event.customer_id,
            "purpose": event.purpose,
            "channel": event.channel,
            "state": event.state,
            "source": event.source,
            "notice_version": event.notice_version,
            "actor": actor,
            "prev_hash": prev_hash,
        }
        row["hash"] = prev_hash = digest(row)
        rows.append(row)
        next_id += 1
    session.execute(insert(ConsentEvent), rows)
    head.last_id, head.last_hash = next_id - 1, prev_hash
    session.flush()
    return [StoredEvent(**row) for row in rows]


def verify(session: Session, batch: int = 5000) -> ChainReport:
    """Walk the whole chain and report the first event whose link or content is wrong."""

    def batches() -> Iterator[Sequence[ConsentEvent]]:
        last = 0
        while rows := session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.id > last)
            .order_by(ConsentEvent.id)
            .limit(batch)
        ).all():
            yield rows
            last = rows[-1].id
            session.expunge_all()

    head = session.get(ConsentHead, 1)
    return verify_links(
        batches(), digest, (head.last_id, head.last_hash) if head else None, noun="event"
    )


def customer_events(session: Session, customer_id: int) -> list[StoredEvent]:
    """One customer's events, oldest first."""
    rows = session.scalars(
        select(ConsentEvent)
        .where(ConsentEvent.customer_id == customer_id)
        .order_by(ConsentEvent.id)
    ).all()
    return [StoredEvent(**{name: getattr(r, name) for name in (*_FIELDS, "hash")}) for r in rows]


def preference_states(
    session: Session, customer_id: int, *, before_id: int | None = None
) -> dict[tuple[str, str], tuple[str, int]]:
    """Per (purpose, channel): the latest state and how many events set it (its version).

    `before_id`: only events before that id (the state a new append found)."""
    query = select(ConsentEvent.purpose, ConsentEvent.channel, ConsentEvent.state).where(
        ConsentEvent.customer_id == customer_id
    )
    if before_id is not None:
        query = query.where(ConsentEvent.id < before_id)
    out: dict[tuple[str, str], tuple[str, int]] = {}
    for purpose, channel, state in session.execute(query.order_by(ConsentEvent.id)):
        out[(purpose, channel)] = (state, out.get((purpose, channel), ("", 0))[1] + 1)
    return out


@dataclass(frozen=True)
class EntryCheck:
    id: int
    content_ok: bool  # the stored hash matches the event's fields
    link_ok: bool  # prev_hash is the hash of the event just before it in the chain


def check_entries(session: Session, events: Sequence[StoredEvent]) -> list[EntryCheck]:
    """Checks each event on its own and against its predecessor (one query for all of them)."""
    before = {e.id - 1 for e in events if e.id > 1}
    hashes: dict[int, str] = {}
    ids = sorted(before)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        hashes.update(
            session.execute(
                select(ConsentEvent.id, ConsentEvent.hash).where(ConsentEvent.id.in_(chunk))
            ).all()
        )
    return [
        EntryCheck(
            e.id,
            digest(e) == e.hash,
            e.prev_hash == (GENESIS if e.id == 1 else hashes.get(e.id - 1)),
        )
        for e in events
    ]
