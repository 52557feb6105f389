"""The customer-facing response pages: /s/{token} (a personal, single-use invitation link) and
/s/open/{token} (the survey's anonymous public link). No login, no JavaScript: plain forms,
radio buttons in fieldsets, labels on every control, a layout that reflows on a phone.

"Save and continue later" keeps the numeric answers on the invitation, so the same link opens
the form filled in again. A survey with branching is shown page by page: a question asked only
on an earlier answer comes on a later page, decided on the server from the answers posted
(earlier pages' answers travel as hidden fields, so the public link needs no cookie either).
Errors (an answer off its scale is impossible with radio buttons, but
a hand-made POST is checked all the same, an altered or expired link, a second submission) get a
page of their own with the right status, never a stack trace."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from trustdesk.auth.http import ReadSession, WriteSession, get_platform
from trustdesk.db import utcnow
from trustdesk.errors import DomainError
from trustdesk.platform import Platform
from trustdesk.surveys import distribution
from trustdesk.surveys.answers import asked, check_page
from trustdesk.surveys.errors import AlreadyAnswered, LinkExpired
from trustdesk.surveys.group_commit import SubmissionWriter, submission_writer
from trustdesk.surveys.service import ItemOut, SurveyOut
from trustdesk.surveys.submissions import Submission
from trustdesk.web.forms import Posted
from trustdesk.web.nav import Section
from trustdesk.web.templating import SECURITY_HEADERS, environment

__all__ = ["router", "section"]

router = APIRouter(prefix="/s", default_response_class=HTMLResponse, include_in_schema=False)
section = Section(router=router)  # customer-facing: nothing in the staff menu

# The token in the address is a credential: never send it on in a Referer header.
_HEADERS = {**SECURITY_HEADERS, "Referrer-Policy": "no-referrer"}


def _page(template: str, context: Mapping[str, Any], status_code: int = 200) -> HTMLResponse:
    html = environment().get_template(template).render(context)
    return HTMLResponse(html, status_code=status_code, headers=_HEADERS)


def _problem(exc: DomainError) -> HTMLResponse:
    if isinstance(exc, AlreadyAnswered):
        heading = "You have already answered"
        detail = "Thank you: your answers were received. Each invitation link works once."
    elif isinstance(exc, LinkExpired):
        heading = "This link has expired"
        detail = "The survey is closed for this link. Thank you for your interest."
    else:
        heading = "This link is not valid"
        detail = "It may have been copied incompletely. Open the link from our message again."
    return _page(
        "surveys/problem.html", {"heading": heading, "detail": detail}, status_code=exc.status
    )


def _fields(form: FormData) -> dict[str, str]:
    """The answers posted: a multiple choice's ticked options joined as "1;3"."""
    return {
        k: ";".join(str(v) for v in form.getlist(k))
        for k in dict.fromkeys(form.keys())
        if k not in {"action", "started", "page"}
    }


def pages(survey: SurveyOut) -> list[list[ItemOut]]:
    """The survey's questions split into pages: a page ends before a question asked only on an
    answer given on that same page, so every condition is known when its page is shown."""
    found: list[list[ItemOut]] = [[]]
    for item in survey.items:
        on_page = {i.id for i in found[-1]}
        if item.show_if is not None and item.show_if[0] in on_page:
            found.append([])
        found[-1].append(item)
    return found


def _given(survey: SurveyOut, values: Mapping[str, str]) -> dict[str, Any]:
    """The answers so far as numbers (a multiple choice as a list), to evaluate conditions."""
    given: dict[str, Any] = {}
    for key, raw in values.items():
        item = survey.item(key)
        try:
            if item is not None and item.kind == "multi":
                given[key] = [int(v) for v in raw.split(";") if v.strip()]
            elif item is not None and item.min is not None and raw.strip():
                given[key] = float(raw)
        except ValueError:
            continue
    return given


def _next_page(survey: SurveyOut, after: int, values: Mapping[str, str]) -> int | None:
    """The first page after `after` with a question asked, given the answers so far."""
    given = _given(survey, values)
    split = pages(survey)
    for number in range(after + 1, len(split)):
        if any(asked(i.show_if, given) for i in split[number]):
            return number
    return None


def _form(
    survey: SurveyOut,
    action: str,
    values: Mapping[str, Any],
    *,
    error: str | None = None,
    notice: str | None = None,
    resumable: bool,
    status_code: int = 200,
    page: int = 0,
) -> HTMLResponse:
    text = {k: str(v) for k, v in values.items()}
    split = pages(survey)
    page = min(max(page, 0), len(split) - 1)
    given = _given(survey, text)
    shown = [i for i in split[page] if asked(i.show_if, given)]
    on_page = {i.id for i in shown}
    context = {
        "survey": survey,
        "items": shown,
        "carried": {k: v for k, v in text.items() if k not in on_page and survey.item(k)},
        "page": page,
        "last": page == len(split) - 1,
        "action": action,
        "values": text,
        "error": error,
        "notice": notice,
        "resumable": resumable,
        "started": utcnow().isoformat(),
    }
    return _page("surveys/respond.html", context, status_code)


def _page_number(form: FormData) -> int:
    raw = str(form.get("page") or "0")
    return int(raw) if raw.isdecimal() and len(raw) < 4 else 0


