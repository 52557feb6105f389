"""The jobs table (one row per declared job: when it is next due, who holds it), its runs, and
the queue of uploaded files the upload jobs import."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from trustdesk.db import Base, UTCDateTime

__all__ = ["JobRun", "JobState", "UploadJob", "UploadReject"]


class JobState(Base):
    """A declared job's schedule and lease. A job is due when any of `next_due_at` (its schedule),
    `pending_since` (an event made it stale) or `retry_at` (a failed attempt) has passed, and no
    live lease is held on it."""

    __tablename__ = "jobs"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(120), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    paused: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class JobRun(Base):
    """One attempt at a job. (job, due time, attempt) is unique: the database itself refuses a
    second run of the same due time, whatever the workers do."""

    __tablename__ = "job_runs"
    __table_args__ = (
        UniqueConstraint("job_name", "due_at", "attempt", name="uq_job_runs_due"),
        Index("ix_job_runs_job_started", "job_name", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_name: Mapped[str] = mapped_column(String(80), nullable=False)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    reason: Mapped[str] = mapped_column(String(16), nullable=False)  # schedule|trigger|retry|manual
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    worker: Mapped[str] = mapped_column(String(120), nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class UploadJob(Base):
    """A file uploaded on a web page and imported by a queued job (`trustdesk.jobs.uploads`): what
    was sent, by whom, and how far its import has got. Counts advance in the transaction of each
    stored batch, so after a crash they say exactly what is stored and where to resume."""

    __tablename__ = "upload_jobs"
    __table_args__ = (Index("ix_upload_jobs_owner_kind", "owner", "kind", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)  # customers, feedback
    owner: Mapped[int] = mapped_column(Integer, nullable=False)  # the user who uploaded it
    actor: Mapped[str] = mapped_column(String(120), nullable=False)  # audited as them
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    path: Mapped[str] = mapped_column(Text, nullable=False)  # the saved copy (deleted at the end)
    options: Mapped[str] = mapped_column(Text, nullable=False)  # JSON: the form's choices
    estimate: Mapped[int] = mapped_column(Integer, nullable=False)
    # queued, storing, analysing (feedback), done, failed
    state: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    resume_after: Mapped[int] = mapped_column(Integer, nullable=False)  # last row stored
    processed: Mapped[int] = mapped_column(Integer, nullable=False)
    created: Mapped[int] = mapped_column(Integer, nullable=False)
    updated: Mapped[int] = mapped_column(Integer, nullable=False)
    unchanged: Mapped[int] = mapped_column(Integer, nullable=False)
    analysed: Mapped[int] = mapped_column(Integer, nullable=False)
    rejected: Mapped[int] = mapped_column(Integer, nullable=False)
    slices: Mapped[int] = mapped_column(Integer, nullable=False)  # runs that worked on it
    interrupted: Mapped[int] = mapped_column(Integer, nullable=False)  # runs that never ended
    worker: Mapped[str | None] = mapped_column(String(120), nullable=True)  # while a run holds it
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class UploadReject(Base):
    """One rejected row of an upload: its number in clear, its id and reason sealed (an id or a
    reason may quote personal data)."""

    __tablename__ = "upload_rejects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    upload_id: Mapped[int] = mapped_column(
        ForeignKey("upload_jobs.id", ondelete="CASCADE"), nullable=False, index=True
    )
    row: Mapped[int] = mapped_column(Integer, nullable=False)
    sealed: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
