"""Real-time features: the same numbers as `features.build_features`, one transaction at a time.

Histories per card and per terminal are kept in memory (60 days per card, 37 per terminal) so a
score needs no database query. Labels are added when they become known and count from then on.
"""

from __future__ import annotations

import bisect
import math
import statistics
from array import array
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import repeat
from operator import mul

from trustdesk.fraud.features import _BASELINE_FROM, _BASELINE_TO

__all__ = ["History", "Transaction"]

_DAY = 86_400.0
_FIRST_GAP_HOURS = 10**7 / 3600.0
_SQRT_BITS = 2 * 53 + 3  # as in `statistics`: enough bits to round the square root correctly


def _stdev(amounts: Sequence[float]) -> float:
    """`statistics.stdev(amounts)`, the same float, about ten times faster.

    `statistics` sums exact Fractions. Positive floats are binary fractions, and 2**k times each
    one is an integer when k makes the smallest one an integer (53 bits of mantissa), so here the
    sums are exact on integers. The reduced ratio is the very one `statistics` passes to its
    correctly rounded square root, and that step is repeated as written there.
    """
    smallest, largest = min(amounts), max(amounts)
    if not smallest > 0.0 or not math.isfinite(largest):
        return statistics.stdev(amounts)  # zero, negative, infinite or NaN amounts: rare
    bits = max(53 - math.frexp(smallest)[1], 0)
    if bits > 1000 or math.frexp(largest)[1] + bits > 1000:  # scaling would overflow
        return statistics.stdev(amounts)
    scale = math.ldexp(1.0, bits)
    try:
        ints = [int(a * scale) for a in amounts]
    except ValueError:  # a NaN among them
        return statistics.stdev(amounts)
    count = len(ints)
    total = sum(ints)
    spread = count * sum(map(mul, ints, ints)) - total * total
    denominator = (count * (count - 1)) << (2 * bits)
    common = math.gcd(spread, denominator)
    return _sqrt_of_ratio(spread // common, denominator // common)


def _sqrt_of_ratio(n: int, m: int) -> float:
    """Square root of n/m, correctly rounded (`statistics._float_sqrt_of_frac`)."""
    q = (n.bit_length() - m.bit_length() - _SQRT_BITS) // 2
    if q >= 0:
        return (_isqrt_rto(n, m << 2 * q) << q) / 1
    return _isqrt_rto(n << -2 * q, m) / (1 << -q)


def _isqrt_rto(n: int, m: int) -> int:
    """Square root of n/m rounded to an integer with round-to-odd."""
    a = math.isqrt(n // m)
    return a | (a * a * m != n)


def _median(values: Sequence[float]) -> float:
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


def _labelled(frauds: dict[str, int], ids: list[str], lo: int, hi: int) -> int:
    """Known frauds among the events lo..hi-1 (0 at once when no fraud is known at all)."""
    if lo >= hi or 1 not in frauds.values():
        return 0
    return sum(map(frauds.get, ids[lo:hi], repeat(0, hi - lo)))


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
    """Events of one card or terminal in time order: (seconds, amount, fraud label if known).

    Times and amounts are packed doubles: a window's values lie side by side in memory, where
    a list's float objects are scattered over the heap (each read a likely cache miss).
    """

    times: array[float] = field(default_factory=_doubles)
    amounts: array[float] = field(default_factory=_doubles)
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
        """Features of `tx`, which must already have been added.

        The real-time path: every window is a slice of the sorted history, averages are the same
        left-to-right float sums as before, and the standard deviation is `statistics.stdev`'s exact
        value computed on integers (`_stdev`), so the numbers are equal bit for bit.
        """
        t = tx.at.timestamp()
        card, terminal = self.cards[tx.customer_id], self.terminals[tx.terminal_id]
        times, amounts = card.times, card.amounts
        # The current transaction is the last event at or before t in its card's history.
        end = bisect_right(times, t)
        day = amounts[bisect_right(times, t - _DAY) : end]
        week = amounts[bisect_right(times, t - 7 * _DAY) : end]
        month = amounts[bisect_right(times, t - 30 * _DAY) : end]
        avg_1d = sum(day) / len(day)
        avg_7d = sum(week) / len(week)
        avg_30d = sum(month) / len(month)
        std_30d = _stdev(month) if len(month) > 1 else 0.0
        median_30d = _median(month)
        position = _position(card.ids, tx.transaction_id, end)
        gap = (t - times[position - 1]) / 3600.0 if position > 0 else _FIRST_GAP_HOURS
        base = amounts[
            bisect_right(times, t - _BASELINE_FROM * _DAY) : bisect_right(
                times, t - _BASELINE_TO * _DAY
            )
        ]
        baseline_avg = sum(base) / len(base) if base else float("nan")
        known_until = t - self.delay
        # The three terminal windows end at the same time: count each stretch once, innermost first.
        t_times, t_ids, t_frauds = terminal.times, terminal.ids, terminal.frauds
        known_end = bisect_right(t_times, known_until)
        lo_1 = bisect_right(t_times, known_until - _DAY)
        lo_7 = bisect_right(t_times, known_until - 7 * _DAY)
        lo_30 = bisect_right(t_times, known_until - 30 * _DAY)
        frauds_1 = _labelled(t_frauds, t_ids, lo_1, known_end)
        frauds_7 = frauds_1 + _labelled(t_frauds, t_ids, lo_7, lo_1)
        frauds_30 = frauds_7 + _labelled(t_frauds, t_ids, lo_30, lo_7)
        n_1, n_7, n_30 = known_end - lo_1, known_end - lo_7, known_end - lo_30
        last_day = bisect_right(t_times, t) - bisect_right(t_times, t - _DAY)
        card_frauds = _labelled(
            card.frauds,
            card.ids,
            bisect_right(times, known_until - 14 * _DAY),
            bisect_right(times, known_until),
        )
        amount = tx.amount
        hour = tx.at.hour
        return {
            "tx_amount": amount,
            "during_weekend": float(tx.at.weekday() >= 5),
            "during_night": float(hour <= 6),
            "customer_nb_tx_1d": float(len(day)),
            "customer_nb_tx_7d": float(len(week)),
            "customer_nb_tx_30d": float(len(month)),
            "customer_avg_amount_1d": avg_1d,
            "customer_avg_amount_7d": avg_7d,
            "customer_avg_amount_30d": avg_30d,
            "terminal_nb_tx_1d": float(n_1),
            "terminal_nb_tx_7d": float(n_7),
            "terminal_nb_tx_30d": float(n_30),
            "terminal_risk_1d": frauds_1 / n_1 if n_1 else 0.0,
            "terminal_risk_7d": frauds_7 / n_7 if n_7 else 0.0,
            "terminal_risk_30d": frauds_30 / n_30 if n_30 else 0.0,
            "hour": float(hour),
            "customer_max_amount_7d": max(week),
            "customer_max_amount_30d": max(month),
            "customer_std_amount_30d": std_30d,
            "customer_median_amount_30d": median_30d,
            "hours_since_customer_last_tx": gap,
            "amount_to_customer_avg_7d": amount / avg_7d,
            "amount_to_customer_avg_30d": amount / avg_30d,
            "amount_zscore_30d": (amount - avg_30d) / (std_30d + 1.0),
            "customer_baseline_nb_tx": float(len(base)),
            "amount_to_customer_baseline": amount / baseline_avg,
            "customer_avg_7d_to_baseline": avg_7d / baseline_avg,
            "amount_to_customer_median_30d": amount / median_30d,
            "terminal_nb_tx_last_day": float(last_day),
            "customer_known_frauds_14d": float(card_frauds),
        }

    def forget_before(self, t: datetime) -> None:
        """Drop history older than any window needs."""
        cards_cut = t.timestamp() - _BASELINE_FROM * _DAY
        terminals_cut = t.timestamp() - self.delay - 30 * _DAY
        for series in self.cards.values():
            series.forget_before(cards_cut)
        for series in self.terminals.values():
            series.forget_before(terminals_cut)
