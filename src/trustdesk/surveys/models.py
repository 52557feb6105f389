"""Survey rows: a survey and its items (copied from the bank, so a survey keeps the wording it
was sent with), and one response row per respondent with their answers and, precomputed at
import, their score 0..100 on each trust dimension (what the trust signal and the gap read).

A customer's open answer is ciphertext under the customer's data key (erasing the customer
shreds it); a leader's under a key of the survey's own."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from trustdesk.db import Base, UTCDateTime

__all__ = ["Survey", "SurveyInvitation", "SurveyItem", "SurveyResponse"]


class Survey(Base):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    template: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # draft, open, closed
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    key_subject: Mapped[str] = mapped_column(String(36), nullable=False)  # leaders' open answers
    # The anonymous public link's secret part (None until one is made).
    public_token: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    quiet_hours: Mapped[str] = mapped_column(String(11), nullable=False, default="21:00-08:00")
    reminder_after_h: Mapped[int] = mapped_column(Integer, nullable=False, default=72)
    link_days: Mapped[int] = mapped_column(Integer, nullable=False, default=14)
    created_by: Mapped[str] = mapped_column(String(120), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class SurveyItem(Base):
    __tablename__ = "survey_items"
    __table_args__ = (
        UniqueConstraint(
            "survey_id", "version", "item_key", name="uq_survey_items_survey_id_version_item_key"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(
        ForeignKey("surveys.id", ondelete="CASCADE"), nullable=False
    )
    # The survey's version this item belongs to: editing a sent survey copies its items into a
    # new version, so answers keep the wording they answered.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    item_key: Mapped[str] = mapped_column(String(64), nullable=False)  # the id users see
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # scale, single, multi, text
    dimension: Mapped[str | None] = mapped_column(String(32), nullable=True)
    min_value: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_value: Mapped[int | None] = mapped_column(Integer, nullable=True)
    labels: Mapped[str] = mapped_column(Text, nullable=False, default="[]")  # JSON list
    text: Mapped[str] = mapped_column(Text, nullable=False)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    # Branching: JSON {"item": id, "in": [answers]}: asked only when that earlier item's answer
    # is in the set (for a multiple choice: any option chosen in it). None: always asked.
    show_if: Mapped[str | None] = mapped_column(Text, nullable=True)


class SurveyResponse(Base):
    """One respondent's answers to one survey (a customer, or a leader predicting customers)."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        UniqueConstraint(
            "survey_id", "respondent", "respondent_key", name="uq_survey_responses_respondent"
        ),
        Index("ix_survey_responses_survey_id_respondent", "survey_id", "respondent"),
        # the trust signal's windowed read (`read_between`)
        Index("ix_survey_responses_submitted_at", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(
        ForeignKey("surveys.id", ondelete="CASCADE"), nullable=False
    )
    respondent: Mapped[str] = mapped_column(String(16), nullable=False)  # customer, leader
    # A customer's external id, or a leader's key: what makes a re-import idempotent.
    respondent_key: Mapped[str] = mapped_column(String(160), nullable=False)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), nullable=True, index=True
    )
    answers: Mapped[str] = mapped_column(Text, nullable=False)  # JSON {item id: number}
    ability: Mapped[float | None] = mapped_column(Float, nullable=True)
    integrity: Mapped[float | None] = mapped_column(Float, nullable=True)
    benevolence: Mapped[float | None] = mapped_column(Float, nullable=True)
    data_care: Mapped[float | None] = mapped_column(Float, nullable=True)
    overall: Mapped[float | None] = mapped_column(Float, nullable=True)
    open_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)  # import, link, public
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class SurveyInvitation(Base):
    """A customer invited by a signed, expiring, single-use link (emailed through the outbox)."""

    __tablename__ = "survey_invitations"
    __table_args__ = (
        UniqueConstraint("survey_id", "customer_id", name="uq_survey_invitations_customer"),
        Index("ix_survey_invitations_survey_id_sent_at", "survey_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(
        ForeignKey("surveys.id", ondelete="CASCADE"), nullable=False
    )
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), nullable=True
    )
    nonce: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reminders: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    draft: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON, save-and-resume
    draft_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # open answers
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    response_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="SET NULL"), nullable=True
    )
