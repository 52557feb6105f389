"""What other capabilities may know about fraud: how many payments wait for a person, and which
of one customer's payments are held."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.fraud.models import FraudTransaction
from trustdesk.fraud.review.cases import _waiting, queue_size

__all__ = ["FraudHold", "holds_for_customer", "review_queue_length"]


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
