"""The notifications job: turn new events into outbox messages for the subscribers."""

from __future__ import annotations

from trustdesk.jobs.public import JobContext
from trustdesk.notifications.producers import produce

__all__ = ["notify"]


def notify(context: JobContext) -> str:
    platform = context.platform
    with platform.db.transaction() as session:
        created = produce(session, platform.vault, context.now)
    return f"{created} new messages"
