"""Feedback CSV upload from the web: the form (source and column names), the import's progress
(stored, then analysed) and its rejected rows.

The file is queued for the `feedback.uploads` job, which goes through the same services as
`trustdesk feedback import`: rows are stored at storage speed, then analysed and indexed for
search, with the progress in the database (`feedback/uploads.py`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from trustdesk.access.principal import Principal
from trustdesk.auth.http import get_platform, require_page
from trustdesk.body_guard import UPLOAD_BODY
from trustdesk.errors import InvalidInput
from trustdesk.feedback import uploads
from trustdesk.feedback.ratings import DEFAULT_SCALE, SCALES
from trustdesk.platform import Platform
from trustdesk.web.nav import Section
from trustdesk.web.routing import page_router
from trustdesk.web.templating import render
from trustdesk.web.uploads import UploadPages

__all__ = ["router", "section"]

router = page_router(prefix="/feedback")
section = Section(router=router)  # reached from the Feedback page

_PAGES = UploadPages(
    kind="feedback",
    title="Feedback import",
    base="/feedback",
    list_label="Open the feedback explorer",
)
_Writer = Annotated[Principal, Depends(require_page("feedback:write"))]
_Column = Annotated[str, Form(max_length=64)]
_DEFAULTS = {
    "source": "",
    "id_column": "external_id",
    "text_column": "text",
    "time_column": "at",
    "segment_column": "",
    "customer_column": "",
    "rating_column": "",
    "rating_scale": DEFAULT_SCALE,
}


def _form(
    request: Request,
    platform: Platform,
    principal: Principal,
    values: dict[str, str],
    error: str | None,
    status: int,
) -> Response:
    context = {
        "error": error,
        "values": values,
        "scales": SCALES,
        "recent": uploads.recent(platform, principal.id),
        "limit": platform.settings.max_bulk_body_bytes,
    }
    return render(request, "feedback/import.html", context, status_code=status)


@router.get("/import")
def import_form(
    request: Request, principal: _Writer, platform: Platform = Depends(get_platform)
) -> Response:
    return _form(request, platform, principal, dict(_DEFAULTS), None, 200)


@router.post("/import", openapi_extra=UPLOAD_BODY)
def upload(
    *,
    request: Request,
    file: Annotated[UploadFile | None, File()] = None,
    source: _Column = "",
    id_column: _Column = "external_id",
    text_column: _Column = "text",
    time_column: _Column = "at",
    segment_column: _Column = "",
    customer_column: _Column = "",
    rating_column: _Column = "",
    rating_scale: Annotated[str, Form(max_length=32)] = DEFAULT_SCALE,
    principal: _Writer,
    platform: Platform = Depends(get_platform),
) -> Response:
    values = {
        "source": source.strip().lower(),
        "id_column": id_column.strip() or "external_id",
        "text_column": text_column.strip() or "text",
        "time_column": time_column.strip() or "at",
        "segment_column": segment_column.strip(),
        "customer_column": customer_column.strip(),
        "rating_column": rating_column.strip(),
        "rating_scale": rating_scale if rating_scale in SCALES else DEFAULT_SCALE,
    }
    try:
        if not values["source"]:
            raise InvalidInput("say where the feedback came from (source), e.g. survey")
        path = _PAGES.receive(
            platform.settings.data_dir, file, limit=platform.settings.max_bulk_body_bytes
        )
    except InvalidInput as exc:
        return _form(request, platform, principal, values, exc.detail, 422)
    queued = uploads.queue(
        platform, owner=principal.id, actor=principal.actor, path=path, options=values
    )
    return RedirectResponse(f"/feedback/imports/{queued.id}", status_code=303)


@router.get("/imports/{upload_id}")
def progress(
    request: Request,
    upload_id: str,
    principal: _Writer,
    platform: Platform = Depends(get_platform),
) -> Response:
    return _PAGES.progress(request, uploads.progress(platform, upload_id, principal.id))


@router.get("/imports/{upload_id}/rejects.csv")
def rejects(
    request: Request,
    upload_id: str,
    principal: _Writer,
    platform: Platform = Depends(get_platform),
) -> Response:
    return _PAGES.rejects(uploads.rejects(platform, upload_id, principal.id))
