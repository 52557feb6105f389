"""What other capabilities may know about fraud: how many payments wait for a person."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk.fraud.models import FraudLabel, FraudModelVersion, FraudTransaction
from trustdesk.fraud.review.cases import queue_size

__all__ = ["active_model_metrics", "false_declines", "review_queue_length"]


def review_queue_length(session: Session) -> int:
    """Payments held for review and not decided yet (the review queue's length)."""
    return queue_size(session)


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
