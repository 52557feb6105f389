"""The real-time path gives the very numbers of the straightforward one: features, scores,
decisions and reasons, only faster (`statistics`, `Booster.predict`, pandas, Decimal `decide`)."""

from __future__ import annotations

import math
import statistics
from datetime import timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from tests.fraud_data import simulate

from trustdesk.fraud.learning.classifier import FraudModel, _platt, fit_platt
from trustdesk.fraud.learning.features import FEATURES, build_features
from trustdesk.fraud.learning.online import History, Transaction, _spread
from trustdesk.fraud.rules.ruleset import apply_actions, default_rules_text, parse_rules
from trustdesk.fraud.schemas import TransactionIn
from trustdesk.fraud.scoring.decisions import CostModel, Customer, Decision, cheapest, decide
from trustdesk.fraud.scoring.engine import FraudEngine
from trustdesk.fraud.scoring.holder import shipped_model
from trustdesk.fraud.training import SHIPPED_FEATURES

DELAY = timedelta(days=7)


@pytest.fixture(scope="module")
def model():
    return shipped_model()


amounts = st.one_of(
    st.decimals(min_value=0, max_value=1_000_000, places=2).map(float),
    st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False),
)


@given(st.lists(amounts, min_size=2, max_size=120))
@example([858993459.5194885] * 7)  # equal amounts whose mean rounds off the amount
def test_the_standard_deviation_agrees_with_statistics_stdev(values):
    """Two passes over the deviations: no cancellation when amounts barely vary, only rounding
    at the scale of the amounts themselves (a few ulps of the mean)."""
    exact = statistics.stdev(values)
    ulps = 1e-12 * max(values) + 1e-12
    assert _spread(values, statistics.fmean(values)) == pytest.approx(exact, rel=1e-9, abs=ulps)


def test_features_come_in_the_models_order(model):
    history = History(DELAY)
    tx = Transaction("a", pd.Timestamp("2026-03-01", tz="UTC").to_pydatetime(), "c", "t", 12.5)
    history.add(tx)
    assert tuple(history.features(tx)) == FEATURES
    assert model.features == SHIPPED_FEATURES == FEATURES[: len(model.features)]


PLATT = {"method": "platt", "slope": 0.7, "intercept": -0.2}


def test_single_row_predictions_equal_booster_predict(model):
    rows = np.random.default_rng(5).gamma(2.0, 40.0, size=(400, len(model.features)))
    rows[::7, 4] = np.nan
    rows[::5, 2] = 0.0
    for row in rows:
        features = dict(zip(model.features, row.tolist(), strict=True))
        raw = float(model.booster.predict(row[None, :], num_threads=1)[0])
        batch = float(model.score(pd.DataFrame([row], columns=list(model.features)))[0])
        assert model.score_one(features) == batch == raw  # the shipped model is not calibrated
        calibrated = FraudModel(model.booster, model.features, {"calibration": PLATT})
        assert calibrated.score_one(features) == _platt(raw, 0.7, -0.2)
        assert calibrated.score_one(features) == float(
            calibrated.score(pd.DataFrame([row], columns=list(model.features)))[0]
        )
        assert model.explain_one(features) == model.reasons_one(features)


def test_platt_scaling_recovers_an_overconfident_models_true_probabilities_keeping_its_order():
    rng = np.random.default_rng(3)
    raw = rng.uniform(0.001, 0.999, 40_000)
    logit = np.log(raw / (1 - raw))
    truth = 1 / (1 + np.exp(-(0.5 * logit - 1.0)))  # the model is twice too sure, and too high
    labels = (rng.random(raw.size) < truth).astype(int)
    slope, intercept = fit_platt(raw, labels)
    assert slope == pytest.approx(0.5, abs=0.05) and intercept == pytest.approx(-1.0, abs=0.1)
    calibrated = [_platt(float(p), slope, intercept) for p in np.sort(raw)]
    assert calibrated == sorted(calibrated)


