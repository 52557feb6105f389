"""Customer CSV upload from the web: the form, the import's progress page and its rejected rows.

The file is queued for the `customers.uploads` job, which imports it with the same service as
`trustdesk customers import` and keeps its progress in the database (`customers/uploads.py`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, File, Request, UploadFile
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from trustdesk.access.principal import Principal
from trustdesk.auth.http import get_platform, require_page
from trustdesk.body_guard import UPLOAD_BODY
from trustdesk.customers import uploads
from trustdesk.errors import InvalidInput
from trustdesk.platform import Platform
from trustdesk.web.nav import Section
from trustdesk.web.routing import page_router
from trustdesk.web.templating import render
from trustdesk.web.uploads import UploadPages

__all__ = ["router", "section"]

router = page_router(prefix="/customers")
section = Section(router=router)  # reached from the Customers page

_PAGES = UploadPages(
    kind="customers",
    title="Customer import",
    base="/customers",
    list_label="Open the customer list",
)
_Writer = Annotated[Principal, Depends(require_page("customers:write"))]


def _form(
    request: Request, platform: Platform, principal: Principal, error: str | None, status: int
) -> Response:
    context = {
        "error": error,
        "recent": uploads.recent(platform, principal.id),
        "limit": platform.settings.max_bulk_body_bytes,
    }
    return render(request, "customers/import.html", context, status_code=status)


@router.get("/import")
def import_form(
    request: Request, principal: _Writer, platform: Platform = Depends(get_platform)
) -> Response:
    return _form(request, platform, principal, None, 200)


@router.post("/import", openapi_extra=UPLOAD_BODY)
def upload(
    *,
    request: Request,
    file: Annotated[UploadFile | None, File()] = None,
    principal: _Writer,
    platform: Platform = Depends(get_platform),
) -> Response:
    try:
        path = _PAGES.receive(
            platform.settings.data_dir, file, limit=platform.settings.max_bulk_body_bytes
        )
    except InvalidInput as exc:
        return _form(request, platform, principal, exc.detail, 422)
    queued = uploads.queue(platform, owner=principal.id, actor=principal.actor, path=path)
    return RedirectResponse(f"/customers/imports/{queued.id}", status_code=303)


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
