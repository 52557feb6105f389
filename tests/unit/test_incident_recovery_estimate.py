"""Trust recovery after an incident: difference in differences on constructed evidence whose
answer is known, its interval, and the time to recover."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from trustdesk.incidents.recovery import Evidence, estimate

AWARE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
T0 = int(AWARE.timestamp())
DAY = 86400


def build(
    affected: range,
    controls: range,
    *,
    before_aff: float = 70.0,
    before_ctl: float = 60.0,
    drop: float = 20.0,
    weeks_down: int = 4,
    trend: float = 0.0,
    noise: float = 0.0,
    seed: int = 1,
) -> Evidence:
    """Each customer writes once a day for 56 days before and 56 after awareness. Affected ones
    fall by `drop` for `weeks_down` weeks, then return; everyone shifts by `trend` after."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in [*affected, *controls]:
        hit = c in affected
        for d in range(-56, 56):
            base = before_aff if hit else before_ctl
            value = base
            if d >= 0:
                value += trend
                if hit and d < 7 * weeks_down:
                    value -= drop
            rows.append((c, T0 + d * DAY + 3600, value + rng.normal(0, noise) if noise else value))
    ids, at, value = (np.array(col) for col in zip(*rows, strict=True))
    return Evidence(ids.astype(np.int64), at.astype(np.int64), value, np.ones(len(ids)))


def test_a_known_drop_is_found_with_its_interval_and_recovery_time():
    found = estimate(
        build(range(1, 41), range(41, 121), noise=8.0), set(range(1, 41)), AWARE, window_days=56
    )
    # 4 of 8 weeks 20 points down: the affected mean after falls by 10, the controls' does not
    assert found.affected.customers == 40 and found.unaffected.customers == 80
    assert abs(found.effect + 10.0) < 1.0
    assert found.ci_high < 0.0  # the drop is told apart from no effect
    assert found.recovered and found.days_to_recover == 35  # back in week 5
    assert found.weeks[0].affected < found.weeks[0].unaffected + 0.0


def test_the_95_percent_interval_covers_the_true_effect_about_95_times_in_100():
    covered = 0
    for seed in range(60):
        found = estimate(
            build(range(1, 11), range(11, 31), noise=10.0, seed=seed), set(range(1, 11)), AWARE,
            window_days=56,
        )  # fmt: skip
        covered += found.ci_low <= -10.0 <= found.ci_high
    assert 51 <= covered <= 60  # 57 expected; binomial 99.9% range


def test_a_trend_shared_by_everyone_is_not_blamed_on_the_incident():
    found = estimate(
        build(range(1, 21), range(21, 61), drop=0.0, trend=-15.0), set(range(1, 21)), AWARE,
        window_days=56,
    )  # fmt: skip
    assert abs(found.affected.change + 15.0) < 1e-9 and abs(found.unaffected.change + 15.0) < 1e-9
    assert abs(found.effect) < 1e-9
    assert found.recovered and found.days_to_recover == 7  # never fell behind the others


def test_no_recovery_when_trust_stays_down_and_too_few_customers_give_no_estimate():
    stays = estimate(
        build(range(1, 11), range(11, 31), weeks_down=8), set(range(1, 11)), AWARE, window_days=56
    )
    assert abs(stays.effect + 20.0) < 1e-9 and not stays.recovered and stays.days_to_recover is None
    lonely = estimate(build(range(1, 2), range(2, 10)), {1}, AWARE, window_days=56)
    assert lonely.effect is None and "two per group" in lonely.note


def test_comparable_customers_are_used_when_there_are_enough():
    ev = build(range(1, 11), range(11, 31))
    found = estimate(ev, set(range(1, 11)), AWARE, window_days=56, comparable=set(range(11, 16)))
    assert found.comparison == "same jurisdictions" and found.unaffected.customers == 5
    few = estimate(ev, set(range(1, 11)), AWARE, window_days=56, comparable={11})
    assert few.comparison == "all unaffected customers" and few.unaffected.customers == 20


@settings(max_examples=30, deadline=None)
@given(
    shift=st.floats(-30, 30, allow_nan=False),
    drop=st.floats(0, 30, allow_nan=False),
    seed=st.integers(0, 1000),
)
def test_the_effect_does_not_move_with_a_common_shift_after_the_incident(shift, drop, seed):
    affected = set(range(1, 6))
    plain = estimate(
        build(range(1, 6), range(6, 16), drop=drop, noise=5.0, seed=seed), affected, AWARE,
        window_days=56,
    )  # fmt: skip
    shifted = estimate(
        build(range(1, 6), range(6, 16), drop=drop, noise=5.0, seed=seed, trend=shift),
        affected, AWARE, window_days=56,
    )  # fmt: skip
    assert plain.effect is not None and shifted.effect is not None
    assert abs(plain.effect - shifted.effect) < 1e-6
    assert plain.ci_low <= plain.effect <= plain.ci_high
