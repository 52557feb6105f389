"""What capabilities use of the job system: the context their job functions receive, `changed`
(an event that makes the jobs it triggers due, in the caller's transaction) and `run_triggered`
(a command runs at once what its change made due, instead of waiting for a worker), and the
queue of uploaded files that upload jobs import (`jobs.uploads`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from trustdesk.db import utcnow
from trustdesk.jobs import service
from trustdesk.jobs.context import JobContext
from trustdesk.jobs.models import JobRun
from trustdesk.jobs.registry import triggered_by
from trustdesk.jobs.runner import Runner
from trustdesk.jobs.uploads import (
    Rejected,
    Upload,
    UploadTask,
    find_upload,
    queue_upload,
    recent_uploads,
    run_uploads,
    upload_rejects,
)
from trustdesk.platform import Platform

__all__ = [
    "FailedRun",
    "JobContext",
    "Rejected",
    "RunResult",
    "Upload",
    "UploadTask",
    "changed",
    "failed_runs_since",
    "find_upload",
    "pause",
    "queue_upload",
    "recent_uploads",
    "run_triggered",
    "run_uploads",
    "upload_rejects",
]


@dataclass(frozen=True)
class RunResult:
    job: str
    status: str  # succeeded or failed
    duration_ms: int
    summary: str | None
    error: str | None


def changed(session: Session, event: str, *, now: datetime | None = None) -> list[str]:
    """Record that `event` happened (e.g. "feedback.analysed"): every job it triggers becomes due.

    Runs in the caller's transaction, so the jobs become due only if the change commits. Returns
    the names of the jobs made due.
    """
    return service.mark_changed(session, event, now or utcnow())


def run_triggered(platform: Platform, event: str) -> list[RunResult]:
    """Run now, in this thread, the jobs `event` triggers that are due (a command that changed
    data and wants its results fresh before it returns). A job another worker is running already
    is left to it."""
    runner = Runner(platform)
    results = []
    for job in triggered_by(event):
        for o in runner.run_due(only=job.name, limit=1):
            results.append(RunResult(o.job, o.status, o.duration_ms, o.summary, o.error))
    return results


def pause(session: Session, name: str, *, actor: str, now: datetime | None = None) -> None:
    """Stop a job from running until `trustdesk jobs resume NAME` (audited)."""
    service.set_paused(session, name, True, actor=actor, now=now or utcnow())


@dataclass(frozen=True)
class FailedRun:
    """A run that failed for good (no retry left) or was lost with its worker."""

    run_id: int
    job: str
    status: str
    attempt: int
    finished_at: datetime
    error: str | None


def failed_runs_since(session: Session, since: datetime, *, limit: int = 500) -> list[FailedRun]:
    """Runs that ended at or after `since` as a final failure, oldest first."""
    rows = session.scalars(
        select(JobRun)
        .where(
            JobRun.finished_at >= since,
            or_(
                and_(JobRun.status == "failed", JobRun.retry_at.is_(None)),
                JobRun.status == "lost",
            ),
        )
        .order_by(JobRun.finished_at, JobRun.id)
        .limit(limit)
    )
    return [
        FailedRun(r.id, r.job_name, r.status, r.attempt, r.finished_at or since, r.error)
        for r in rows
    ]
