"""Fraud endpoints: /api/v1/transactions (score, store, label, step-up outcome) and /api/v1/fraud
(rules, models, review queue)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
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
from trustdesk.db import utcnow
from trustdesk.fraud import service
from trustdesk.fraud.intake import step_up
from trustdesk.fraud.review import cases
from trustdesk.fraud.rules.ruleset import parse_rules
from trustdesk.fraud.schemas import CaseOut, LabelIn, ScoreOut, StepUpIn, StepUpOut, TransactionIn
from trustdesk.fraud.scoring import versions
from trustdesk.fraud.scoring.holder import EngineHolder, limits_from
from trustdesk.platform import Platform
from trustdesk.problems import problem_responses

__all__ = ["engine_holder", "fraud_router", "router"]

router = APIRouter(prefix="/transactions", tags=["fraud"])
_RESENT: dict[int | str, dict[str, Any]] = {
    200: {"model": ScoreOut, "description": "Sent before: the stored decision"},
    **problem_responses(409),
}
fraud_router = APIRouter(prefix="/fraud", tags=["fraud"])


def engine_holder(request: Request) -> EngineHolder:
    """The app's scorer memory (made at start-up; see `app.py`)."""
    state = request.app.state
    holder: EngineHolder | None = getattr(state, "fraud", None)
    if holder is None:
        platform: Platform = state.platform
        holder = state.fraud = EngineHolder(platform.db, platform.settings)
    return holder


def _caller(request: Request) -> Principal:
    principal = current_principal(request, request.app.state.platform)
    principal.require("fraud:score")
    return principal


def _store_now(request: Request, body: TransactionIn, response: Response, decide: bool) -> ScoreOut:
    platform: Platform = request.app.state.platform
    engine = engine_holder(request).get()
    limits = limits_from(platform.settings)
    out = service.score_transaction(platform.db, engine, body, limits, decide=decide)
    response.status_code = 200 if out.duplicate else 201
    return out


async def _store(
    request: Request, body: TransactionIn, response: Response, decide: bool
) -> ScoreOut:
    """The hot path in two worker-thread hops: the caller's token, then (in this request's
    writer's turn) the check for a duplicate, the score and the insert. Nothing touches the
    database on the event loop; the answer is validated there, saving the hop a plain `def`
    route would take for it."""
    await run_in_threadpool(_caller, request)
    async with request.app.state.platform.db.writers.turn():
        return await run_in_threadpool(_store_now, request, body, response, decide)


@router.post("/score", response_model=ScoreOut, status_code=201, responses=_RESENT)
async def score(body: TransactionIn, request: Request, response: Response) -> ScoreOut:
    """Score a payment and store it with its decision (201); a resent one gets the stored
    decision (200, `duplicate: true`); an id reused for a different payment is refused (409).
    Needs `fraud:score`."""
    return await _store(request, body, response, decide=True)


@router.post("", response_model=ScoreOut, status_code=201, responses=_RESENT)
async def intake(body: TransactionIn, request: Request, response: Response) -> ScoreOut:
    """Store a payment without deciding on it (it still counts in later payments' history).
    Needs `fraud:score`."""
    return await _store(request, body, response, decide=False)


@router.get("/{transaction_id}", response_model=CaseOut)
def get_transaction(
    *,
    transaction_id: str,
    principal: Principal = Depends(require("fraud:read")),
    session: ReadSession,
) -> CaseOut:
    return cases.get_case(session, transaction_id)


@router.post("/{transaction_id}/labels", response_model=CaseOut, status_code=201)
def add_label(
    *,
    transaction_id: str,
    label: LabelIn,
    principal: Principal = Depends(require("fraud:review")),
    platform: Platform = Depends(get_platform),
    holder: EngineHolder = Depends(engine_holder),
) -> CaseOut:
    """Record a later outcome (fraud, chargeback, genuine): it trains the next model and, once
    known, counts in the features of later payments."""
    service.label_transaction(
        platform.db, holder.get(), transaction_id, label, actor=principal.actor, now=utcnow()
    )
    with platform.db.reading() as session:
        return cases.get_case(session, transaction_id)


@router.post(
    "/{transaction_id}/step-up",
    response_model=StepUpOut,
    status_code=201,
    responses={200: {"model": StepUpOut, "description": "Reported before"}, 409: {}},
)
def report_step_up(
    *,
    transaction_id: str,
    body: StepUpIn,
    response: Response,
    principal: Principal = Depends(require("fraud:score")),
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> StepUpOut:
    """Report what became of a payment's second-factor challenge (201). Sent again with the
    same outcome: the stored record (200). Failed and abandoned ones go to the review queue.
    409: the payment was not decided `step_up`, or another outcome was reported before;
    422: `at` before the payment or in the future."""
    out, created = step_up.record_step_up(
        session,
        transaction_id,
        body,
        actor=principal.actor,
        now=utcnow(),
        clock_skew_s=platform.settings.fraud_clock_skew_s,
    )
    response.status_code = 201 if created else 200
    return out


class RulesOut(BaseModel):
    version: int = Field(description="0: the rules shipped with TrustDesk.")
    rules: list[str]
    content: str


class RulesIn(BaseModel):
    content: str = Field(description="The rule file (YAML), as `fraud rules load` reads it.")


def _rules_out(info: versions.RuleSetInfo) -> RulesOut:
    names = [r.name for r in parse_rules(info.content).rules]
    return RulesOut(version=info.version, rules=names, content=info.content)


@fraud_router.get("/rules", response_model=RulesOut)
def get_rules(
    *,
    principal: Principal = Depends(require("fraud:read")),
    session: ReadSession,
) -> RulesOut:
    return _rules_out(versions.active_rules(session))


@fraud_router.put("/rules", response_model=RulesOut)
def put_rules(
    *,
    body: RulesIn,
    principal: Principal = Depends(require("fraud:admin")),
    platform: Platform = Depends(get_platform),
    holder: EngineHolder = Depends(engine_holder),
) -> RulesOut:
    """Validate and activate a new rule-set version; a bad rule changes nothing (422)."""
    with platform.db.transaction() as session:
        info = versions.load_rules(session, body.content, actor=principal.actor, now=utcnow())
    holder.refresh()
    return _rules_out(info)


class ModelOut(BaseModel):
    version: int
    active: bool
    metrics: dict[str, object]


@fraud_router.get("/models", response_model=list[ModelOut])
def list_models(
    *,
    principal: Principal = Depends(require("fraud:read")),
    session: ReadSession,
) -> list[ModelOut]:
    return [
        ModelOut(version=m.version, active=m.active, metrics=m.metrics)
        for m in versions.list_models(session)
    ]


@fraud_router.post("/models/{version}/activate", response_model=ModelOut)
def activate_model(
    *,
    version: RowId,
    principal: Principal = Depends(require("fraud:admin")),
    platform: Platform = Depends(get_platform),
    holder: EngineHolder = Depends(engine_holder),
) -> ModelOut:
    with platform.db.transaction() as session:
        info = versions.activate_model(session, version, actor=principal.actor)
    holder.refresh()
    return ModelOut(version=info.version, active=info.active, metrics=info.metrics)


@fraud_router.get("/review-queue", response_model=list[CaseOut])
def review_queue(
    *,
    limit: int = Query(50, ge=1, le=500),
    principal: Principal = Depends(require("fraud:read")),
    session: ReadSession,
) -> list[CaseOut]:
    """Payments waiting for a person's decision, oldest first."""
    return cases.review_queue(session, limit=limit)
