"""Trust's background work for the job system: fold new evidence into the index and evaluate
alerts (the recompute raises alerts for the days it changed)."""

from __future__ import annotations

from trustdesk.jobs.public import JobContext
from trustdesk.trust import service

__all__ = ["recompute"]


def recompute(context: JobContext) -> str:
    """Incremental recompute; triggered by new feedback or payments, and on a schedule."""
    platform = context.platform
    with platform.db.transaction() as session:
        report = service.recompute(session, service.TrustParams.from_settings(platform.settings))
    return f"{report.observations} new observations, {report.alerts_raised} alerts ({report.mode})"
