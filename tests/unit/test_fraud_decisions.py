"""Decisions weigh fraud loss against the trust cost of friction for good customers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustdesk.fraud.scoring.decisions import Customer, Decision, decide

FRICTION = [Decision.APPROVE, Decision.STEP_UP, Decision.REVIEW, Decision.DECLINE]
NEW = Customer()
TRUSTED = Customer(trust_index=90, annual_value=Decimal("400"), good_history_days=900)


def test_clear_cases():
    assert decide(0.001, Decimal("40"), NEW).decision is Decision.APPROVE
    assert decide(0.99, Decimal("900"), NEW).decision is Decision.DECLINE


def test_a_trusted_customer_gets_less_friction_than_a_stranger_at_the_same_risk():
    stranger = decide(0.015, Decimal("60"), NEW)
    trusted = decide(0.015, Decimal("60"), TRUSTED)
    assert (stranger.decision, trusted.decision) == (Decision.STEP_UP, Decision.APPROVE)
    assert trusted.trust_weight > stranger.trust_weight


@given(
    p=st.floats(0, 1),
    amount=st.decimals(min_value=0, max_value=5000, places=2),
    trust=st.floats(0, 100),
)
def test_more_trust_never_means_more_friction(p, amount, trust):
    low = decide(p, amount, Customer(trust_index=trust, annual_value=Decimal("100")))
    high = decide(
        p, amount, Customer(trust_index=100, annual_value=Decimal("100"), good_history_days=365)
    )
    assert FRICTION.index(high.decision) <= FRICTION.index(low.decision)


@given(amount=st.decimals(min_value=1, max_value=5000, places=2))
def test_higher_fraud_probability_never_means_less_friction(amount):
    levels = [FRICTION.index(decide(p / 20, amount, NEW).decision) for p in range(21)]
    assert levels == sorted(levels)


def test_every_option_is_costed_and_bad_input_is_refused():
    result = decide(0.2, Decimal("50"), NEW)
    assert set(result.expected_costs) == set(Decision)
    assert result.expected_costs[result.decision] == min(result.expected_costs.values())
    with pytest.raises(ValueError):
        decide(1.5, Decimal("1"), NEW)
    with pytest.raises(ValueError):
        decide(0.5, Decimal("-1"), NEW)
