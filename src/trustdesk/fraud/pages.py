"""Fraud pages: daily monitoring, the review queue, and one case with its decision form.

Plain HTML forms with the CSRF token, no JavaScript. A reviewer's outcome is stored as a label
(source "review"): it trains the next model, counts in later payments' features, and is audited.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from trustdesk.access.principal import Principal
from trustdesk.auth.http import ReadSession, WriterTurn, get_platform, require_page
from trustdesk.db import utcnow
from trustdesk.errors import InvalidInput
from trustdesk.fraud import service
from trustdesk.fraud.api import engine_holder
from trustdesk.fraud.review import cases
from trustdesk.fraud.review.monitoring import (
    PSI_SHIFT,
    PSI_WATCH,
    DayFigures,
    daily_figures,
    drift,
)
from trustdesk.fraud.schemas import LabelIn, LabelKind
from trustdesk.fraud.training import validation_bins
from trustdesk.platform import Platform
from trustdesk.web.charts import Point, line_chart
from trustdesk.web.nav import NavEntry, Section
from trustdesk.web.routing import page_router
from trustdesk.web.templating import flash, render

__all__ = ["router", "section"]

QUEUE_SIZE = 50
OUTCOMES = {"fraud": LabelKind.FRAUD, "genuine": LabelKind.GENUINE}

router = page_router(prefix="/fraud")
section = Section(
    router=router,
    nav=(
        NavEntry(
            "Fraud",
            "/fraud",
            permission="fraud:read",
            description="Fraud decisions per day: review precision, fraud caught, false declines.",
            order=40,
        ),
        NavEntry(
            "Review queue",
            "/fraud/review",
            permission="fraud:read",
            description="Payments held for a person's decision, oldest first.",
            order=41,
        ),
    ),
)


def _rate_chart(days: list[DayFigures], field: str, chart_id: str, title: str) -> tuple[str, str]:
    points = [
        Point(f"{d.day:%b %d}", 100 * v, 100 * v, 100 * v)
        for d in days
        if (v := getattr(d, field)) is not None
    ]
    if points:
        description = (
            f"{title} per day in percent, {len(points)} days, from {points[0].label} "
            f"({points[0].value:.0f}%) to {points[-1].label} ({points[-1].value:.0f}%)."
        )
    else:
        description = f"No data for {title.lower()} yet."
    chart = line_chart(
        points, chart_id=chart_id, title=title, description=description, width=420, height=200
    )
    return title, chart


@router.get("")
def monitoring(
    *,
    request: Request,
    principal: Principal = Depends(require_page("fraud:read")),
    session: ReadSession,
) -> Response:
    baseline = validation_bins(session)
    edges = baseline["edges"] if baseline else [i / 10 for i in range(11)]
    tallies = cases.decision_tallies(session, edges)
    days = daily_figures(tallies, baseline["shares"] if baseline else None)
    charts = [
        _rate_chart(days, "review_precision", "chart-precision", "Precision of reviewed cases"),
        _rate_chart(days, "fraud_caught", "chart-caught", "Labelled fraud caught"),
        _rate_chart(days, "false_declines", "chart-false-declines", "False-decline rate"),
        _rate_chart(days, "step_up_pass_rate", "chart-step-up", "Step-up pass rate"),
    ]
    context = {
        "days": days,
        "charts": charts,
        "queue_size": cases.queue_size(session),
        "drift": drift,
        "psi_watch": PSI_WATCH,
        "psi_shift": PSI_SHIFT,
    }
    return render(request, "fraud/monitoring.html", context)


@router.get("/review")
def review_queue(
    *,
    request: Request,
    principal: Principal = Depends(require_page("fraud:read")),
    session: ReadSession,
) -> Response:
    waiting = cases.review_queue(session, limit=QUEUE_SIZE)
    context = {"cases": waiting, "total": cases.queue_size(session)}
    return render(request, "fraud/queue.html", context)


@router.get("/review/{transaction_id}")
def case(
    *,
    request: Request,
    transaction_id: str,
    principal: Principal = Depends(require_page("fraud:read")),
    session: ReadSession,
) -> Response:
    found = cases.get_case(session, transaction_id)
    history = cases.recent_for_customer(session, found.customer_id, before=found.at)
    context = {
        "case": found,
        "history": [h for h in history if h.transaction_id != found.transaction_id],
        "can_decide": principal.can("fraud:review") and not found.labels,
    }
    return render(request, "fraud/case.html", context)


@router.post("/review/{transaction_id}")
def decide_case(
    *,
    request: Request,
    transaction_id: str,
    outcome: Annotated[str, Form()],
    principal: Principal = Depends(require_page("fraud:review")),
    platform: Platform = Depends(get_platform),
    _turn: WriterTurn,
) -> Response:
    if outcome not in OUTCOMES:
        raise InvalidInput("outcome must be fraud or genuine")
    service.label_transaction(
        platform.db,
        engine_holder(request).get(),
        transaction_id,
        LabelIn(label=OUTCOMES[outcome], source="review"),
        actor=principal.actor,
        now=utcnow(),
    )
    flash(request, f"Payment {transaction_id} marked {outcome}.")
    return RedirectResponse("/fraud/review", status_code=303)
