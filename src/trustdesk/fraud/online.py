"""Real-time features: the same numbers as `features.build_features`, one transaction at a time.

Histories per card and per terminal are kept in memory (60 days per card, 37 per terminal) so a
score needs no database query. Labels are added when they become known and count from then on.
"""

from __future__ import annotations

import bisect
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from trustdesk.fraud.features import _BASELINE_FROM, _BASELINE_TO, FEATURES, WINDOWS

__all__ = ["History", "Transaction"]

_DAY = 86_400.0
_FIRST_GAP_HOURS = 10**7 / 3600.0


@dataclass(frozen=True)
class Transaction:
    transaction_id: str
    at: datetime
    customer_id: str
    terminal_id: str
    amount: float


@dataclass
class _Series:
    """Events of one card or terminal in time order: (seconds, amount, fraud label if known)."""

    times: list[float] = field(default_factory=list)
    amounts: list[float] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    frauds: dict[str, int] = field(default_factory=dict)  # transaction id -> label, once known

    def add(self, t: float, amount: float, tx_id: str) -> None:
        at = bisect.bisect_right(self.times, t)
        self.times.insert(at, t)
        self.amounts.insert(at, amount)
        self.ids.insert(at, tx_id)

    def span(self, start: float, end: float) -> tuple[int, int]:
        """Indices of events with start < time <= end."""
        return bisect.bisect_right(self.times, start), bisect.bisect_right(self.times, end)

    def remove(self, t: float, tx_id: str) -> None:
        lo, hi = bisect.bisect_left(self.times, t), bisect.bisect_right(self.times, t)
        for i in range(lo, hi):
            if self.ids[i] == tx_id:
                del self.times[i], self.amounts[i], self.ids[i]
                self.frauds.pop(tx_id, None)
                return

    def forget_before(self, t: float) -> None:
        cut = bisect.bisect_right(self.times, t)
        if cut:
            for tx_id in self.ids[:cut]:
                self.frauds.pop(tx_id, None)
            del self.times[:cut], self.amounts[:cut], self.ids[:cut]


class History:
    """What the scorer knows: past transactions and the labels known so far."""

    def __init__(self, label_delay: timedelta) -> None:
        self.delay = label_delay.total_seconds()
        self.cards: dict[str, _Series] = defaultdict(_Series)
        self.terminals: dict[str, _Series] = defaultdict(_Series)
        self._where: dict[str, tuple[str, str]] = {}

    def add(self, tx: Transaction) -> None:
        t = tx.at.timestamp()
        self.cards[tx.customer_id].add(t, tx.amount, tx.transaction_id)
        self.terminals[tx.terminal_id].add(t, tx.amount, tx.transaction_id)
        self._where[tx.transaction_id] = (tx.customer_id, tx.terminal_id)

    def discard(self, tx: Transaction) -> None:
        """Undo `add` (the transaction was not stored after all)."""
        t = tx.at.timestamp()
        self.cards[tx.customer_id].remove(t, tx.transaction_id)
        self.terminals[tx.terminal_id].remove(t, tx.transaction_id)
        self._where.pop(tx.transaction_id, None)

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, transaction_id: object) -> bool:
        return transaction_id in self._where

    def label(self, transaction_id: str, fraud: bool) -> None:
        """A confirmed fraud or genuine outcome became known (now)."""
        where = self._where.get(transaction_id)
        if where is None:
            return
        self.cards[where[0]].frauds[transaction_id] = int(fraud)
        self.terminals[where[1]].frauds[transaction_id] = int(fraud)

    def features(self, tx: Transaction) -> dict[str, float]:
        """Features of `tx`, which must already have been added."""
        t = tx.at.timestamp()
        card, terminal = self.cards[tx.customer_id], self.terminals[tx.terminal_id]
        out: dict[str, float] = {"tx_amount": tx.amount}
        out["during_weekend"] = float(tx.at.weekday() >= 5)
        out["during_night"] = float(tx.at.hour <= 6)
        out["hour"] = float(tx.at.hour)
        # The current transaction is the last event at or before t in its card's history.
        end = bisect.bisect_right(card.times, t)
        for w in WINDOWS:
            lo, hi = card.span(t - w * _DAY, t)
            amounts = card.amounts[lo:end]
            out[f"customer_nb_tx_{w}d"] = float(len(amounts))
            out[f"customer_avg_amount_{w}d"] = sum(amounts) / len(amounts)
            if w in (7, 30):
                out[f"customer_max_amount_{w}d"] = max(amounts)
            if w == 30:
                out["customer_std_amount_30d"] = (
                    statistics.stdev(amounts) if len(amounts) > 1 else 0.0
                )
                out["customer_median_amount_30d"] = statistics.median(amounts)
        position = card.ids.index(tx.transaction_id, 0, end) if end else 0
        previous = card.times[position - 1] if position > 0 else None
        out["hours_since_customer_last_tx"] = (
            (t - previous) / 3600.0 if previous is not None else _FIRST_GAP_HOURS
        )
        lo, hi = card.span(t - _BASELINE_FROM * _DAY, t - _BASELINE_TO * _DAY)
        base = card.amounts[lo:hi]
        out["customer_baseline_nb_tx"] = float(len(base))
        baseline_avg = sum(base) / len(base) if base else float("nan")
        known_until = t - self.delay
        for w in WINDOWS:
            lo, hi = terminal.span(known_until - w * _DAY, known_until)
            ids = terminal.ids[lo:hi]
            frauds = sum(terminal.frauds.get(i, 0) for i in ids)
            out[f"terminal_nb_tx_{w}d"] = float(len(ids))
            out[f"terminal_risk_{w}d"] = frauds / len(ids) if ids else 0.0
        lo, hi = terminal.span(t - _DAY, t)
        out["terminal_nb_tx_last_day"] = float(bisect.bisect_right(terminal.times, t) - lo)
        lo, hi = card.span(known_until - 14 * _DAY, known_until)
        out["customer_known_frauds_14d"] = float(
            sum(card.frauds.get(i, 0) for i in card.ids[lo:hi])
        )
        amount = tx.amount
        out["amount_to_customer_avg_7d"] = amount / out["customer_avg_amount_7d"]
        out["amount_to_customer_avg_30d"] = amount / out["customer_avg_amount_30d"]
        out["amount_zscore_30d"] = (amount - out["customer_avg_amount_30d"]) / (
            out["customer_std_amount_30d"] + 1.0
        )
        out["amount_to_customer_baseline"] = amount / baseline_avg
        out["customer_avg_7d_to_baseline"] = out["customer_avg_amount_7d"] / baseline_avg
        out["amount_to_customer_median_30d"] = amount / out["customer_median_amount_30d"]
        return {name: out[name] for name in FEATURES}

    def forget_before(self, t: datetime) -> None:
        """Drop history older than any window needs."""
        cards_cut = t.timestamp() - _BASELINE_FROM * _DAY
        terminals_cut = t.timestamp() - self.delay - 30 * _DAY
        for series in self.cards.values():
            series.forget_before(cards_cut)
        for series in self.terminals.values():
            series.forget_before(terminals_cut)
