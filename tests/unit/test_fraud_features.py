"""Fraud features use only the past: data up to the transaction, labels once they are known."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.fraud_data import simulate

from trustdesk.fraud.learning.features import FEATURES, build_features
from trustdesk.fraud.learning.metrics import card_precision_at_k

DELAY = timedelta(days=7)
DATA = simulate(days=45, customers=25, terminals=30)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cutoff_day=st.integers(min_value=8, max_value=44), seed=st.integers(0, 10_000))
def test_features_at_t_ignore_later_transactions_and_unknown_labels(cutoff_day, seed):
    cutoff = pd.Timestamp("2018-04-01") + pd.Timedelta(days=cutoff_day)
    full = build_features(DATA, label_delay=DELAY)
    past = DATA[DATA["tx_datetime"] <= cutoff].copy()
    # Labels not yet known at the cutoff are scrambled: the features must not notice.
    unknown = past["tx_datetime"] > cutoff - DELAY
    rng = np.random.default_rng(seed)
    past.loc[unknown, "tx_fraud"] = rng.integers(0, 2, int(unknown.sum()))
    truncated = build_features(past, label_delay=DELAY)
    pd.testing.assert_frame_equal(truncated, full.loc[past.index], check_exact=False, rtol=1e-9)


def test_every_feature_is_computed_for_every_row():
    features = build_features(DATA, label_delay=DELAY)
    assert list(features.columns) == list(FEATURES)
    assert len(features) == len(DATA)
    assert features["customer_nb_tx_1d"].min() >= 1  # the transaction itself counts


def test_terminal_risk_rises_after_its_frauds_become_known():
    frame = pd.DataFrame(
        {
            "transaction_id": range(4),
            "tx_datetime": pd.to_datetime(["2018-04-01", "2018-04-02", "2018-04-05", "2018-04-10"]),
            "customer_id": [1, 2, 3, 4],
            "terminal_id": [9, 9, 9, 9],
            "tx_amount": [10.0, 20.0, 30.0, 40.0],
            "tx_fraud": [1, 1, 0, 0],
        }
    )
    risk = build_features(frame, label_delay=DELAY)["terminal_risk_7d"].tolist()
    assert risk[:3] == [0.0, 0.0, 0.0]  # the frauds are not known before 7 days have passed
    assert risk[3] == pytest.approx(1.0)


def test_days_since_a_known_fraud_count_from_the_latest_fraud_once_it_is_known():
    frame = pd.DataFrame(
        {
            "transaction_id": range(5),
            "tx_datetime": pd.to_datetime(
                ["2018-04-01", "2018-04-02", "2018-04-05", "2018-04-10", "2018-05-20"]
            ),
            "customer_id": [1, 1, 1, 1, 1],
            "terminal_id": [9, 9, 9, 9, 9],
            "tx_amount": [10.0, 20.0, 30.0, 40.0, 50.0],
            "tx_fraud": [1, 1, 0, 0, 0],
        }
    )
    features = build_features(frame, label_delay=DELAY)
    for column in ("terminal_days_since_known_fraud", "customer_days_since_known_fraud"):
        days = features[column].tolist()
        assert all(np.isnan(days[:3]))  # not known before the 7-day delay
        assert days[3] == pytest.approx(8.0)  # the 2018-04-02 fraud, known since 2018-04-09
        assert np.isnan(days[4])  # more than 30 days before the labels known at the time


def test_card_precision_at_k_counts_compromised_cards_among_the_top_k():
    frame = pd.DataFrame(
        {
            "day": [0, 0, 0, 0, 1, 1],
            "customer_id": [1, 1, 2, 3, 1, 2],
            "tx_fraud": [0, 1, 0, 0, 0, 1],
        }
    )
    scores = np.array([0.9, 0.1, 0.8, 0.1, 0.2, 0.7])
    # day 0: top-2 cards are 1 (fraud) and 2 (genuine) → 0.5; day 1: cards 2 (fraud), 1 → 0.5
    assert card_precision_at_k(frame, scores, k=2) == pytest.approx(0.5)
