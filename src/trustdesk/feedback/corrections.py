"""Staff corrections of a feedback item's sentiment and topics, and the labelled examples they
make for training (`trustdesk model train --include-corrections`).

A correction never rewrites the model's analysis on the item (the trust index keeps reading the
model's figures until a model trained with the corrections re-analyses); it is stored beside it,
shown on the pages, and audited (labels only, never text).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk import audit
from trustdesk.crypto import Vault
from trustdesk.db import utcnow
from trustdesk.errors import InvalidInput, NotFound
from trustdesk.feedback.models import Feedback, FeedbackCorrection
from trustdesk.feedback.service import decrypt_texts
from trustdesk.feedback.topics import TOPICS, topics_of

__all__ = [
    "SENTIMENTS",
    "Correction",
    "LabelledExamples",
    "correct_feedback",
    "correction_examples",
    "corrections_of",
]

SENTIMENTS = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class Correction:
    feedback_id: int
    sentiment: str | None
    topics: tuple[str, ...] | None
    corrected_by: str
    corrected_at: datetime


@dataclass(frozen=True)
class LabelledExamples:
    texts: list[str]
    labels: list[str]
    keys: list[str]  # decide the validation fifth: "correction:<feedback id>"


def _mask(topics: Iterable[str]) -> int:
    mask = 0
    for topic in topics:
        if topic not in TOPICS:
            raise InvalidInput(f"unknown topic {topic!r}; topics: {', '.join(TOPICS)}")
        mask |= 1 << TOPICS.index(topic)
    return mask


def _out(row: FeedbackCorrection) -> Correction:
    topics = tuple(topics_of(row.topics_mask)) if row.topics_mask is not None else None
    return Correction(row.feedback_id, row.sentiment, topics, row.corrected_by, row.corrected_at)


def correct_feedback(
    session: Session,
    feedback_id: int,
    *,
    sentiment: str | None,
    topics: Sequence[str] | None,
    actor: str,
) -> Correction:
    """Record the right sentiment and/or topics of an item (None: that part is not corrected;
    an empty topic list says the item speaks to no topic). Audited. Does not commit."""
    if sentiment is not None and sentiment not in SENTIMENTS:
        raise InvalidInput(f"sentiment must be one of {', '.join(SENTIMENTS)}")
    if sentiment is None and topics is None:
        raise InvalidInput("a correction needs a sentiment or topics")
    item = session.get(Feedback, feedback_id)
    if item is None:
        raise NotFound(f"no feedback with id {feedback_id}")
    mask = _mask(topics) if topics is not None else None
    row = session.get(FeedbackCorrection, feedback_id, with_for_update=True)
    if row is None:
        row = FeedbackCorrection(feedback_id=feedback_id, corrected_by=actor, corrected_at=utcnow())
        session.add(row)
    before_sentiment, before_mask = row.sentiment, row.topics_mask
    row.sentiment = sentiment if sentiment is not None else row.sentiment
    row.topics_mask = mask if mask is not None else row.topics_mask
    row.corrected_by, row.corrected_at = actor, utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="feedback.corrected",
        entity_type="feedback",
        entity_id=feedback_id,
        changes={
            "model": {
                "sentiment": item.sentiment,
                "topics": list(topics_of(item.topics_mask or 0)),
            },
            "before": {
                "sentiment": before_sentiment,
                "topics": list(topics_of(before_mask)) if before_mask is not None else None,
            },
            "sentiment": row.sentiment,
            "topics": list(topics_of(row.topics_mask)) if row.topics_mask is not None else None,
        },
    )
    return _out(row)


def corrections_of(session: Session, feedback_ids: Iterable[int]) -> dict[int, Correction]:
    ids = list(set(feedback_ids))
    if not ids:
        return {}
    rows = session.scalars(
        select(FeedbackCorrection).where(FeedbackCorrection.feedback_id.in_(ids))
    )
    return {r.feedback_id: _out(r) for r in rows}


def correction_examples(session: Session, vault: Vault, task: str) -> LabelledExamples:
    """Every correction for `task` ("sentiment" or "topic") as (text, label) pairs, oldest first.

    Topic labels are `;`-joined names (empty: no topic), as `model train` reads them. Items whose
    text was erased (their customer's key destroyed) are left out.
    """
    column = FeedbackCorrection.sentiment if task == "sentiment" else FeedbackCorrection.topics_mask
    if task not in ("sentiment", "topic"):
        raise InvalidInput("task must be sentiment or topic")
    rows = session.execute(
        select(
            Feedback.id,
            Feedback.source,
            Feedback.customer_id,
            Feedback.text_enc,
            FeedbackCorrection.sentiment,
            FeedbackCorrection.topics_mask,
        )
        .join(FeedbackCorrection, FeedbackCorrection.feedback_id == Feedback.id)
        .where(column.is_not(None))
        .order_by(FeedbackCorrection.corrected_at, Feedback.id)
    ).all()
    examples = LabelledExamples([], [], [])
    for row, text in zip(rows, decrypt_texts(session, vault, rows), strict=True):
        if text is None:
            continue
        examples.texts.append(text)
        if task == "sentiment":
            examples.labels.append(str(row.sentiment))
        else:
            examples.labels.append(";".join(topics_of(int(row.topics_mask))))
        examples.keys.append(f"correction:{row.id}")
    return examples
