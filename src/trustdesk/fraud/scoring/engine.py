"""The scorer's memory: card and terminal history, customers' standing, model and rules.

Built once at start-up from the stored transactions and labels (`holder.load_engine`) and kept
up to date as payments are scored and labels arrive, so scoring one payment reads no database.
No I/O here: it is unit-tested on plain data.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from trustdesk.fraud.learning.classifier import FraudModel
from trustdesk.fraud.learning.online import History, Transaction
from trustdesk.fraud.rules.ruleset import RuleSet, apply_actions
from trustdesk.fraud.schemas import Decided, TransactionIn
from trustdesk.fraud.scoring.decisions import CostModel, Customer, cheapest

__all__ = ["FraudEngine", "LabelRow", "Standing"]

_DAY = 86_400.0
MARGIN = 0.05  # share of a customer's spending the business keeps as margin


@dataclass
class Standing:
    """What the decision weighs about a customer: how long and how much they have paid well."""

    first_seen: float
    count: int = 0
    spend: Decimal = Decimal("0")
    last_fraud: float | None = None  # when a fraud on this customer was last confirmed

    def customer(self, now: float, trust_index: float | None) -> Customer:
        good_since = max(self.first_seen, self.last_fraud or self.first_seen)
        days = max(0.0, (now - self.first_seen) / _DAY)
        # An estimate to the cent: float arithmetic is plenty and a third of Decimal's cost.
        yearly = float(self.spend) / max(days, 30.0) * 365
        return Customer(
            trust_index=trust_index,
            annual_value=Decimal(f"{yearly * MARGIN:.2f}"),
            good_history_days=int(max(0.0, now - good_since) // _DAY),
        )


@dataclass(frozen=True)
class LabelRow:
    """A stored label as the scorer reads it."""

    id: int
    transaction_id: str
    customer_ref: str
    source: str
    fraud: bool
    known_at: datetime


def to_transaction(tx: TransactionIn) -> Transaction:
    return Transaction(tx.transaction_id, tx.at, tx.customer_id, tx.terminal_id, float(tx.amount))


class FraudEngine:
    """Thread-safe through `lock`: the caller holds it around evaluate-and-store."""

    def __init__(
        self,
        model: FraudModel,
        model_version: str,
        rules: RuleSet,
        rules_version: int,
        history: History,
        *,
        costs: CostModel | None = None,
        trust: dict[str, float] | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.model, self.model_version = model, model_version
        self.rules, self.rules_version = rules, rules_version
        self.history = history
        self.costs = costs or CostModel()
        self.trust = trust or {}
        self.standing: dict[str, Standing] = {}
        self.last_label_id = 0  # labels up to this id have been read
        self.last_pk = 0  # stored payments up to this row id are in the history
        # What the previous catch-up had read: the next one reads again from there (see holder).
        self.reread_label_id = 0
        self.reread_pk = 0
        self.reread_pks: set[int] = set()  # payments above reread_pk already taken in
        self._pending: dict[int, LabelRow] = {}  # read, not known yet, by label id
        self._pending_by_key: dict[tuple[str, str], int] = {}  # (transaction, source) -> id
        self._due: list[tuple[float, int]] = []  # (known at, label id), soonest first

    def observe(self, tx: Transaction) -> None:
        """A stored transaction joins the history (no score)."""
        self.history.add(tx)
        self._count(tx.customer_id, tx.at.timestamp(), Decimal(str(tx.amount)))

    def _count(self, customer: str, t: float, amount: Decimal) -> None:
        standing = self.standing.get(customer)
        if standing is None:
            standing = self.standing[customer] = Standing(first_seen=t)
        standing.first_seen = min(standing.first_seen, t)
        standing.count += 1
        standing.spend += amount

    def set_standing(self, customer: str, first_seen: datetime, count: int, spend: Decimal) -> None:
        """Totals over all stored history (older than what the in-memory history keeps)."""
        self.standing[customer] = Standing(first_seen.timestamp(), count, spend)

    def learn(self, labels: Iterable[LabelRow], now: datetime) -> None:
        """Count the labels known by `now`; hold the others until their time comes.

        A label read again (catch-ups overlap) changes nothing; a newer label of the same
        transaction and source replaces one still held (it was corrected before it became known).
        """
        for row in labels:
            self.last_label_id = max(self.last_label_id, row.id)
            if row.id in self._pending:
                continue
            key = (row.transaction_id, row.source)
            held = self._pending_by_key.get(key)
            if held is not None:
                if held > row.id:
                    continue  # an older row read again: the newer one is held already
                del self._pending[held], self._pending_by_key[key]
            if row.known_at <= now:
                self.label(row.transaction_id, row.customer_ref, row.fraud, row.known_at)
            else:
                self._pending[row.id] = row
                self._pending_by_key[key] = row.id
                heapq.heappush(self._due, (row.known_at.timestamp(), row.id))
        until = now.timestamp()
        while self._due and self._due[0][0] <= until:
            _, label_id = heapq.heappop(self._due)
            due = self._pending.pop(label_id, None)
            if due is None:
                continue  # replaced by a correction
            del self._pending_by_key[(due.transaction_id, due.source)]
            self.label(due.transaction_id, due.customer_ref, due.fraud, due.known_at)

    @property
    def held_labels(self) -> int:
        """Labels read but not known yet."""
        return len(self._pending)

    def label(
        self, transaction_id: str, customer: str | None, fraud: bool, known_at: datetime
    ) -> None:
        self.history.label(transaction_id, fraud)
        if fraud and customer is not None and customer in self.standing:
            standing = self.standing[customer]
            t = known_at.timestamp()
            standing.last_fraud = max(standing.last_fraud or t, t)

    def forget_before(self, now: datetime) -> int:
        """Drop history no window needs any more (payments forgotten), the lock held for one
        step of `History.forgetting` at a time so scoring goes on in between."""
        steps = self.history.forgetting(now)
        total = 0
        while True:
            with self.lock:
                forgotten = next(steps, None)
            if forgotten is None:
                return total
            total += forgotten

    def evaluate(self, tx: TransactionIn) -> Decided:
        """Score a new payment: it joins the history first (its own amount is a feature)."""
        plain = to_transaction(tx)
        self.history.add(plain)
        try:
            features = self.history.features(plain)
            probability = self.model.score_one(features)
            t = tx.at.timestamp()
            standing = self.standing.get(tx.customer_id) or Standing(first_seen=t)
            customer = standing.customer(t, self.trust.get(tx.customer_id))
            model_choice = cheapest(probability, tx.amount, customer, self.costs).value
            values: dict[str, object] = {
                **features,
                "amount": float(tx.amount),
                "currency": tx.currency,
                "channel": tx.channel,
                "country": tx.country,
                "device_id": tx.device_id,
                "terminal_id": tx.terminal_id,
            }
            fired = self.rules.evaluate(values)
            decision = apply_actions(model_choice, fired)
            # Explaining costs 150 times the prediction (2.5 ms): only decisions that stop a payment
            # need their reasons (an approved one is explained on request, not inline).
            explain = decision != "approve" or model_choice != "approve"
            reasons = [r.words for r in self.model.explain_one(features)] if explain else []
        except Exception:
            self.history.discard(plain)
            raise
        self._count(tx.customer_id, tx.at.timestamp(), tx.amount)
        return Decided(
            score=round(probability, 6),
            decision=decision,
            model_decision=model_choice,
            reasons=[*(f.reason for f in fired), *reasons],
            rules_fired=[f.name for f in fired],
            model_version=self.model_version,
            rules_version=self.rules_version,
        )

    def forget(self, tx: TransactionIn) -> None:
        """Undo `evaluate` when the transaction could not be stored."""
        self.history.discard(to_transaction(tx))
        standing = self.standing.get(tx.customer_id)
        if standing is not None:
            standing.count -= 1
            standing.spend -= tx.amount
