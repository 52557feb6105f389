"""The trust index computation: additive statistics, shrinkage, intervals and explanations."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from trust_observations import DAY, T0, TOPICS, concat, observations

from trustdesk.trust.aggregates import (
    ALL_TIME,
    FACET_ALL,
    Aggregates,
    Key,
    Scope,
    aggregate,
    dimension_facet,
    topic_facet,
    week_start,
)
from trustdesk.trust.index import contributions, describe, estimate, item_moves

HALF_LIFE = 30 * DAY


def _agg(obs):
    return aggregate(obs, epoch=T0, half_life_s=HALF_LIFE, topics=TOPICS)


def _same(a: Aggregates, b: Aggregates) -> None:
    assert set(a.index) == set(b.index)
    for key, row in a.items():
        np.testing.assert_allclose(row, b.get(key), rtol=1e-9, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 400),
    seed=st.integers(0, 10_000),
    cuts=st.lists(st.integers(0, 400), max_size=5),
    reverse=st.booleans(),
)
def test_merging_statistics_of_any_split_equals_computing_on_all_rows(n, seed, cuts, reverse):
    obs = observations(n, seed=seed)
    bounds = sorted({0, n, *(c for c in cuts if c < n)})
    parts = [_agg(obs.take(np.arange(a, b))) for a, b in itertools.pairwise(bounds)]
    if reverse:
        parts.reverse()
    _same(Aggregates.merge_all(parts), _agg(obs))


def test_statistics_hold_every_level_dimension_topic_and_day():
    obs = observations(300, seed=1)
    agg = _agg(obs)
    overall = agg.get(Key(Scope.OVERALL, "", -1, "feedback", FACET_ALL, ALL_TIME))
    assert overall is not None and overall[0] == 300
    segments = [k for k in agg.index if k.scope == Scope.SEGMENT and k.bucket == ALL_TIME]
    assert {k.segment for k in segments} == {"north", "south", "east"}
    days = [k for k in agg.index if k.scope == Scope.OVERALL and k.facet == FACET_ALL and k.bucket]
    assert sum(agg.get(k)[0] for k in days) == 300
    assert (
        agg.get(Key(Scope.OVERALL, "", -1, "feedback", dimension_facet("ability"), ALL_TIME))
        is not None
    )
    assert (
        agg.get(Key(Scope.OVERALL, "", -1, "feedback", topic_facet("service_care"), ALL_TIME))
        is not None
    )
    customers = [k for k in agg.index if k.scope == Scope.CUSTOMER and k.facet == FACET_ALL]
    assert sum(agg.get(k)[0] for k in customers) == 300


def test_recent_feedback_weighs_more_than_old_feedback():
    old = observations(100, seed=2, mean=20, sd=1, start=T0, days=1)
    new = observations(100, seed=3, mean=80, sd=1, start=T0 + 60 * DAY, days=1)
    stats = _agg(concat(old, new)).get(Key(Scope.OVERALL, "", -1, "feedback", FACET_ALL, ALL_TIME))
    # two half-lives apart: weights 1 : 4, so the mean sits at 20 + 0.8 * 60
    assert abs(describe(stats).mean[0] - 68) < 1.0


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.floats(0, 100), min_size=0, max_size=30),
    parent=st.floats(0, 100),
    parent_sd=st.floats(0, 50),
    k=st.floats(0, 50),
)
def test_index_lies_in_0_100_and_inside_its_interval(values, parent, parent_sd, k):
    x = np.array(values, dtype=float)
    w = np.ones_like(x)
    stats = np.array([len(x), 0, w.sum(), (w * x).sum(), (w * x * x).sum(), (w * w).sum()])
    e = estimate(stats, parent, parent_sd**2, prior_strength=k)
    assert 0 <= e.ci_low[0] <= e.index[0] <= e.ci_high[0] <= 100


def test_small_samples_are_pulled_towards_the_parent_more_than_large_ones():
    def stats(n: int, value: float) -> np.ndarray:
        return np.array([n, 0, n, n * value, n * value * value + n * 100.0, n])

    rows = np.vstack([stats(1, 90.0), stats(10, 90.0), stats(1000, 90.0), stats(0, 0.0)])
    e = estimate(rows, 50.0, 400.0, prior_strength=10)
    assert 50 < e.index[0] < e.index[1] < e.index[2] <= 90
    assert abs(e.index[0] - (50 + 40 / 11)) < 1e-9  # Z = 1 / (1 + 10)
    assert e.index[3] == 50.0  # no data: the parent's score
    widths = e.ci_high - e.ci_low
    assert widths[2] < widths[1] < widths[0]


def test_signal_contributions_add_up_to_the_distance_from_the_parent():
    a = observations(50, seed=4, mean=30, signal="feedback")
    b = observations(20, seed=5, mean=90, signal="complaints")
    rows = []
    for obs in (a, b):
        w = np.ones(len(obs))
        x = obs.value
        rows.append([len(x), 0, w.sum(), (w * x).sum(), (w * x * x).sum(), (w * w).sum()])
    rows = np.array(rows)
    parts = contributions(rows, 50.0, prior_strength=10)
    whole = estimate(rows.sum(axis=0), 50.0, 400.0, prior_strength=10)
    assert parts[0] < 0 < parts[1]
    assert abs(parts.sum() - (whole.index[0] - 50.0)) < 1e-9
    moves = item_moves(
        np.concatenate([a.value, b.value]), np.ones(70), 70.0, float(whole.credibility[0]), 50.0
    )
    assert abs(moves.sum() - parts.sum()) < 1e-9


def test_weeks_start_on_monday():
    assert week_start(T0 + 3 * DAY) == T0  # 2015-02-16 was a Monday
    assert week_start(T0 - DAY) == T0 - 7 * DAY
