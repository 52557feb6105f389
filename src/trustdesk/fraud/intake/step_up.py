"""Step-up outcomes: what became of a payment's second-factor challenge, reported back to us.

A payment decided `step_up` asked the customer for a second factor. The payment system reports
whether they passed, failed or gave up; a failed or abandoned challenge goes to the analysts'
review queue (a thief stopped, or a genuine customer lost), a passed one is shown on the case.
The first report stands: the same outcome again is a retry, another outcome a conflict.
Functions take a session and plain values, raise domain errors, and never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trustdesk.audit.chain import Change, record_many
from trustdesk.errors import Conflict, InvalidInput, NotFound
from trustdesk.fraud.models import FraudStepUp, FraudTransaction
from trustdesk.fraud.schemas import StepUpIn, StepUpOut, StepUpOutcome

__all__ = ["NEEDS_REVIEW", "record_step_up", "step_ups"]

NEEDS_REVIEW = tuple(o.value for o in StepUpOutcome if o.needs_review)
"""Stored outcomes that put a payment in the review queue."""


def _out(transaction_id: str, row: FraudStepUp) -> StepUpOut:
    return StepUpOut(
        transaction_id=transaction_id,
        outcome=StepUpOutcome(row.outcome),
        at=row.at,
        reported_at=row.reported_at,
        reported_by=row.actor,
    )


def _stored(session: Session, transaction_pk: int) -> FraudStepUp | None:
    return session.scalar(select(FraudStepUp).where(FraudStepUp.transaction_pk == transaction_pk))


def _same_or_conflict(tx: FraudTransaction, stored: FraudStepUp, report: StepUpIn) -> StepUpOut:
    if stored.outcome != report.outcome.value:
        raise Conflict(
            f"the step-up of transaction {tx.transaction_id!r} was already reported "
            f"{stored.outcome} at {stored.at.isoformat()}; an outcome is reported once"
        )
    return _out(tx.transaction_id, stored)


def record_step_up(
    session: Session,
    transaction_id: str,
    report: StepUpIn,
    *,
    actor: str,
    now: datetime,
    clock_skew_s: int,
) -> tuple[StepUpOut, bool]:
    """Store a step-up outcome; returns the stored record and whether this call created it.

    Refused: an unknown payment (NotFound), one that asked for no second factor (Conflict), an
    outcome before the payment or in the future (InvalidInput), another outcome than the one
    reported before (Conflict). The same outcome again returns the first record unchanged.
    """
    tx = session.scalar(
        select(FraudTransaction).where(FraudTransaction.transaction_id == transaction_id)
    )
    if tx is None:
        raise NotFound(f"no transaction {transaction_id!r}")
    if tx.decision != "step_up":
        what = f"decided {tx.decision}" if tx.decision else "stored without a decision"
        raise Conflict(
            f"transaction {transaction_id!r} was {what}, not step_up: "
            "no second factor was asked for, so there is no step-up outcome to report"
        )
    at = report.at or now
    if at < tx.at:
        raise InvalidInput("at: a step-up cannot end before its payment happened")
    if at > now + timedelta(seconds=clock_skew_s):
        raise InvalidInput(f"at: {at.isoformat()} is in the future")
    stored = _stored(session, tx.id)
    if stored is not None:
        return _same_or_conflict(tx, stored, report), False
    row = FraudStepUp(
        transaction_pk=tx.id, outcome=report.outcome.value, at=at, reported_at=now, actor=actor
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # a report for the same payment was stored meanwhile
        stored = _stored(session, tx.id)
        if stored is None:
            raise
        return _same_or_conflict(tx, stored, report), False
    record_many(
        session,
        actor=actor,
        items=[
            Change("fraud.step_up", "fraud_transaction", transaction_id, {"outcome": row.outcome})
        ],
    )
    return _out(transaction_id, row), True


def step_ups(session: Session, transactions: Sequence[tuple[int, str]]) -> dict[int, StepUpOut]:
    """{row id: outcome} of the given (row id, transaction id) payments that have one."""
    ids = dict(transactions)
    if not ids:
        return {}
    rows = session.scalars(select(FraudStepUp).where(FraudStepUp.transaction_pk.in_(list(ids))))
    return {r.transaction_pk: _out(ids[r.transaction_pk], r) for r in rows}
