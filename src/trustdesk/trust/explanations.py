"""Explaining a trust index: which signals and which stored rows moved a segment's index away
from the overall one as of its own latest evidence (or a customer's from their segments'), and
the dashboard's segment page.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.crypto import Vault
from trustdesk.customers import public as customers
from trustdesk.errors import NotFound
from trustdesk.trust.aggregates import (
    ALL_TIME,
    FACET_ALL,
    STAT_FIELDS,
    Scope,
    recency_weight,
)
from trustdesk.trust.index import contributions, item_moves
from trustdesk.trust.levels import (
    Point,
    facets_for,
    score_at,
    segment_points,
    to_time,
    trust_state,
)
from trustdesk.trust.models import TrustEvidence, TrustStat, TrustState
from trustdesk.trust.schemas import (
    EvidenceOut,
    Explanation,
    SegmentView,
    SignalContribution,
    TrustScore,
)
from trustdesk.trust.score_reads import customer_scores, scores, segment_detail
from trustdesk.trust.service import TrustParams
from trustdesk.trust.signals import registered_signals

__all__ = ["explain_customer", "explain_segment", "segment_view"]


_EVIDENCE_WINDOW = 5_000
"""Segment explanations rank the latest this many rows (older ones weigh less anyway)."""


def _signal_parts(
    per_signal: dict[str, np.ndarray], parent: float, k: float
) -> list[SignalContribution]:
    labels = {s.name: s.label for s in registered_signals()}
    names = sorted(per_signal)
    rows = np.array([per_signal[n] for n in names])
    points = contributions(rows, parent, prior_strength=k)
    return [
        SignalContribution(
            signal=name,
            label=labels.get(name, name),
            n=int(row[0]),
            mean=round(float(row[3] / row[2]), 2) if row[2] > 0 else None,
            points=round(float(p), 2),
        )
        for name, row, p in zip(names, rows, points, strict=True)
    ]


def _evidence(
    session: Session,
    vault: Vault,
    evidence: list[TrustEvidence],
    state: TrustState,
    point: Point,
    total_sw: float,
    *,
    with_text: bool,
    top: int,
) -> tuple[list[EvidenceOut], list[EvidenceOut]]:
    if not evidence:
        return [], []
    at = np.array([e.at for e in evidence], dtype=np.int64)
    w = np.array([e.weight for e in evidence]) * recency_weight(
        at, epoch=state.epoch, half_life_s=state.half_life_s
    )
    values = np.array([e.value for e in evidence])
    moves = item_moves(values, w, total_sw, point.credibility, point.parent)
    order = np.argsort(moves)
    down = [int(i) for i in order[:top] if moves[i] < 0]
    up = [int(i) for i in order[::-1][:top] if moves[i] > 0]
    texts: dict[tuple[str, int], str] = {}
    if with_text:
        by_signal: dict[str, list[int]] = defaultdict(list)
        for i in down + up:
            by_signal[evidence[i].signal].append(evidence[i].ref)
        for signal in registered_signals():
            if by_signal.get(signal.name):
                described = signal.describe(session, vault, by_signal[signal.name])
                texts.update({(signal.name, r): t for r, t in described.items()})

    def out(i: int) -> EvidenceOut:
        e = evidence[i]
        return EvidenceOut(
            signal=e.signal,
            ref=e.ref,
            at=to_time(e.at),
            value=round(e.value, 2),
            points=round(float(moves[i]), 3),
            text=texts.get((e.signal, e.ref)),
        )

    return [out(i) for i in down], [out(i) for i in up]


def _explanation(
    session: Session,
    vault: Vault,
    params: TrustParams,
    state: TrustState,
    score: TrustScore,
    parent_level: str,
    per_signal: dict[str, np.ndarray],
    evidence: list[TrustEvidence],
    *,
    with_text: bool,
    top: int,
) -> Explanation:
    """Signal contributions and the rows that moved a score most, relative to its parent."""
    point = Point(0, 0, 0, 0, 0, score.credibility, score.parent, 0)
    total_sw = float(sum(v[2] for v in per_signal.values()))
    down, up = _evidence(
        session, vault, evidence, state, point, total_sw, with_text=with_text, top=top
    )
    return Explanation(
        score=score,
        parent_level=parent_level,
        signals=_signal_parts(per_signal, score.parent, params.prior_strength),
        pulled_down=down,
        pulled_up=up,
    )


def explain_segment(
    session: Session,
    vault: Vault,
    params: TrustParams,
    segment: str,
    *,
    with_text: bool = False,
    top: int = 5,
) -> Explanation:
    """Which signals and which rows moved a segment's index away from the overall index (as of
    the segment's latest evidence)."""
    state = trust_state(session)
    found = [s for s in scores(session, params, by="segment") if s.key == segment]
    if not found:
        raise NotFound(f"no trust index for segment {segment!r}")
    score = found[0]
    per_signal: dict[str, np.ndarray] = {}
    columns = [getattr(TrustStat, f) for f in STAT_FIELDS]
    for signal, *values in session.execute(
        select(TrustStat.signal, *columns).where(
            TrustStat.scope == Scope.SEGMENT,
            TrustStat.segment == segment,
            TrustStat.facet == FACET_ALL,
            TrustStat.bucket == ALL_TIME,
        )
    ):
        per_signal[signal] = np.array(values, dtype=np.float64)
    evidence = list(
        session.scalars(
            select(TrustEvidence)
            .where(TrustEvidence.segment == segment)
            .order_by(TrustEvidence.at.desc())
            .limit(_EVIDENCE_WINDOW)
        )
    )
    return _explanation(
        session,
        vault,
        params,
        state,
        score,
        "overall",
        per_signal,
        evidence,
        with_text=with_text,
        top=top,
    )


