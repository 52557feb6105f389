"""Staff pages: surveys (builder from the item bank), one survey (items with sources,
distribution and response rate, live results, the gap), and the leaders' gap report as a
printable page, CSV and PDF. Server-rendered, no JavaScript."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from trustdesk.access.principal import Principal
from trustdesk.auth.http import ReadSession, WriteSession, get_platform, require_page
from trustdesk.errors import DomainError
from trustdesk.platform import Platform
from trustdesk.serving import public_base_url
from trustdesk.surveys import distribution
from trustdesk.surveys.bank import template_names
from trustdesk.surveys.builder import QuestionIn, add_question, parse_show_if, remove_question
from trustdesk.surveys.report import CSV_COLUMNS, gap_report, report_pdf, report_rows
from trustdesk.surveys.results import survey_results
from trustdesk.surveys.service import create_survey, latest_with_leaders, list_surveys, load_survey
from trustdesk.web.downloads import csv_download
from trustdesk.web.nav import NavEntry, Section
from trustdesk.web.routing import page_router
from trustdesk.web.templating import environment, render

__all__ = ["router", "section"]

router = page_router(prefix="/surveys")
section = Section(
    router=router,
    nav=(
        NavEntry(
            "Surveys",
            "/surveys",
            permission="surveys:read",
            description="Ask customers about trust with validated items; see the leaders' gap.",
            order=32,
        ),
        NavEntry(
            "Trust gap",
            "/surveys/gap",
            permission="surveys:read",
            description="How far leaders' belief is from what customers say, per dimension.",
            order=33,
        ),
    ),
)


@router.get("")
def surveys_page(
    *,
    request: Request,
    principal: Principal = Depends(require_page("surveys:read")),
    session: ReadSession,
) -> Response:
    context = {
        "surveys": list_surveys(session),
        "templates": template_names(),
        "can_write": principal.can("surveys:write"),
    }
    return render(request, "surveys/index.html", context)


@router.post("")
def create(
    *,
    title: Annotated[str, Form()],
    template: Annotated[str, Form()] = "trust-core",
    company: Annotated[str, Form()] = "",
    principal: Principal = Depends(require_page("surveys:write")),
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> Response:
    survey = create_survey(
        session, platform.vault, template=template, title=title, actor=principal.actor,
        company=company,
    )  # fmt: skip
    return RedirectResponse(f"/surveys/{survey.id}", status_code=303)


@router.get("/gap")
def latest_gap(
    *,
    request: Request,
    _: Principal = Depends(require_page("surveys:read")),
    session: ReadSession,
) -> Response:
    """The trust dashboard's gap: the newest survey leaders answered, and the gap over waves."""
    survey_id = latest_with_leaders(session)
    report = gap_report(session, survey_id) if survey_id is not None else None
    return render(request, "surveys/gap.html", {"report": report})


@router.get("/{survey_id}")
def survey_page(
    *,
    request: Request,
    survey_id: int,
    notice: str = "",
    principal: Principal = Depends(require_page("surveys:read")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> Response:
    survey = load_survey(session, survey_id)
    context: dict[str, Any] = {
        "survey": survey,
        "stats": distribution.response_stats(session, survey_id),
        "results": survey_results(session, survey_id),
        "gap": gap_report(session, survey_id).gap,
        "can_write": principal.can("surveys:write"),
        "notice": notice,
        "base_url": public_base_url(platform.settings),
    }
    return render(request, "surveys/survey.html", context)


@router.post("/{survey_id}/distribute")
def distribute(
    *,
    survey_id: int,
    segment: Annotated[str, Form()],
    principal: Principal = Depends(require_page("surveys:write")),
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> Response:
    try:
        done = distribution.invite(
            session, survey_id, segment=segment.strip(), actor=principal.actor,
            policy_file=platform.settings.consent_policy_file,
        )  # fmt: skip
        notice = (
            f"Invited {done.invited} (already invited {done.already}; "
            f"{done.no_consent} without research consent by email were not invited)."
        )
    except DomainError as exc:
        notice = exc.detail
    return RedirectResponse(f"/surveys/{survey_id}?notice={notice}", status_code=303)


@router.post("/{survey_id}/questions")
def add_question_page(
    *,
    survey_id: int,
    id: Annotated[str, Form(max_length=40)],
    kind: Annotated[str, Form(max_length=16)],
    text: Annotated[str, Form(max_length=500)],
    options: Annotated[str, Form(max_length=5000)] = "",
    show_if: Annotated[str, Form(max_length=200)] = "",
    principal: Principal = Depends(require_page("surveys:write")),
    session: WriteSession,
) -> Response:
    try:
        item, wanted = parse_show_if(show_if)
        question = QuestionIn(
            id.strip(), kind, text, tuple(o for o in options.splitlines() if o.strip()),
            item, tuple(wanted),
        )  # fmt: skip
        survey = add_question(session, survey_id, question, actor=principal.actor)
        notice = f"Question {question.id} added (version {survey.version})."
    except DomainError as exc:
        notice = exc.detail
    return RedirectResponse(f"/surveys/{survey_id}?notice={quote(notice)}", status_code=303)


@router.post("/{survey_id}/questions/remove")
def remove_question_page(
    *,
    survey_id: int,
    item: Annotated[str, Form(max_length=64)],
    principal: Principal = Depends(require_page("surveys:write")),
    session: WriteSession,
) -> Response:
    try:
        survey = remove_question(session, survey_id, item, actor=principal.actor)
        notice = f"Question {item} removed (version {survey.version})."
    except DomainError as exc:
        notice = exc.detail
    return RedirectResponse(f"/surveys/{survey_id}?notice={quote(notice)}", status_code=303)


@router.post("/{survey_id}/public-link")
def make_public_link(
    *,
    survey_id: int,
    principal: Principal = Depends(require_page("surveys:write")),
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> Response:
    token = distribution.public_link(session, survey_id, actor=principal.actor)
    link = f"{public_base_url(platform.settings)}/s/open/{token}"
    return RedirectResponse(f"/surveys/{survey_id}?notice=Public link: {link}", status_code=303)


def _report_html(session: Any, survey_id: int) -> str:
    report = gap_report(session, survey_id)
    return environment().get_template("surveys/gap_report.html").render({"report": report})


@router.get("/{survey_id}/gap")
def gap_page(
    *,
    survey_id: int,
    _: Principal = Depends(require_page("surveys:read")),
    session: ReadSession,
) -> Response:
    """The one-page report, printable as it is (the PDF is the same page)."""
    return HTMLResponse(_report_html(session, survey_id))


@router.get("/{survey_id}/gap.csv")
def gap_csv(
    *,
    survey_id: int,
    _: Principal = Depends(require_page("surveys:read")),
    session: ReadSession,
) -> Response:
    report = gap_report(session, survey_id)
    return csv_download(f"trust-gap-{survey_id}.csv", CSV_COLUMNS, report_rows(report))


@router.get("/{survey_id}/gap.pdf")
def gap_pdf(
    *,
    survey_id: int,
    _: Principal = Depends(require_page("surveys:read")),
    session: ReadSession,
) -> Response:
    pdf = report_pdf(_report_html(session, survey_id))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="trust-gap-{survey_id}.pdf"',
            "Cache-Control": "no-store",
        },
    )
