"""What the jobs API and `--json` output show."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["JobOut", "RunOut"]


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    description: str
    every_s: int | None = Field(description="Scheduled every this many seconds; None: triggered.")
    triggered_by: list[str] = Field(description="Events that make it due at once.")
    next_due_at: datetime | None
    pending_since: datetime | None = Field(description="An event made it due at this time.")
    retry_at: datetime | None = Field(description="A failed attempt is retried at this time.")
    running_on: str | None = Field(description="The worker holding it now, if any.")
    paused: bool
    last_status: str | None
    last_finished_at: datetime | None
    last_duration_ms: int | None
    last_error: str | None
    failures_24h: int
    runs_24h: int


class RunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    job_name: str
    due_at: datetime
    reason: str = Field(description="schedule, trigger, retry or manual")
    attempt: int
    status: str = Field(description="running, succeeded, failed or lost")
    worker: str
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    retry_at: datetime | None = Field(description="Failed, and retried at this time.")
    summary: str | None
    error: str | None
