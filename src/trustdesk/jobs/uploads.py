"""Uploaded files imported by queued jobs, with their progress in the database.

A web page saves the file (owner-only, under the data directory) and queues it here in one
transaction that also makes the capability's upload job due (`changed(session, event)`). The job
(declared in the manifest like any other, e.g. `customers.uploads`) takes the oldest unfinished
upload of its kind and hands it to the capability's import work as an `UploadTask`. The work
stores rows in committed batches through the same services as the CLI, and each batch's
transaction also advances the upload's counts and its resume point, so any worker's page shows the
same progress and a run that dies leaves the record saying exactly what is stored.

A run works for at most `SLICE_S` seconds, then makes its job due again and returns: other jobs
get their turn, and no run outlives its lease. A server shutting down ends the run after the
batch in hand, so another process takes over at once. A run that dies (kill, crash) leaves its
lease; once the lease expires the job's schedule claims it again (`claim` marks the dead run
`lost`) and the import resumes after the last stored row. The file is deleted when the import
ends.

Rejected rows keep their number in clear; their id and reason are sealed (either may quote personal
data). Only the uploader sees an upload.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from trustdesk import audit
from trustdesk.crypto import Vault
from trustdesk.db import Database, utcnow
from trustdesk.errors import DomainError, NotFound
from trustdesk.jobs.context import JobContext
from trustdesk.jobs.models import UploadJob, UploadReject
from trustdesk.jobs.service import mark_changed

__all__ = [
    "KEEP",
    "KEEP_DAYS",
    "SLICE_S",
    "Paused",
    "Rejected",
    "ReportLike",
    "RowLike",
    "Upload",
    "UploadTask",
    "UploadWork",
    "count_rows",
    "find_upload",
    "queue_upload",
    "recent_uploads",
    "run_uploads",
    "upload_rejects",
]

KEEP = 50  # finished uploads kept per user and kind (older ones are forgotten)
KEEP_DAYS = 30  # and none finished longer ago than this
SLICE_S = 120.0  # a run's working time before it hands over (far below any job's lease)
MAX_INTERRUPTIONS = 3  # runs that died or failed on one upload before it is given up
_SHOWN = 50  # rejected rows on the progress page (all of them in the download)
_SEAL = "upload-reject"
_RUNNING = ("queued", "storing", "analysing")
_CHUNK = 1024 * 1024


class RowLike(Protocol):
    """A rejected row as the import services report it."""

    @property
    def row(self) -> int: ...
    @property
    def external_id(self) -> str | None: ...
    @property
    def reason(self) -> str: ...


class ReportLike(Protocol):
    """An import service's report (so far) as an upload records it: its counts and rejected rows.
    A report that also counts rows `updated` in place (customers) has those recorded too."""

    @property
    def created(self) -> int: ...
    @property
    def unchanged(self) -> int: ...
    @property
    def stored(self) -> int: ...
    @property
    def rejected(self) -> Sequence[RowLike]: ...


@dataclass(frozen=True)
class Rejected:
    row: int
    external_id: str | None
    reason: str


@dataclass(frozen=True)
class Upload:
    """One upload's progress as its pages show it."""

    id: str
    owner: int
    kind: str
    filename: str
    estimate: int  # rows in the file, counted from its lines (multi-line cells make it high)
    state: str  # queued, storing, analysing, done, failed
    processed: int
    created: int
    updated: int
    unchanged: int
    analysed: int
    rejected_count: int
    rejected: tuple[Rejected, ...]  # the first rejected rows (empty in lists)
    error: str | None
    started: datetime
    finished: datetime | None

    @property
    def running(self) -> bool:
        return self.state in _RUNNING

    @property
    def percent(self) -> int:
        if not self.running:
            return 100
        if not self.estimate:
            return 0
        return min(99, round(100 * self.processed / self.estimate))


