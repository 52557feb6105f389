"""What other capabilities may know about fraud: how many payments wait for a person."""

from __future__ import annotations

from sqlalchemy.orm import Session

from trustdesk.fraud.review.cases import queue_size

__all__ = ["review_queue_length"]


def review_queue_length(session: Session) -> int:
    """Payments held for review and not decided yet (the review queue's length)."""
    return queue_size(session)
