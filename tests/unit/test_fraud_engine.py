"""The scorer's memory and the monitoring figures, on plain data (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustdesk.fraud.learning.online import History, Transaction
from trustdesk.fraud.review.monitoring import Tally, daily_figures, psi, psi_of_counts
from trustdesk.fraud.rules.ruleset import default_rules_text, parse_rules
from trustdesk.fraud.schemas import TransactionIn
from trustdesk.fraud.scoring.engine import FraudEngine, LabelRow, Standing
from trustdesk.fraud.scoring.holder import shipped_model

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def model():
    return shipped_model()


def engine(model) -> FraudEngine:
    history = History(timedelta(days=7))
    eng = FraudEngine(model, "v0", parse_rules(default_rules_text()), 0, history)
    for i in range(40):
        eng.observe(
            Transaction(f"old-{i}", NOW - timedelta(hours=12 * (i + 1)), "card", "shop", 30.0 + i)
        )
    return eng


def payment(tx_id: str = "new", **fields) -> TransactionIn:
    base = {"transaction_id": tx_id, "at": NOW, "customer_id": "card", "terminal_id": "shop"}
    return TransactionIn.model_validate({"amount": "45.00", **base, **fields})


def label(label_id: int, tx_id: str, fraud: bool, known_at: datetime, source: str = "file"):
    return LabelRow(label_id, tx_id, "card", source, fraud, known_at)


def test_a_label_not_known_yet_is_held_until_its_time_then_counted(model):
    eng = engine(model)
    later = NOW + timedelta(days=7)
    eng.learn([label(1, "old-0", True, later), label(2, "old-1", True, NOW)], NOW)
    assert eng.history.known_fraud("old-1") is True
    assert eng.history.known_fraud("old-0") is False and eng.held_labels == 1
    eng.learn([], later - timedelta(seconds=1))
    assert eng.history.known_fraud("old-0") is False
    eng.learn([], later)
    assert eng.history.known_fraud("old-0") is True and eng.held_labels == 0
    assert eng.last_label_id == 2


def test_a_held_label_corrected_before_it_is_known_never_counts(model):
    eng = engine(model)
    later = NOW + timedelta(days=7)
    eng.learn([label(1, "old-0", True, later)], NOW)
    eng.learn([label(5, "old-0", False, NOW + timedelta(days=1))], NOW)  # the same source
    eng.learn([label(1, "old-0", True, later)], NOW)  # read again: the correction stands
    eng.learn([], later + timedelta(days=1))
    assert eng.history.known_fraud("old-0") is False and eng.held_labels == 0


def test_labels_read_twice_count_once(model):
    eng = engine(model)
    rows = [label(1, "old-0", True, NOW), label(2, "old-0", False, NOW, source="review")]
    eng.learn(rows, NOW)
    before = eng.evaluate(payment("a"))
    eng.forget(payment("a"))
    eng.learn(rows, NOW)  # the catch-ups overlap
    assert eng.evaluate(payment("a")) == before
    assert eng.history.known_fraud("old-0") is False  # the later label (review) stands


def test_a_scored_payment_joins_the_history_and_forget_undoes_it(model):
    eng = engine(model)
    decided = eng.evaluate(payment())
    assert "new" in eng.history and 0.0 <= decided.score <= 1.0
    assert decided.model_version == "v0" and decided.rules_version == 0
    assert eng.standing["card"].count == 41
    eng.forget(payment())
    assert "new" not in eng.history and eng.standing["card"].count == 40
    assert len(eng.history.cards["card"].times) == 40


def test_the_same_payment_scores_the_same_after_forget(model):
    eng = engine(model)
    first = eng.evaluate(payment(amount="900.00"))
    eng.forget(payment(amount="900.00"))
    assert eng.evaluate(payment(amount="900.00")) == first


def test_a_huge_amount_for_this_card_is_not_approved_and_says_why(model):
    eng = engine(model)
    decided = eng.evaluate(payment(amount="2400.00"))
    assert decided.model_decision != "approve"
    assert decided.reasons and all(isinstance(r, str) and r for r in decided.reasons)


def test_standing_counts_good_history_from_the_last_confirmed_fraud():
    first = NOW - timedelta(days=400)
    standing = Standing(first.timestamp(), count=100, spend=Decimal("36500"))
    customer = standing.customer(NOW.timestamp(), trust_index=80.0)
    assert customer.good_history_days == 400 and customer.trust_index == 80.0
    assert customer.annual_value == Decimal("1665.31")  # 5% of 36,500 per 400 days, yearly
    standing.last_fraud = (NOW - timedelta(days=10)).timestamp()
    assert standing.customer(NOW.timestamp(), None).good_history_days == 10


@given(st.lists(st.floats(0, 1), min_size=50, max_size=200))
def test_scores_drawn_like_the_baseline_do_not_drift(scores):
    edges = list(np.linspace(0, 1, 11))
    counts, _ = np.histogram(scores, bins=edges)
    shares = list(counts / counts.sum())
    assert psi(scores, edges, shares) == pytest.approx(0.0, abs=1e-9)


def test_a_shifted_score_distribution_drifts():
    edges = list(np.linspace(0, 1, 11))
    baseline = [0.1] * 10
    assert psi(np.linspace(0.005, 0.995, 1000), edges, baseline) < 0.01
    assert psi(np.full(500, 0.95), edges, baseline) > 0.25


def test_daily_figures_count_reviews_catches_and_false_declines():
    day, next_day = date(2026, 3, 1), date(2026, 3, 2)
    tallies = [
        Tally(day, "review", "fraud", 9, 1),
        Tally(day, "review", "genuine", 7, 1),
        Tally(day, "review", None, 6, 1),
        Tally(day, "decline", "genuine", 9, 1),
        Tally(day, "approve", "chargeback", 0, 1),
        Tally(day, "approve", None, 0, 5),
        Tally(next_day, "approve", None, 0, 2),
    ]
    first, second = daily_figures(tallies, [0.1] * 10)
    assert first.day == day and first.decided == 10 and first.reviewed == 3
    assert first.review_precision == 0.5  # of the two labelled reviews, one was fraud
    assert first.fraud_caught == 0.5  # the chargeback was approved
    assert first.false_declines == 1.0
    assert first.psi == pytest.approx(psi_of_counts([6, 0, 0, 0, 0, 0, 1, 1, 0, 2], [0.1] * 10))
    assert second.review_precision is None and second.false_declines is None
    assert second.psi > 0.25  # every score in the lowest bin: far from the baseline
    assert daily_figures(tallies, None)[0].psi is None
