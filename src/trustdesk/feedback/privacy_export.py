"""The feedback section of a customer's access export: what they sent us, with its analysis.

Wired to privacy's export registry by the manifest (`trustdesk.capabilities`), so privacy never
imports feedback.
"""

from __future__ import annotations

from typing import Any

from trustdesk.feedback.public import customer_feedback
from trustdesk.privacy.public import ExportContext, ExportSubject

__all__ = ["feedback_items"]


def feedback_items(ctx: ExportContext, subject: ExportSubject) -> list[Any]:
    """Feedback whose text still decrypts (none once the customer's key is destroyed)."""
    return [
        {
            "id": item.id,
            "at": item.at.isoformat(),
            "source": item.source,
            "text": item.text,
            "rating": item.rating,
            "sentiment": item.sentiment,
            "topics": list(item.topics),
        }
        for item in customer_feedback(ctx.session, ctx.vault, subject.customer_id)
        if item.text is not None
    ]
