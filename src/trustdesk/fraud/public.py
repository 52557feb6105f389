"""What other capabilities may know about fraud: how many payments wait for a person, and which
of one customer's payments are held."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk.fraud.models import FraudLabel, FraudModelVersion, FraudTransaction
from trustdesk.fraud.review.cases import _waiting, queue_size

__all__ = [
    "FraudHold",
    "active_model_metrics",
    "false_declines",
    "holds_for_customer",
    "review_queue_length",
]


def review_queue_length(session: Session) -> int:
    """Payments held for review and not decided yet (the review queue's length)."""
    return queue_size(session)


@dataclass(frozen=True)
class FraudHold:
    """A payment of the customer held for a person's review (no card or device data)."""

    transaction_id: str
    at: datetime
    amount: Decimal
    currency: str
    decision: str


def holds_for_customer(session: Session, customer_ref: str, *, limit: int = 20) -> list[FraudHold]:
    """The customer's payments held for review and not decided yet, newest first."""
    rows = session.execute(
        select(
            FraudTransaction.transaction_id,
            FraudTransaction.at,
            FraudTransaction.amount,
            FraudTransaction.currency,
            FraudTransaction.decision,
        )
        .where(FraudTransaction.customer_ref == customer_ref, _waiting())
        .order_by(FraudTransaction.at.desc(), FraudTransaction.id.desc())
        .limit(limit)
    ).all()
    return [FraudHold(r[0], r[1], r[2], r[3], r[4] or "review") for r in rows]


def false_declines(session: Session, since: datetime) -> tuple[int, int]:
    """(declined payments later labelled genuine, declined payments with a label) since `since`:
    the false-decline rate's numerator and denominator."""
    base = (
        select(func.count(func.distinct(FraudLabel.transaction_pk)))
        .join(FraudTransaction, FraudTransaction.id == FraudLabel.transaction_pk)
        .where(FraudTransaction.decision == "decline", FraudTransaction.at >= since)
    )
    labelled = int(session.scalar(base) or 0)
    genuine = int(session.scalar(base.where(FraudLabel.label == "genuine")) or 0)
    return genuine, labelled


def active_model_metrics(session: Session) -> tuple[int, dict[str, Any]] | None:
    """(version, validation metrics) of the active fraud model, None when none is active."""
    row = session.execute(
        select(FraudModelVersion.version, FraudModelVersion.metrics).where(
            FraudModelVersion.active.is_(True)
        )
    ).first()
    if row is None:
        return None
    return int(row[0]), dict(json.loads(row[1]))
