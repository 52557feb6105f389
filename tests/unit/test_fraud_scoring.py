"""Scoring one transaction: probability, a costed decision and reasons in plain words."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from tests.fraud_data import simulate

from trustdesk.fraud.learning.classifier import FraudModel, train_model
from trustdesk.fraud.learning.features import FEATURES, build_features
from trustdesk.fraud.learning.online import History
from trustdesk.fraud.rules.ruleset import RuleSet
from trustdesk.fraud.schemas import TransactionIn
from trustdesk.fraud.scoring.engine import FraudEngine, to_transaction


def test_real_time_scores_match_batch_scores_and_explain_themselves(tmp_path):
    data = simulate(days=40, customers=30, terminals=20, seed=5)
    features = build_features(data, label_delay=timedelta(days=7))
    model = train_model(features, data["tx_fraud"].to_numpy(), FEATURES)
    model.save(tmp_path / "model")
    model = FraudModel.load(tmp_path / "model")
    batch = model.score(features)
    # The engine the scoring endpoint runs, with no rules: the decision is the model's own.
    engine = FraudEngine(model, "test", RuleSet(()), 0, History(timedelta(days=7)))
    scored = []
    for row in data.head(300).itertuples(index=False):
        tx = TransactionIn(
            transaction_id=str(row.transaction_id),
            at=row.tx_datetime.tz_localize("UTC").to_pydatetime(),
            customer_id=str(row.customer_id),
            terminal_id=str(row.terminal_id),
            amount=f"{row.tx_amount:.2f}",
        )
        scored.append((engine.evaluate(tx), tx))
    # The engine reports the probability rounded to 6 places.
    np.testing.assert_allclose([s.score for s, _ in scored], batch[:300], rtol=1e-6, atol=5e-7)
    risky, tx = max(scored, key=lambda pair: pair[0].score)
    assert risky.decision != "approve"
    reasons = model.explain_one(engine.history.features(to_transaction(tx)))
    assert reasons and all(r.contribution > 0 and r.words for r in reasons)
    assert risky.reasons == [r.words for r in reasons]


def test_every_feature_of_the_shipped_model_has_plain_words_for_its_reasons():
    from trustdesk.fraud.learning.classifier import PLAIN_WORDS
    from trustdesk.fraud.scoring.holder import shipped_model

    assert set(shipped_model().features) <= set(PLAIN_WORDS)