def explain_customer(
    session: Session,
    vault: Vault,
    params: TrustParams,
    external_id: str,
    *,
    with_text: bool = False,
    top: int = 5,
) -> Explanation:
    """Which signals and which rows moved a customer's index away from their segments'."""
    state = trust_state(session)
    ids = customers.customer_ids(session, [external_id])
    if external_id not in ids:
        raise NotFound(f"no customer with external id {external_id!r}")
    cid = ids[external_id]
    found = customer_scores(session, params, customer_ids=[cid])
    if not found:
        raise NotFound(f"no trust observations for customer {external_id!r}")
    score = found[0]
    per_signal: dict[str, np.ndarray] = {}
    columns = [getattr(TrustStat, f) for f in STAT_FIELDS]
    for signal, *values in session.execute(
        select(TrustStat.signal, *columns).where(
            TrustStat.scope == Scope.CUSTOMER,
            TrustStat.customer_id == cid,
            TrustStat.facet == FACET_ALL,
        )
    ):
        vector = np.array(values, dtype=np.float64)
        per_signal[signal] = per_signal[signal] + vector if signal in per_signal else vector
    evidence = list(session.scalars(select(TrustEvidence).where(TrustEvidence.customer_id == cid)))
    return _explanation(
        session,
        vault,
        params,
        state,
        score,
        "segment",
        per_signal,
        evidence,
        with_text=with_text,
        top=top,
    )


def segment_view(
    session: Session,
    vault: Vault,
    params: TrustParams,
    segment: str,
    *,
    with_text: bool = False,
) -> SegmentView:
    """Everything the dashboard's segment page shows, from the stored aggregates and evidence.

    Each dimension's score comes with its own interval (a dimension the segment has no data on
    shows its parent's index on it, with n = 0).
    """
    detail = segment_detail(session, params, segment)
    _main, dims = facets_for(None)
    _top, seg_points = segment_points(session, params)
    as_of = detail.score.evidence_up_to
    as_of_s = int(as_of.timestamp()) if as_of is not None else trust_state(session).latest_at
    dimensions = {
        facet.removeprefix("dim:"): score
        for facet in dims
        if (
            score := score_at("segment", segment, seg_points, segment, ALL_TIME, facet, [], as_of_s)
        )
    }
    explanation = explain_segment(session, vault, params, segment, with_text=with_text)
    return SegmentView(detail=detail, dimensions=dimensions, explanation=explanation)
