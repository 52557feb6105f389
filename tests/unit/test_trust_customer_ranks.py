"""The customers at either end of each segment's trust index, kept a page at a time, are the
ones a sort of every customer would show: the same customers in the same order, ties included."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from trustdesk.trust.customer_ranks import candidates_of, segment_ends_of

SEGMENTS = ("", "north", "south")
customers_ = st.lists(
    st.tuples(
        st.sampled_from([10.0, 50.0, 50.0, 90.0, 33.3]) | st.floats(0, 100),  # many ties
        st.sampled_from(["a", "b", "c", "d"]),  # external ids tie-break, not customer ids
        st.lists(st.sampled_from(SEGMENTS[1:]), unique=True, max_size=2),
    ),
    max_size=40,
)


def _every_customer_sorted(rows, n):
    """What the advocates page did before: every customer's index, sorted whole per segment."""
    by_segment: dict[str, list[tuple[float, str, int]]] = {}
    for cid, (index, external, segments) in rows.items():
        for segment in segments or ("",):
            by_segment.setdefault(segment, []).append((index, external, cid))
    found = {}
    for segment, ranked in by_segment.items():
        ranked.sort()
        found[segment] = (len(ranked), ranked[::-1][:n], ranked[:n])
    return found


@settings(max_examples=300, deadline=None)
@given(customers_, st.integers(1, 6), st.integers(1, 9))
def test_ends_kept_page_by_page_are_those_of_sorting_everyone(people, n, page):
    rows = {
        cid: (index, f"{external}{cid % 3}", tuple(segments))
        for cid, (index, external, segments) in enumerate(people, start=1)
    }
    ids = list(rows)
    pages = [
        [(cid, rows[cid][0], rows[cid][2]) for cid in ids[i : i + page]]
        for i in range(0, len(ids), page)
    ]
    found = segment_ends_of(candidates_of(pages, n), {c: r[1] for c, r in rows.items()}, n)
    expected = _every_customer_sorted(rows, n)
    assert set(found) == set(expected)
    for segment, (count, top, bottom) in expected.items():
        ends = found[segment]
        assert ends.customers == count
        assert [(r.trust_index, r.external_id, r.customer_id) for r in ends.highest] == top
        assert [(r.trust_index, r.external_id, r.customer_id) for r in ends.lowest] == bottom


def test_a_page_keeps_no_more_than_the_ends_and_their_ties():
    page = [(cid, float(cid % 5), ("north",)) for cid in range(1, 101)]
    kept = candidates_of([page], 2)["north"]
    assert sorted({i for i, _ in kept.high}) == [4.0]  # 20 customers tied at the top
    assert len(kept.high) == 20 and {i for i, _ in kept.low} == {0.0}
    assert kept.customers == 100
