"""Feedback's erasure step: the customer's key is gone, so remove the search terms derived from
their texts; and count how many of their texts still decrypt (none after a complete erasure).

Wired to customers' eraser registry by the manifest (`trustdesk.capabilities`).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from trustdesk.crypto import Vault
from trustdesk.customers.public import Eraser
from trustdesk.feedback.public import customer_feedback, forget_customer_feedback

__all__ = ["FEEDBACK_ERASER", "readable_texts"]


def readable_texts(session: Session, vault: Vault, customer_id: int) -> int:
    return sum(1 for item in customer_feedback(session, vault, customer_id) if item.text)


FEEDBACK_ERASER = Eraser(name="feedback", erase=forget_customer_feedback, readable=readable_texts)