@router.get("/{token}")
def invitation_page(
    token: str, session: WriteSession, saved: str = "", platform: Platform = Depends(get_platform)
) -> Response:
    try:
        invitation = distribution.open_invitation(session, platform.vault, token)
    except DomainError as exc:
        return _problem(exc)
    notice = "Your answers are saved. Come back with the same link to finish." if saved else None
    return _form(invitation.survey, f"/s/{token}", invitation.draft, notice=notice, resumable=True)


@router.post("/{token}")
async def answer(token: str, request: Request, form: Posted) -> Response:
    """Save, go to the next page, or send the answers. Sending goes through the app's one
    group-commit writer (`group_commit.py`): submissions that arrive together are stored in one
    transaction, each page answered after its own commit. The rest runs on a worker thread."""
    platform = get_platform(request)
    fields = _fields(form)
    page = _page_number(form)
    action = form.get("action")
    if action in ("save", "next"):
        async with platform.db.writers.turn():
            shown = await run_in_threadpool(_save_or_next, platform, token, action, fields, page)
        if shown is not None:
            return shown
    try:
        await _writer(request).submit(Submission(token, fields))
    except DomainError as exc:
        return await run_in_threadpool(_refused, platform, token, fields, page, exc)
    return _thanks()


def _save_or_next(
    platform: Platform, token: str, action: object, fields: dict[str, str], page: int
) -> Response | None:
    """Save the answers so far, or show the next page; None when there is no next page (the
    answers are then sent)."""
    with platform.db.transaction() as session:
        try:
            if action == "save":
                distribution.save_draft(session, platform.vault, token, fields)
                return RedirectResponse(f"/s/{token}?saved=1", status_code=303)
            survey = distribution.open_invitation(session, platform.vault, token).survey
            following = _next_page(survey, page, fields)
            if following is None:
                return None
            check_page(survey, fields)
            return _form(survey, f"/s/{token}", fields, resumable=True, page=following)
        except DomainError as exc:
            return _again(
                exc,
                lambda: distribution.open_invitation(session, platform.vault, token).survey,
                f"/s/{token}", fields, page, resumable=True,
            )  # fmt: skip


def _again(
    exc: DomainError,
    survey: Callable[[], SurveyOut],
    action: str,
    fields: dict[str, str],
    page: int,
    *,
    resumable: bool,
) -> Response:
    """Answers refused: a page of its own (used, expired, not valid), or the form again with the
    reason (an answer off its scale; 422), its survey read with `survey` only then."""
    if exc.status != 422:
        return _problem(exc)
    try:
        shown = survey()
    except DomainError as other:
        return _problem(other)
    return _form(
        shown, action, fields, error=exc.detail, resumable=resumable, status_code=422, page=page
    )


def _refused(
    platform: Platform,
    token: str,
    fields: dict[str, str],
    page: int,
    exc: DomainError,
    *,
    public: bool = False,
) -> Response:
    """A submission refused (`_again`), on the invitation or the `public` link."""

    def survey() -> SurveyOut:
        with platform.db.reading() as session:
            if public:
                return distribution.survey_for_public(session, token)
            return distribution.survey_for_link(session, platform.vault, token)

    action = f"/s/open/{token}" if public else f"/s/{token}"
    return _again(exc, survey, action, fields, page, resumable=not public)


@functools.cache
def _thanks_html() -> str:
    """The thank-you page says the same to everyone: rendered once per process (the first time
    reads the template from disk, once), so a submission's answer costs no rendering."""
    return environment().get_template("surveys/thanks.html").render({})


def _thanks() -> HTMLResponse:
    return HTMLResponse(_thanks_html(), headers=_HEADERS)


def _writer(request: Request) -> SubmissionWriter:
    """The app's one group-commit writer for response pages (made on first use)."""
    state = request.app.state
    writer: SubmissionWriter | None = getattr(state, "survey_submissions", None)
    if writer is None:
        writer = state.survey_submissions = submission_writer(state.platform, state.metrics)
    return writer


@router.get("/open/{token}")
def public_page(token: str, session: ReadSession) -> Response:
    try:
        survey = distribution.survey_for_public(session, token)
    except DomainError as exc:
        return _problem(exc)
    return _form(survey, f"/s/open/{token}", {}, resumable=False)


@router.post("/open/{token}")
async def public_answer(token: str, request: Request, form: Posted) -> Response:
    """As `answer`, for the anonymous public link (no save: it would need a cookie)."""
    platform = get_platform(request)
    fields = _fields(form)
    page = _page_number(form)
    if form.get("action") == "next":
        shown = await run_in_threadpool(_public_next, platform, token, fields, page)
        if shown is not None:
            return shown
    try:
        await _writer(request).submit(Submission(token, fields, public=True))
    except DomainError as exc:
        return await run_in_threadpool(_refused, platform, token, fields, page, exc, public=True)
    return _thanks()


def _public_next(
    platform: Platform, token: str, fields: dict[str, str], page: int
) -> Response | None:
    with platform.db.reading() as session:
        try:
            survey = distribution.survey_for_public(session, token)
            following = _next_page(survey, page, fields)
            if following is None:
                return None
            check_page(survey, fields)
            return _form(survey, f"/s/open/{token}", fields, resumable=False, page=following)
        except DomainError as exc:
            return _again(
                exc,
                lambda: distribution.survey_for_public(session, token),
                f"/s/open/{token}", fields, page, resumable=False,
            )  # fmt: skip
