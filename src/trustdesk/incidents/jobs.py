"""Incidents' background work for the job system: legal clocks run whether or not anyone opens
the incident page, so an obligation turning amber, red or overdue raises its alert on time."""

from __future__ import annotations

from trustdesk.incidents.public import evaluate_clocks
from trustdesk.jobs.public import JobContext

__all__ = ["evaluate"]


def evaluate(context: JobContext) -> str:
    """Re-evaluate open incidents' obligations and raise alerts for clocks that changed level."""
    run = evaluate_clocks(context.platform, context.now)
    return f"{run.alerts} clock alerts, {run.reevaluated} incidents re-evaluated"
