"""Real-time features: the same numbers as `features.build_features`, one transaction at a time.

Histories per card and per terminal are kept in memory (60 days per card, 37 per terminal) so a
score needs no database query. Labels are added when they become known and count from then on.
"""

from __future__ import annotations

import bisect
import math
from array import array
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import mul

from trustdesk.fraud.learning.features import _BASELINE_FROM, _BASELINE_TO, KNOWN_FRAUD_DAYS

__all__ = ["History", "Transaction"]

_DAY = 86_400.0
_FIRST_GAP_HOURS = 10**7 / 3600.0
_FRAUD = 1  # a flag byte: the event is a confirmed fraud, known by now


def _spread(values: list[float], mean: float) -> float:
    """Sample standard deviation, two-pass (deviations from the mean), as accurate as the batch
    features' rolling `std` and a fraction of `statistics.stdev`'s cost (exact Fractions)."""
    deviations = [v - mean for v in values]
    return math.sqrt(sum(map(mul, deviations, deviations)) / (len(values) - 1))


def _median(values: list[float]) -> float:
    """`statistics.median`, without its generality."""
    ordered = sorted(values)
    half = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[half]
    return (ordered[half - 1] + ordered[half]) / 2


def _position(ids: list[str], tx_id: str, end: int) -> int:
    """Index of `tx_id` among the first `end` events; a payment just added is usually the last."""
    if not end:
        return 0
    if ids[end - 1] == tx_id:
        return end - 1
    return ids.index(tx_id, 0, end)


def _ratio(a: float, b: float) -> float:
    """`a / b` as pandas computes it in `features.py`: x/0 is ±inf, 0/0 is nan (free payments)."""
    if b:
        return a / b
    return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a)


@dataclass(frozen=True)
class Transaction:
    transaction_id: str
    at: datetime
    customer_id: str
    terminal_id: str
    amount: float


def _doubles() -> array[float]:
    return array("d")


@dataclass
class _Series:
    """Events of one card or terminal in time order: time (s), amount, id, known-fraud flag.

    Times and amounts are packed doubles and the flags one byte each: a window's values lie side
    by side in memory, and counting a window's frauds is one C call (`bytearray.count`).
    """

    times: array[float] = field(default_factory=_doubles)
    amounts: array[float] = field(default_factory=_doubles)
    ids: list[str] = field(default_factory=list)
    flags: bytearray = field(default_factory=bytearray)
    frauds: int = 0  # flags set: windows are only counted when there is a fraud to find

    def add(self, t: float, amount: float, tx_id: str) -> None:
        at = bisect_right(self.times, t)
        self.times.insert(at, t)
        self.amounts.insert(at, amount)
        self.ids.insert(at, tx_id)
        self.flags.insert(at, 0)

    def _index(self, t: float, tx_id: str) -> int | None:
        lo, hi = bisect.bisect_left(self.times, t), bisect_right(self.times, t)
        for i in range(lo, hi):
            if self.ids[i] == tx_id:
                return i
        return None

    def remove(self, t: float, tx_id: str) -> None:
        i = self._index(t, tx_id)
        if i is not None:
            self.frauds -= self.flags[i]
            del self.times[i], self.amounts[i], self.ids[i], self.flags[i]

    def mark(self, t: float, tx_id: str, fraud: bool) -> None:
        """Record the event's outcome; a corrected one replaces the earlier."""
        i = self._index(t, tx_id)
        if i is not None:
            self.frauds += int(fraud) - self.flags[i]
            self.flags[i] = int(fraud)

    def fraud_flag(self, t: float, tx_id: str) -> bool | None:
        i = self._index(t, tx_id)
        return None if i is None else bool(self.flags[i])

    def days_since_fraud(self, t: float, lo: int, hi: int) -> float:
        """Days from the latest known fraud among events [lo, hi) to t; NaN if none."""
        if not self.frauds or lo >= hi:
            return math.nan
        at = self.flags.rfind(_FRAUD, lo, hi)
        return math.nan if at < 0 else (t - self.times[at]) / _DAY

    def count_frauds(self, lo: int, hi: int) -> int:
        return self.flags.count(_FRAUD, lo, hi) if self.frauds and lo < hi else 0

    def forget_before(self, t: float) -> list[str]:
        """Drop events at or before `t`; their ids."""
        cut = bisect_right(self.times, t)
        if not cut:
            return []
        gone = self.ids[:cut]
        self.frauds -= self.flags.count(_FRAUD, 0, cut)
        del self.times[:cut], self.amounts[:cut], self.ids[:cut], self.flags[:cut]
        return gone


