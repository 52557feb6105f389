"""Data map endpoints (`privacy:datamap`) and the public privacy notice, under /api/v1/privacy.

The notice is public information: its endpoints need no token, like the `/privacy-notice` page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Body, Depends
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel
from starlette.responses import Response

from trustdesk.access.principal import Principal
from trustdesk.auth.http import ReadSession, WriteSession, require
from trustdesk.bounds import RowId
from trustdesk.db import utcnow
from trustdesk.privacy.datamap import datamap, notice, publishing
from trustdesk.privacy.datamap.datamap import DataMap
from trustdesk.problems import problem_responses

router = APIRouter(prefix="/privacy", tags=["privacy"])
_DATAMAP = Depends(require("privacy:datamap"))
PUBLIC: dict[str, Any] = {"security": []}  # OpenAPI: no token needed


class DataMapOut(BaseModel):
    version: int
    created_at: datetime | None
    actor: str
    datamap: DataMap


class PublishedOut(BaseModel):
    datamap_version: int
    notice_version: int
    changed: bool


class NoticeOut(BaseModel):
    version: int
    datamap_version: int
    created_at: datetime | None
    title: str
    sections: list[dict[str, Any]]
    markdown: str


class NoticeVersionOut(BaseModel):
    version: int
    datamap_version: int
    created_at: datetime | None


class DiffOut(BaseModel):
    a: int
    b: int
    diff: str


def _out(found: datamap.StoredDataMap) -> DataMapOut:
    return DataMapOut(
        version=found.version, created_at=found.created_at, actor=found.actor, datamap=found.datamap
    )


@router.get(
    "/datamap",
    response_model=DataMapOut,
    dependencies=[_DATAMAP],
    responses=problem_responses(404),
)
def show_datamap(*, version: RowId | None = None, session: ReadSession) -> DataMapOut:
    found = datamap.current(session) if version is None else datamap.load_version(session, version)
    return _out(found)


@router.get("/datamap/versions", response_model=list[DataMapOut], dependencies=[_DATAMAP])
def datamap_versions(session: ReadSession) -> list[DataMapOut]:
    return [_out(v) for v in datamap.versions(session)]


@router.put("/datamap", response_model=PublishedOut, responses=problem_responses(409))
def replace_datamap(
    *,
    body: dict[str, Any] = Body(..., description="The whole data map (see default_datamap.yaml)."),
    principal: Principal = Depends(require("privacy:datamap")),
    session: WriteSession,
) -> PublishedOut:
    """Saves a new data map version and generates the notice from it (422 names bad fields)."""
    published = publishing.update_datamap(session, body, actor=principal.actor, now=utcnow())
    return PublishedOut(**vars(published))


def _notice_out(found: notice.Notice) -> NoticeOut:
    return NoticeOut(
        version=found.version,
        datamap_version=found.datamap_version,
        created_at=found.created_at,
        title=found.title,
        sections=[vars(s) for s in found.sections],
        markdown=found.markdown,
    )


@router.get(
    "/notice",
    response_model=NoticeOut,
    openapi_extra=PUBLIC,
    responses={
        200: {"content": {"text/markdown": {"schema": {"type": "string"}}}},
        **problem_responses(404),
    },
)
def show_notice(
    *,
    version: RowId | None = None,
    format: Literal["json", "markdown"] = "json",
    session: ReadSession,
) -> Response | NoticeOut:
    """The current notice (or a given version), as JSON or as Markdown text. Public."""
    found = notice.current(session) if version is None else notice.load_version(session, version)
    if format == "markdown":
        return PlainTextResponse(found.markdown, media_type="text/markdown; charset=utf-8")
    return _notice_out(found)


@router.get("/notice/versions", response_model=list[NoticeVersionOut], openapi_extra=PUBLIC)
def notice_versions(session: ReadSession) -> list[NoticeVersionOut]:
    return [
        NoticeVersionOut(version=v, datamap_version=d, created_at=c)
        for v, d, c in notice.versions(session)
    ]


@router.get(
    "/notice/diff", response_model=DiffOut, openapi_extra=PUBLIC, responses=problem_responses(404)
)
def notice_diff(*, a: RowId, b: RowId, session: ReadSession) -> DiffOut:
    """A unified diff of two notice versions' Markdown. Public."""
    return DiffOut(a=a, b=b, diff=notice.diff(session, a, b))
