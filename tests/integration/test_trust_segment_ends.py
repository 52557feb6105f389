"""The advocates page reads per segment only the customers it shows (`trust.public.segment_ends`),
and shows what it showed when it sorted every customer's index: checked against that on the same
data, a page of customers at a time as small as 7."""

from __future__ import annotations

import pytest
from tests.integration.test_trust import _import, _tweets

from trustdesk.cases.advocates import advocates_and_detractors
from trustdesk.customers import public as customers
from trustdesk.trust import customer_ranks
from trustdesk.trust.public import customer_trust_indices
from trustdesk.trust.score_reads import customer_scores
from trustdesk.trust.service import TrustParams

SEGMENTS = ("north", "south", "north;south", "", "east")
PEOPLE = "external_id,name,email,segment\n" + "".join(
    f"c{i:02d},Person {i},p{i}@example.com,{SEGMENTS[i % 5]}\n" for i in range(1, 41)
)


@pytest.fixture
def trust_of_40_customers(cli, tmp_path, monkeypatch) -> None:
    people = tmp_path / "customers.csv"
    people.write_text(PEOPLE, encoding="utf-8")
    assert cli("customers", "import", str(people)).exit_code == 0
    mapping = {i: f"c{1 + (i * 7) % 40:02d}" for i in range(240) if i % 6}  # some anonymous
    _import(cli, _tweets(tmp_path, "t.csv", slice(0, 240), mapping))
    assert cli("trust", "recompute").exit_code == 0
    monkeypatch.setattr(customer_ranks, "PAGE", 7)  # many pages, pruned after each


def _as_before(session, settings, per_segment):
    """The advocates page's choice as it was: every customer's index, sorted per segment."""
    indices = {
        s.key: s.trust_index
        for s in customer_scores(
            session, TrustParams.from_settings(settings), limit=10**6, with_dimensions=False
        )
    }
    ids = customers.customer_ids(session, indices)
    placed = customers.segments(session, ids.values())
    by_segment: dict[str, list[tuple[float, str, int]]] = {}
    for external_id, index in indices.items():
        for segment in placed.get(ids[external_id]) or ("(none)",):
            by_segment.setdefault(segment, []).append((index, external_id, ids[external_id]))
    found = {}
    for segment, rows in by_segment.items():
        rows.sort()
        k = min(per_segment, max(1, len(rows) // 2))
        top = rows[::-1][:k]
        found[segment] = (
            [(e, i) for i, e, _ in top],
            [(e, i) for i, e, c in rows[:k] if (i, e, c) not in top],
        )
    return found


@pytest.mark.parametrize("per_segment", [1, 3, 5, 20])
def test_advocates_and_detractors_are_those_of_sorting_every_customer(
    platform, trust_of_40_customers, per_segment
):
    with platform.db.reading() as session:
        expected = _as_before(session, platform.settings, per_segment)
        found = advocates_and_detractors(session, platform.settings, per_segment=per_segment)
    assert set(expected) == {"north", "south", "east", "(none)"}
    assert {
        segment: (
            [(a.customer, a.trust_index) for a in standing.advocates],
            [(d.customer, d.trust_index) for d in standing.detractors],
        )
        for segment, standing in found.items()
    } == expected


def test_every_customers_index_read_a_page_at_a_time_is_the_one_read_whole(
    platform, trust_of_40_customers
):
    with platform.db.reading() as session:
        whole = customer_scores(session, TrustParams.from_settings(platform.settings), limit=10**6)
        paged = customer_trust_indices(session, platform.settings)
    assert len(whole) > 30
    assert paged == {s.key: s.trust_index for s in whole}
