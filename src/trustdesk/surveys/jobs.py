"""Surveys' background work for the job system: email due invitations and reminders (outside
quiet hours; every few minutes, and at once after `surveys distribute`)."""

from __future__ import annotations

from trustdesk.jobs.public import JobContext
from trustdesk.serving import public_base_url
from trustdesk.surveys.distribution import deliver_due

__all__ = ["deliver"]


def deliver(context: JobContext) -> str:
    platform = context.platform
    with platform.db.transaction() as session:
        run = deliver_due(
            session,
            platform.vault,
            base_url=public_base_url(platform.settings),
            policy_file=platform.settings.consent_policy_file,
            now=context.now,
        )
    return (
        f"{run.sent} invitations, {run.reminded} reminders, {run.quiet} held for quiet hours, "
        f"{run.no_consent} without consent"
    )
