"""A small payment simulator in the spirit of the handbook's: fraud from large amounts and
compromised terminals. It trains the shipped model and feeds tests and demos (our own data, so it
ships under our licence, unlike the handbook's published files)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["simulate"]


def simulate(
    days: int = 60, customers: int = 60, terminals: int = 80, seed: int = 3
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2018-04-01")
    mean_amount = rng.uniform(5, 100, customers)
    rows = []
    for day in range(days):
        for c in range(customers):
            for _ in range(rng.poisson(2)):
                when = start + pd.Timedelta(days=day, seconds=int(rng.uniform(0, 86400)))
                amount = abs(rng.normal(mean_amount[c], mean_amount[c] / 2))
                rows.append((when, c, int(rng.integers(terminals)), round(amount, 2)))
    frame = pd.DataFrame(rows, columns=["tx_datetime", "customer_id", "terminal_id", "tx_amount"])
    frame = frame.sort_values("tx_datetime", kind="stable").reset_index(drop=True)
    frame.insert(0, "transaction_id", np.arange(len(frame)))
    fraud = frame["tx_amount"] > 220  # scenario 1
    compromised = {(int(t), d) for d in range(days) for t in rng.choice(terminals, 1)}
    day_of = (frame["tx_datetime"] - start).dt.days
    for terminal, day in compromised:  # scenario 2: a terminal's next 28 days are fraud
        fraud |= (
            (frame["terminal_id"] == terminal)
            & (day_of >= day)
            & (day_of < day + 28)
            & (rng.random(len(frame)) < 0.3)
        )
    frame["tx_fraud"] = fraud.astype(int)
    return frame