def _view(row: UploadJob, rejected: tuple[Rejected, ...] = ()) -> Upload:
    return Upload(
        id=row.public_id,
        owner=row.owner,
        kind=row.kind,
        filename=row.filename,
        estimate=row.estimate,
        state=row.state,
        processed=row.processed,
        created=row.created,
        updated=row.updated,
        unchanged=row.unchanged,
        analysed=row.analysed,
        rejected_count=row.rejected,
        rejected=rejected,
        error=row.error,
        started=row.started_at,
        finished=row.finished_at,
    )


def count_rows(path: Path) -> int:
    """Rows in a CSV or JSONL file from its line count (0 for a compressed one: unknown)."""
    if path.name.endswith(".gz"):
        return 0
    with path.open("rb") as fh:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(_CHUNK), b""))
    return max(0, lines - (0 if path.name.endswith(".jsonl") else 1))


def queue_upload(
    db: Database,
    *,
    kind: str,
    event: str,
    owner: int,
    actor: str,
    path: Path,
    options: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> Upload:
    """Queue a saved file for its kind's upload job and make that job due, in one transaction
    (the file is removed if that fails)."""
    try:
        with db.transaction() as session:
            return _queue(session, kind, event, owner, actor, path, options, now or utcnow())
    except BaseException:
        _remove(str(path))
        raise


def _queue(
    session: Session,
    kind: str,
    event: str,
    owner: int,
    actor: str,
    path: Path,
    options: Mapping[str, str] | None,
    now: datetime,
) -> Upload:
    row = UploadJob(
        public_id=secrets.token_urlsafe(12),
        kind=kind,
        owner=owner,
        actor=actor,
        filename=path.name[:255],
        path=str(path),
        options=json.dumps(dict(options or {}), sort_keys=True),
        estimate=count_rows(path),
        state="queued",
        resume_after=0,
        processed=0,
        created=0,
        updated=0,
        unchanged=0,
        analysed=0,
        rejected=0,
        slices=0,
        interrupted=0,
        started_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="upload.queued",
        entity_type="upload",
        entity_id=row.public_id,
        changes={"kind": kind, "estimate": row.estimate},
    )
    _forget_old(session, owner, kind, now)
    mark_changed(session, event, now)
    return _view(row)


def _forget_old(session: Session, owner: int, kind: str, now: datetime) -> None:
    """Finished uploads past the user's latest `KEEP`, and anyone's finished over `KEEP_DAYS`
    ago, are forgotten with their rejected rows."""
    old = session.scalars(
        select(UploadJob.id)
        .where(
            UploadJob.owner == owner,
            UploadJob.kind == kind,
            UploadJob.state.in_(["done", "failed"]),
        )
        .order_by(UploadJob.id.desc())
        .offset(KEEP)
    ).all()
    old = [
        *old,
        *session.scalars(
            select(UploadJob.id).where(UploadJob.finished_at < now - timedelta(days=KEEP_DAYS))
        ),
    ]
    if old:
        session.execute(delete(UploadReject).where(UploadReject.upload_id.in_(old)))
        session.execute(delete(UploadJob).where(UploadJob.id.in_(old)))


def _mine(session: Session, public_id: str, owner: int) -> UploadJob:
    row = session.scalars(select(UploadJob).where(UploadJob.public_id == public_id[:32])).first()
    if row is None or row.owner != owner:
        raise NotFound("no such upload")
    return row


def _rejects(
    session: Session, vault: Vault, upload: UploadJob, limit: int | None
) -> list[Rejected]:
    query = (
        select(UploadReject)
        .where(UploadReject.upload_id == upload.id)
        .order_by(UploadReject.row, UploadReject.id)
    )
    if limit is not None:
        query = query.limit(limit)
    found = []
    for r in session.scalars(query):
        external_id, reason = json.loads(vault.unseal(_SEAL, r.sealed))
        found.append(Rejected(r.row, external_id, reason))
    return found


def find_upload(session: Session, vault: Vault, public_id: str, owner: int) -> Upload:
    """The upload with its first rejected rows; NotFound unless `owner` uploaded it."""
    row = _mine(session, public_id, owner)
    return _view(row, tuple(_rejects(session, vault, row, _SHOWN)))


def upload_rejects(session: Session, vault: Vault, public_id: str, owner: int) -> list[Rejected]:
    """Every rejected row of the owner's upload, by row number."""
    return _rejects(session, vault, _mine(session, public_id, owner), None)


def recent_uploads(session: Session, owner: int, kind: str, limit: int = 10) -> list[Upload]:
    rows = session.scalars(
        select(UploadJob)
        .where(UploadJob.owner == owner, UploadJob.kind == kind)
        .order_by(UploadJob.id.desc())
        .limit(limit)
    )
    return [_view(r) for r in rows]


class Paused(Exception):
    """The run's working time is over: the import goes on in the job's next run."""


class UploadTask:
    """One run's hold on an upload: what to import, from where, and the calls that record it.

    `stored` and `analysed` run inside the import's own batch transaction, so the counts and
    the resume point commit with the rows; `checkpoint` (after a batch commits) ends the run when
    its working time is over.
    """

    def __init__(
        self, row: UploadJob, deadline: float, stopping: Callable[[], bool] = lambda: False
    ) -> None:
        self.upload_id = row.id
        self.public_id = row.public_id
        self.kind = row.kind
        self.actor = row.actor
        self.path = Path(row.path)
        self.options: dict[str, str] = json.loads(row.options)
        self.state = row.state
        self.resume_after = row.resume_after
        self._base = {
            "processed": row.processed,
            "created": row.created,
            "updated": row.updated,
            "unchanged": row.unchanged,
            "analysed": row.analysed,
        }
        self._mark = row.resume_after  # rejected rows up to here are recorded
        self._deadline = deadline
        self._stopping = stopping

    def _row(self, session: Session) -> UploadJob:
        row = session.get(UploadJob, self.upload_id)
        if row is None:  # pragma: no cover - uploads are only forgotten once finished
            raise NotFound("the upload was forgotten while it was imported")
        return row

    def _reject(
        self, session: Session, vault: Vault, rejected: Iterable[RowLike], upto: int | None
    ) -> int:
        new = [r for r in rejected if r.row > self._mark and (upto is None or r.row <= upto)]
        for r in new:
            blob = vault.seal(_SEAL, json.dumps([r.external_id, r.reason]))
            session.add(UploadReject(upload_id=self.upload_id, row=r.row, sealed=blob))
        return len(new)

    def _count(self, row: UploadJob, report: ReportLike) -> None:
        row.processed = self._base["processed"] + report.stored + len(report.rejected)
        row.created = self._base["created"] + report.created
        row.updated = self._base["updated"] + int(getattr(report, "updated", 0))
        row.unchanged = self._base["unchanged"] + report.unchanged

    def stored(self, session: Session, vault: Vault, report: ReportLike, last_row: int) -> None:
        """In a stored batch's transaction: this run's report so far, rows up to `last_row` done
        (an import service's `in_batch(session, report, last_row)`, given the vault)."""
        row = self._row(session)
        row.rejected += self._reject(session, vault, report.rejected, last_row)
        self._mark = max(self._mark, last_row)
        row.resume_after = max(row.resume_after, last_row)
        self._count(row, report)
        session.flush()

    def storing_done(
        self, session: Session, vault: Vault, report: ReportLike, *, then: str = "done"
    ) -> None:
        """Every row stored or rejected: this run's final report; `then="analysing"` moves on to
        analysis."""
        row = self._row(session)
        row.rejected += self._reject(session, vault, report.rejected, None)
        self._mark = row.resume_after = max([row.resume_after, *(r.row for r in report.rejected)])
        self._count(row, report)
        if then == "analysing":
            row.state = self.state = "analysing"
        session.flush()

    def analysed(self, session: Session, done: int) -> None:
        """In an analysis batch's transaction: rows this run has analysed so far."""
        self._row(session).analysed = self._base["analysed"] + done
        session.flush()

    def checkpoint(self) -> None:
        """After a committed batch: end this run if its working time is over or its runner is
        stopping (a server shutting down hands the rest over instead of being cut off)."""
        if time.monotonic() >= self._deadline or self._stopping():
            raise Paused()


UploadWork = Callable[[UploadTask], None]


def _worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _take(
    session: Session, kind: str, deadline: float, stopping: Callable[[], bool]
) -> tuple[UploadTask | None, str | None]:
    """The oldest unfinished upload of `kind`, held for this run; or one given up (its file)."""
    row = session.scalars(
        select(UploadJob)
        .where(UploadJob.kind == kind, UploadJob.state.in_(_RUNNING))
        .order_by(UploadJob.id)
        .limit(1)
    ).first()
    if row is None:
        return None, None
    if row.worker is not None:  # the run that held it died without letting go
        row.interrupted += 1
    if row.interrupted >= MAX_INTERRUPTIONS:
        _end(
            session,
            row,
            "failed",
            "the import was interrupted too often (see `trustdesk jobs runs`)",
        )
        return None, row.path
    if not Path(row.path).is_file():
        _end(
            session,
            row,
            "failed",
            "the uploaded file is not on this machine (run workers where the data directory is)",
        )
        return None, row.path
    row.worker = _worker()
    row.slices += 1
    if row.state == "queued":
        row.state = "storing"
    session.flush()
    return UploadTask(row, deadline, stopping), None


def _end(session: Session, row: UploadJob, state: str, error: str | None) -> None:
    row.state, row.error, row.worker, row.finished_at = state, error, None, utcnow()
    audit.record(
        session,
        actor=row.actor,
        action="upload.imported" if state == "done" else "upload.failed",
        entity_type="upload",
        entity_id=row.public_id,
        changes={
            "kind": row.kind,
            "processed": row.processed,
            "created": row.created,
            "updated": row.updated,
            "unchanged": row.unchanged,
            "rejected": row.rejected,
            "analysed": row.analysed,
        },
    )
    session.flush()


def _remove(path: str | None) -> None:
    if path:
        shutil.rmtree(Path(path).parent, ignore_errors=True)


def run_uploads(
    context: JobContext,
    *,
    kind: str,
    event: str,
    work: UploadWork,
    slice_s: float | None = None,
) -> str:
    """The body of an upload job: import queued uploads of `kind` one after another with `work`
    until none is left or the working time is over (then the job is made due again)."""
    db = context.platform.db
    deadline = time.monotonic() + (SLICE_S if slice_s is None else slice_s)
    finished: list[str] = []
    while True:
        with db.transaction() as session:
            task, dropped = _take(session, kind, deadline, context.stopping)
        _remove(dropped)
        if dropped:
            finished.append("1 given up")
            continue
        if task is None:
            break
        try:
            work(task)
        except Paused:
            with db.transaction() as session:
                task._row(session).worker = None
                mark_changed(session, event, utcnow())
            return _summary(finished, f"{kind} upload {task.public_id}: paused, goes on next run")
        except DomainError as exc:  # the file itself is wrong: say why on its page
            with db.transaction() as session:
                _end(session, task._row(session), "failed", exc.detail)
            _remove(str(task.path))
            finished.append("1 failed")
            continue
        except Exception:
            with db.transaction() as session:  # the next run resumes it, a few times at most
                row = task._row(session)
                row.worker, row.interrupted = None, row.interrupted + 1
            raise
        with db.transaction() as session:
            _end(session, task._row(session), "done", None)
        _remove(str(task.path))
        finished.append("1 imported")
        if time.monotonic() >= deadline or context.stopping():
            with db.transaction() as session:
                mark_changed(session, event, utcnow())
            break
    return _summary(finished, None)


def _summary(finished: list[str], tail: str | None) -> str:
    counts: dict[str, int] = {}
    for item in finished:
        counts[item] = counts.get(item, 0) + 1
    parts = [f"{n} {what.split(' ', 1)[1]}" for what, n in counts.items()]
    if tail:
        parts.append(tail)
    return "; ".join(parts) or "no upload waiting"