@given(
    p=st.floats(0, 1),
    amount=st.decimals(min_value=0, max_value=50_000, places=2),
    trust=st.none() | st.floats(0, 100),
    value=st.decimals(min_value=0, max_value=10_000, places=2),
    days=st.integers(0, 2000),
)
def test_cheapest_is_the_decision_of_decide(p, amount, trust, value, days):
    customer = Customer(trust_index=trust, annual_value=value, good_history_days=days)
    assert cheapest(p, amount, customer, CostModel()) is decide(p, amount, customer).decision


def test_cheapest_settles_near_ties_as_decide_does():
    """Around the probability where approving and stepping up cost the same, float rounding
    alone could pick either: the answer stays `decide`'s, step by step in the last bits."""
    customer, costs = Customer(), CostModel()
    amount = Decimal("10.00")
    weight = costs.trust_weight(customer)
    tie = 0.5 * weight / (0.9 * 10 + 0.5 * weight)  # p*a*0.9 == (1-p)*0.5*weight
    p = tie
    for _ in range(50):
        p = math.nextafter(p, 0.0)
    for _ in range(100):
        assert cheapest(p, amount, customer, costs) is decide(p, amount, customer).decision
        p = math.nextafter(p, 1.0)
    assert cheapest(1.0, Decimal("0"), customer, costs) is Decision.APPROVE  # a three-way tie


def test_the_engine_decides_as_batch_features_the_model_decide_and_the_rules_do(model):
    """Every payment of a simulated history scored one at a time by the engine, against the
    straightforward path: pandas batch features, `FraudModel.score` (Booster.predict on a frame),
    Decimal `decide`, the rules, and `FraudModel.reasons`."""
    data = simulate(days=45, customers=25, terminals=15, seed=4)
    data["tx_amount"] = data["tx_amount"] * np.where(data.index % 9 == 0, 12.0, 1.0)  # outliers
    data["tx_amount"] = data["tx_amount"].round(2)
    rules = parse_rules(default_rules_text())
    engine = FraudEngine(model, "v0", rules, 0, History(DELAY))
    batch = build_features(data, label_delay=DELAY)
    pending: list[tuple[pd.Timestamp, str, str, int]] = []
    stopped = 0
    for index, row in zip(data.index, data.itertuples(index=False), strict=True):
        while pending and pending[0][0] <= row.tx_datetime:
            known, tx_id, customer, fraud = pending.pop(0)
            engine.label(tx_id, customer, bool(fraud), known.tz_localize("UTC").to_pydatetime())
        tx = TransactionIn(
            transaction_id=str(row.transaction_id),
            at=row.tx_datetime.tz_localize("UTC").to_pydatetime(),
            customer_id=str(row.customer_id),
            terminal_id=str(row.terminal_id),
            amount=Decimal(f"{row.tx_amount:.2f}"),
        )
        standing = engine.standing.get(tx.customer_id)
        customer = (
            standing.customer(tx.at.timestamp(), None) if standing is not None else Customer()
        )
        decided = engine.evaluate(tx)

        expected_features = batch.loc[[index]]
        online = engine.history.features(
            Transaction(tx.transaction_id, tx.at, tx.customer_id, tx.terminal_id, row.tx_amount)
        )
        np.testing.assert_allclose(
            np.array([list(online.values())]), expected_features.to_numpy(float), rtol=1e-7
        )
        frame = pd.DataFrame([online], columns=list(FEATURES))
        probability = float(model.score(frame)[0])
        model_choice = decide(probability, tx.amount, customer).decision.value
        fired = rules.evaluate(
            {
                **online,
                "amount": float(tx.amount),
                "currency": "EUR",
                "channel": "pos",
                "country": None,
                "device_id": None,
                "terminal_id": tx.terminal_id,
            }
        )
        decision = apply_actions(model_choice, fired)
        explain = decision != "approve" or model_choice != "approve"
        reasons = [r.words for r in model.reasons(frame)[0]] if explain else []
        stopped += explain
        assert decided.score == round(probability, 6)
        assert (decided.model_decision, decided.decision) == (model_choice, decision)
        assert decided.reasons == [*(f.reason for f in fired), *reasons]
        assert decided.rules_fired == [f.name for f in fired]
        pending.append(
            (row.tx_datetime + DELAY, str(row.transaction_id), str(row.customer_id), row.tx_fraud)
        )
    assert stopped > 10  # the comparison covers explained decisions too
