"""Jobs under /api/v1/jobs: what is declared, when it runs, how its runs went."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query

from trustdesk.access.principal import Principal
from trustdesk.auth.http import ReadSession, WriteSession, require
from trustdesk.db import utcnow
from trustdesk.jobs import service
from trustdesk.jobs.registry import declared_jobs
from trustdesk.jobs.schemas import JobOut, RunOut
from trustdesk.problems import problem_responses

router = APIRouter(prefix="/jobs", tags=["jobs"])

JobName = Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[a-z0-9_.-]+$")]


@router.get("", response_model=list[JobOut])
def list_jobs(
    *, _: Principal = Depends(require("jobs:read")), session: ReadSession
) -> list[JobOut]:
    views = service.job_views(session, declared_jobs(), utcnow())
    return [JobOut.model_validate(v) for v in views]


@router.get("/runs", response_model=list[RunOut])
def list_runs(
    *,
    job: Annotated[str | None, Query(max_length=80)] = None,
    status: Literal["running", "succeeded", "failed", "lost"] | None = None,
    limit: int = Query(50, ge=1, le=1000),
    _: Principal = Depends(require("jobs:read")),
    session: ReadSession,
) -> list[RunOut]:
    runs = service.recent_runs(session, job=job, status=status, limit=limit)
    return [RunOut.model_validate(r) for r in runs]


@router.post(
    "/{name}/run",
    status_code=202,
    responses=problem_responses(404),
    summary="Make a job due now; a job runner picks it up within its poll interval",
)
def request_run(
    name: JobName,
    *,
    principal: Principal = Depends(require("jobs:run")),
    session: WriteSession,
) -> dict[str, str]:
    service.request_run(session, name, actor=principal.actor, now=utcnow())
    return {"job": name, "status": "due"}
