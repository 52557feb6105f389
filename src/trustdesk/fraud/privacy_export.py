"""The fraud section of a customer's access export: their payments, decisions and outcomes.

Wired to privacy's export registry by the manifest (`trustdesk.capabilities`), so privacy never
imports fraud. Payments hold ids and amounts, no contact details; after an erasure they are kept as
fraud-prevention records (the reason the law allows keeping them) but are no longer exported: the
customer they described is no longer identifiable to TrustDesk.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from sqlalchemy import select

from trustdesk.fraud.intake.step_up import step_ups
from trustdesk.fraud.models import FraudLabel, FraudTransaction
from trustdesk.privacy.public import ExportContext, ExportSubject

__all__ = ["payments"]


def payments(ctx: ExportContext, subject: ExportSubject) -> list[Any]:
    """Every payment scored or stored under the customer's id, oldest first, with its labels and
    the outcome of its second-factor challenge (step-up), if one was asked for and reported."""
    if subject.erased:
        return []
    rows = ctx.session.scalars(
        select(FraudTransaction)
        .where(FraudTransaction.customer_ref == subject.external_id)
        .order_by(FraudTransaction.at, FraudTransaction.id)
    ).all()
    labels: dict[int, list[dict[str, str]]] = defaultdict(list)
    if rows:
        found = ctx.session.execute(
            select(FraudLabel.transaction_pk, FraudLabel.label, FraudLabel.known_at)
            .join(FraudTransaction, FraudTransaction.id == FraudLabel.transaction_pk)
            .where(FraudTransaction.customer_ref == subject.external_id)
            .order_by(FraudLabel.known_at)
        )
        for pk, label, known_at in found:
            labels[pk].append({"outcome": label, "known_at": known_at.isoformat()})
    stepped = step_ups(
        ctx.session, [(r.id, r.transaction_id) for r in rows if r.decision == "step_up"]
    )
    return [
        {
            "transaction_id": row.transaction_id,
            "at": row.at.isoformat(),
            "amount": str(row.amount),
            "currency": row.currency,
            "channel": row.channel,
            "terminal_id": row.terminal_id,
            "country": row.country,
            "device_id": row.device_id,
            "decision": row.decision,
            "score": row.score,
            "reasons": json.loads(row.reasons) if row.reasons else [],
            "outcomes": labels.get(row.id, []),
            "step_up": (
                {"outcome": su.outcome.value, "at": su.at.isoformat()}
                if (su := stepped.get(row.id))
                else None
            ),
        }
        for row in rows
    ]
