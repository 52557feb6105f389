"""The trust overview and alerts as CSV rows (header, rows): what the pages show, for a
spreadsheet. Pure: it reshapes what `score_reads` and `alert_reads` return."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trustdesk.trust.schemas import AlertOut, TrustOverview, TrustScore
from trustdesk.trust.signals import DIMENSIONS

__all__ = ["ALERT_HEADER", "alert_rows", "overview_header", "overview_rows"]

ALERT_HEADER = (
    "id",
    "kind",
    "segment",
    "topic",
    "window_start",
    "window_end",
    "severity",
    "baseline",
    "observed",
    "effect",
    "p_value",
    "acknowledged_by",
    "acknowledged_at",
)


def overview_header() -> tuple[str, ...]:
    return (
        "level",
        "segment",
        "trust_index",
        "ci_low",
        "ci_high",
        "n",
        "n_eff",
        *(f"dimension_{d}" for d in DIMENSIONS),
        "as_of",
    )


def _iso(value: Any) -> str:
    return value.isoformat() if value is not None else ""


def _score_row(score: TrustScore) -> list[Any]:
    return [
        score.level,
        score.key,
        round(score.trust_index, 2),
        round(score.ci_low, 2),
        round(score.ci_high, 2),
        score.n,
        round(score.n_eff, 2),
        *(round(score.dimensions[d], 2) if d in score.dimensions else "" for d in DIMENSIONS),
        _iso(score.as_of),
    ]


def overview_rows(overview: TrustOverview) -> list[list[Any]]:
    """The overall figure first, then each segment by name."""
    rows = [_score_row(overview.overall)] if overview.overall else []
    rows += [_score_row(s) for s in sorted(overview.segments, key=lambda s: s.key)]
    return rows


def alert_rows(alerts: Sequence[AlertOut]) -> list[list[Any]]:
    return [
        [
            a.id,
            a.kind,
            a.segment,
            a.topic or "",
            _iso(a.window_start),
            _iso(a.window_end),
            a.severity,
            round(a.baseline, 3),
            round(a.observed, 3),
            round(a.effect, 3),
            a.p_value,
            a.acknowledged_by or "",
            _iso(a.acknowledged_at),
        ]
        for a in alerts
    ]
