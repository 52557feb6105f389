"""Real-time features equal the batch features used in training (no training/serving skew)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
from tests.fraud_data import simulate

from trustdesk.fraud.learning.features import FEATURES, build_features
from trustdesk.fraud.learning.online import History, Transaction

DELAY = timedelta(days=7)


def test_online_features_match_batch_features_row_for_row():
    data = simulate(days=40, customers=15, terminals=12, seed=11)
    batch = build_features(data, label_delay=DELAY)
    history = History(DELAY)
    pending: list[tuple[pd.Timestamp, str, int]] = []  # labels waiting to become known
    online = []
    for row in data.itertuples(index=False):
        at = row.tx_datetime.tz_localize("UTC").to_pydatetime()
        while pending and pending[0][0] <= row.tx_datetime:
            _, tx_id, fraud = pending.pop(0)
            history.label(tx_id, bool(fraud))
        tx = Transaction(
            str(row.transaction_id), at, str(row.customer_id), str(row.terminal_id), row.tx_amount
        )
        history.add(tx)
        online.append(history.features(tx))
        pending.append((row.tx_datetime + DELAY, str(row.transaction_id), row.tx_fraud))
    frame = pd.DataFrame(online, columns=list(FEATURES), index=data.index)
    np.testing.assert_allclose(frame.to_numpy(float), batch.to_numpy(float), rtol=1e-7, atol=1e-9)


def payments(data: pd.DataFrame) -> list[Transaction]:
    return [
        Transaction(
            str(row.transaction_id),
            row.tx_datetime.tz_localize("UTC").to_pydatetime(),
            str(row.customer_id),
            str(row.terminal_id),
            row.tx_amount,
        )
        for row in data.itertuples(index=False)
    ]


def test_forgetting_old_history_keeps_every_window_intact():
    data = simulate(days=90, customers=5, terminals=5, seed=2)
    full, trimmed = History(DELAY), History(DELAY)
    for tx in payments(data):
        full.add(tx)
        trimmed.add(tx)
        trimmed.forget_before(tx.at)
    last = tx
    assert trimmed.features(last) == full.features(last)
    assert sum(len(s.times) for s in trimmed.cards.values()) < sum(
        len(s.times) for s in full.cards.values()
    )
    first = str(data["transaction_id"].iloc[0])
    assert first in full and first not in trimmed  # its id is forgotten too
    assert len(trimmed) == sum(len(s.times) for s in trimmed.cards.values()) < len(full)
    trimmed.label(first, True)  # a late label for a forgotten payment changes nothing
    assert trimmed.features(last) == full.features(last)


def test_forgetting_step_by_step_forgets_what_forgetting_at_once_does():
    data = simulate(days=90, customers=8, terminals=6, seed=5)
    at_once, in_steps = History(DELAY), History(DELAY)
    for tx in payments(data):
        at_once.add(tx)
        in_steps.add(tx)
    cut = data["tx_datetime"].max().tz_localize("UTC").to_pydatetime()
    forgotten = at_once.forget_before(cut)
    steps = list(in_steps.forgetting(cut, step=2))
    assert len(steps) > 4 and sum(steps) == forgotten > 0
    assert len(in_steps) == len(at_once) == len(data) - forgotten
