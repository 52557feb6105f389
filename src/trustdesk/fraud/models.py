"""Fraud rows: transactions with their stored decision, late labels, model and rule-set versions.

Transactions carry ids, never names or contact details: `customer_ref` is the business's external
customer (card) id; it is linked to a known customer through the customers facade when needed (the
trust signal, the case page), never with a lookup on the scoring path.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from trustdesk.db import Base, UTCDateTime

__all__ = ["FraudLabel", "FraudModelVersion", "FraudRuleSet", "FraudStepUp", "FraudTransaction"]


class FraudTransaction(Base):
    __tablename__ = "fraud_transactions"
    __table_args__ = (
        Index("ix_fraud_transactions_decision_at", "decision", "at"),
        Index("ix_fraud_transactions_customer_ref_at", "customer_ref", "at"),
        Index("ix_fraud_transactions_terminal_id_at", "terminal_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transaction_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    customer_ref: Mapped[str] = mapped_column(String(64), nullable=False)
    terminal_id: Mapped[str] = mapped_column(String(64), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    device_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    decision: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reasons: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON list of words
    rules_fired: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON list of names
    model_version: Mapped[str | None] = mapped_column(String(40), nullable=True)
    rules_version: Mapped[int | None] = mapped_column(Integer, nullable=True)


class FraudLabel(Base):
    """An outcome learnt after the decision: fraud, chargeback or genuine, and when it was known.

    One label per transaction and source. A source that changes its mind replaces its label with a
    new row (a new id): the scorer's catch-up and the trust signal read labels by increasing id, so
    a correction reaches them like a new label. Ids are never reused, on SQLite too
    (AUTOINCREMENT), or a correction of the newest label would come back under the id it replaced.
    """

    __tablename__ = "fraud_labels"
    __table_args__ = (
        UniqueConstraint("transaction_pk", "source", name="uq_fraud_labels_transaction_source"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transaction_pk: Mapped[int] = mapped_column(
        ForeignKey("fraud_transactions.id", ondelete="CASCADE"), nullable=False
    )
    label: Mapped[str] = mapped_column(String(16), nullable=False)
    known_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    source: Mapped[str] = mapped_column(String(32), nullable=False)
    actor: Mapped[str] = mapped_column(String(120), nullable=False)


class FraudStepUp(Base):
    """What became of a payment's second-factor challenge (the payment was decided `step_up`),
    as the payment system reported it: passed, failed or abandoned. One per payment."""

    __tablename__ = "fraud_step_ups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transaction_pk: Mapped[int] = mapped_column(
        ForeignKey("fraud_transactions.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)  # when the customer finished
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(120), nullable=False)


class FraudModelVersion(Base):
    __tablename__ = "fraud_model_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    path: Mapped[str] = mapped_column(String(500), nullable=False)
    metrics: Mapped[str] = mapped_column(Text, nullable=False)  # JSON, as in metrics.json
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    actor: Mapped[str] = mapped_column(String(120), nullable=False)


class FraudRuleSet(Base):
    __tablename__ = "fraud_rule_sets"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)  # the YAML as loaded
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    actor: Mapped[str] = mapped_column(String(120), nullable=False)
