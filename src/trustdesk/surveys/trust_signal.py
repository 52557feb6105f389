"""Survey answers as a trust signal: what customers say when asked directly.

Per customer response and trust dimension the customer answered, one observation: the value is
their score on that dimension (mean of its items, 0..100), the dimension's bit is set, and the
weight is `DIRECT_WEIGHT` (see docs/trust-index.md: a validated multi-item answer is direct
evidence about that dimension, worth two ordinary feedback items, as much as a false decline).
Leaders' responses are predictions, not evidence, and are never read. The evidence ref is the
response id, shared by that response's observations. Segments follow the customer's, the weight
split between them (as the fraud and incidents signals do).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.crypto import Vault
from trustdesk.customers import public as customers
from trustdesk.surveys.bank import DIMENSIONS
from trustdesk.surveys.models import Survey, SurveyResponse
from trustdesk.trust.public import Observations, dimension_mask

__all__ = ["DIRECT_WEIGHT", "SURVEY_SIGNAL", "SurveySignal"]

DIRECT_WEIGHT = 2.0
NEGATIVE_BELOW = 35.0  # a dimension score this low counts as a complaint-like row for alerts
_MASKS = [dimension_mask([d]) for d in DIMENSIONS]


class SurveySignal:
    name = "surveys"
    label = "what customers answered in trust surveys"
    topics: tuple[str, ...] = ()

    def read(self, session: Session, *, after_ref: int, batch_size: int) -> Iterator[Observations]:
        columns = [getattr(SurveyResponse, d) for d in DIMENSIONS]
        while True:
            batch = session.execute(
                select(
                    SurveyResponse.id,
                    SurveyResponse.submitted_at,
                    SurveyResponse.customer_id,
                    *columns,
                )
                .where(
                    SurveyResponse.id > after_ref,
                    SurveyResponse.respondent == "customer",
                    SurveyResponse.customer_id.is_not(None),
                )
                .order_by(SurveyResponse.id)
                .limit(batch_size)
            ).all()
            if not batch:
                return
            placed = customers.segments(session, [r[2] for r in batch])
            ref: list[int] = []
            at: list[int] = []
            cid: list[int] = []
            seg: list[str] = []
            value: list[float] = []
            weight: list[float] = []
            dims: list[int] = []
            for r in batch:
                names = placed.get(r[2]) or ("",)
                for d, score in enumerate(r[3:]):
                    if score is None:
                        continue
                    for segment in names:
                        ref.append(r[0])
                        at.append(int(r[1].timestamp()))
                        cid.append(r[2])
                        seg.append(segment)
                        value.append(float(score))
                        weight.append(DIRECT_WEIGHT / len(names))
                        dims.append(_MASKS[d])
            values = np.array(value, dtype=np.float64)
            yield Observations(
                signal=self.name,
                ref=np.array(ref, dtype=np.int64),
                at=np.array(at, dtype=np.int64),
                customer_id=np.array(cid, dtype=np.int64),
                segment=np.array(seg, dtype=object),
                value=values,
                weight=np.array(weight, dtype=np.float64),
                dims=np.array(dims, dtype=np.int32),
                topics=np.zeros(len(ref), dtype=np.int32),
                negative=values < NEGATIVE_BELOW,
                last_ref=int(batch[-1][0]),
            )
            after_ref = int(batch[-1][0])

    def describe(self, session: Session, vault: Vault, refs: Sequence[int]) -> dict[int, str]:
        rows = session.execute(
            select(
                SurveyResponse.id, Survey.title, *[getattr(SurveyResponse, d) for d in DIMENSIONS]
            )
            .join(Survey, Survey.id == SurveyResponse.survey_id)
            .where(SurveyResponse.id.in_(list(refs)))
        ).all()
        found = {}
        for r in rows:
            parts = [
                f"{d.replace('_', ' ')} {s:.0f}"
                for d, s in zip(DIMENSIONS, r[2:], strict=True)
                if s is not None
            ]
            found[int(r[0])] = f"survey {r[1]!r}: " + ", ".join(parts)
        return found


SURVEY_SIGNAL = SurveySignal()
"""Wired to trust's registry by the manifest (`trustdesk.capabilities`)."""
