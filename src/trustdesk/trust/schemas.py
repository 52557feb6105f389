"""What the trust capability returns: scores, trends, drivers, explanations, alerts, reports."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

__all__ = [
    "AlertOut",
    "Dimension",
    "DriverOut",
    "EvidenceOut",
    "Explanation",
    "RecomputeReport",
    "SegmentDetail",
    "SegmentView",
    "SignalContribution",
    "TrendPoint",
    "TrustOverview",
    "TrustScore",
]


Dimension = Literal["ability", "integrity", "benevolence", "data_care"]  # signals.DIMENSIONS


class TrustScore(BaseModel):
    level: str = Field(description="overall, segment or customer.")
    key: str = Field(description="The segment name or customer external id ('' for overall).")
    trust_index: float = Field(description="0..100, shrunk towards the parent level.")
    ci_low: float
    ci_high: float
    n: int = Field(description="Observations behind the score.")
    n_eff: float = Field(description="Effective sample size after recency weighting.")
    credibility: float = Field(description="Weight of the subject's own data vs its parent (Z).")
    parent: float = Field(description="The parent level's score it is shrunk towards.")
    dimensions: dict[str, float] = Field(description="Index per trust dimension.")
    bucket_start: datetime | None = Field(None, description="Set for day or week scores.")
    as_of: datetime | None = Field(
        None,
        description="The time the figure describes: the segment's own latest evidence (or the "
        "requested cut-off); for the overall figure, the latest of its segments'.",
    )
    evidence_up_to: datetime | None = Field(
        None, description="Start of the latest day with evidence behind this figure."
    )
    as_of_earliest: datetime | None = Field(
        None,
        description="Overall only: the earliest as-of among the segments it combines (the spread "
        "of as-of dates is as_of_earliest..as_of).",
    )
    computed_at: datetime | None = Field(None, description="When the statistics were computed.")


class TrendPoint(BaseModel):
    bucket_start: datetime
    trust_index: float
    ci_low: float
    ci_high: float
    n: int


class DriverOut(BaseModel):
    topic: str
    label: str
    n: int = Field(description="Items mentioning the topic.")
    share: float = Field(description="Recency-weighted share of the segment's items.")
    effect: float = Field(description="Mean trust with the topic minus without (points).")
    ci_low: float
    ci_high: float
    impact: float = Field(description="share x effect: points the topic moves the index.")
    direction: str = Field(description="down, up, or unclear (interval includes 0).")


class AlertOut(BaseModel):
    id: int
    kind: str = Field(description="trust_drop or topic_surge.")
    segment: str
    topic: str | None
    window_start: datetime
    window_end: datetime
    severity: str
    baseline: float = Field(description="Drop: expected index. Surge: expected negative count.")
    observed: float
    effect: float = Field(description="Drop: points below baseline. Surge: observed/expected.")
    p_value: float
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None


class SignalContribution(BaseModel):
    signal: str
    label: str
    n: int
    mean: float | None
    points: float = Field(description="Points this signal moves the score away from the parent.")


class EvidenceOut(BaseModel):
    signal: str
    ref: int = Field(description="The evidence row's id in its source (feedback id …).")
    at: datetime
    value: float
    points: float = Field(description="Points this row moves the score away from the parent.")
    text: str | None = None


class Explanation(BaseModel):
    score: TrustScore
    parent_level: str
    signals: list[SignalContribution]
    pulled_down: list[EvidenceOut]
    pulled_up: list[EvidenceOut]


class SegmentDetail(BaseModel):
    score: TrustScore
    trend: list[TrendPoint]
    drivers: list[DriverOut]
    alerts: list[AlertOut]


class SegmentView(BaseModel):
    """The dashboard's segment page: the detail, each dimension with its interval, and why."""

    detail: SegmentDetail
    dimensions: dict[str, TrustScore] = Field(description="Dimension -> the segment's score on it.")
    explanation: Explanation


class TrustOverview(BaseModel):
    """The dashboard's first page: the overall index, every segment's, and their trends."""

    overall: TrustScore | None = Field(description="None before the first recompute.")
    segments: list[TrustScore]
    overall_trend: list[TrendPoint]
    segment_trends: dict[str, list[TrendPoint]] = Field(description="Segment -> its trend.")


class RecomputeReport(BaseModel):
    mode: str = Field(description="full or incremental.")
    observations: int
    stat_rows: int
    alerts_raised: int
    latest_at: datetime | None
    seconds: float
