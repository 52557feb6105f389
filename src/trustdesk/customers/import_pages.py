"""Customer CSV upload from the web: the form, the import's progress page and its rejected rows.

The file is imported in the background by the same service as `trustdesk customers import`
(`web/uploads.py` runs it and keeps the progress the page shows).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, File, Request, UploadFile
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from trustdesk.access.principal import Principal
from trustdesk.auth.http import get_platform, require_page
from trustdesk.body_guard import UPLOAD_BODY
from trustdesk.customers.importing import import_customer_file
from trustdesk.customers.schemas import ImportReport
from trustdesk.errors import InvalidInput
from trustdesk.platform import Platform
from trustdesk.web.nav import Section
from trustdesk.web.routing import page_router
from trustdesk.web.templating import render
from trustdesk.web.uploads import Upload, UploadPages, UploadTracker, tracker

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


def _tracker(request: Request, platform: Platform) -> UploadTracker:
    return tracker(request.app, platform.settings.data_dir)


def _form(
    request: Request, platform: Platform, principal: Principal, error: str | None, status: int
) -> Response:
    context = {
        "error": error,
        "recent": _tracker(request, platform).recent(principal.id, "customers"),
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
    uploads = _tracker(request, platform)
    try:
        path = _PAGES.receive(uploads, file, limit=platform.settings.max_bulk_body_bytes)
    except InvalidInput as exc:
        return _form(request, platform, principal, exc.detail, 422)

    def work(progress: Upload) -> None:
        def on_batch(report: ImportReport) -> None:
            progress.processed = report.stored + len(report.rejected)
            progress.created, progress.updated = report.created, report.updated
            progress.unchanged = report.unchanged

        report = import_customer_file(
            platform.db, platform.vault, path, actor=principal.actor, on_batch=on_batch
        )
        on_batch(report)
        progress.rejected = list(report.rejected)

    started = uploads.start(
        owner=principal.id, kind="customers", filename=path.name, path=path, work=work
    )
    return RedirectResponse(f"/customers/imports/{started.id}", status_code=303)


@router.get("/imports/{upload_id}")
def progress(
    request: Request,
    upload_id: str,
    principal: _Writer,
    platform: Platform = Depends(get_platform),
) -> Response:
    return _PAGES.progress(request, _tracker(request, platform), upload_id, principal.id)


@router.get("/imports/{upload_id}/rejects.csv")
def rejects(
    request: Request,
    upload_id: str,
    principal: _Writer,
    platform: Platform = Depends(get_platform),
) -> Response:
    return _PAGES.rejects(_tracker(request, platform), upload_id, principal.id)
