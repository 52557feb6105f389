"""Alerts fire on real drops and surges but stay quiet on stationary data; drivers rank topics."""

from __future__ import annotations

import numpy as np
from trust_observations import DAY, T0, TOPICS, concat, observations

from trustdesk.trust.aggregates import ALL_TIME, FACET_ALL, Scope, aggregate, topic_facet
from trustdesk.trust.alerts import (
    DROP,
    SURGE,
    WindowCount,
    benjamini_hochberg,
    evaluate_window,
    select_alerts,
    surge_test,
)
from trustdesk.trust.drivers import rank_drivers

SEGMENTS = tuple(f"seg{i}" for i in range(10))


def _daily(obs):
    agg = aggregate(obs, epoch=T0, half_life_s=30 * DAY, topics=TOPICS)
    segment_days: dict = {}
    topic_days: dict = {}
    for key, row in agg.items():
        if key.scope != Scope.SEGMENT or key.bucket == ALL_TIME:
            continue
        if key.facet == FACET_ALL:
            segment_days.setdefault(key.segment, {})[key.bucket] = row
        elif key.facet.startswith("topic:"):
            topic_days.setdefault((key.segment, key.facet[6:]), {})[key.bucket] = row
    return segment_days, topic_days


def _alerts(obs, days: int):
    segment_days, topic_days = _daily(obs)
    found = []
    for d in range(3, days):
        found += select_alerts(evaluate_window(segment_days, topic_days, T0 + d * DAY), q=0.01)
    return found


def test_quiet_stationary_data_raises_almost_no_alarms():
    days = 30
    obs = observations(60_000, seed=7, segments=SEGMENTS, days=days, customers=5000)
    alerts = _alerts(obs, days)
    tests = len(SEGMENTS) * (1 + len(TOPICS)) * (days - 3)  # 1,350 tests
    assert len(alerts) <= 2, [(a.kind, a.segment, a.topic, a.p_value) for a in alerts]
    assert tests > 1000


def test_injected_trust_drop_is_caught_with_its_window_and_severity():
    days = 14
    base = observations(14_000, seed=8, segments=SEGMENTS, days=days)
    bad_day = observations(
        400, seed=9, segments=("seg3",), days=1, start=T0 + 12 * DAY, mean=35, first_ref=10**6
    )
    alerts = _alerts(concat(base, bad_day), days)
    drops = [a for a in alerts if a.kind == DROP]
    assert [(a.segment, a.window_start) for a in drops] == [("seg3", T0 + 12 * DAY)]
    assert drops[0].observed < drops[0].baseline - 10
    assert drops[0].severity == "high"


def test_injected_negative_surge_on_a_topic_is_caught():
    days = 14
    base = observations(14_000, seed=10, segments=SEGMENTS, days=days)
    burst = observations(
        120,
        seed=11,
        segments=("seg5",),
        days=1,
        start=T0 + 10 * DAY,
        topic_rate=0,
        negative_rate=1,
        first_ref=10**6,
    )
    billing = 1 << TOPICS.index("billing_honesty")
    burst = burst.__class__(**{**burst.__dict__, "topics": np.full(120, billing, dtype=np.int32)})
    alerts = _alerts(concat(base, burst), days)
    surges = [a for a in alerts if a.kind == SURGE]
    assert ("seg5", "billing_honesty", T0 + 10 * DAY) in [
        (a.segment, a.topic, a.window_start) for a in surges
    ]
    assert all(a.segment == "seg5" for a in surges)
    hit = next(a for a in surges if a.topic == "billing_honesty")
    assert hit.observed > 3 * hit.baseline and hit.severity == "high"


def test_surge_test_needs_history_and_is_calm_at_the_usual_rate():
    history = [WindowCount(10, 100)] * 5
    assert surge_test(history[:2], WindowCount(30, 100)) is None
    assert surge_test(history, WindowCount(10, 100))[1] > 0.4
    expected, p = surge_test(history, WindowCount(40, 100))
    assert expected == 10 and p < 1e-6


def test_benjamini_hochberg_keeps_the_step_up_rule():
    p = [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216]
    assert benjamini_hochberg(p, 0.05).tolist() == [True, True] + [False] * 8
    assert benjamini_hochberg([], 0.05).tolist() == []


def test_a_topic_with_low_trust_is_the_top_downward_driver():
    obs = observations(3000, seed=12, segments=("north",), mean=70, sd=10)
    billing = (obs.topics & (1 << TOPICS.index("billing_honesty"))) != 0
    value = np.where(billing, obs.value - 30, obs.value)
    obs = obs.__class__(**{**obs.__dict__, "value": value})
    agg = aggregate(obs, epoch=T0, half_life_s=30 * DAY, topics=TOPICS)
    key = next(
        k
        for k in agg.index
        if k.scope == Scope.SEGMENT and k.facet == FACET_ALL and k.bucket == ALL_TIME
    )
    topics = {t: agg.get(key._replace(facet=topic_facet(t))) for t in TOPICS}
    drivers = rank_drivers(agg.get(key), topics)
    top = drivers[0]
    assert top.topic == "billing_honesty" and top.direction == "down"
    assert top.ci_low < top.effect < top.ci_high < -25
    assert 0.25 < top.share < 0.35 and abs(top.impact - top.share * top.effect) < 1e-9
    assert all(d.direction == "unclear" for d in drivers[1:])
