"""The risk register's background work for the job system: reviews that fell due get one
reminder each (audited, and flagged overdue in the register until someone reviews the risk)."""

from __future__ import annotations

from trustdesk.audit import chain as audit
from trustdesk.jobs.public import JobContext
from trustdesk.serving import public_base_url
from trustdesk.trustcentre.risks import due_reviews
from trustdesk.trustcentre.subscriptions import send_updates

__all__ = ["mail_updates", "remind_reviews"]


def mail_updates(context: JobContext) -> str:
    """New statements, incidents' public statements and new recipients of personal data, mailed
    once to active subscribers whose consent the ledger allows."""
    platform = context.platform
    with platform.db.transaction() as session:
        sent = send_updates(
            session,
            platform.vault,
            base_url=public_base_url(platform.settings),
            now=context.now,
            notice_days=platform.settings.trustcentre_notice_days,
            policy_file=platform.settings.consent_policy_file,
        )
    return f"{sent} updates mailed to subscribers"


def remind_reviews(context: JobContext) -> str:
    with context.platform.db.transaction() as session:
        due = due_reviews(session, context.now)
        for risk in due:
            risk.reminded_at = context.now
            audit.record(
                session,
                actor="system:risk-reviews",
                action="risk.review_overdue",
                entity_type="risk",
                entity_id=risk.id,
                changes={"owner": risk.owner, "due": risk.next_review_at.isoformat()},
            )
        return f"{len(due)} overdue risk reviews flagged"
