"""Payments read as cases: the review queue, one case with the customer's recent payments, and
the daily tallies the monitoring page is drawn from. Reads only: a reviewer's decision is a label
(`service.label_transaction`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from trustdesk.fraud.intake.step_up import NEEDS_REVIEW, step_ups
from trustdesk.fraud.models import FraudLabel, FraudStepUp, FraudTransaction
from trustdesk.fraud.review.monitoring import Tally
from trustdesk.fraud.schemas import CaseOut
from trustdesk.fraud.service import transaction_row

__all__ = ["decision_tallies", "get_case", "queue_size", "recent_for_customer", "review_queue"]


def _loads(text: str | None) -> list[str]:
    return list(json.loads(text)) if text else []


def _labels(session: Session, pks: Sequence[int]) -> dict[int, list[tuple[str, str, datetime]]]:
    found: dict[int, list[tuple[str, str, datetime]]] = {pk: [] for pk in pks}
    if not pks:
        return found
    rows = session.execute(
        select(FraudLabel.transaction_pk, FraudLabel.label, FraudLabel.source, FraudLabel.known_at)
        .where(FraudLabel.transaction_pk.in_(list(pks)))
        .order_by(FraudLabel.known_at)
    )
    for pk, label, source, known_at in rows:
        found[pk].append((label, source, known_at))
    return found


def _cases(session: Session, rows: Sequence[FraudTransaction]) -> list[CaseOut]:
    labels = _labels(session, [r.id for r in rows])
    stepped = step_ups(session, [(r.id, r.transaction_id) for r in rows if r.decision == "step_up"])
    return [
        CaseOut(
            transaction_id=r.transaction_id,
            at=r.at,
            customer_id=r.customer_ref,
            terminal_id=r.terminal_id,
            amount=r.amount,
            currency=r.currency,
            channel=r.channel,
            device_id=r.device_id,
            country=r.country,
            score=r.score,
            decision=r.decision,
            reasons=_loads(r.reasons),
            rules_fired=_loads(r.rules_fired),
            model_version=r.model_version,
            rules_version=r.rules_version,
            labels=labels[r.id],
            step_up=stepped.get(r.id),
        )
        for r in rows
    ]


def _waiting() -> ColumnElement[bool]:
    """Held for a person and not labelled yet: decided `review`, or a step-up that failed or
    was abandoned (a thief stopped, or a genuine customer lost: an analyst says which)."""
    failed_step_up = select(FraudStepUp.transaction_pk).where(FraudStepUp.outcome.in_(NEEDS_REVIEW))
    return and_(
        or_(
            FraudTransaction.decision == "review",
            and_(
                FraudTransaction.decision == "step_up",
                FraudTransaction.id.in_(failed_step_up),
            ),
        ),
        FraudTransaction.id.not_in(select(FraudLabel.transaction_pk)),
    )


def review_queue(session: Session, *, limit: int = 50) -> list[CaseOut]:
    """Payments waiting for a person's decision (see `_waiting`), oldest first."""
    rows = session.scalars(
        select(FraudTransaction)
        .where(_waiting())
        .order_by(FraudTransaction.at, FraudTransaction.id)
        .limit(limit)
    ).all()
    return _cases(session, rows)


def queue_size(session: Session) -> int:
    return int(
        session.scalar(select(func.count()).select_from(FraudTransaction).where(_waiting())) or 0
    )


def get_case(session: Session, transaction_id: str) -> CaseOut:
    return _cases(session, [transaction_row(session, transaction_id)])[0]


def recent_for_customer(
    session: Session, customer_ref: str, *, before: datetime, limit: int = 20
) -> list[CaseOut]:
    """The customer's latest transactions up to `before`, newest first."""
    rows = session.scalars(
        select(FraudTransaction)
        .where(FraudTransaction.customer_ref == customer_ref, FraudTransaction.at <= before)
        .order_by(FraudTransaction.at.desc(), FraudTransaction.id.desc())
        .limit(limit)
    ).all()
    return _cases(session, rows)


def decision_tallies(session: Session, edges: Sequence[float], *, days: int = 30) -> list[Tally]:
    """Decided payments of the last `days` days of data, counted per day, decision, latest
    label, step-up outcome and score bin (bins between `edges`), in SQL: a month can hold
    millions of payments."""
    latest = session.scalar(
        select(func.max(FraudTransaction.at)).where(FraudTransaction.decision.is_not(None))
    )
    if latest is None:
        return []
    latest = latest if latest.tzinfo else latest.replace(tzinfo=UTC)
    at = FraudTransaction.at
    dialect = session.get_bind().dialect.name
    day = func.date(func.timezone("UTC", at)) if dialect == "postgresql" else func.date(at)
    latest_label = (
        select(FraudLabel.label)
        .where(FraudLabel.transaction_pk == FraudTransaction.id)
        .order_by(FraudLabel.known_at.desc(), FraudLabel.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    step_up = (
        select(FraudStepUp.outcome)
        .where(FraudStepUp.transaction_pk == FraudTransaction.id)
        .scalar_subquery()
    )
    inner = list(edges[1:-1])
    score_bin = case(
        *((FraudTransaction.score < edge, i) for i, edge in enumerate(inner)),
        else_=len(inner),
    )
    per_payment = (
        select(
            day.label("day"),
            FraudTransaction.decision.label("decision"),
            latest_label.label("label"),
            step_up.label("step_up"),
            score_bin.label("score_bin"),
        )
        .where(FraudTransaction.decision.is_not(None), at > latest - timedelta(days=days))
        .subquery()
    )
    c = per_payment.c
    query = select(c.day, c.decision, c.label, c.step_up, c.score_bin, func.count()).group_by(
        c.day, c.decision, c.label, c.step_up, c.score_bin
    )
    return [
        Tally(
            d if isinstance(d, date) else date.fromisoformat(str(d)),
            str(decision),
            label,
            int(b),
            int(n),
            step_up=outcome,
        )
        for d, decision, label, outcome, b, n in session.execute(query)
    ]
