"""The classify task: one label per text (an intent, a category), with a calibrated probability.

Two linear models vote: a LinearSVC over word 1-2 gram and character 2-5 gram TF-IDF, and a
LinearSVC over the shipped sentence encoder's embeddings (`encoder.py`; left out with
`embeddings=False` or when the encoder is not installed). Each model's class scores are
standardised per text and added, the embedding side weighted by `EMBEDDING_WEIGHT` (chosen by
5-fold cross-validation on Banking77 train, see docs/classify.md). A softmax with one temperature,
fitted on the validation fifth, turns the summed scores into probabilities. The figures come from
the validation fifth; the saved model is then refitted on every row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from trustdesk.errors import ConfigurationError, InvalidInput
from trustdesk.feedback.encoder import ENCODER_NAME
from trustdesk.feedback.model_meta import ModelMeta

if TYPE_CHECKING:
    from trustdesk.feedback.encoder import TextEncoder

__all__ = [
    "CLASSIFY_KIND",
    "EMBEDDING_WEIGHT",
    "StackedClassifier",
    "fit_classifier",
    "fit_parts",
    "validate_classify_labels",
]

CLASSIFY_KIND = "stacked"
EMBEDDING_WEIGHT = 1.5
_TEMPERATURES = np.geomspace(0.3, 30.0, 41)


def _tfidf_svc(c: float = 0.5) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import Pipeline, make_union
    from sklearn.svm import LinearSVC

    features = make_union(
        TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True, dtype=np.float32),
        TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), min_df=3, sublinear_tf=True, dtype=np.float32
        ),
    )
    return Pipeline([("features", features), ("classifier", LinearSVC(C=c))])


def _embedding_svc() -> Any:
    from sklearn.svm import LinearSVC

    return LinearSVC(C=2.0)


def _standardise(scores: np.ndarray) -> np.ndarray:
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim == 1:  # two classes: scikit-learn gives one column, the second class's score
        scores = np.column_stack([-scores, scores])
    spread = scores.std(axis=1, keepdims=True)
    return np.asarray(
        (scores - scores.mean(axis=1, keepdims=True)) / np.where(spread > 0, spread, 1.0)
    )


def _softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = scores * temperature
    z = z - z.max(axis=1, keepdims=True)
    weights = np.exp(z)
    return np.asarray(weights / weights.sum(axis=1, keepdims=True), dtype=np.float32)


def _encode(texts: Sequence[str], encoder: TextEncoder | None = None) -> np.ndarray:
    from trustdesk.feedback.encoder import default_encoder

    return (encoder or default_encoder()).encode(texts)


class StackedClassifier:
    """TF-IDF and (optionally) embedding LinearSVCs whose standardised scores are summed."""

    def __init__(
        self,
        meta: ModelMeta,
        tfidf: Any,
        embedding: Any | None,
        *,
        weight: float = EMBEDDING_WEIGHT,
        temperature: float = 1.0,
        encoder: TextEncoder | None = None,
    ) -> None:
        self.meta = meta
        self.tfidf = tfidf
        self.embedding = embedding
        self.weight = weight
        self.temperature = temperature
        self.encoder = encoder  # None: the shipped one (benchmarks pass another)

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        total = _standardise(self.tfidf.decision_function(list(texts)))
        if self.embedding is not None:
            vectors = _encode(texts, self.encoder)
            total += self.weight * _standardise(self.embedding.decision_function(vectors))
        return total

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, len(self.meta.labels)), dtype=np.float32)
        return _softmax(self.scores(texts), self.temperature)

    def state(self) -> dict[str, Any]:
        """What `save` writes next to meta.json (and `from_state` reads back)."""
        return {
            "tfidf": self.tfidf,
            "embedding": self.embedding,
            "weight": self.weight,
            "temperature": self.temperature,
            "encoder": ENCODER_NAME if self.embedding is not None else None,
        }

    @classmethod
    def from_state(cls, meta: ModelMeta, state: dict[str, Any]) -> StackedClassifier:
        encoder = state.get("encoder")
        if state.get("embedding") is not None and encoder != ENCODER_NAME:
            raise ConfigurationError(
                f"this model needs the sentence encoder {encoder!r}; "
                f"this installation has {ENCODER_NAME!r} (retrain the model)"
            )
        return cls(
            meta,
            state["tfidf"],
            state.get("embedding"),
            weight=float(state.get("weight", EMBEDDING_WEIGHT)),
            temperature=float(state.get("temperature", 1.0)),
        )


def validate_classify_labels(labels: Sequence[str]) -> tuple[str, ...]:
    """The distinct labels, or a clear error when there is nothing to tell apart."""
    counts = Counter(labels)
    if len(counts) < 2:
        only = next(iter(counts), "")
        raise InvalidInput(
            f"classify training needs at least two distinct labels (every row is {only!r})"
            if counts
            else "classify training needs labelled rows"
        )
    return tuple(sorted(counts))


def fit_parts(
    texts: list[str], y: np.ndarray, vectors: np.ndarray | None
) -> tuple[Any, Any | None]:
    tfidf = _tfidf_svc().fit(texts, y)
    embedding = _embedding_svc().fit(vectors, y) if vectors is not None else None
    return tfidf, embedding


def _temperature(scores: np.ndarray, gold: np.ndarray) -> float:
    """The softmax temperature with the lowest log-loss on held-out rows."""
    losses = []
    for t in _TEMPERATURES:
        p = _softmax(scores, float(t))
        losses.append(-np.log(np.maximum(p[np.arange(len(gold)), gold], 1e-9)).mean())
    return float(_TEMPERATURES[int(np.argmin(losses))])


@dataclass(frozen=True)
class FittedClassifier:
    model: StackedClassifier
    metrics: dict[str, Any]


def fit_classifier(
    meta: ModelMeta,
    texts: Sequence[str],
    labels: Sequence[str],
    val: np.ndarray,
    *,
    embeddings: bool,
) -> FittedClassifier:
    """Figures and temperature from the validation rows, then the model refitted on all rows."""
    from sklearn.metrics import accuracy_score, f1_score

    classes = meta.labels
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[label] for label in labels], dtype=np.int64)
    texts = list(texts)
    vectors = _encode(texts) if embeddings else None
    temperature = 1.0
    metrics: dict[str, Any] = {}
    train = ~val
    if val.any() and len(set(y[train].tolist())) == len(classes):
        train_texts = [t for t, v in zip(texts, val, strict=True) if not v]
        val_texts = [t for t, v in zip(texts, val, strict=True) if v]
        tfidf, embedding = fit_parts(
            train_texts, y[train], vectors[train] if vectors is not None else None
        )
        tfidf_scores = _standardise(tfidf.decision_function(val_texts))
        scores = tfidf_scores.copy()
        if embedding is not None and vectors is not None:
            scores += EMBEDDING_WEIGHT * _standardise(embedding.decision_function(vectors[val]))
        temperature = _temperature(scores, y[val])
        predicted = scores.argmax(axis=1)
        metrics = {
            "accuracy": round(float(accuracy_score(y[val], predicted)), 4),
            "macro_f1": round(float(f1_score(y[val], predicted, average="macro")), 4),
        }
        if embedding is not None:
            metrics["tfidf_only_accuracy"] = round(
                float(accuracy_score(y[val], tfidf_scores.argmax(axis=1))), 4
            )
    tfidf, embedding = fit_parts(texts, y, vectors)
    model = StackedClassifier(meta, tfidf, embedding, temperature=temperature)
    return FittedClassifier(model, metrics)
