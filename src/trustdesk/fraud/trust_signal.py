"""False declines as a trust signal: a genuine payment we declined or challenged costs trust.

Each payment declined (value 5, weight 2) or stepped up (value 35, weight 1) and later labelled
genuine is one negative observation for its customer, at the time the label became known, on the
ability (we failed to serve them) and benevolence (we treated them as a suspect) dimensions. The
evidence ref is the label's id. Customers are matched through the customers facade by external id;
payments of cards that match no customer are passed over.

Segments: a feedback item carries the segment it was filed under; a payment carries none, so its
observation takes its customer's segment (customers facade), and per-segment indices count false
declines. A customer in several segments gets one observation per segment, the payment's weight
split evenly between them: segment indices each see their share, while the customer's and the
overall index weigh the payment once (their observation counts `n` see it once per segment).
A customer in no segment: segment "" (counted overall and for the customer only).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

import numpy as np
from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from trustdesk.crypto import Vault
from trustdesk.customers import public as customers
from trustdesk.fraud.models import FraudLabel, FraudTransaction
from trustdesk.trust.public import Observations, TimeColumnSignal, dimension_mask

__all__ = ["FRAUD_SIGNAL", "VALUES", "FalseDeclineSignal"]

VALUES = {"decline": 5.0, "step_up": 35.0}
WEIGHTS = {"decline": 2.0, "step_up": 1.0}  # a refused payment is felt more than a feedback item
_DIMS = dimension_mask(["ability", "benevolence"])


class FalseDeclineSignal(TimeColumnSignal):
    name = "fraud"
    label = "payments we declined or challenged that were genuine"
    topics: tuple[str, ...] = ()
    time_column = FraudLabel.known_at

    def _query(
        self, after_ref: int, limit: int, conditions: Sequence[ColumnElement[bool]] = ()
    ) -> Select[int, datetime, str, str | None]:
        return (
            select(
                FraudLabel.id,
                FraudLabel.known_at,
                FraudTransaction.customer_ref,
                FraudTransaction.decision,
            )
            .join(FraudTransaction, FraudTransaction.id == FraudLabel.transaction_pk)
            .where(
                FraudLabel.id > after_ref,
                FraudLabel.label == "genuine",
                FraudTransaction.decision.in_(list(VALUES)),
                *conditions,
            )
            .order_by(FraudLabel.id)
            .limit(limit)
        )

    def _read(
        self,
        session: Session,
        after_ref: int,
        batch_size: int,
        conditions: Sequence[ColumnElement[bool]],
    ) -> Iterator[Observations]:
        after = after_ref
        while True:
            batch = session.execute(self._query(after, batch_size, conditions)).all()
            if not batch:
                return
            ids = customers.customer_ids(session, [r[2] for r in batch])
            # Only a known customer has a trust index to lower: a card we cannot tie to one
            # (a walk-in, the demo's simulated cards) says nothing about our customers' trust.
            known = [r for r in batch if r[2] in ids]
            placed = customers.segments(session, [ids[r[2]] for r in known])
            rows = [
                (r, segment, 1.0 / len(names))
                for r in known
                for names in [placed.get(ids[r[2]]) or ("",)]
                for segment in names
            ]
            n = len(rows)
            yield Observations(
                signal=self.name,
                ref=np.array([r[0] for r, _, _ in rows], dtype=np.int64),
                at=np.array([int(r[1].timestamp()) for r, _, _ in rows], dtype=np.int64),
                customer_id=np.array([ids[r[2]] for r, _, _ in rows], dtype=np.int64),
                segment=np.array([segment for _, segment, _ in rows], dtype=object),
                value=np.array([VALUES[str(r[3])] for r, _, _ in rows], dtype=np.float64),
                weight=np.array(
                    [WEIGHTS[str(r[3])] * share for r, _, share in rows], dtype=np.float64
                ),
                dims=np.full(n, _DIMS, dtype=np.int32),
                topics=np.zeros(n, dtype=np.int32),
                negative=np.ones(n, dtype=bool),
                last_ref=int(batch[-1][0]),
            )
            after = int(batch[-1][0])

    def describe(self, session: Session, vault: Vault, refs: Sequence[int]) -> dict[int, str]:
        rows = session.execute(
            select(
                FraudLabel.id,
                FraudTransaction.transaction_id,
                FraudTransaction.decision,
                FraudTransaction.amount,
                FraudTransaction.currency,
            )
            .join(FraudTransaction, FraudTransaction.id == FraudLabel.transaction_pk)
            .where(FraudLabel.id.in_(list(refs)))
        )
        found = {}
        for ref, tx_id, decision, amount, currency in rows:
            what = "declined" if decision == "decline" else "challenged"
            found[ref] = f"payment {tx_id} of {amount} {currency} was {what}, then found genuine"
        return found


FRAUD_SIGNAL = FalseDeclineSignal()
"""Wired to trust's registry by the manifest (`trustdesk.capabilities`)."""
