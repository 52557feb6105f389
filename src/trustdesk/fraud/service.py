"""Fraud use cases on stored transactions: intake checks, idempotent storage, labels, the queue.

Functions take a session and plain values, raise domain errors, and never commit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import cast

from sqlalchemy import ColumnElement, Table, and_, case, func, insert, or_, select
from sqlalchemy.orm import Session

from trustdesk.audit.chain import Change, record_many
from trustdesk.errors import Conflict, InvalidInput, NotFound
from trustdesk.fraud.intake.step_up import NEEDS_REVIEW, step_ups
from trustdesk.fraud.models import FraudLabel, FraudStepUp, FraudTransaction
from trustdesk.fraud.review.monitoring import Tally
from trustdesk.fraud.schemas import (
    CaseOut,
    Decided,
    LabelIn,
    Limits,
    ScoreOut,
    TransactionIn,
    currencies,
)

__all__ = [
    "add_label",
    "as_score",
    "decision_tallies",
    "fresh_score",
    "get_case",
    "queue_size",
    "recent_for_customer",
    "review_queue",
    "store_transaction",
    "stored_duplicate",
    "validate",
]


def validate(tx: TransactionIn, limits: Limits, now: datetime) -> None:
    """Refuse what no real payment looks like; nothing is stored when this raises."""
    if tx.amount < 0:
        raise InvalidInput("amount: must not be negative")
    if tx.amount > limits.max_amount:
        raise InvalidInput(f"amount: above the maximum accepted ({limits.max_amount:,})")
    if tx.currency not in currencies():
        raise InvalidInput(f"currency: {tx.currency!r} is not an ISO 4217 currency code")
    if tx.at > now + timedelta(seconds=limits.clock_skew_s):
        raise InvalidInput(
            f"at: {tx.at.isoformat()} is in the future (more than {limits.clock_skew_s} s ahead)"
        )


def _loads(text: str | None) -> list[str]:
    return list(json.loads(text)) if text else []


def as_score(row: FraudTransaction, *, duplicate: bool = False) -> ScoreOut:
    return ScoreOut(
        transaction_id=row.transaction_id,
        score=row.score,
        decision=row.decision,
        reasons=_loads(row.reasons),
        rules_fired=_loads(row.rules_fired),
        model_version=row.model_version,
        rules_version=row.rules_version,
        duplicate=duplicate,
    )


def stored_duplicate(session: Session, tx: TransactionIn) -> ScoreOut | None:
    """The stored decision if this payment was sent before; Conflict if the id was reused."""
    row = session.scalar(
        select(FraudTransaction).where(FraudTransaction.transaction_id == tx.transaction_id)
    )
    if row is None:
        return None
    if row.content_hash != tx.content_hash():
        raise Conflict(
            f"transaction {tx.transaction_id!r} was stored before with different content"
        )
    return as_score(row, duplicate=True)


def store_transaction(
    session: Session, tx: TransactionIn, decided: Decided | None, now: datetime
) -> None:
    """Insert one transaction (with its decision, if scored).

    A Core insert on the session's connection, neither ORM unit of work nor ORM bulk insert
    (which costs more than the insert): this runs for every scored payment.
    """
    values: dict[str, object] = {
        "transaction_id": tx.transaction_id,
        "at": tx.at,
        "received_at": now,
        "customer_ref": tx.customer_id,
        "terminal_id": tx.terminal_id,
        "amount": tx.amount,
        "currency": tx.currency,
        "channel": tx.channel,
        "device_id": tx.device_id,
        "country": tx.country,
        "content_hash": tx.content_hash(),
    }
    if decided is not None:
        values.update(
            score=decided.score,
            decision=decided.decision,
            reasons=json.dumps(decided.reasons),
            rules_fired=json.dumps(decided.rules_fired),
            model_version=decided.model_version,
            rules_version=decided.rules_version,
        )
    session.connection().execute(_INSERT, values)


_INSERT = insert(cast(Table, FraudTransaction.__table__))


def fresh_score(tx: TransactionIn, decided: Decided | None) -> ScoreOut:
    """The answer for a payment just stored (what `as_score` would read back)."""
    if decided is None:
        return ScoreOut(
            transaction_id=tx.transaction_id,
            score=None,
            decision=None,
            reasons=[],
            rules_fired=[],
            model_version=None,
            rules_version=None,
        )
    return ScoreOut(
        transaction_id=tx.transaction_id,
        score=decided.score,
        decision=decided.decision,
        model_decision=decided.model_decision,
        reasons=decided.reasons,
        rules_fired=decided.rules_fired,
        model_version=decided.model_version,
        rules_version=decided.rules_version,
    )


def _transaction(session: Session, transaction_id: str) -> FraudTransaction:
    row = session.scalar(
        select(FraudTransaction).where(FraudTransaction.transaction_id == transaction_id)
    )
    if row is None:
        raise NotFound(f"no transaction {transaction_id!r}")
    return row


def add_label(
    session: Session, transaction_id: str, label: LabelIn, *, actor: str, now: datetime
) -> FraudLabel:
    """Record an outcome; one per source, a newer one from the same source replaces it.

    A changed outcome replaces the row with a new one (a new id), so the scorer's catch-up and
    the trust signal, which read labels by increasing id, see the correction; the audit entry
    names the old and new label.
    """
    tx = _transaction(session, transaction_id)
    known_at = label.known_at or now
    if known_at < tx.at:
        raise InvalidInput("known_at: a label cannot be known before its transaction happened")
    row = session.scalar(
        select(FraudLabel).where(
            FraudLabel.transaction_pk == tx.id, FraudLabel.source == label.source
        )
    )
    before = row.label if row else None
    if row is not None and row.label != label.label.value:
        session.delete(row)
        session.flush()  # the unique (transaction, source) must be free for the new row
        row = None
    if row is None:
        row = FraudLabel(transaction_pk=tx.id, source=label.source)
        session.add(row)
    row.label, row.known_at, row.actor = label.label.value, known_at, actor
    session.flush()
    if before != row.label:
        record_many(
            session,
            actor=actor,
            items=[
                Change(
                    "fraud.label",
                    "fraud_transaction",
                    transaction_id,
                    {"label": [before, row.label], "source": label.source},
                )
            ],
        )
    return row


def _labels(session: Session, pks: Sequence[int]) -> dict[int, list[tuple[str, str, datetime]]]:
    found: dict[int, list[tuple[str, str, datetime]]] = {pk: [] for pk in pks}
    if not pks:
        return found
    rows = session.execute(
        select(FraudLabel.transaction_pk, FraudLabel.label, FraudLabel.source, FraudLabel.known_at)
        .where(FraudLabel.transaction_pk.in_(list(pks)))
        .order_by(FraudLabel.known_at)
    )
    for pk, label, source, known_at in rows:
        found[pk].append((label, source, known_at))
    return found


def _cases(session: Session, rows: Sequence[FraudTransaction]) -> list[CaseOut]:
    labels = _labels(session, [r.id for r in rows])
    stepped = step_ups(session, [(r.id, r.transaction_id) for r in rows if r.decision == "step_up"])
    return [
        CaseOut(
            transaction_id=r.transaction_id,
            at=r.at,
            customer_id=r.customer_ref,
            terminal_id=r.terminal_id,
            amount=r.amount,
            currency=r.currency,
            channel=r.channel,
            device_id=r.device_id,
            country=r.country,
            score=r.score,
            decision=r.decision,
            reasons=_loads(r.reasons),
            rules_fired=_loads(r.rules_fired),
            model_version=r.model_version,
            rules_version=r.rules_version,
            labels=labels[r.id],
            step_up=stepped.get(r.id),
        )
        for r in rows
    ]


def _waiting() -> ColumnElement[bool]:
    """Held for a person and not labelled yet: decided `review`, or a step-up that failed or
    was abandoned (a thief stopped, or a genuine customer lost: an analyst says which)."""
    failed_step_up = select(FraudStepUp.transaction_pk).where(FraudStepUp.outcome.in_(NEEDS_REVIEW))
    return and_(
        or_(
            FraudTransaction.decision == "review",
            and_(
                FraudTransaction.decision == "step_up",
                FraudTransaction.id.in_(failed_step_up),
            ),
        ),
        FraudTransaction.id.not_in(select(FraudLabel.transaction_pk)),
    )


def review_queue(session: Session, *, limit: int = 50) -> list[CaseOut]:
    """Payments waiting for a person's decision (see `_waiting`), oldest first."""
    rows = session.scalars(
        select(FraudTransaction)
        .where(_waiting())
        .order_by(FraudTransaction.at, FraudTransaction.id)
        .limit(limit)
    ).all()
    return _cases(session, rows)


