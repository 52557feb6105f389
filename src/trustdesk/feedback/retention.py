"""Feedback's retention target: the data map's "feedback" rule deletes old messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from trustdesk.feedback.public import count_feedback_before, delete_feedback_before
from trustdesk.privacy.public import RetentionTarget

__all__ = ["FEEDBACK_RETENTION"]


def _apply(session: Session, cutoff: datetime, action: str) -> int:
    return delete_feedback_before(session, cutoff)  # "delete" is the one action offered


FEEDBACK_RETENTION = RetentionTarget(
    system="feedback",
    records="feedback messages",
    actions=("delete",),
    count=count_feedback_before,
    apply=_apply,
)
