"""Real-time scoring: features from the in-memory history, the model's probability, the decision."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from trustdesk.fraud.decisions import CostModel, Customer, DecisionCosts, decide
from trustdesk.fraud.model import FraudModel, Reason
from trustdesk.fraud.online import History, Transaction

__all__ = ["Scored", "Scorer"]


@dataclass(frozen=True)
class Scored:
    transaction_id: str
    probability: float
    decision: DecisionCosts
    reasons: list[Reason]


class Scorer:
    def __init__(self, model: FraudModel, history: History, costs: CostModel | None = None) -> None:
        self.model = model
        self.history = history
        self.costs = costs or CostModel()

    def score(self, tx: Transaction, customer: Customer, *, explain: bool = True) -> Scored:
        self.history.add(tx)
        features = self.history.features(tx)
        probability = self.model.score_one(features)
        decision = decide(probability, Decimal(str(tx.amount)), customer, self.costs)
        reasons = self.model.reasons_one(features) if explain else []
        return Scored(tx.transaction_id, probability, decision, reasons)
