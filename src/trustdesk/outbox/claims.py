"""Claiming due messages for one delivery run, fencing with a claim token, and recording what
happened. Each function is one short transaction of its own (a delivery run is a job, not a
request): a claim is never held across network waits inside a database transaction.

SQLite: write transactions are `BEGIN IMMEDIATE` behind the one writer gate, so a claim is
atomic. PostgreSQL: `FOR UPDATE SKIP LOCKED`, so concurrent runs claim disjoint messages. Every
later update names the run's token: a run whose lease ran out (and whose messages were
recovered) cannot overwrite what the next run does.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, insert, select, update

from trustdesk.db import Database
from trustdesk.outbox.models import OutboxDelivery, OutboxMessage

__all__ = ["Claim", "Outcome", "backoff", "claim_due", "mark_committed", "record", "recover_stale"]

_DUE = ("pending", "failed")
_MAX_BACKOFF_S = 6 * 3600.0
_random = secrets.SystemRandom()


@dataclass(frozen=True)
class Claim:
    id: int
    token: str
    kind: str
    key: str
    channel: str
    customer_id: int | None
    endpoint_id: int | None
    subject_id: str | None
    address_enc: bytes | None
    content_enc: bytes | None
    postal_fallback: bool
    attempts: int


@dataclass
class Outcome:
    """What one attempt came to. `status`: sent, failed, bounced, unreachable, to_postal,
    unconfirmed; `code`: the SMTP or HTTP code if any; `detail`: redacted, no personal data."""

    claim: Claim
    status: str
    code: int | None = None
    detail: str | None = None
    provider_id: str | None = None
    message_id: str | None = None


def backoff(attempts: int, base_s: float) -> float:
    """Seconds to wait before attempt `attempts + 1`: doubling, capped, with ±50 % jitter so
    that messages failing together do not retry together."""
    delay = min(base_s * 2 ** max(attempts - 1, 0), _MAX_BACKOFF_S)
    return float(delay * _random.uniform(0.5, 1.5))


def recover_stale(db: Database, now: datetime) -> tuple[int, int]:
    """Messages of runs whose lease ran out: never committed to the server → due again; the final
    "." possibly written → `unconfirmed` (not sent again). Returns (due again, unconfirmed)."""
    stale = and_(OutboxMessage.status == "sending", OutboxMessage.lease_until < now)
    with db.transaction() as session:
        again = session.execute(  # type: ignore[attr-defined]
            update(OutboxMessage)
            .where(stale, OutboxMessage.committed_at.is_(None))
            .values(status="failed", next_attempt_at=now, claim_token=None, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        unsure = session.execute(  # type: ignore[attr-defined]
            update(OutboxMessage)
            .where(stale, OutboxMessage.committed_at.is_not(None))
            .values(
                status="unconfirmed",
                claim_token=None,
                last_error="delivery run stopped after the message may have been accepted",
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
    return int(again or 0), int(unsure or 0)


def claim_due(
    db: Database, *, now: datetime, limit: int, lease_s: float, channels: tuple[str, ...]
) -> list[Claim]:
    """Claim up to `limit` due messages on `channels`, oldest due first, for `lease_s`."""
    token = secrets.token_hex(16)
    with db.transaction() as session:
        query = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status.in_(_DUE),
                OutboxMessage.next_attempt_at <= now,
                OutboxMessage.channel.in_(channels),
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
        if not db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        ids = list(session.scalars(query))
        if not ids:
            return []
        rows = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.status.in_(_DUE))
            .values(
                status="sending",
                claim_token=token,
                lease_until=now + timedelta(seconds=lease_s),
                committed_at=None,
                attempts=OutboxMessage.attempts + 1,
                updated_at=now,
            )
            .returning(
                OutboxMessage.id,
                OutboxMessage.kind,
                OutboxMessage.idempotency_key,
                OutboxMessage.channel,
                OutboxMessage.customer_id,
                OutboxMessage.endpoint_id,
                OutboxMessage.subject_id,
                OutboxMessage.address_enc,
                OutboxMessage.content_enc,
                OutboxMessage.postal_fallback,
                OutboxMessage.attempts,
            )
            .execution_options(synchronize_session=False)
        ).all()
    claims = [
        Claim(r[0], token, r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10])
        for r in rows
    ]
    claims.sort(key=lambda c: c.id)
    return claims


def mark_committed(
    db: Database, claims: list[Claim], outcomes: list[Outcome], now: datetime, **settle: Any
) -> set[int]:
    """In one transaction: record `outcomes` (see `record`) and mark `claims` as about to receive
    their final "." (after this commit they are never sent again unless a person says so).
    Returns the ids still held by their run (a fenced one must not be finished)."""
    with db.transaction() as session:
        _record(session, outcomes, now, **settle)
        held: set[int] = set()
        by_token: dict[str, list[int]] = {}
        for c in claims:
            by_token.setdefault(c.token, []).append(c.id)
        for token, ids in by_token.items():
            held.update(
                session.scalars(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(ids), OutboxMessage.claim_token == token)
                    .values(committed_at=now)
                    .returning(OutboxMessage.id)
                    .execution_options(synchronize_session=False)
                )
            )
    return held


def record(db: Database, outcomes: list[Outcome], now: datetime, **settle: Any) -> None:
    if outcomes:
        with db.transaction() as session:
            _record(session, outcomes, now, **settle)


_T = cast(Table, OutboxMessage.__table__)
_MINE = (_T.c.id == bindparam("b_id")) & (_T.c.claim_token == bindparam("b_token"))
_RELEASE: dict[str, Any] = {
    "claim_token": None,
    "lease_until": None,
    "updated_at": bindparam("b_now"),
    "last_error": bindparam("b_error"),
}
# One statement per kind of outcome, each run once per batch with many parameter sets: per-row
# ORM updates cost more than the SMTP conversation.
_SENT = (
    update(_T)
    .where(_MINE)
    .values(
        **_RELEASE,
        status="sent",
        sent_at=bindparam("b_now"),
        provider_message_id=bindparam("b_provider"),
        message_id_header=bindparam("b_mid"),
        next_attempt_at=None,
    )
)
_RETRY = (
    update(_T)
    .where(_MINE)
    .values(**_RELEASE, status="failed", committed_at=None, next_attempt_at=bindparam("b_next"))
)
_TO_POSTAL = (
    update(_T)
    .where(_MINE)
    .values(
        **_RELEASE,
        status="pending",
        channel="postal",
        committed_at=None,
        next_attempt_at=bindparam("b_now"),
    )
)
_FINAL = (
    update(_T)
    .where(_MINE)
    .values(
        **_RELEASE,
        status=bindparam("b_status"),
        message_id_header=func.coalesce(bindparam("b_mid"), _T.c.message_id_header),
        next_attempt_at=None,
    )
)


def _record(
    session: Any, outcomes: list[Outcome], now: datetime, *, max_attempts: int, backoff_s: float
) -> None:
    batches: dict[Any, list[dict[str, Any]]] = {}
    log: list[dict[str, Any]] = []
    for o in outcomes:
        c = o.claim
        params: dict[str, Any] = {
            "b_id": c.id,
            "b_token": c.token,
            "b_now": now,
            "b_error": None if o.status == "sent" else o.detail,
        }
        outcome = o.status
        if o.status == "sent":
            statement = _SENT
            params.update(b_provider=o.provider_id, b_mid=o.message_id)
        elif o.status == "failed" and c.attempts < max_attempts:
            statement = _RETRY
            params["b_next"] = now + timedelta(seconds=backoff(c.attempts, backoff_s))
        elif o.status == "to_postal":
            statement = _TO_POSTAL
        else:  # out of attempts (dead), bounced, unreachable, unconfirmed
            outcome = "dead" if o.status == "failed" else o.status
            statement = _FINAL
            params.update(b_status=outcome, b_mid=o.message_id)
        batches.setdefault(statement, []).append(params)
        log.append(
            {
                "message_id": c.id,
                "attempt": c.attempts,
                "at": now,
                "outcome": outcome,
                "code": o.code,
                "detail": o.detail,
            }
        )
    connection = session.connection()
    for statement, rows in batches.items():
        connection.execute(statement, rows)
    if log:
        connection.execute(insert(cast(Table, OutboxDelivery.__table__)), log)
