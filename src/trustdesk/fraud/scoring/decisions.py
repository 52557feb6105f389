"""Trust-aware decisions: approve, step-up, review or decline, whichever costs least in expectation.

Fraud loss is weighed against what friction costs with a *genuine* customer: a second factor is a
small annoyance, a manual review a delay, a wrongly declined payment can lose the customer. That
cost grows with the customer's value and their trust: a long, good history and a high trust index
mean more to lose, so good customers get less friction at the same fraud probability.
See docs/fraud-decisions.md for the method.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import cached_property

__all__ = ["CostModel", "Customer", "Decision", "DecisionCosts", "cheapest", "decide"]


class Decision(StrEnum):
    APPROVE = "approve"
    STEP_UP = "step_up"
    REVIEW = "review"
    DECLINE = "decline"


@dataclass(frozen=True)
class Customer:
    """What the decision needs to know about the payer."""

    trust_index: float | None = None  # 0-100; None when unknown
    annual_value: Decimal = Decimal("0")  # margin the business earns from them in a year
    good_history_days: int = 0  # days of history without confirmed fraud


_DECLINE_SHARE = Decimal("0.02")


@dataclass(frozen=True)
class _FloatCosts:
    step_up_miss: float
    review_miss: float
    review_cost: float
    step_up_friction: float
    review_friction: float
    false_decline_base: float
    decline_share: float
    churn: float


@dataclass(frozen=True)
class CostModel:
    """Costs in the transaction's currency (minor units are fine too, if used consistently)."""

    step_up_catch_rate: float = 0.9  # share of frauds a second factor stops
    review_catch_rate: float = 0.97
    review_cost: Decimal = Decimal("4")  # analyst time per case
    step_up_friction: Decimal = Decimal("0.5")  # a genuine customer bothered by a second factor
    review_friction: Decimal = Decimal("3")  # a genuine customer kept waiting
    false_decline_base: Decimal = Decimal("5")  # support contact, lost sale margin
    churn_after_false_decline: float = 0.15  # share of genuine customers lost after a false decline

    @cached_property
    def floats(self) -> _FloatCosts:
        """The same costs as floats, for real-time scoring."""
        return _FloatCosts(
            step_up_miss=float(self.step_up_miss),
            review_miss=float(self.review_miss),
            review_cost=float(self.review_cost),
            step_up_friction=float(self.step_up_friction),
            review_friction=float(self.review_friction),
            false_decline_base=float(self.false_decline_base),
            decline_share=float(_DECLINE_SHARE),
            churn=float(self.churn),
        )

    @cached_property
    def churn(self) -> Decimal:
        return Decimal(str(self.churn_after_false_decline))

    @cached_property
    def step_up_miss(self) -> Decimal:
        """Share of frauds a second factor lets through."""
        return Decimal(str(1 - self.step_up_catch_rate))

    @cached_property
    def review_miss(self) -> Decimal:
        return Decimal(str(1 - self.review_catch_rate))

    def trust_weight(self, customer: Customer) -> float:
        """1.0 for an unknown customer, up to 2.0 for a trusted one with a long good history."""
        trust = (
            0.5
            if customer.trust_index is None
            else max(0.0, min(customer.trust_index, 100.0)) / 100
        )
        tenure = min(customer.good_history_days, 365) / 365
        return 1.0 + 0.6 * trust + 0.4 * tenure


@dataclass(frozen=True)
class DecisionCosts:
    decision: Decision
    expected_costs: dict[Decision, Decimal]
    trust_weight: float


def _expected_costs(
    probability: float, amount: Decimal, customer: Customer, costs: CostModel
) -> tuple[dict[Decision, Decimal], Decimal]:
    if not 0.0 <= probability <= 1.0:
        raise ValueError("probability must be within 0..1")
    if amount < 0:
        raise ValueError("amount must not be negative")
    p = Decimal(str(probability))
    genuine = 1 - p
    weight = Decimal(str(costs.trust_weight(customer)))
    lost_customer = customer.annual_value * costs.churn
    loss = p * amount
    options = {
        Decision.APPROVE: loss,
        Decision.STEP_UP: loss * costs.step_up_miss + genuine * costs.step_up_friction * weight,
        Decision.REVIEW: costs.review_cost
        + loss * costs.review_miss
        + genuine * costs.review_friction * weight,
        Decision.DECLINE: genuine
        * (costs.false_decline_base + amount * _DECLINE_SHARE + lost_customer)
        * weight,
    }
    return options, weight


def _cheapest(options: dict[Decision, Decimal]) -> Decision:
    """The lowest cost; ties go to the gentler option (the options run from least friction)."""
    best, lowest = Decision.APPROVE, options[Decision.APPROVE]
    for decision, cost in options.items():
        if cost < lowest:
            best, lowest = decision, cost
    return best


def decide(
    probability: float, amount: Decimal, customer: Customer, costs: CostModel | None = None
) -> DecisionCosts:
    """The decision with the lowest expected cost, and every option's cost for the record."""
    options, weight = _expected_costs(probability, amount, customer, costs or CostModel())
    return DecisionCosts(
        _cheapest(options),
        {d: v.quantize(Decimal("0.0001")) for d, v in options.items()},
        float(weight),
    )


_TIE = 1e-9  # float costs this close (relative) are settled by the exact Decimal arithmetic


def cheapest(probability: float, amount: Decimal, customer: Customer, costs: CostModel) -> Decision:
    """`decide(...).decision` for real-time scoring: the same costs in float arithmetic (a
    fifth of Decimal's cost), falling back to Decimal when two options are within rounding of
    each other, so the answer is always `decide`'s."""
    if not 0.0 <= probability <= 1.0:
        raise ValueError("probability must be within 0..1")
    value = float(amount)
    if value < 0:
        raise ValueError("amount must not be negative")
    f = costs.floats
    genuine = 1.0 - probability
    weight = costs.trust_weight(customer)
    loss = probability * value
    options = (
        loss,
        loss * f.step_up_miss + genuine * f.step_up_friction * weight,
        f.review_cost + loss * f.review_miss + genuine * f.review_friction * weight,
        genuine
        * (f.false_decline_base + value * f.decline_share + float(customer.annual_value) * f.churn)
        * weight,
    )
    lowest = min(options)
    close = _TIE * max(1.0, abs(lowest))
    if sum(1 for cost in options if cost - lowest <= close) > 1:
        return _cheapest(_expected_costs(probability, amount, customer, costs)[0])
    return _ORDER[options.index(lowest)]


_ORDER = (Decision.APPROVE, Decision.STEP_UP, Decision.REVIEW, Decision.DECLINE)
