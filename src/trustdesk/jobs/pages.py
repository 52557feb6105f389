"""The staff page of background jobs: schedules, the latest runs, failures and durations."""

from __future__ import annotations

from fastapi import Depends, Query, Request
from starlette.responses import Response

from trustdesk.access.principal import Principal
from trustdesk.auth.http import ReadSession, require_page
from trustdesk.db import utcnow
from trustdesk.jobs import service
from trustdesk.jobs.registry import declared_jobs
from trustdesk.web.nav import NavEntry, Section
from trustdesk.web.routing import page_router
from trustdesk.web.templating import render

__all__ = ["router", "section"]

router = page_router(prefix="/jobs")
section = Section(
    router=router,
    nav=(
        NavEntry(
            "Jobs",
            "/jobs",
            permission="jobs:read",
            description="See background jobs: when they run, how long they take, what failed.",
            order=90,
        ),
    ),
)


@router.get("")
def jobs_page(
    *,
    request: Request,
    failed: bool = Query(False, description="Only failed or lost runs."),
    _: Principal = Depends(require_page("jobs:read")),
    session: ReadSession,
) -> Response:
    now = utcnow()
    jobs = service.job_views(session, declared_jobs(), now)
    runs = service.recent_runs(session, status="failed" if failed else None, limit=50)
    return render(request, "jobs/index.html", {"jobs": jobs, "runs": runs, "failed": failed})
