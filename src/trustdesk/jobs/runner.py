"""Runs due jobs: in a worker thread of `trustdesk serve` or `trustdesk worker`, or at once for a
command (`feedback import` runs the recompute it made stale before returning)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from trustdesk.capabilities import Job, resolve
from trustdesk.db import utcnow
from trustdesk.jobs import service
from trustdesk.jobs.context import JobContext
from trustdesk.jobs.registry import declared_jobs
from trustdesk.platform import Platform

__all__ = ["Outcome", "Runner", "worker_name"]

_log = logging.getLogger("trustdesk.jobs")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class Outcome:
    job: str
    run_id: int
    status: str
    attempt: int
    duration_ms: int
    summary: str | None
    error: str | None


class Runner:
    """Claims due jobs from the database and runs them, one at a time, in the calling thread."""

    def __init__(
        self,
        platform: Platform,
        *,
        jobs: Mapping[str, Job] | None = None,
        owner: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.platform = platform
        self.jobs = dict(declared_jobs() if jobs is None else jobs)
        self.owner = owner or worker_name()
        self.clock = clock
        self._synced = False
        self._stopping = threading.Event()

    def sync(self) -> None:
        with self.platform.db.transaction() as session:
            service.sync_jobs(session, self.jobs, self.clock())
        self._synced = True

    def run_due(self, *, only: str | None = None, limit: int = 100) -> list[Outcome]:
        """Run every job due now (or only `only`), until none is left or `limit` runs (a stopping
        runner starts no new run)."""
        if not self._synced:
            self.sync()
        names = [only] if only else list(self.jobs)
        outcomes: list[Outcome] = []
        while len(outcomes) < limit and not self._stopping.is_set():
            with self.platform.db.reading() as session:
                if not service.anything_due(session, names, self.clock()):
                    break
            with self.platform.db.transaction() as session:
                claimed = service.claim(session, self.jobs, self.owner, self.clock(), only=only)
            if claimed is None:
                break
            outcomes.append(self._execute(claimed))
        return outcomes

    def _execute(self, claimed: service.Claim) -> Outcome:
        job = self.jobs[claimed.job]
        context = JobContext(
            platform=self.platform,
            job=job.name,
            now=self.clock(),
            attempt=claimed.attempt,
            reason=claimed.reason,
            stopping=self._stopping.is_set,
        )
        started = time.perf_counter()
        summary: str | None = None
        error: str | None = None
        try:
            summary = resolve(job.run)(context)
        except Exception as exc:  # a job's failure is recorded, never kills the worker
            error = f"{type(exc).__name__}: {exc}"
            _log.warning("job failed", extra={"job": job.name, "attempt": claimed.attempt})
        duration_ms = round((time.perf_counter() - started) * 1000)
        with self.platform.db.transaction() as session:
            run = service.finish(
                session,
                job,
                claimed,
                self.owner,
                self.clock(),
                summary=summary,
                error=error,
                duration_ms=duration_ms,
            )
            status = run.status
        return Outcome(
            job=job.name,
            run_id=claimed.run_id,
            status=status,
            attempt=claimed.attempt,
            duration_ms=duration_ms,
            summary=summary,
            error=error,
        )

    def start(self, poll_s: float) -> Callable[[], None]:
        """Run due jobs from a thread of its own every `poll_s` seconds; returns the stopper (a
        running job sees `context.stopping()` turn true)."""
        stop = self._stopping

        def loop() -> None:
            while not stop.is_set():
                try:
                    self.run_due()
                except Exception:  # the database was away: try again next round
                    _log.exception("job runner round failed")
                stop.wait(poll_s)

        thread = threading.Thread(target=loop, name="trustdesk-jobs", daemon=True)
        thread.start()

        def halt() -> None:
            stop.set()
            thread.join(timeout=60)

        return halt
