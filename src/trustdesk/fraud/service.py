"""Fraud use cases: score a payment, store it, record its outcome.

The building blocks (intake checks, idempotent storage, labels) take a session and plain values,
raise domain errors, and never commit. `score_transaction` and `label_transaction` are the use
cases the API, the pages and the demo call with the scorer's engine: each opens its own unit of
work (a payment is checked, scored and stored while the engine's lock is held), so the in-memory
history and the table never disagree.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trustdesk.audit.chain import Change, record_many
from trustdesk.db import Database, utcnow
from trustdesk.errors import ConfigurationError, Conflict, InvalidInput, NotFound
from trustdesk.fraud.models import FraudLabel, FraudTransaction
from trustdesk.fraud.schemas import Decided, LabelIn, Limits, ScoreOut, TransactionIn, currencies
from trustdesk.fraud.scoring.engine import FraudEngine, to_transaction

__all__ = [
    "add_label",
    "as_score",
    "fresh_score",
    "label_transaction",
    "score_transaction",
    "store_transaction",
    "stored_duplicate",
    "transaction_row",
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


def transaction_row(session: Session, transaction_id: str) -> FraudTransaction:
    """The stored payment, or NotFound."""
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
    tx = transaction_row(session, transaction_id)
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


def score_transaction(
    db: Database,
    engine: FraudEngine,
    tx: TransactionIn,
    limits: Limits,
    *,
    decide: bool = True,
    now: datetime | None = None,
) -> ScoreOut:
    """Score and store a new payment, or return the decision stored for a resent one.

    With `decide=False` the payment is stored and joins the history, unscored.
    """
    now = now or utcnow()
    validate(tx, limits, now)
    with engine.lock:
        if tx.transaction_id in engine.history:  # sent before (or a clash): no second score
            return _stored(db, tx)
        decided = engine.evaluate(tx) if decide else None
        if decided is None:
            engine.observe(to_transaction(tx))
        try:
            with db.transaction() as session:
                store_transaction(session, tx, decided, now)
        except IntegrityError:
            # Stored before this process's history window or by another process: the unique
            # transaction id refused it, so the stored decision stands.
            engine.forget(tx)
            return _stored(db, tx)
        except BaseException:
            engine.forget(tx)
            raise
    return fresh_score(tx, decided)


def _stored(db: Database, tx: TransactionIn) -> ScoreOut:
    with db.reading() as session:
        found = stored_duplicate(session, tx)
    if found is None:
        raise ConfigurationError("a payment the scorer remembers is missing from the database")
    return found


def label_transaction(
    db: Database,
    engine: FraudEngine | None,
    transaction_id: str,
    label: LabelIn,
    *,
    actor: str,
    now: datetime | None = None,
) -> None:
    """Store an outcome and, if it is already known, let the scorer count it from now on."""
    now = now or utcnow()
    with db.transaction() as session:
        row = add_label(session, transaction_id, label, actor=actor, now=now)
        known_at = row.known_at
        customer = transaction_row(session, transaction_id).customer_ref
    if engine is not None and known_at <= now:
        with engine.lock:
            engine.label(transaction_id, customer, label.label.is_fraud, known_at)
