"""How a known customer's complaint was handled, as a trust signal (benevolence; resolution
also ability). Read from the case timeline, which only grows, so the event id is the ref:

* `csat` (the customer's "did we fix it?" answer, 1..5): value 0, 25, 50, 75, 100; weight 2
  (the customer's own verdict); negative at 1 or 2;
* a resolution: 75 when within its resolution target and never breached (a complaint handled
  well can raise trust), 35 otherwise (negative); the time to resolution is what decides;
* a reopening: 25, negative (the fix did not hold);
* an SLA breach escalation: 15, weight 1.5, negative (an ignored complaint lowers trust).

Cases of senders not matched to a customer say nothing of a customer: left out (a contact
merged later is picked up by `trustdesk trust recompute --full`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

import numpy as np
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from trustdesk.cases.models import Case, CaseEvent
from trustdesk.crypto import Vault
from trustdesk.customers import public as customers
from trustdesk.trust.public import Observations, TimeColumnSignal, dimension_mask

__all__ = ["CASES_SIGNAL", "CaseHandlingSignal", "observation_of"]

_BENEVOLENCE = dimension_mask(["benevolence"])
_RESOLVED = dimension_mask(["benevolence", "ability"])
_KINDS = ("csat", "status", "escalated")


def observation_of(
    kind: str, detail: dict[str, object], breached: bool
) -> tuple[float, float, int, bool, str] | None:
    """(value, weight, dims, negative, why) of one timeline event, or None if it says nothing."""
    if kind == "csat":
        score = int(str(detail.get("score", 0)))
        if not 1 <= score <= 5:
            return None
        return 25.0 * (score - 1), 2.0, _BENEVOLENCE, score <= 2, f"answered {score}/5"
    if kind == "escalated":
        return 15.0, 1.5, _BENEVOLENCE, True, "SLA breached"
    if kind == "status" and detail.get("to") == "resolved":
        if breached:
            return 35.0, 1.0, _RESOLVED, True, "resolved late"
        return 75.0, 1.0, _RESOLVED, False, "resolved on time"
    if kind == "status" and detail.get("to") == "reopened":
        return 25.0, 1.0, _BENEVOLENCE, True, "reopened"
    return None


class CaseHandlingSignal(TimeColumnSignal):
    name = "cases"
    label = "how the customer's complaints were handled"
    topics: tuple[str, ...] = ()
    time_column = CaseEvent.at

    def _read(
        self,
        session: Session,
        after_ref: int,
        batch_size: int,
        conditions: Sequence[ColumnElement[bool]],
    ) -> Iterator[Observations]:
        after = after_ref
        while True:
            batch = session.execute(
                select(
                    CaseEvent.id,
                    CaseEvent.at,
                    CaseEvent.kind,
                    CaseEvent.detail,
                    Case.customer_id,
                    Case.breached,
                )
                .join(Case, Case.id == CaseEvent.case_id)
                .where(
                    CaseEvent.id > after,
                    CaseEvent.kind.in_(_KINDS),
                    Case.customer_id.is_not(None),
                    *conditions,
                )
                .order_by(CaseEvent.id)
                .limit(batch_size)
            ).all()
            if not batch:
                return
            after = int(batch[-1][0])
            found = [
                (r, seen)
                for r in batch
                if (seen := observation_of(r[2], json.loads(r[3]), bool(r[5]))) is not None
            ]
            if not found:
                continue
            placed = customers.segments(session, [r[4] or 0 for r, _ in found])
            rows = [
                (r, seen, segment, 1.0 / len(names))
                for r, seen in found
                for names in [placed.get(r[4] or 0) or ("",)]
                for segment in names
            ]
            yield Observations(
                signal=self.name,
                ref=np.array([r[0] for r, _, _, _ in rows], dtype=np.int64),
                at=np.array([int(r[1].timestamp()) for r, _, _, _ in rows], dtype=np.int64),
                customer_id=np.array([r[4] for r, _, _, _ in rows], dtype=np.int64),
                segment=np.array([segment for _, _, segment, _ in rows], dtype=object),
                value=np.array([s[0] for _, s, _, _ in rows], dtype=np.float64),
                weight=np.array([s[1] * share for _, s, _, share in rows], dtype=np.float64),
                dims=np.array([s[2] for _, s, _, _ in rows], dtype=np.int32),
                topics=np.zeros(len(rows), dtype=np.int32),
                negative=np.array([s[3] for _, s, _, _ in rows], dtype=bool),
                last_ref=after,
            )

    def describe(self, session: Session, vault: Vault, refs: Sequence[int]) -> dict[int, str]:
        rows = session.execute(
            select(CaseEvent.id, CaseEvent.case_id, CaseEvent.kind, CaseEvent.detail, Case.breached)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(CaseEvent.id.in_(list(refs)))
        ).all()
        found: dict[int, str] = {}
        for ref, case_id, kind, detail, breached in rows:
            seen = observation_of(kind, json.loads(detail), bool(breached))
            found[int(ref)] = f"complaint case {case_id}: {seen[4] if seen else kind}"
        return found


CASES_SIGNAL = CaseHandlingSignal()
"""Wired to trust's registry by the manifest (`trustdesk.capabilities`)."""
