"""Affected customers counted per jurisdiction and per data category, from one GROUP BY over
(jurisdiction, category mask): a million rows fold into a few hundred groups."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk.incidents.categories import names_of
from trustdesk.incidents.models import AffectedRecord

__all__ = ["Exposure", "counts", "exposure_groups"]

UNKNOWN = "unknown"


@dataclass(frozen=True)
class Exposure:
    """How many affected customers of a jurisdiction share one category mask."""

    jurisdiction: str
    mask: int
    customers: int


def exposure_groups(session: Session, incident_id: int) -> list[Exposure]:
    rows = session.execute(
        select(AffectedRecord.jurisdiction, AffectedRecord.categories, func.count())
        .where(AffectedRecord.incident_id == incident_id)
        .group_by(AffectedRecord.jurisdiction, AffectedRecord.categories)
    )
    return [Exposure(j or UNKNOWN, int(m), int(n)) for j, m, n in rows]


def counts(groups: list[Exposure]) -> tuple[int, dict[str, int], dict[str, int]]:
    """(total, {jurisdiction: customers}, {category: customers})."""
    by_place: Counter[str] = Counter()
    by_category: Counter[str] = Counter()
    for g in groups:
        by_place[g.jurisdiction] += g.customers
        for name in names_of(g.mask):
            by_category[name] += g.customers
    return (
        sum(by_place.values()),
        dict(sorted(by_place.items(), key=lambda kv: (-kv[1], kv[0]))),
        dict(sorted(by_category.items(), key=lambda kv: (-kv[1], kv[0]))),
    )
