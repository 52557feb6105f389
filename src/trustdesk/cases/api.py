"""Case endpoints under /api/v1/cases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as FastPath
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from trustdesk.access.principal import Principal
from trustdesk.auth.http import (
    ReadSession,
    WriteSession,
    current_principal,
    get_platform,
    require,
)
from trustdesk.bounds import RowId
from trustdesk.cases import service
from trustdesk.cases.errors import InvalidCase
from trustdesk.cases.group_commit import IntakeWriter
from trustdesk.cases.intake import open_many, parse_case
from trustdesk.cases.routing import classifier_for
from trustdesk.cases.schemas import (
    CaseDetail,
    CaseIn,
    CaseLinkKind,
    CaseOpened,
    CaseStatus,
    InboxPage,
    Words,
)
from trustdesk.cases.stats import case_figures
from trustdesk.cases.templates import TemplateOut, apply_macro, list_templates, render_template
from trustdesk.platform import Platform
from trustdesk.problems import problem_responses

router = APIRouter(prefix="/cases", tags=["cases"])


class RenderedTemplate(BaseModel):
    name: str
    text: str


@router.post(
    "",
    response_model=CaseOpened,
    status_code=201,
    responses={
        200: {"model": CaseOpened, "description": "Already opened"},
        **problem_responses(404),
    },
)
async def post_case(*, body: CaseIn, request: Request, response: Response) -> CaseOpened:
    """Open a case, routed by intent; the same (channel, external id) again returns it (200).
    Needs `cases:write`.

    Concurrent requests are written together, one transaction for all that arrived while the
    previous one was being written (`group_commit.py`); each is answered after its commit."""
    principal = await run_in_threadpool(_writer_caller, request)
    opened = await intake_writer(request).submit(body, principal.actor)
    if not opened.created:
        response.status_code = 200
    return opened


def _writer_caller(request: Request) -> Principal:
    principal = current_principal(request, request.app.state.platform)
    principal.require("cases:write")
    return principal


def intake_writer(request: Request) -> IntakeWriter:
    """The app's one group-commit writer for single-case intake (made on first use)."""
    state = request.app.state
    writer: IntakeWriter | None = getattr(state, "case_intake", None)
    if writer is None:
        writer = state.case_intake = IntakeWriter(state.platform, state.metrics)
    return writer


class BatchIn(BaseModel):
    cases: list[dict[str, Any]] = Field(
        min_length=1, max_length=500, description="Up to 500 cases, each as for POST /cases."
    )


class BatchItem(BaseModel):
    index: int
    case: CaseOpened | None = None
    error: str | None = None


class BatchOut(BaseModel):
    created: int
    unchanged: int
    rejected: int
    results: list[BatchItem]


