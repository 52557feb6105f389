"""The outbox, as other capabilities use it. Enqueue in your own transaction; the delivery
job (`deliver_due`) sends. See docs/outbox.md.

    ref = enqueue_email(session, platform.vault, kind="incident.notice",
                        key=f"incident:{incident_id}:notice:{customer_id}",
                        customer_id=customer_id, subject=..., text=..., postal_fallback=True)
    counts = status_counts(session, key_prefix=f"incident:{incident_id}:")
    counts.queued, counts.delivered, counts.unreachable, counts["bounced"], counts.as_dict()
"""

from __future__ import annotations

from trustdesk.outbox.content import message_id_for
from trustdesk.outbox.delivery import deliver_due
from trustdesk.outbox.schemas import (
    DELIVERED,
    FINAL,
    QUEUED,
    STATUSES,
    DeliveryReport,
    Email,
    MessageOut,
    MessageRef,
    StatusCounts,
)
from trustdesk.outbox.service import (
    enqueue_email,
    enqueue_emails,
    enqueue_webhook,
    get_message,
    message_statuses,
    register_webhook_endpoint,
    status_counts,
)
from trustdesk.outbox.webhooks import verify as verify_webhook_signature

__all__ = [
    "DELIVERED",
    "FINAL",
    "QUEUED",
    "STATUSES",
    "DeliveryReport",
    "Email",
    "MessageOut",
    "MessageRef",
    "StatusCounts",
    "deliver_due",
    "enqueue_email",
    "enqueue_emails",
    "enqueue_webhook",
    "get_message",
    "message_id_for",
    "message_statuses",
    "register_webhook_endpoint",
    "status_counts",
    "verify_webhook_signature",
]
