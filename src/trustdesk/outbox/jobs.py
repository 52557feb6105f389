"""The outbox's delivery job for the job system: send what is due (email, signed webhooks)."""

from __future__ import annotations

from trustdesk.jobs.public import JobContext
from trustdesk.outbox.public import deliver_due

__all__ = ["ENQUEUED", "deliver"]

ENQUEUED = "outbox.enqueued"
"""The event a producer raises after enqueueing: delivery runs at once, not at the next minute."""


def deliver(context: JobContext) -> str:
    report = deliver_due(context.platform)
    return (
        f"{report.claimed} claimed, {report.sent} sent, {report.failed} failed, "
        f"{report.dead} dead, {report.recovered} recovered"
    )
