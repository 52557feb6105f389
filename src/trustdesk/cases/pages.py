"""Case pages: the agent inbox (queues, SLA badges, keyset paging), one case with its customer's
context and the forms to work it, and the supervisor dashboard with the CFPB-style figures."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from trustdesk.access.principal import Principal
from trustdesk.auth.http import ReadSession, WriteSession, get_platform, require_page
from trustdesk.bounds import RowId
from trustdesk.cases import inbound, service
from trustdesk.cases.advocates import advocates_and_detractors, open_recovery_case
from trustdesk.cases.context import case_page
from trustdesk.cases.errors import CaseNotFound
from trustdesk.cases.routing import classifier_for
from trustdesk.cases.schemas import STATUSES
from trustdesk.cases.stats import case_figures
from trustdesk.cases.templates import apply_macro, list_templates
from trustdesk.platform import Platform
from trustdesk.web.charts import Bar, bar_chart
from trustdesk.web.nav import NavEntry, Section
from trustdesk.web.routing import page_router
from trustdesk.web.templating import flash, render

__all__ = ["router", "section"]

PAGE_SIZE = 50

router = page_router(prefix="/cases")
section = Section(
    router=router,
    nav=(
        NavEntry(
            "Cases",
            "/cases",
            permission="cases:read",
            description="Complaint cases by queue, with their SLA clocks.",
            order=25,
        ),
        NavEntry(
            "Quarantined mail",
            "/cases/quarantine",
            permission="cases:read",
            description="Inbound mail kept for a person: no sender, unreadable.",
            order=27,
        ),
        NavEntry(
            "Case figures",
            "/cases/dashboard",
            permission="cases:read",
            description="Timely-response rate, response and resolution times, reopen rate.",
            order=26,
        ),
    ),
)


def _inbox_href(queue: str, status: str, cursor: int | None = None) -> str:
    params: dict[str, str | int] = {k: v for k, v in (("queue", queue), ("status", status)) if v}
    if cursor:
        params["cursor"] = cursor
    return "/cases" + (f"?{urlencode(params)}" if params else "")


@router.get("")
def inbox(
    *,
    request: Request,
    queue: str = Query("", max_length=64),
    status: str = Query("", max_length=32),
    cursor: RowId = 0,
    principal: Principal = Depends(require_page("cases:read")),
    session: ReadSession,
) -> Response:
    items, next_cursor = service.list_inbox(
        session,
        queue=queue or None,
        status=status or None,
        before_id=cursor or None,
        limit=PAGE_SIZE,
    )
    context = {
        "items": items,
        "queues": service.queue_counts(session),
        "queue": queue,
        "status": status,
        "statuses": STATUSES,
        "cursor": cursor,
        "first_href": _inbox_href(queue, status) if cursor else None,
        "next_href": _inbox_href(queue, status, next_cursor) if next_cursor else None,
    }
    return render(request, "cases/inbox.html", context)


@router.get("/dashboard")
def dashboard(
    *,
    request: Request,
    principal: Principal = Depends(require_page("cases:read")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> Response:
    figures = case_figures(session)
    bars = [
        Bar(queue, 100 * rate, 100 * rate, 100 * rate, f"/cases?queue={queue}")
        for queue, f in figures["by_queue"].items()
        if (rate := f["timely_response_rate"]) is not None
    ]
    chart = bar_chart(
        bars,
        chart_id="timely-chart",
        title="Timely first response by queue (%)",
        description="Share of cases answered within their first-response target, per queue.",
    )
    standings = advocates_and_detractors(session, platform.settings)
    context = {
        "figures": figures, "chart": chart, "standings": standings,
        "can_write": principal.can("cases:write"),
    }  # fmt: skip
    return render(request, "cases/dashboard.html", context)


@router.post("/recovery")
def post_recovery(
    *,
    request: Request,
    customer: Annotated[str, Form(min_length=1, max_length=128)],
    principal: Principal = Depends(require_page("cases:write")),
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> Response:
    opened = open_recovery_case(session, platform.vault, customer, actor=principal.actor)
    return _back(request, opened.id, f"Service-recovery case opened for {customer}.")


@router.get("/quarantine")
def quarantine(
    *,
    request: Request,
    principal: Principal = Depends(require_page("cases:read")),
    session: ReadSession,
) -> Response:
    context = {"messages": inbound.quarantined(session), "can_write": principal.can("cases:write")}
    return render(request, "cases/quarantine.html", context)


@router.post("/quarantine/{message_id}/release")
def post_release(
    *,
    request: Request,
    message_id: RowId,
    sender: Annotated[str, Form(max_length=254)] = "",
    principal: Principal = Depends(require_page("cases:write")),
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> Response:
    case_id = inbound.release(
        session, platform.vault, message_id, sender=sender.strip() or None,
        classify=classifier_for(platform.settings), actor=principal.actor,
    )  # fmt: skip
    return _back(request, case_id, f"Message {message_id} released as case {case_id}.")


@router.post("/quarantine/{message_id}/discard")
def post_discard(
    *,
    request: Request,
    message_id: RowId,
    principal: Principal = Depends(require_page("cases:write")),
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> Response:
    inbound.discard(session, platform.vault, message_id, actor=principal.actor)
    flash(request, f"Message {message_id} discarded.")
    return RedirectResponse("/cases/quarantine", status_code=303)


@router.get("/{case_id}/attachments/{attachment_id}")
def attachment(
    *,
    case_id: RowId,
    attachment_id: RowId,
    principal: Principal = Depends(require_page("cases:read_personal")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> Response:
    """A file of the case, always as a download (never shown inline: it came from outside)."""
    (found,) = service.attachments(
        session, platform.vault, case_id, with_data=True, attachment_id=attachment_id
    )
    if found.data is None or found.filename is None:
        raise CaseNotFound(f"case {case_id}: attachment {attachment_id} was erased")
    return Response(
        found.data,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.filename)}",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/{case_id}")
def case_detail(
    *,
    request: Request,
    case_id: RowId,
    principal: Principal = Depends(require_page("cases:read")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> Response:
    detail, context = case_page(
        session,
        platform.vault,
        platform.settings,
        case_id,
        reveal=principal.can("cases:read_personal"),
    )
    can_write = principal.can("cases:write")
    reveal = principal.can("cases:read_personal")
    files = service.attachments(session, platform.vault, case_id)
    nexts = service.TRANSITIONS.get(detail.status, ()) if can_write else ()
    page: dict[str, object] = {
        "case": detail, "context": context, "can_write": can_write, "next_statuses": nexts,
        "templates": list_templates(session) if can_write else [],
        "attachments": files, "reveal": reveal,
    }  # fmt: skip
    return render(request, "cases/case.html", page)


def _back(request: Request, case_id: int, message: str) -> Response:
    flash(request, message)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/{case_id}/status")
def post_status(
    *,
    request: Request,
    case_id: RowId,
    status: Annotated[str, Form(max_length=32)],
    principal: Principal = Depends(require_page("cases:write")),
    session: WriteSession,
) -> Response:
    service.change_status(session, case_id, status, actor=principal.actor)
    return _back(request, case_id, f"Case {case_id} is now {status.replace('_', ' ')}.")


@router.post("/{case_id}/notes")
def post_note(
    *,
    request: Request,
    case_id: RowId,
    text: Annotated[str, Form(max_length=20_000)],
    kind: Annotated[str, Form(max_length=8)] = "note",
    principal: Principal = Depends(require_page("cases:write")),
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> Response:
    if kind == "reply":
        service.reply(session, platform.vault, case_id, text, actor=principal.actor)
        return _back(request, case_id, "Reply recorded.")
    service.add_note(session, platform.vault, case_id, text, actor=principal.actor)
    return _back(request, case_id, "Note added.")


@router.post("/{case_id}/step")
def post_step(
    *,
    request: Request,
    case_id: RowId,
    principal: Principal = Depends(require_page("cases:write")),
    session: WriteSession,
) -> Response:
    service.complete_step(session, case_id, actor=principal.actor)
    return _back(request, case_id, "Playbook step done.")


@router.post("/{case_id}/macro")
def post_macro(
    *,
    request: Request,
    case_id: RowId,
    template: Annotated[str, Form(max_length=64)],
    principal: Principal = Depends(require_page("cases:write")),
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> Response:
    apply_macro(session, platform.vault, case_id, template, actor=principal.actor)
    return _back(request, case_id, f"Template {template!r} sent.")
