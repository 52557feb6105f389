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
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from trustdesk.crypto import Vault
from trustdesk.customers import public as customers
from trustdesk.surveys.bank import DIMENSIONS
from trustdesk.surveys.models import Survey, SurveyResponse
from trustdesk.trust.public import Observations, TimeColumnSignal, dimension_mask

__all__ = ["DIRECT_WEIGHT", "SURVEY_SIGNAL", "SurveySignal"]

DIRECT_WEIGHT = 2.0
NEGATIVE_BELOW = 35.0  # a dimension score this low counts as a complaint-like row for alerts
_MASKS = [dimension_mask([d]) for d in DIMENSIONS]


class SurveySignal(TimeColumnSignal):
    name = "surveys"
    label = "what customers answered in trust surveys"
    topics: tuple[str, ...] = ()
    time_column = SurveyResponse.submitted_at

    def _read(
        self,
        session: Session,
        after_ref: int,
        batch_size: int,
        conditions: Sequence[ColumnElement[bool]],
    ) -> Iterator[Observations]:
        columns = [getattr(SurveyResponse, d) for d in DIMENSIONS]
        connection = session.connection()  # plain rows: no ORM result processing per row
        while True:
            batch = connection.execute(
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
                    *conditions,
                )
                .order_by(SurveyResponse.id)
                .limit(batch_size)
            ).all()
            if not batch:
                return
            yield _observations(
                self.name, batch, customers.segments(session, [r[2] for r in batch])
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


def _observations(
    name: str, batch: Sequence[Any], placed: dict[int, tuple[str, ...]]
) -> Observations:
    """Columnar observations of a batch of (id, submitted_at, customer_id, *dimension scores):
    one per answered dimension and segment of the customer, weight split between segments."""
    ids = np.array([r[0] for r in batch], dtype=np.int64)
    at = np.array([int(r[1].timestamp()) for r in batch], dtype=np.int64)
    cid = np.array([r[2] for r in batch], dtype=np.int64)
    scores = np.array(
        [[np.nan if v is None else v for v in r[3:]] for r in batch], dtype=np.float64
    ).reshape(len(batch), len(DIMENSIONS))
    # One row per (response, segment): most customers are in one segment.
    names = [placed.get(int(c)) or ("",) for c in cid]
    repeat = np.array([len(n) for n in names], dtype=np.int64)
    row = np.repeat(np.arange(len(batch)), repeat)
    segment = np.array([s for n in names for s in n], dtype=object)
    share = 1.0 / repeat[row]
    # Then one per answered dimension (dimension-major, re-sorted by response id below).
    answered = ~np.isnan(scores[row])
    r_idx, d_idx = np.nonzero(answered)
    order = np.argsort(row[r_idx], kind="stable")
    r_idx, d_idx = r_idx[order], d_idx[order]
    source = row[r_idx]
    value = scores[source, d_idx]
    return Observations(
        signal=name,
        ref=ids[source],
        at=at[source],
        customer_id=cid[source],
        segment=segment[r_idx],
        value=value,
        weight=DIRECT_WEIGHT * share[r_idx],
        dims=np.array(_MASKS, dtype=np.int32)[d_idx],
        topics=np.zeros(len(source), dtype=np.int32),
        negative=value < NEGATIVE_BELOW,
        last_ref=int(ids[-1]),
    )


SURVEY_SIGNAL = SurveySignal()
"""Wired to trust's registry by the manifest (`trustdesk.capabilities`)."""
