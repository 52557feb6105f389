"""The only door other capabilities use into feedback: columnar batches and decrypted items.

Batches are plain numpy arrays (no ORM objects) so the trust index can read millions of rows in
bounded memory; items carry decrypted text, for explanations, and are fetched by id.
`forget_customer_feedback` is for erasure: it removes what search derived from a customer's text.
`recent_feedback` is a customer's latest feedback as listed on the feedback pages.
`load_classifier` / `train_default_classifier`: single-label text classification (e.g. routing a
complaint by intent) with a probability per prediction, from a `model train --task classify` dir.
`active_model_figures` / `stored_model_figures`: which model version is in use and the validation
figures saved with it (the trust centre publishes them), read without loading the model.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.crypto import Vault
from trustdesk.errors import InvalidInput
from trustdesk.feedback.analysis import (
    SENTIMENTS,
    TextModel,
    default_analyser,
    load_model,
    predict_best,
)
from trustdesk.feedback.model_meta import META_FILE
from trustdesk.feedback.models import Feedback
from trustdesk.feedback.registry import REGISTRY_TASKS, list_versions
from trustdesk.feedback.schemas import FeedbackOut, FeedbackRecord
from trustdesk.feedback.service import (
    FeedbackFilter,
    count_feedback_before,
    decrypt_texts,
    delete_feedback_before,
    first_pending_id,
    forget_customer_feedback,
    list_feedback,
    store_feedback,
)
from trustdesk.feedback.topics import TOPIC_DIMENSIONS, TOPIC_LABELS, TOPICS, topics_of

__all__ = [
    "TOPICS",
    "TOPIC_DIMENSIONS",
    "TOPIC_LABELS",
    "Classifier",
    "FeedbackBatch",
    "FeedbackItem",
    "FeedbackOut",
    "ModelFigures",
    "OpenAnswer",
    "TextReading",
    "active_model_figures",
    "count_feedback_before",
    "customer_feedback",
    "delete_feedback_before",
    "feedback_items",
    "forget_customer_feedback",
    "iter_feedback_batches",
    "load_classifier",
    "read_texts",
    "recent_feedback",
    "store_open_answers",
    "stored_model_figures",
    "train_default_classifier",
]


@dataclass(frozen=True)
class FeedbackBatch:
    """Columnar feedback, arrays of equal length in ascending id order."""

    id: np.ndarray  # int64
    at: np.ndarray  # int64, epoch seconds UTC
    customer_id: np.ndarray  # int64, -1 when unknown
    segment: np.ndarray  # object (str, "" when unknown)
    source: np.ndarray  # object (str)
    p_negative: np.ndarray  # float32
    p_neutral: np.ndarray  # float32
    p_positive: np.ndarray  # float32
    topics_mask: np.ndarray  # int32 bitmask, bit i = TOPICS[i]
    rating: np.ndarray  # float32 in 0..1, NaN when absent

    def __len__(self) -> int:
        return len(self.id)


@dataclass(frozen=True)
class FeedbackItem:
    id: int
    at: datetime
    source: str
    segment: str | None
    customer_id: int | None
    text: str | None  # None when the data key was destroyed (customer erased)
    sentiment: str
    probabilities: dict[str, float]  # negative, neutral, positive
    topics: tuple[str, ...]
    rating: float | None


_COLUMNS = (
    Feedback.id,
    Feedback.at,
    Feedback.customer_id,
    Feedback.segment,
    Feedback.source,
    Feedback.p_negative,
    Feedback.p_neutral,
    Feedback.p_positive,
    Feedback.topics_mask,
    Feedback.rating,
)


def _batch(rows: Sequence[tuple[object, ...]]) -> FeedbackBatch:
    cols = list(zip(*rows, strict=True))
    ids, at, cid, segment, source, neg, neu, pos, mask, rating = cols
    return FeedbackBatch(
        id=np.fromiter(ids, dtype=np.int64, count=len(rows)),
        at=np.fromiter(
            (int(t.timestamp()) for t in at),
            dtype=np.int64,
            count=len(rows),
        ),
        customer_id=np.array([-1 if c is None else c for c in cid], dtype=np.int64),
        segment=np.array([s or "" for s in segment], dtype=object),
        source=np.array(source, dtype=object),
        p_negative=np.array(neg, dtype=np.float32),
        p_neutral=np.array(neu, dtype=np.float32),
        p_positive=np.array(pos, dtype=np.float32),
        topics_mask=np.array(mask, dtype=np.int32),
        rating=np.array([np.nan if r is None else r for r in rating], dtype=np.float32),
    )


def iter_feedback_batches(
    session: Session,
    *,
    after_id: int = 0,
    batch_size: int = 100_000,
    at_from: datetime | None = None,
    at_to: datetime | None = None,
) -> Iterator[FeedbackBatch]:
    """Analysed feedback with id > after_id, in id order, `batch_size` rows at a time; only
    that written at or after `at_from` and before `at_to` when given.

    Stops before the oldest row still waiting for analysis, so a reader that remembers the last id
    it saw (the trust index's watermark) never skips a row analysed later.
    """
    last = after_id
    pending = first_pending_id(session, after_id=after_id)
    window = [
        *([Feedback.at >= at_from] if at_from is not None else []),
        *([Feedback.at < at_to] if at_to is not None else []),
    ]
    while True:
        query = select(*_COLUMNS).where(
            Feedback.id > last, Feedback.p_negative.is_not(None), *window
        )
        if pending is not None:
            query = query.where(Feedback.id < pending)
        rows = session.execute(query.order_by(Feedback.id).limit(batch_size)).all()
        if not rows:
            return
        yield _batch([tuple(r) for r in rows])
        if len(rows) < batch_size:
            return
        last = int(rows[-1][0])


def recent_feedback(
    session: Session, vault: Vault, customer_id: int, *, limit: int
) -> tuple[list[FeedbackOut], int | None]:
    """The customer's first `limit` feedback items in id order, decrypted, and the cursor of the
    next page (None when there is none)."""
    return list_feedback(session, vault, FeedbackFilter(customer_id=customer_id), limit=limit)


def customer_feedback(session: Session, vault: Vault, customer_id: int) -> list[FeedbackItem]:
    """Everything a customer sent us, decrypted (text None where their key was destroyed)."""
    ids = session.scalars(
        select(Feedback.id).where(Feedback.customer_id == customer_id).order_by(Feedback.id)
    ).all()
    return feedback_items(session, vault, list(ids))


def feedback_items(session: Session, vault: Vault, ids: Sequence[int]) -> list[FeedbackItem]:
    """The given feedback, decrypted, in the order of `ids` (unknown ids are skipped)."""
    wanted = list(dict.fromkeys(int(i) for i in ids))
    rows: dict[int, Feedback] = {}
    for i in range(0, len(wanted), 500):
        for row in session.scalars(select(Feedback).where(Feedback.id.in_(wanted[i : i + 500]))):
            rows[row.id] = row
    ordered = [rows[i] for i in wanted if i in rows]
    texts = decrypt_texts(session, vault, ordered)
    return [
        FeedbackItem(
            id=r.id,
            at=r.at,
            source=r.source,
            segment=r.segment,
            customer_id=r.customer_id,
            text=text,
            sentiment=r.sentiment or "",
            probabilities={
                "negative": float(r.p_negative or 0.0),
                "neutral": float(r.p_neutral or 0.0),
                "positive": float(r.p_positive or 0.0),
            },
            topics=topics_of(r.topics_mask or 0),
            rating=r.rating,
        )
        for r, text in zip(ordered, texts, strict=True)
    ]


class Classifier:
    """A loaded single-label text classifier. Thread-safe for prediction; load once, reuse."""

    def __init__(self, model: TextModel) -> None:
        self._model = model
        self.labels: tuple[str, ...] = model.meta.labels
        self.version: str = model.meta.version
        self.metrics: dict[str, object] = dict(model.meta.metrics or {})

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        """Per text, (label, probability of that label); batch many texts in one call."""
        return predict_best(self._model, texts)


def load_classifier(path: Path) -> Classifier:
    """A model directory written by `trustdesk model train --task classify` (or the sentiment
    task: any single-label model). Raises InvalidInput for anything else."""
    model = load_model(path)
    if model.meta.multilabel:
        raise InvalidInput(f"{path}: a multi-label ({model.meta.task}) model, not a classifier")
    return Classifier(model)


def train_default_classifier(out: Path, *, embeddings: bool = True) -> Classifier:
    """Train the demo's intent classifier from the shipped Banking77 train split into `out`
    (what `trustdesk model train --task classify --out DIR` does) and return it loaded."""
    from trustdesk.feedback.training import save_model, shipped_classify_rows, train_text_model

    texts, labels = shipped_classify_rows()
    trained = train_text_model("classify", texts, labels, embeddings=embeddings)
    save_model(trained, out)
    return Classifier(trained.model)


@dataclass(frozen=True)
class TextReading:
    """What the shipped models read in one text: sentiment, its probabilities, trust topics."""

    sentiment: str  # negative, neutral or positive
    p_negative: float
    p_positive: float
    topics: tuple[str, ...]


def read_texts(texts: Sequence[str]) -> list[TextReading]:
    """Sentiment and trust topics of texts that are not stored as feedback (a survey's open
    answers), with the same shipped models that analyse feedback (loaded once per process)."""
    if not texts:
        return []
    found = default_analyser().analyse(list(texts))
    negative, positive = SENTIMENTS.index("negative"), SENTIMENTS.index("positive")
    return [
        TextReading(
            found.sentiment[i],
            float(found.probabilities[i, negative]),
            float(found.probabilities[i, positive]),
            found.topics(i),
        )
        for i in range(len(texts))
    ]


@dataclass(frozen=True)
class ModelFigures:
    """A model in use: its task, version and the validation figures stored with it."""

    task: str
    version: str
    metrics: dict[str, float]


def _numbers(metrics: dict[str, object]) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items() if isinstance(v, int | float)}


def active_model_figures(data_dir: Path) -> list[ModelFigures]:
    """The active sentiment and topic models under `data_dir` (the shipped ones unless a
    retrained version was activated), with their validation figures."""
    return [
        ModelFigures(v.task, v.version, _numbers(v.metrics))
        for task in REGISTRY_TASKS
        for v in list_versions(data_dir, task)
        if v.active
    ]


def stored_model_figures(path: Path, task: str) -> ModelFigures | None:
    """The figures saved with a trained model directory (e.g. the intent model), None if absent."""
    meta = path / META_FILE
    if not meta.is_file():
        return None
    document = json.loads(meta.read_text(encoding="utf-8"))
    metrics = document.get("metrics") or {}
    return ModelFigures(task, str(document.get("version") or path.name), _numbers(metrics))


@dataclass(frozen=True)
class OpenAnswer:
    """A customer's written answer to another capability's question (a survey's "why")."""

    external_id: str  # unique within the source: what makes storing it again a no-op
    at: datetime
    text: str
    customer: str | None  # the customer's external id; None: anonymous (the source's own key)


def store_open_answers(
    session: Session,
    vault: Vault,
    data_dir: Path | None,
    answers: Sequence[OpenAnswer],
    *,
    source: str,
    channel: str,
    actor: str,
) -> int:
    """Store written answers as feedback items (encrypted, analysed now with the active models,
    so they show in the feedback explorer with sentiment and topics at once); an answer already
    stored under the same source and external id is left as it is. Returns how many are new.
    `data_dir`: where activated models are (None: the shipped ones)."""
    if not answers:
        return 0
    records = [
        FeedbackRecord(
            source=source, external_id=a.external_id[:128], at=a.at, text=a.text,
            channel=channel, language="en", customer=a.customer,
        )
        for a in answers
    ]  # fmt: skip
    return store_feedback(session, vault, records, default_analyser(data_dir), actor=actor).created