def queue_size(session: Session) -> int:
    return int(
        session.scalar(select(func.count()).select_from(FraudTransaction).where(_waiting())) or 0
    )


def get_case(session: Session, transaction_id: str) -> CaseOut:
    return _cases(session, [_transaction(session, transaction_id)])[0]


def recent_for_customer(
    session: Session, customer_ref: str, *, before: datetime, limit: int = 20
) -> list[CaseOut]:
    """The customer's latest transactions up to `before`, newest first."""
    rows = session.scalars(
        select(FraudTransaction)
        .where(FraudTransaction.customer_ref == customer_ref, FraudTransaction.at <= before)
        .order_by(FraudTransaction.at.desc(), FraudTransaction.id.desc())
        .limit(limit)
    ).all()
    return _cases(session, rows)


def decision_tallies(session: Session, edges: Sequence[float], *, days: int = 30) -> list[Tally]:
    """Decided payments of the last `days` days of data, counted per day, decision, latest
    label, step-up outcome and score bin (bins between `edges`), in SQL: a month can hold
    millions of payments."""
    latest = session.scalar(
        select(func.max(FraudTransaction.at)).where(FraudTransaction.decision.is_not(None))
    )
    if latest is None:
        return []
    latest = latest if latest.tzinfo else latest.replace(tzinfo=UTC)
    at = FraudTransaction.at
    dialect = session.get_bind().dialect.name
    day = func.date(func.timezone("UTC", at)) if dialect == "postgresql" else func.date(at)
    latest_label = (
        select(FraudLabel.label)
        .where(FraudLabel.transaction_pk == FraudTransaction.id)
        .order_by(FraudLabel.known_at.desc(), FraudLabel.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    step_up = (
        select(FraudStepUp.outcome)
        .where(FraudStepUp.transaction_pk == FraudTransaction.id)
        .scalar_subquery()
    )
    inner = list(edges[1:-1])
    score_bin = case(
        *((FraudTransaction.score < edge, i) for i, edge in enumerate(inner)),
        else_=len(inner),
    )
    per_payment = (
        select(
            day.label("day"),
            FraudTransaction.decision.label("decision"),
            latest_label.label("label"),
            step_up.label("step_up"),
            score_bin.label("score_bin"),
        )
        .where(FraudTransaction.decision.is_not(None), at > latest - timedelta(days=days))
        .subquery()
    )
    c = per_payment.c
    query = select(c.day, c.decision, c.label, c.step_up, c.score_bin, func.count()).group_by(
        c.day, c.decision, c.label, c.step_up, c.score_bin
    )
    return [
        Tally(
            d if isinstance(d, date) else date.fromisoformat(str(d)),
            str(decision),
            label,
            int(b),
            int(n),
            step_up=outcome,
        )
        for d, decision, label, outcome, b, n in session.execute(query)
    ]
