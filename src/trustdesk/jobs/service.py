"""Claiming, finishing and listing job runs. Services never commit: the runner owns transactions.

A claim is one short transaction: the due job's row is locked (`FOR UPDATE SKIP LOCKED` on
PostgreSQL, so a second worker passes over it instead of waiting; SQLite's `BEGIN IMMEDIATE`
serialises writers anyway), its due markers are consumed, a lease is written and a run row is
inserted. The run itself happens outside any transaction; a second transaction records how it
ended. (job, due time, attempt) is unique in `job_runs`, so even a worker that ignored the lease
could not record a second run of the same due time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from trustdesk import audit
from trustdesk.capabilities import Job
from trustdesk.errors import Conflict
from trustdesk.jobs.models import JobRun, JobState
from trustdesk.jobs.registry import job_named, triggered_by
from trustdesk.jobs.schedule import backoff, next_due

__all__ = [
    "Claim",
    "JobView",
    "anything_due",
    "claim",
    "finish",
    "job_views",
    "mark_changed",
    "recent_runs",
    "request_run",
    "set_paused",
    "sync_jobs",
]

_MAX_ERROR = 2000
FAILED = "job.failed"
"""The event of a run that failed after its last attempt."""


@dataclass(frozen=True)
class Claim:
    run_id: int
    job: str
    attempt: int
    reason: str
    due_at: datetime


@dataclass(frozen=True)
class JobView:
    name: str
    description: str
    every_s: int | None
    triggered_by: tuple[str, ...]
    next_due_at: datetime | None
    pending_since: datetime | None
    retry_at: datetime | None
    running_on: str | None
    paused: bool
    last_status: str | None
    last_finished_at: datetime | None
    last_duration_ms: int | None
    last_error: str | None
    failures_24h: int
    runs_24h: int


def sync_jobs(session: Session, jobs: Mapping[str, Job], now: datetime) -> None:
    """Make sure every declared job has its row, and a scheduled one a next due time."""
    existing = {s.name: s for s in session.scalars(select(JobState))}
    rows = [
        {
            "name": job.name,
            "next_due_at": next_due(job.every_s, now) if job.every_s else None,
            "attempt": 0,
            "paused": False,
            "updated_at": now,
        }
        for job in jobs.values()
        if job.name not in existing
    ]
    if rows:
        session.execute(_insert_state(session).values(rows).on_conflict_do_nothing())
    for job in jobs.values():
        state = existing.get(job.name)
        if state is None:
            continue
        if job.every_s and state.next_due_at is None:
            state.next_due_at = next_due(job.every_s, now)
        elif not job.every_s and state.next_due_at is not None:
            state.next_due_at = None
    session.flush()


def mark_changed(session: Session, event: str, now: datetime) -> list[str]:
    """Make every job `event` triggers due now (coalesced with a trigger not yet picked up)."""
    names = [job.name for job in triggered_by(event)]
    for name in names:
        result = session.connection().execute(
            update(JobState)
            .where(JobState.name == name, JobState.pending_since.is_(None))
            .values(pending_since=now, updated_at=now)
        )
        if result.rowcount == 0 and session.get(JobState, name) is None:
            session.execute(
                _insert_state(session)
                .values(name=name, pending_since=now, attempt=0, paused=False, updated_at=now)
                .on_conflict_do_nothing()
            )
    return names


def _insert_state(session: Session) -> Any:
    """An insert of job rows that skips names already there (a racing worker's), either engine."""
    if session.get_bind().dialect.name == "postgresql":
        return pg_insert(JobState)
    return sqlite_insert(JobState)


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(JobState.next_due_at <= now, JobState.pending_since <= now, JobState.retry_at <= now)


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(JobState.lease_until.is_(None), JobState.lease_until < now)


def anything_due(session: Session, names: list[str], now: datetime) -> bool:
    """A cheap read before taking a writer's turn: is any of `names` due and unheld?"""
    found = session.scalar(
        select(JobState.name)
        .where(JobState.name.in_(names), JobState.paused.is_(False), _due(now), _claimable(now))
        .limit(1)
    )
    return found is not None


def claim(
    session: Session,
    jobs: Mapping[str, Job],
    owner: str,
    now: datetime,
    *,
    only: str | None = None,
) -> Claim | None:
    """Take the oldest due job among `jobs` (or `only`): lease it, record its run as started."""
    names = [only] if only else list(jobs)
    state = session.scalars(
        select(JobState)
        .where(JobState.name.in_(names), JobState.paused.is_(False), _due(now), _claimable(now))
        .order_by(func.coalesce(JobState.retry_at, JobState.pending_since, JobState.next_due_at))
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if state is None:
        return None
    job = jobs[state.name]
    if state.lease_owner is not None:  # the previous holder's lease ran out: its run is lost
        session.execute(
            update(JobRun)
            .where(JobRun.job_name == state.name, JobRun.status == "running")
            .values(status="lost", finished_at=now, error="lease expired before the run ended")
        )
    candidates = []
    if state.retry_at is not None and state.retry_at <= now:
        candidates.append(("retry", state.retry_at))
    if state.pending_since is not None and state.pending_since <= now:
        candidates.append(("trigger", state.pending_since))
    if state.next_due_at is not None and state.next_due_at <= now:
        candidates.append(("schedule", state.next_due_at))
    reason, due_at = candidates[0]
    attempt = state.attempt + 1 if reason == "retry" else 1
    # One run answers every due marker that has passed: a schedule and a trigger together, or a
    # retry, give one run, not two.
    if state.next_due_at is not None and state.next_due_at <= now and job.every_s:
        state.next_due_at = next_due(job.every_s, now)
    if state.pending_since is not None and state.pending_since <= now:
        state.pending_since = None
    state.retry_at = None
    state.attempt = attempt
    state.lease_owner, state.lease_until = owner, now + timedelta(seconds=job.lease_s)
    state.updated_at = now
    run = JobRun(
        job_name=state.name,
        due_at=due_at,
        reason=reason,
        attempt=attempt,
        status="running",
        worker=owner,
        started_at=now,
    )
    session.add(run)
    session.flush()
    return Claim(run_id=run.id, job=state.name, attempt=attempt, reason=reason, due_at=due_at)


def finish(
    session: Session,
    job: Job,
    claimed: Claim,
    owner: str,
    now: datetime,
    *,
    summary: str | None = None,
    error: str | None = None,
    duration_ms: int,
) -> JobRun:
    """Record how a run ended; a failure with attempts left schedules a retry (back-off)."""
    run = session.get(JobRun, claimed.run_id)
    state = session.get(JobState, claimed.job)
    if run is None or state is None:  # pragma: no cover - rows are never deleted under a run
        raise Conflict(f"run {claimed.run_id} of {claimed.job} vanished")
    run.finished_at, run.duration_ms = now, duration_ms
    run.summary = summary[:_MAX_ERROR] if summary else None
    if error is None:
        run.status = "succeeded"
        state.attempt = 0
    else:
        run.status, run.error = "failed", error[:_MAX_ERROR]
        if claimed.attempt < job.max_attempts:
            run.retry_at = state.retry_at = now + backoff(claimed.attempt, job.retry_s)
        else:
            state.attempt = 0
            # Given up: jobs that report failures run now (but never for their own failure,
            # which would trigger them again and again).
            if job.name not in {j.name for j in triggered_by(FAILED)}:
                mark_changed(session, FAILED, now)
    if state.lease_owner == owner:
        state.lease_owner = state.lease_until = None
    state.updated_at = now
    session.flush()
    return run


def request_run(session: Session, name: str, *, actor: str, now: datetime) -> None:
    """Make a job due now (staff asked for it), audited."""
    job_named(name)
    if session.get(JobState, name) is None:
        session.execute(
            _insert_state(session)
            .values(name=name, attempt=0, paused=False, updated_at=now)
            .on_conflict_do_nothing()
        )
    session.execute(
        update(JobState)
        .where(JobState.name == name)
        .values(pending_since=func.coalesce(JobState.pending_since, now), updated_at=now)
    )
    audit.record(
        session,
        actor=actor,
        action="job.requested",
        entity_type="job",
        entity_id=name,
        changes={},
    )


def set_paused(session: Session, name: str, paused: bool, *, actor: str, now: datetime) -> None:
    """Pause or resume a job (a paused job is never claimed; a trigger waits for the resume)."""
    job = job_named(name)
    if session.get(JobState, name) is None:
        session.execute(
            _insert_state(session)
            .values(name=name, attempt=0, paused=False, updated_at=now)
            .on_conflict_do_nothing()
        )
    state = session.get(JobState, name)
    assert state is not None
    if state.paused == paused:
        return
    state.paused, state.updated_at = paused, now
    if not paused and job.every_s and (state.next_due_at is None or state.next_due_at < now):
        state.next_due_at = next_due(job.every_s, now)  # no burst of missed runs
    audit.record(
        session,
        actor=actor,
        action="job.paused" if paused else "job.resumed",
        entity_type="job",
        entity_id=name,
        changes={},
    )
    session.flush()


def recent_runs(
    session: Session,
    *,
    job: str | None = None,
    status: str | None = None,
    limit: int = 50,
) -> list[JobRun]:
    query = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
    if job:
        query = query.where(JobRun.job_name == job)
    if status:
        query = query.where(JobRun.status == status)
    return list(session.scalars(query))


def job_views(session: Session, jobs: Mapping[str, Job], now: datetime) -> list[JobView]:
    """Every declared job with its state, its latest finished run and its last day's counts."""
    states = {s.name: s for s in session.scalars(select(JobState))}
    since = now - timedelta(days=1)
    counts: dict[tuple[str, str], int] = {
        (name, status): int(n)
        for name, status, n in session.execute(
            select(JobRun.job_name, JobRun.status, func.count())
            .where(JobRun.started_at >= since)
            .group_by(JobRun.job_name, JobRun.status)
        )
    }
    views = []
    for job in jobs.values():
        state = states.get(job.name)
        last = session.scalars(
            select(JobRun)
            .where(JobRun.job_name == job.name, JobRun.finished_at.is_not(None))
            .order_by(JobRun.started_at.desc(), JobRun.id.desc())
            .limit(1)
        ).first()
        live = state is not None and state.lease_until is not None and state.lease_until >= now
        views.append(
            JobView(
                name=job.name,
                description=job.description,
                every_s=job.every_s,
                triggered_by=job.triggered_by,
                next_due_at=state.next_due_at if state else None,
                pending_since=state.pending_since if state else None,
                retry_at=state.retry_at if state else None,
                running_on=state.lease_owner if live and state else None,
                paused=state.paused if state else False,
                last_status=last.status if last else None,
                last_finished_at=last.finished_at if last else None,
                last_duration_ms=last.duration_ms if last else None,
                last_error=last.error if last else None,
                failures_24h=counts.get((job.name, "failed"), 0)
                + counts.get((job.name, "lost"), 0),
                runs_24h=sum(n for (name, _), n in counts.items() if name == job.name),
            )
        )
    return views
