"""Survey endpoints under /api/v1/surveys (`surveys:read`, `surveys:write`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field, field_validator

from trustdesk.access.principal import Principal
from trustdesk.auth.http import ReadSession, WriteSession, get_platform, require
from trustdesk.bounds import MAX_ROW_ID
from trustdesk.platform import Platform
from trustdesk.problems import problem_responses
from trustdesk.surveys import distribution
from trustdesk.surveys.answers import check_columns, import_responses
from trustdesk.surveys.builder import (
    KINDS,
    QUESTION_ID,
    QuestionIn,
    add_question,
    remove_question,
)
from trustdesk.surveys.results import survey_results, trust_gap, trust_trend
from trustdesk.surveys.service import SurveyOut, create_survey, list_surveys, load_survey

__all__ = ["router"]

router = APIRouter(prefix="/surveys", tags=["surveys"])
_READ = Depends(require("surveys:read"))
_404 = problem_responses(404)
_404_422 = problem_responses(404, 422)
SurveyId = Path(ge=1, le=MAX_ROW_ID)


class SurveyIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    template: str = Field("trust-core", max_length=64)
    company: str = Field("", max_length=80)
    quiet_hours: str = Field("21:00-08:00", max_length=11)
    reminder_after_h: int = Field(72, ge=1, le=24 * 60)
    link_days: int = Field(14, ge=1, le=365)


class ResponsesIn(BaseModel):
    """Rows as in the CSV import: `external_id` (a customer) or `respondent: leader`, then item
    ids with answers on their scales."""

    rows: list[dict[str, str | int | float | None]] = Field(max_length=10_000)


class QuestionBody(BaseModel):
    """An own question: `kind` one of likert5, likert7, scale10, single, multi, text; options for
    single/multi; optionally asked only when `show_if_item`'s answer is in `show_if_in`."""

    id: str = Field(min_length=1, max_length=40, pattern=QUESTION_ID)
    kind: str = Field(max_length=16, json_schema_extra={"enum": list(KINDS)})
    text: str = Field(min_length=1, max_length=500)
    options: list[str] = Field(default_factory=list, max_length=20)
    show_if_item: str | None = Field(None, max_length=64)
    show_if_in: list[int] = Field(default_factory=list, max_length=20)

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:  # the enum above, from the same KINDS
        if kind not in KINDS:
            raise ValueError(f"one of {', '.join(KINDS)}")
        return kind


class InviteIn(BaseModel):
    segment: str | None = Field(None, max_length=64)
    customers: list[str] = Field(default_factory=list, max_length=10_000)


def _survey(survey: SurveyOut) -> dict[str, Any]:
    return {
        "id": survey.id,
        "title": survey.title,
        "template": survey.template,
        "status": survey.status,
        "version": survey.version,
        "items": [
            {"id": i.id, "dimension": i.dimension, "min": i.min, "max": i.max, "kind": i.kind,
             "text": i.text, "source": i.source, "options": list(i.labels)
             if i.kind in ("single", "multi") else [],
             "show_if": {"item": i.show_if[0], "in": list(i.show_if[1])} if i.show_if else None}
            for i in survey.items
        ],
    }  # fmt: skip


@router.get("", dependencies=[_READ])
def surveys(*, session: ReadSession) -> list[dict[str, Any]]:
    """Surveys, newest first, with how many customers and leaders answered."""
    return [r.__dict__ for r in list_surveys(session)]


@router.post("", status_code=201, responses=problem_responses(422))
def create(
    body: SurveyIn,
    *,
    principal: Principal = Depends(require("surveys:write")),
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> dict[str, Any]:
    """A survey from a template of validated items (each with its source)."""
    return _survey(
        create_survey(session, platform.vault, actor=principal.actor, **body.model_dump())
    )


@router.get("/trend", dependencies=[_READ])
def trend(*, template: str = "trust-core", session: ReadSession) -> list[dict[str, object]]:
    """Trust, NPS and the leaders' gap per wave (surveys of one template), oldest first."""
    return trust_trend(session, template[:64].replace("\x00", ""))


@router.get("/{survey_id}", dependencies=[_READ], responses=_404)
def survey(*, survey_id: int = SurveyId, session: ReadSession) -> dict[str, Any]:
    return _survey(load_survey(session, survey_id))


@router.post("/{survey_id}/responses", responses=_404_422)
def responses(
    body: ResponsesIn,
    *,
    survey_id: int = SurveyId,
    principal: Principal = Depends(require("surveys:write")),
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> dict[str, object]:
    """Import responses; idempotent per respondent, bad rows named (1-based) and not stored."""
    check_columns(load_survey(session, survey_id), {k for row in body.rows for k in row})
    rows: list[tuple[int, dict[str, Any] | str]] = [
        (n, dict(row)) for n, row in enumerate(body.rows, start=1)
    ]
    report = import_responses(
        session, platform.vault, survey_id, rows, actor=principal.actor,
        data_dir=platform.settings.data_dir,
    )  # fmt: skip
    return report.as_dict()


@router.post("/{survey_id}/questions", status_code=201, responses=_404_422)
def add(
    body: QuestionBody,
    *,
    survey_id: int = SurveyId,
    principal: Principal = Depends(require("surveys:write")),
    session: WriteSession,
) -> dict[str, Any]:
    """Add an own question (a sent survey gets a new version; answers keep theirs)."""
    question = QuestionIn(**body.model_dump())
    return _survey(add_question(session, survey_id, question, actor=principal.actor))


@router.delete("/{survey_id}/questions/{item_id}", responses=_404_422)
def remove(
    *,
    survey_id: int = SurveyId,
    item_id: str = Path(min_length=1, max_length=64),
    principal: Principal = Depends(require("surveys:write")),
    session: WriteSession,
) -> dict[str, Any]:
    """Remove a question (a sent survey gets a new version; answers keep theirs)."""
    return _survey(remove_question(session, survey_id, item_id, actor=principal.actor))


@router.post("/{survey_id}/invitations", responses=_404_422)
def invite(
    body: InviteIn,
    *,
    survey_id: int = SurveyId,
    principal: Principal = Depends(require("surveys:write")),
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> dict[str, int]:
    """Invite a segment and/or customers whose consent allows research by email."""
    done = distribution.invite(
        session, survey_id, segment=body.segment, external_ids=body.customers,
        actor=principal.actor, policy_file=platform.settings.consent_policy_file,
    )  # fmt: skip
    return done.__dict__


@router.get("/{survey_id}/gap", dependencies=[_READ], responses=_404)
def gap(*, survey_id: int = SurveyId, session: ReadSession) -> list[dict[str, object]]:
    """Leaders' belief minus customers' answers per dimension (0..100), Welch 95% interval."""
    return trust_gap(session, survey_id)


@router.get("/{survey_id}/results", dependencies=[_READ], responses=_404)
def results(*, survey_id: int = SurveyId, session: ReadSession) -> dict[str, object]:
    """Per dimension and segment with 95% intervals, NPS with its interval, drivers."""
    return survey_results(session, survey_id)


@router.get("/{survey_id}/stats", dependencies=[_READ], responses=_404)
def stats(*, survey_id: int = SurveyId, session: ReadSession) -> dict[str, object]:
    """Invited, sent, opened, partial, answered; response rate and time to answer."""
    return dict(distribution.response_stats(session, survey_id).__dict__)
