"""CFPB-style figures: timely-response rate, median first response and resolution, reopen rate,
overall and by queue and by segment. Times are wall-clock hours (what the customer lived)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from statistics import median
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.cases.models import Case
from trustdesk.db import utcnow

__all__ = ["case_figures"]

_Row = tuple[
    str, str | None, str, datetime, datetime | None, datetime | None, datetime | None, int, int
]


def _figures(rows: list[_Row], now: datetime) -> dict[str, Any]:
    timely = late = 0
    first: list[float] = []
    resolution: list[float] = []
    finished = reopened = open_now = breached = 0
    for _queue, _segment, status, opened, responded, due, resolved, reopens, ever in rows:
        if responded is not None:
            first.append((responded - opened).total_seconds() / 3600)
        if due is not None:
            if responded is not None:
                timely, late = (timely + 1, late) if responded <= due else (timely, late + 1)
            elif now > due:
                late += 1
        if resolved is not None:
            resolution.append((resolved - opened).total_seconds() / 3600)
        if status in ("resolved", "closed") or reopens:
            finished += 1
            reopened += bool(reopens)
        open_now += status not in ("resolved", "closed")
        breached += bool(ever)
    judged = timely + late
    return {
        "cases": len(rows),
        "open": open_now,
        "timely_response_rate": round(timely / judged, 4) if judged else None,
        "median_first_response_hours": round(median(first), 2) if first else None,
        "median_resolution_hours": round(median(resolution), 2) if resolution else None,
        "reopen_rate": round(reopened / finished, 4) if finished else None,
        "breached": breached,
    }


def case_figures(session: Session, *, now: datetime | None = None) -> dict[str, Any]:
    """Figures over every case that was not merged into another."""
    now = now or utcnow()
    rows: list[_Row] = [
        tuple(r)  # type: ignore[misc]
        for r in session.execute(
            select(
                Case.queue, Case.segment, Case.status, Case.opened_at, Case.first_response_at,
                Case.first_response_due, Case.resolved_at, Case.reopen_count, Case.breached,
            ).where(Case.merged_into_id.is_(None))
        )
    ]  # fmt: skip
    by_queue: dict[str, list[_Row]] = defaultdict(list)
    by_segment: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        by_queue[row[0]].append(row)
        by_segment[row[1] or "(none)"].append(row)
    return {
        "overall": _figures(rows, now),
        "by_queue": {q: _figures(r, now) for q, r in sorted(by_queue.items())},
        "by_segment": {s: _figures(r, now) for s, r in sorted(by_segment.items())},
    }
