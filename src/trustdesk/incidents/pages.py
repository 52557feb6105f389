"""Staff pages: the incident register (/incidents, with a form to register one) and an
incident's page with its legal clocks, affected customers by jurisdiction and category, notices
with readability, delivery progress, remediation uptake and trust recovery, and the forms that
work it: status and public statement, updates and decisions, the forensic list, notices (draft,
approve, send) and remediation codes. Plain server-rendered forms with the session's CSRF token
(no JavaScript); every handler calls the same service as the CLI and API, nothing more."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from shutil import rmtree
from typing import Annotated, Any, TypeVar

from fastapi import Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from trustdesk.access.principal import Principal
from trustdesk.auth.http import ReadSession, WriteSession, get_platform, require_page
from trustdesk.body_guard import UPLOAD_BODY
from trustdesk.bounds import RowId
from trustdesk.db import utcnow
from trustdesk.errors import InvalidInput
from trustdesk.incidents import recovery as trust_recovery
from trustdesk.incidents.affected import counts as affected_counts
from trustdesk.incidents.affected.importing import import_affected_file
from trustdesk.incidents.categories import CATEGORIES
from trustdesk.incidents.notices import delivery, offers
from trustdesk.incidents.notices import service as notices
from trustdesk.incidents.obligations import service as obligations
from trustdesk.incidents.register import service as register
from trustdesk.incidents.register.lifecycle import SEVERITIES, TRANSITIONS, parse_status
from trustdesk.incidents.schemas import DecisionIn, IncidentIn, IncidentPatch, UpdateIn
from trustdesk.platform import Platform
from trustdesk.web.nav import NavEntry, Section
from trustdesk.web.routing import page_router
from trustdesk.web.templating import flash, render
from trustdesk.web.uploads import save_upload

__all__ = ["router", "section"]

router = page_router(prefix="/incidents")
section = Section(
    router=router,
    nav=(
        NavEntry(
            "Incidents",
            "/incidents",
            permission="incidents:read",
            description="Breaches and their legal clocks, affected customers, notices.",
            order=38,
        ),
    ),
)
_Staff = Annotated[Principal, Depends(require_page("incidents:read"))]
_Manager = Annotated[Principal, Depends(require_page("incidents:manage"))]
_Approver = Annotated[Principal, Depends(require_page("incidents:approve"))]
M = TypeVar("M", bound=BaseModel)


def _valid(model: type[M], data: dict[str, Any]) -> M:
    """The form's fields as the service's input model; a bad field is a 422 naming it."""
    try:
        return model.model_validate({k: v for k, v in data.items() if v not in (None, "")})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]).replace("_", " ")
        reason = str(first["msg"]).removeprefix("Value error, ")
        raise InvalidInput(f"{where}: {reason}" if where else reason) from None


def _back(incident_id: int) -> Response:
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)


@contextmanager
def _uploaded(platform: Platform, file: UploadFile | None) -> Iterator[Path]:
    """The uploaded file saved owner-only for the import, deleted after it whatever happens."""
    if file is None or not file.filename:
        raise InvalidInput("choose a CSV file to upload")
    path = save_upload(
        platform.settings.data_dir / "uploads" / "incidents",
        file.filename,
        file.file,
        limit=platform.settings.max_bulk_body_bytes,
    )
    try:
        yield path
    finally:
        rmtree(path.parent, ignore_errors=True)


def _left(seconds: float | None) -> str:
    if seconds is None:
        return ""
    hours = abs(seconds) / 3600
    text = f"{hours:.0f} h" if hours < 72 else f"{hours / 24:.0f} days"
    return f"{text} overdue" if seconds < 0 else f"{text} left"


@router.get("")
def register_page(request: Request, principal: _Staff, session: ReadSession) -> Response:
    context = {
        "items": register.list_incidents(session),
        "can_manage": principal.can("incidents:manage"),
        "severities": SEVERITIES,
        "categories": CATEGORIES,
    }
    return render(request, "incidents/list.html", context)


@router.post("")
def register_incident(
    *,
    request: Request,
    title: Annotated[str, Form(max_length=200)],
    aware_at: Annotated[str, Form(max_length=40)],
    determined_at: Annotated[str | None, Form(max_length=40)] = None,
    severity: Annotated[str, Form(max_length=16)] = "medium",
    description: Annotated[str, Form(max_length=20_000)] = "",
    categories: Annotated[list[str] | None, Form(max_length=30)] = None,
    principal: _Manager,
    session: WriteSession,
) -> Response:
    """Register an incident (the same checks as `trustdesk incidents open`)."""
    data = _valid(
        IncidentIn,
        {
            "title": title,
            "aware_at": aware_at,
            "determined_at": determined_at,
            "severity": severity,
            "description": description,
            "categories": categories or [],
        },
    )
    made = register.open_incident(session, data, actor=principal.actor, now=utcnow())
    flash(request, f"Incident {made.id} registered.")
    return RedirectResponse(f"/incidents/{made.id}", status_code=303)


@router.get("/{incident_id}")
def incident_page(
    request: Request, incident_id: RowId, principal: _Staff, session: ReadSession
) -> Response:
    incident = register.get(session, incident_id)
    clocks = obligations.clocks(session, incident_id, obligations.rules_from(None), utcnow())
    total, places, categories = affected_counts.counts(
        affected_counts.exposure_groups(session, incident_id)
    )
    context = {
        "incident": incident,
        "moves": sorted(m.value for m in TRANSITIONS[parse_status(incident.status)]),
        "can_manage": principal.can("incidents:manage"),
        "can_approve": principal.can("incidents:approve"),
        "clocks": [(c, _left(c.seconds_left)) for c in clocks if c.obligation.required],
        "not_required": sum(1 for c in clocks if not c.obligation.required),
        "total": total,
        "places": places,
        "categories": categories,
        "notices": notices.list_notices(session, incident_id),
        "delivery": delivery.delivery_counts(session, incident_id, "individuals"),
        "uptake": offers.uptake(session, incident_id),
        "recovery": trust_recovery.recovery(session, incident_id),
    }
    return render(request, "incidents/incident.html", context)


@router.post("/{incident_id}/status")
def change_status(
    *,
    request: Request,
    incident_id: RowId,
    status: Annotated[str, Form(max_length=16)],
    principal: _Manager,
    session: WriteSession,
) -> Response:
    patch = _valid(IncidentPatch, {"status": status})
    register.update_incident(session, incident_id, patch, actor=principal.actor, now=utcnow())
    flash(request, f"Incident {incident_id} is now {status}.")
    return _back(incident_id)


@router.post("/{incident_id}/statement")
def public_statement(
    *,
    request: Request,
    incident_id: RowId,
    statement: Annotated[str, Form(max_length=20_000)] = "",
    principal: _Manager,
    session: WriteSession,
) -> Response:
    patch = IncidentPatch(public_statement=statement.strip())
    register.update_incident(session, incident_id, patch, actor=principal.actor, now=utcnow())
    flash(request, "Public statement saved.")
    return _back(incident_id)


@router.post("/{incident_id}/updates")
def post_update(
    *,
    request: Request,
    incident_id: RowId,
    text: Annotated[str, Form(max_length=20_000)],
    visibility: Annotated[str, Form(max_length=16)] = "internal",
    principal: _Manager,
    session: WriteSession,
) -> Response:
    data = _valid(UpdateIn, {"text": text, "visibility": visibility})
    register.add_update(session, incident_id, data, actor=principal.actor, now=utcnow())
    flash(request, "Update added to the timeline.")
    return _back(incident_id)


@router.post("/{incident_id}/decisions")
def record_decision(
    *,
    request: Request,
    incident_id: RowId,
    text: Annotated[str, Form(max_length=5_000)],
    reason: Annotated[str, Form(max_length=5_000)],
    principal: _Manager,
    session: WriteSession,
) -> Response:
    data = _valid(DecisionIn, {"text": text, "reason": reason})
    register.add_decision(session, incident_id, data, actor=principal.actor, now=utcnow())
    flash(request, "Decision recorded.")
    return _back(incident_id)


@router.post("/{incident_id}/affected", openapi_extra=UPLOAD_BODY)
def import_affected(
    *,
    request: Request,
    incident_id: RowId,
    file: Annotated[UploadFile | None, File()] = None,
    principal: _Manager,
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> Response:
    """The forensic list (`external_id` or `email`, `data_categories`), as the CLI imports it."""
    register.load(session, incident_id)
    with _uploaded(platform, file) as path:
        report = import_affected_file(
            session, platform.vault, incident_id, path, actor=principal.actor
        )
    message = (
        f"Forensic list imported: {report.added} customers added, {report.changed} widened, "
        f"{report.unchanged} unchanged, {len(report.rejected)} rows rejected."
    )
    if report.rejected:
        message += " " + "; ".join(f"row {r.row}: {r.reason}" for r in report.rejected[:5])
    flash(request, message)
    return _back(incident_id)


@router.post("/{incident_id}/notices")
def draft_notice(
    *,
    request: Request,
    incident_id: RowId,
    audience: Annotated[str, Form(max_length=32)] = "individuals",
    offer: Annotated[str, Form(max_length=500)] = "",
    principal: _Manager,
    session: WriteSession,
) -> Response:
    made = notices.draft(
        session, incident_id, audience, offer=offer.strip() or None, actor=principal.actor,
        now=utcnow(),
    )  # fmt: skip
    flash(request, f"Notice {made.id} drafted (version {made.version}).")
    return _back(incident_id)


@router.post("/{incident_id}/notices/{notice_id}/approve")
def approve_notice(
    *,
    request: Request,
    incident_id: RowId,
    notice_id: RowId,
    principal: _Approver,
    session: WriteSession,
) -> Response:
    made = notices.approve(session, incident_id, notice_id, actor=principal.actor, now=utcnow())
    flash(request, f"Notice {made.id} version {made.version} approved.")
    return _back(incident_id)


@router.post("/{incident_id}/notify")
def send_notices(
    *,
    request: Request,
    incident_id: RowId,
    principal: _Manager,
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> Response:
    """Queue the approved notice to every affected customer (the outbox job sends it)."""
    result = delivery.notify(
        session, platform.vault, incident_id, "individuals", dry_run=False,
        actor=principal.actor, now=utcnow(),
    )  # fmt: skip
    flash(
        request,
        f"Notice version {result.notice_version} queued for {result.customers} customers: "
        f"{result.queued} queued, {result.sent} already sent, {result.unreachable} unreachable "
        f"(erased), {result.postal} by post.",
    )
    return _back(incident_id)


@router.post("/{incident_id}/offers", openapi_extra=UPLOAD_BODY)
def import_offer_codes(
    *,
    request: Request,
    incident_id: RowId,
    file: Annotated[UploadFile | None, File()] = None,
    principal: _Manager,
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> Response:
    """A pool of remediation codes (a CSV with one `code` per line)."""
    register.load(session, incident_id)
    with _uploaded(platform, file) as path:
        added = offers.import_codes(session, incident_id, path, actor=principal.actor)
    flash(request, f"{added} new remediation codes in the pool.")
    return _back(incident_id)


@router.post("/{incident_id}/offers/redeem")
def redeem_offer(
    *,
    request: Request,
    incident_id: RowId,
    code: Annotated[str, Form(min_length=1, max_length=64)],
    principal: _Manager,
    session: WriteSession,
) -> Response:
    offers.redeem(session, incident_id, code.strip(), actor=principal.actor, now=utcnow())
    flash(request, f"Code {code.strip()} redeemed.")
    return _back(incident_id)
