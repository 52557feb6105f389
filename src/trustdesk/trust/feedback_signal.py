"""The first signal: customer feedback, read through `trustdesk.feedback.public`.

Per item, expressed trust e = 50 + 50·(p_positive - p_negative) from the sentiment model, and
stated trust s = 100·rating when the item carries a rating. The item's trust is
0.6·s + 0.4·e when rated (an explicit rating is the customer's own verdict; the text's tone
refines it), else e. The item speaks to the dimensions of its topics.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from sqlalchemy.orm import Session

from trustdesk.crypto import Vault
from trustdesk.feedback.public import (
    TOPIC_DIMENSIONS,
    TOPICS,
    FeedbackBatch,
    feedback_items,
    iter_feedback_batches,
)
from trustdesk.trust.signals import DIMENSIONS, Observations, utc_of

__all__ = ["FEEDBACK_SIGNAL", "STATED_SHARE", "FeedbackSignal", "feedback_observations"]

STATED_SHARE = 0.6
"""Share of the stated (rating) part in a rated item's trust; the rest is expressed trust."""


def _dimension_table(topics: Sequence[str], dimension_of: dict[str, str]) -> np.ndarray:
    """dims mask for every possible topics mask (6 topics: 64 entries)."""
    table = np.zeros(1 << len(topics), dtype=np.int32)
    for mask in range(len(table)):
        for bit, topic in enumerate(topics):
            if mask & (1 << bit):
                table[mask] |= 1 << DIMENSIONS.index(dimension_of[topic])
    return table


def feedback_observations(batch: FeedbackBatch) -> Observations:
    """Observations of one feedback batch (pure: a function of the batch alone)."""
    expressed = 50.0 + 50.0 * (
        batch.p_positive.astype(np.float64) - batch.p_negative.astype(np.float64)
    )
    rating = batch.rating.astype(np.float64)
    rated = ~np.isnan(rating)
    value = np.where(
        rated,
        STATED_SHARE * 100.0 * np.nan_to_num(rating) + (1 - STATED_SHARE) * expressed,
        expressed,
    )
    table = _dimension_table(TOPICS, dict(TOPIC_DIMENSIONS))
    topics = batch.topics_mask.astype(np.int32) & (len(table) - 1)
    negative = batch.p_negative >= np.maximum(batch.p_neutral, batch.p_positive)
    ids = batch.id.astype(np.int64)
    return Observations(
        signal=FEEDBACK_SIGNAL.name,
        ref=ids,
        at=batch.at.astype(np.int64),
        customer_id=batch.customer_id.astype(np.int64),
        segment=batch.segment,
        value=np.clip(value, 0.0, 100.0),
        weight=np.ones(len(ids)),
        dims=table[topics],
        topics=topics,
        negative=negative,
        last_ref=int(ids[-1]) if len(ids) else 0,
    )


class FeedbackSignal:
    name = "feedback"
    label = "customer feedback (ratings and the tone of what customers write)"
    topics: tuple[str, ...] = TOPICS

    def read(self, session: Session, *, after_ref: int, batch_size: int) -> Iterator[Observations]:
        for batch in iter_feedback_batches(session, after_id=after_ref, batch_size=batch_size):
            yield feedback_observations(batch)

    def read_between(
        self, session: Session, *, start: int, end: int, batch_size: int
    ) -> Iterator[Observations]:
        for batch in iter_feedback_batches(
            session, batch_size=batch_size, at_from=utc_of(start), at_to=utc_of(end)
        ):
            yield feedback_observations(batch)

    def describe(self, session: Session, vault: Vault, refs: Sequence[int]) -> dict[int, str]:
        items = feedback_items(session, vault, list(refs))
        return {item.id: item.text or "(erased)" for item in items}


FEEDBACK_SIGNAL = FeedbackSignal()