class History:
    """What the scorer knows: past transactions and the labels known so far."""

    def __init__(self, label_delay: timedelta) -> None:
        self.delay = label_delay.total_seconds()
        self.cards: dict[str, _Series] = defaultdict(_Series)
        self.terminals: dict[str, _Series] = defaultdict(_Series)
        self._where: dict[str, tuple[str, str, float]] = {}  # id -> card, terminal, time

    def add(self, tx: Transaction) -> None:
        t = tx.at.timestamp()
        self.cards[tx.customer_id].add(t, tx.amount, tx.transaction_id)
        self.terminals[tx.terminal_id].add(t, tx.amount, tx.transaction_id)
        self._where[tx.transaction_id] = (tx.customer_id, tx.terminal_id, t)

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
        """A confirmed fraud or genuine outcome became known (now); a correction replaces it."""
        where = self._where.get(transaction_id)
        if where is None:
            return
        card, terminal, t = where
        if card in self.cards:
            self.cards[card].mark(t, transaction_id, fraud)
        if terminal in self.terminals:
            self.terminals[terminal].mark(t, transaction_id, fraud)

    def known_fraud(self, transaction_id: str) -> bool | None:
        """Whether the scorer counts this payment as a confirmed fraud (None: not in memory)."""
        where = self._where.get(transaction_id)
        if where is None or where[0] not in self.cards:
            return None
        return self.cards[where[0]].fraud_flag(where[2], transaction_id)

    def features(self, tx: Transaction) -> dict[str, float]:
        """Features of `tx`, which must already have been added.

        Every window is a slice of the sorted history ending at t; the nested ones (day, week,
        month) are cut from one list of the card's amounts, and frauds are counted on the flags.
        """
        t = tx.at.timestamp()
        card, terminal = self.cards[tx.customer_id], self.terminals[tx.terminal_id]
        times = card.times
        # The current transaction is the last event at or before t in its card's history.
        end = bisect_right(times, t)
        lo_base = bisect_right(times, t - _BASELINE_FROM * _DAY, 0, end)
        lo_30 = bisect_right(times, t - 30 * _DAY, lo_base, end)
        hi_base = bisect_right(times, t - _BASELINE_TO * _DAY, lo_30, end)
        lo_7 = bisect_right(times, t - 7 * _DAY, hi_base, end)
        lo_1 = bisect_right(times, t - _DAY, lo_7, end)
        span = card.amounts[lo_base:end].tolist()
        month = span[lo_30 - lo_base :]
        week = span[lo_7 - lo_base :]
        n_1, n_7, n_30 = end - lo_1, end - lo_7, end - lo_30
        sum_1 = sum(span[lo_1 - lo_base :])
        sum_7 = sum_1 + sum(span[lo_7 - lo_base : lo_1 - lo_base])
        sum_30 = sum_7 + sum(span[lo_30 - lo_base : lo_7 - lo_base])
        avg_1d, avg_7d, avg_30d = sum_1 / n_1, sum_7 / n_7, sum_30 / n_30
        max_7d = max(week)
        older = span[lo_30 - lo_base : lo_7 - lo_base]  # in the month, not the week
        max_30d = max(max_7d, max(older)) if older else max_7d
        std_30d = _spread(month, avg_30d) if n_30 > 1 else 0.0
        median_30d = _median(month)
        position = _position(card.ids, tx.transaction_id, end)
        gap = (t - times[position - 1]) / 3600.0 if position > 0 else _FIRST_GAP_HOURS
        n_base = hi_base - lo_base
        baseline_avg = sum(span[: hi_base - lo_base]) / n_base if n_base else float("nan")
        known_until = t - self.delay
        # The three terminal windows end at the same time: count each stretch once, innermost first.
        t_times = terminal.times
        known_end = bisect_right(t_times, known_until)
        k_30 = bisect_right(t_times, known_until - 30 * _DAY, 0, known_end)
        k_7 = bisect_right(t_times, known_until - 7 * _DAY, k_30, known_end)
        k_1 = bisect_right(t_times, known_until - _DAY, k_7, known_end)
        frauds_1 = terminal.count_frauds(k_1, known_end)
        frauds_7 = frauds_1 + terminal.count_frauds(k_7, k_1)
        frauds_30 = frauds_7 + terminal.count_frauds(k_30, k_7)
        t_1, t_7, t_30 = known_end - k_1, known_end - k_7, known_end - k_30
        last_day = bisect_right(t_times, t) - bisect_right(t_times, t - _DAY)
        card_known_end = bisect_right(times, known_until, 0, end)
        card_frauds = card.count_frauds(
            bisect_right(times, known_until - 14 * _DAY, 0, card_known_end), card_known_end
        )
        since = known_until - KNOWN_FRAUD_DAYS * _DAY
        terminal_since = terminal.days_since_fraud(
            t, bisect_right(t_times, since, 0, known_end), known_end
        )
        card_since = card.days_since_fraud(
            t, bisect_right(times, since, 0, card_known_end), card_known_end
        )
        amount = tx.amount
        hour = tx.at.hour
        return {
            "tx_amount": amount,
            "during_weekend": float(tx.at.weekday() >= 5),
            "during_night": float(hour <= 6),
            "customer_nb_tx_1d": float(n_1),
            "customer_nb_tx_7d": float(n_7),
            "customer_nb_tx_30d": float(n_30),
            "customer_avg_amount_1d": avg_1d,
            "customer_avg_amount_7d": avg_7d,
            "customer_avg_amount_30d": avg_30d,
            "terminal_nb_tx_1d": float(t_1),
            "terminal_nb_tx_7d": float(t_7),
            "terminal_nb_tx_30d": float(t_30),
            "terminal_risk_1d": frauds_1 / t_1 if t_1 else 0.0,
            "terminal_risk_7d": frauds_7 / t_7 if t_7 else 0.0,
            "terminal_risk_30d": frauds_30 / t_30 if t_30 else 0.0,
            "hour": float(hour),
            "customer_max_amount_7d": max_7d,
            "customer_max_amount_30d": max_30d,
            "customer_std_amount_30d": std_30d,
            "customer_median_amount_30d": median_30d,
            "hours_since_customer_last_tx": gap,
            "amount_to_customer_avg_7d": _ratio(amount, avg_7d),
            "amount_to_customer_avg_30d": _ratio(amount, avg_30d),
            "amount_zscore_30d": (amount - avg_30d) / (std_30d + 1.0),
            "customer_baseline_nb_tx": float(n_base),
            "amount_to_customer_baseline": _ratio(amount, baseline_avg),
            "customer_avg_7d_to_baseline": _ratio(avg_7d, baseline_avg),
            "amount_to_customer_median_30d": _ratio(amount, median_30d),
            "terminal_nb_tx_last_day": float(last_day),
            "customer_known_frauds_14d": float(card_frauds),
            "terminal_days_since_known_fraud": terminal_since,
            "customer_days_since_known_fraud": card_since,
        }

    def forget_before(self, t: datetime) -> int:
        """Drop history older than any window needs; how many payments were forgotten."""
        return sum(self.forgetting(t))

    def forgetting(self, t: datetime, step: int = 1_000) -> Iterator[int]:
        """`forget_before` in steps of `step` series, each yielding the payments it forgot, so a
        running scorer can hold its lock for one step at a time (a whole pass over 1.5 million
        payments takes tens of milliseconds).

        Cards keep the baseline's 60 days, terminals the label delay plus 30 days. A payment is
        forgotten for good (its id too) once its card has dropped it.
        """
        cards_cut = t.timestamp() - _BASELINE_FROM * _DAY
        terminals_cut = t.timestamp() - self.delay - 30 * _DAY
        terminals = list(self.terminals)
        for start in range(0, len(terminals), step):
            for key in terminals[start : start + step]:
                series = self.terminals.get(key)
                if series is not None:
                    series.forget_before(terminals_cut)
            yield 0
        cards = list(self.cards)
        for start in range(0, len(cards), step):
            forgotten = 0
            for key in cards[start : start + step]:
                series = self.cards.get(key)
                if series is None:
                    continue
                for tx_id in series.forget_before(cards_cut):
                    if self._where.pop(tx_id, None) is not None:
                        forgotten += 1
            yield forgotten