@router.post("/batch", response_model=BatchOut)
def post_cases(
    *,
    body: BatchIn,
    principal: Principal = Depends(require("cases:write")),
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> BatchOut:
    """Open many cases in one transaction (channel integrations, bulk loads): each is routed and
    idempotent as for POST /cases; a bad one is named by its index and skipped, the good kept."""
    results: list[BatchItem] = []
    parsed: list[CaseIn] = []
    for index, data in enumerate(body.cases):
        try:
            parsed.append(parse_case({k: v for k, v in data.items() if v not in (None, "")}))
        except InvalidCase as exc:
            results.append(BatchItem(index=index, error=exc.detail))
            continue
        results.append(BatchItem(index=index))
    opened = iter(
        open_many(
            session,
            platform.vault,
            parsed,
            classify=classifier_for(platform.settings),
            actor=principal.actor,
        )
    )
    for item in results:
        if item.error is None:
            result = next(opened)
            if isinstance(result, str):
                item.error = result
            else:
                item.case = result
    created = sum(1 for r in results if r.case is not None and r.case.created)
    rejected = sum(1 for r in results if r.error is not None)
    return BatchOut(
        created=created,
        unchanged=len(results) - created - rejected,
        rejected=rejected,
        results=results,
    )


@router.get("", response_model=InboxPage)
def inbox(
    *,
    queue: str | None = Query(None, max_length=64),
    status: CaseStatus | None = None,
    cursor: RowId | None = None,
    limit: int = Query(50, ge=1, le=200),
    principal: Principal = Depends(require("cases:read")),
    session: ReadSession,
) -> InboxPage:
    """Newest first; pass `next_cursor` back as `cursor` for the next page."""
    items, next_cursor = service.list_inbox(
        session, queue=queue, status=status, before_id=cursor, limit=limit
    )
    return InboxPage(items=items, next_cursor=next_cursor)


@router.get("/stats")
def stats(
    *, principal: Principal = Depends(require("cases:read")), session: ReadSession
) -> dict[str, Any]:
    """Timely-response rate, median first response and resolution, reopen rate."""
    return case_figures(session)


@router.get("/templates", response_model=list[TemplateOut])
def templates(
    *, principal: Principal = Depends(require("cases:read")), session: ReadSession
) -> list[TemplateOut]:
    """Reply templates and macros (a macro also moves the case to its `status`)."""
    return list_templates(session)


TemplateName = Annotated[str, FastPath(max_length=64, pattern=r"^[A-Za-z0-9_.?-]{1,64}$")]


@router.get(
    "/{case_id}/templates/{name}", response_model=RenderedTemplate, responses=problem_responses(404)
)
def preview_template(
    *,
    case_id: RowId,
    name: TemplateName,
    principal: Principal = Depends(require("cases:read_personal")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> RenderedTemplate:
    """The template filled in for this case, as the customer would get it."""
    text = render_template(session, platform.vault, case_id, name, agent=principal.actor)
    return RenderedTemplate(name=name, text=text)


@router.get(
    "/{case_id:int}", response_model=CaseDetail, responses=problem_responses(404)
)  # /cases/batch: 405
def get_case(
    *,
    case_id: RowId,
    principal: Principal = Depends(require("cases:read")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> CaseDetail:
    return service.get_case(
        session, platform.vault, case_id, reveal=principal.can("cases:read_personal")
    )


class StatusIn(BaseModel):
    status: CaseStatus


class AssignIn(BaseModel):
    team: str | None = Field(default=None, max_length=64)
    assignee: str | None = Field(default=None, max_length=128)


class TextIn(BaseModel):
    text: Words = Field(min_length=1, max_length=20_000)


class LinkIn(BaseModel):
    kind: CaseLinkKind
    target: Words = Field(min_length=1, max_length=128)


class MergeIn(BaseModel):
    into: int = Field(ge=1)


_WRITE = problem_responses(404, 409)


@dataclass(frozen=True)
class _Work:
    """A change to one case by the caller: `work(change)` runs it through `service.apply`."""

    actor: str
    platform: Platform
    session: Session

    def __call__(self, change: service.Change) -> CaseDetail:
        return service.apply(self.session, self.platform.vault, change, actor=self.actor)


def _work(
    principal: Principal = Depends(require("cases:write")),
    platform: Platform = Depends(get_platform),
    *,
    session: WriteSession,
) -> _Work:
    return _Work(principal.actor, platform, session)


Work = Annotated[_Work, Depends(_work)]


@router.post("/{case_id}/status", response_model=CaseDetail, responses=_WRITE)
def set_status(case_id: RowId, body: StatusIn, work: Work) -> CaseDetail:
    return work(lambda s, v, actor: service.change_status(s, case_id, body.status, actor=actor))


@router.post("/{case_id}/assignment", response_model=CaseDetail, responses=_WRITE)
def set_assignment(case_id: RowId, body: AssignIn, work: Work) -> CaseDetail:
    return work(
        lambda s, v, actor: service.assign(
            s, case_id, team=body.team, assignee=body.assignee, actor=actor
        )
    )


@router.post("/{case_id}/notes", response_model=CaseDetail, responses=_WRITE)
def add_note(case_id: RowId, body: TextIn, work: Work) -> CaseDetail:
    return work(lambda s, v, actor: service.add_note(s, v, case_id, body.text, actor=actor))


@router.post("/{case_id}/replies", response_model=CaseDetail, responses=_WRITE)
def add_reply(case_id: RowId, body: TextIn, work: Work) -> CaseDetail:
    return work(lambda s, v, actor: service.reply(s, v, case_id, body.text, actor=actor))


@router.post("/{case_id}/playbook-steps", response_model=CaseDetail, responses=_WRITE)
def complete_step(case_id: RowId, work: Work) -> CaseDetail:
    return work(lambda s, v, actor: service.complete_step(s, case_id, actor=actor))


@router.post("/{case_id}/links", response_model=CaseDetail, responses=_WRITE)
def add_link(case_id: RowId, body: LinkIn, work: Work) -> CaseDetail:
    return work(lambda s, v, actor: service.link(s, case_id, body.kind, body.target, actor=actor))


@router.post("/{case_id}/merge", response_model=CaseDetail, responses=_WRITE)
def merge(case_id: RowId, body: MergeIn, work: Work) -> CaseDetail:
    """Merge this case (a duplicate) into `into`; returns the surviving case."""
    return work(lambda s, v, actor: service.merge_cases(s, case_id, body.into, actor=actor))


@router.post("/{case_id}/macros/{name}", response_model=CaseDetail, responses=_WRITE)
def run_macro(case_id: RowId, name: TemplateName, work: Work) -> CaseDetail:
    """Send the template as a reply (by email through the outbox), then move the case."""
    return work(lambda s, v, actor: apply_macro(s, v, case_id, name, actor=actor))
