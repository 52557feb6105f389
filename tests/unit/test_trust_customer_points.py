"""Many customers' scores in one vectorised estimate equal one estimate per customer (the fraud
scorer reads every customer's index at server start through the vectorised path)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from trustdesk.trust.aggregates import ALL_TIME
from trustdesk.trust.levels import Point, customer_point, customer_points

FACETS = ("all", "dim:data_care")
SEGMENTS = ("", "East", "West")


def _stats(draw: st.DrawFn) -> np.ndarray:
    n = draw(st.integers(1, 50))
    values = np.array(draw(st.lists(st.floats(0, 100), min_size=n, max_size=n)))
    weights = np.array(draw(st.lists(st.floats(0.01, 1.0), min_size=n, max_size=n)))
    return np.array(
        [n, float((values < 50).sum()), weights.sum(), weights @ values,
         weights @ values**2, weights @ weights]
    )  # fmt: skip


@st.composite
def customers(draw: st.DrawFn) -> dict[int, dict[tuple[str, str], np.ndarray]]:
    found: dict[int, dict[tuple[str, str], np.ndarray]] = {}
    for cid in range(1, draw(st.integers(0, 12)) + 1):
        keys = draw(
            st.lists(st.tuples(st.sampled_from(SEGMENTS), st.sampled_from(FACETS)), unique=True)
        )
        found[cid] = {key: _stats(draw) for key in keys}
    return found


def _point(index: float, variance: float) -> Point:
    return Point(index, index, index, 10, 10.0, 0.5, index, variance)


@given(
    rows_of=customers(),
    parents=st.lists(st.floats(5, 95), min_size=6, max_size=6),
    k=st.floats(0, 20),
)
@settings(max_examples=60, deadline=None)
def test_many_customers_at_once_score_as_one_by_one(
    rows_of: dict[int, dict[tuple[str, str], np.ndarray]], parents: list[float], k: float
) -> None:
    top = {("", facet, ALL_TIME): _point(parents[i], 80.0) for i, facet in enumerate(FACETS)}
    seg_points = {
        (seg, facet, ALL_TIME): _point(parents[2 + i], 40.0 + i)
        for i, (seg, facet) in enumerate(
            [("East", "all"), ("East", "dim:data_care"), ("West", "all")]
        )
    }
    for facet in FACETS:
        together = customer_points(rows_of, facet, top, seg_points, k)
        one_by_one = {
            cid: p
            for cid, rows in rows_of.items()
            if (p := customer_point(rows, facet, top, seg_points, k)) is not None
        }
        assert together == one_by_one
