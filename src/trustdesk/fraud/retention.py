"""Payments' retention target: after the data map's period a payment is kept for fraud models and
accounts but no longer linked to the customer (their reference and device are replaced)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from trustdesk.fraud.models import FraudTransaction
from trustdesk.privacy.public import RetentionTarget

__all__ = ["ANONYMOUS", "PAYMENT_RETENTION"]

ANONYMOUS = "anonymised"
"""The customer reference an anonymised payment carries (links it to no one)."""


def _old(cutoff: datetime) -> ColumnElement[bool]:
    return and_(FraudTransaction.at < cutoff, FraudTransaction.customer_ref != ANONYMOUS)


def count_linked_before(session: Session, cutoff: datetime) -> int:
    return int(session.scalar(select(func.count()).where(_old(cutoff))) or 0)


def unlink_before(session: Session, cutoff: datetime, action: str) -> int:
    result = session.connection().execute(
        update(FraudTransaction).where(_old(cutoff)).values(customer_ref=ANONYMOUS, device_id=None)
    )
    return int(result.rowcount or 0)


PAYMENT_RETENTION = RetentionTarget(
    system="payments",
    records="payments' links to customers",
    actions=("anonymise",),
    count=count_linked_before,
    apply=unlink_before,
)
