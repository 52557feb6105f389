"""Feedback rows. The text is ciphertext, under the linked customer's data key or its source's."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from trustdesk.db import Base, UTCDateTime

__all__ = [
    "TERM_BUCKET_BITS",
    "Feedback",
    "FeedbackCorrection",
    "FeedbackSourceKey",
    "FeedbackTerm",
]


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_feedback_source_external_id"),
        Index("ix_feedback_segment_at", "segment", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64), nullable=False)
    external_id: Mapped[str] = mapped_column(String(128), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    channel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    language: Mapped[str] = mapped_column(String(8), nullable=False)
    segment: Mapped[str | None] = mapped_column(
        String(64), nullable=True
    )  # see ix_feedback_segment_at
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), nullable=True, index=True
    )
    rating: Mapped[float | None] = mapped_column(Float, nullable=True)
    rating_raw: Mapped[float | None] = mapped_column(Float, nullable=True)
    rating_scale: Mapped[str | None] = mapped_column(String(16), nullable=True)
    text_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    text_length: Mapped[int] = mapped_column(Integer, nullable=False)
    sentiment: Mapped[str | None] = mapped_column(String(8), nullable=True)
    p_negative: Mapped[float | None] = mapped_column(Float, nullable=True)
    p_neutral: Mapped[float | None] = mapped_column(Float, nullable=True)
    p_positive: Mapped[float | None] = mapped_column(Float, nullable=True)
    topics_mask: Mapped[int | None] = mapped_column(Integer, nullable=True)
    model_version: Mapped[str | None] = mapped_column(String(160), nullable=True)


class FeedbackSourceKey(Base):
    """The vault subject whose data key encrypts a source's feedback that names no customer."""

    __tablename__ = "feedback_source_keys"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class FeedbackTerm(Base):
    """One posting of the blind search index: this feedback's text contains the term.

    `term_hash` is the vault's keyed hash of a normalised word (see `terms.py`), never the word.
    Postings are partitioned by `bucket` (the feedback id >> TERM_BUCKET_BITS) and keyed
    (bucket, term_hash, feedback_id): an import writes into the newest bucket only, so its cost
    does not grow with the table, and a search reads each bucket's range of a term in id order
    without sorting. On SQLite the table is WITHOUT ROWID (the key is the row). The feedback_id
    index serves erasure, re-indexing and the cascade from feedback.
    """

    __tablename__ = "feedback_terms"
    __table_args__ = (
        Index("ix_feedback_terms_feedback_id", "feedback_id"),
        {"sqlite_with_rowid": False},
    )

    bucket: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    term_hash: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    feedback_id: Mapped[int] = mapped_column(
        ForeignKey("feedback.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )


TERM_BUCKET_BITS = 14  # 16,384 feedback rows (~200,000 postings, a few MB) per bucket


class FeedbackCorrection(Base):
    """A staff member's correction of one item's sentiment and/or topics: a labelled example.

    One row per item, holding its latest correction (the audit trail keeps every earlier one).
    `sentiment` or `topics_mask` is None when that part was not corrected. The model's own
    analysis stays on the feedback row; `model train --include-corrections` learns from these.
    """

    __tablename__ = "feedback_corrections"

    feedback_id: Mapped[int] = mapped_column(
        ForeignKey("feedback.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    sentiment: Mapped[str | None] = mapped_column(String(8), nullable=True)
    topics_mask: Mapped[int | None] = mapped_column(Integer, nullable=True)
    corrected_by: Mapped[str] = mapped_column(String(120), nullable=False)
    corrected_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
