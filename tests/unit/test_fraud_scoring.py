"""Scoring one transaction: probability, a costed decision and reasons in plain words."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from tests.fraud_data import simulate

from trustdesk.fraud.decisions import Customer, Decision
from trustdesk.fraud.features import FEATURES, build_features
from trustdesk.fraud.model import FraudModel, train_model
from trustdesk.fraud.online import History, Transaction
from trustdesk.fraud.scoring import Scorer


def test_real_time_scores_match_batch_scores_and_explain_themselves(tmp_path):
    data = simulate(days=40, customers=30, terminals=20, seed=5)
    features = build_features(data, label_delay=timedelta(days=7))
    model = train_model(features, data["tx_fraud"].to_numpy(), FEATURES)
    model.save(tmp_path / "model")
    model = FraudModel.load(tmp_path / "model")
    batch = model.score(features)
    scorer = Scorer(model, History(timedelta(days=7)))
    scored = []
    for row in data.head(300).itertuples(index=False):
        at = row.tx_datetime.tz_localize("UTC").to_pydatetime()
        tx = Transaction(
            str(row.transaction_id), at, str(row.customer_id), str(row.terminal_id), row.tx_amount
        )
        scored.append((scorer.score(tx, Customer(), explain=False), tx))
    np.testing.assert_allclose([s.probability for s, _ in scored], batch[:300], rtol=1e-6)
    risky, tx = max(scored, key=lambda pair: pair[0].probability)
    assert risky.decision.decision is not Decision.APPROVE
    reasons = model.reasons_one(scorer.history.features(tx))
    assert reasons and all(r.contribution > 0 and r.words for r in reasons)


def test_every_feature_of_the_shipped_model_has_plain_words_for_its_reasons():
    from trustdesk.fraud.model import PLAIN_WORDS
    from trustdesk.fraud.realtime import shipped_model

    assert set(shipped_model().features) <= set(PLAIN_WORDS)
