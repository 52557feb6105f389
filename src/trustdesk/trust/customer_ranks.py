"""Customers' trust indices a page at a time, and per segment the customers at either end.

A customer's index is estimated when read (their statistics shrunk towards their segments',
see `levels.customer_points`), so nothing stored ranks customers: ranking them computes every
index. It does so a page of customers at a time, with the segments' figures computed once, and
keeps of each page only what can still be shown: per segment, the customers whose index could
be among its `n` highest or `n` lowest (ties at the edge included, as the external id decides
between them). The external ids of those alone are read at the end.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.customers import public as customers
from trustdesk.trust.aggregates import Scope
from trustdesk.trust.levels import customer_points, customer_rows, facets_for, segment_points
from trustdesk.trust.models import TrustStat, TrustState
from trustdesk.trust.service import TrustParams

__all__ = [
    "PAGE",
    "Candidates",
    "RankedCustomer",
    "SegmentEnds",
    "candidates_of",
    "customer_index_pages",
    "segment_ends",
    "segment_ends_of",
]

PAGE = 5000


def customer_index_pages(
    session: Session, params: TrustParams, *, page: int | None = None
) -> Iterator[dict[int, float]]:
    """{customer id: trust index 0..100} of every customer the index knows, a page of customer
    ids (default `PAGE`) at a time in id order (one whose statistics give no index left out)."""
    page = page or PAGE
    if session.get(TrustState, 1) is None:
        return
    top, seg_points = segment_points(session, params)
    main, _ = facets_for(None)
    after = 0
    while True:
        ids = list(
            session.scalars(
                select(TrustStat.customer_id)
                .where(TrustStat.scope == Scope.CUSTOMER, TrustStat.customer_id > after)
                .group_by(TrustStat.customer_id)
                .order_by(TrustStat.customer_id)
                .limit(page)
            )
        )
        if not ids:
            return
        points = customer_points(
            customer_rows(session, ids), main, top, seg_points, params.prior_strength
        )
        yield {cid: points[cid].index for cid in ids if cid in points}
        after = ids[-1]


@dataclass(frozen=True)
class RankedCustomer:
    customer_id: int
    external_id: str
    trust_index: float


@dataclass(frozen=True)
class SegmentEnds:
    """A segment's customers at either end of the trust index."""

    customers: int  # how many of the segment's customers the index knows
    highest: tuple[RankedCustomer, ...]  # at most n, highest first (ties: external id, z to a)
    lowest: tuple[RankedCustomer, ...]  # at most n, lowest first (ties: external id, a to z)


@dataclass
class Candidates:
    """A segment's count and the (index, customer id) pairs that may still be at either end."""

    customers: int = 0
    high: list[tuple[float, int]] = field(default_factory=list)
    low: list[tuple[float, int]] = field(default_factory=list)


def _edge(rows: list[tuple[float, int]], n: int, *, highest: bool) -> list[tuple[float, int]]:
    """The rows among the n highest (or lowest) indices, all those tied with the n-th kept."""
    if n <= 0:
        return []
    if len(rows) <= n:
        return rows
    rows.sort(reverse=highest)
    edge = rows[n - 1][0]
    return [r for r in rows if (r[0] >= edge if highest else r[0] <= edge)]


def candidates_of(
    pages: Iterable[Iterable[tuple[int, float, tuple[str, ...]]]], n: int
) -> dict[str, Candidates]:
    """Per segment, from pages of (customer id, index, their segments: "" for none), the count
    and the candidates for its n highest and n lowest indices, pruned after each page."""
    found: dict[str, Candidates] = {}
    for page in pages:
        touched = set()
        for cid, index, segments in page:
            for segment in segments or ("",):
                seg = found.setdefault(segment, Candidates())
                seg.customers += 1
                seg.high.append((index, cid))
                seg.low.append((index, cid))
                touched.add(segment)
        for segment in touched:
            seg = found[segment]
            seg.high = _edge(seg.high, n, highest=True)
            seg.low = _edge(seg.low, n, highest=False)
    return found


def segment_ends_of(
    found: dict[str, Candidates], external: dict[int, str], n: int
) -> dict[str, SegmentEnds]:
    """The candidates ranked by (index, external id), n each end; a customer without an external
    id (no record) is left out of the ends."""

    def ranked(rows: list[tuple[float, int]], *, highest: bool) -> tuple[RankedCustomer, ...]:
        known = [(index, external[cid], cid) for index, cid in rows if cid in external]
        known.sort(reverse=highest)
        return tuple(RankedCustomer(cid, ext, index) for index, ext, cid in known[:n])

    return {
        segment: SegmentEnds(
            seg.customers, ranked(seg.high, highest=True), ranked(seg.low, highest=False)
        )
        for segment, seg in found.items()
    }


def segment_ends(session: Session, params: TrustParams, n: int) -> dict[str, SegmentEnds]:
    """Per customer segment ("" for customers in none; a customer in several counts in each),
    the n customers with the highest and the n with the lowest trust index."""

    def pages() -> Iterator[list[tuple[int, float, tuple[str, ...]]]]:
        for page in customer_index_pages(session, params):
            placed = customers.segments(session, page)
            yield [(cid, index, placed.get(cid, ())) for cid, index in page.items()]

    found = candidates_of(pages(), n)
    wanted = {cid for seg in found.values() for _, cid in (*seg.high, *seg.low)}
    return segment_ends_of(found, customers.external_ids(session, wanted), n)
