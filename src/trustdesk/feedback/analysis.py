"""Offline text models: sentiment and trust topics, loaded from a model directory.

A model directory holds `meta.json` (kind, task, labels, metrics, version) and the model itself.
The kind says how to load it: `sklearn` is a joblib'd scikit-learn pipeline; other kinds (an ONNX
transformer with its tokenizer, say) plug in through `_LOADERS` without touching the callers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from trustdesk.errors import ConfigurationError, InvalidInput
from trustdesk.feedback.model_meta import META_FILE, ModelMeta
from trustdesk.feedback.topics import TOPICS, masks_from_matrix

__all__ = [
    "SENTIMENTS",
    "Analyser",
    "EnsembleTextModel",
    "ModelMeta",
    "TextAnalysis",
    "TextModel",
    "default_analyser",
    "default_model_dir",
    "load_model",
    "predict_best",
    "predict_labels",
]

SENTIMENTS: tuple[str, ...] = ("negative", "neutral", "positive")
SKLEARN_FILE = "model.joblib"


class TextModel(Protocol):
    """What every model kind offers: probabilities per label, in `meta.labels` order."""

    meta: ModelMeta

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...


class SklearnTextModel:
    """A fitted scikit-learn pipeline whose `predict_proba` columns follow `meta.labels`."""

    def __init__(self, meta: ModelMeta, pipeline: Any) -> None:
        self.meta = meta
        self.pipeline = pipeline

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, len(self.meta.labels)), dtype=np.float32)
        return np.asarray(self.pipeline.predict_proba(list(texts)), dtype=np.float32)


def _load_sklearn(directory: Path, meta: ModelMeta) -> TextModel:
    import joblib

    path = directory / SKLEARN_FILE
    if not path.is_file():
        raise InvalidInput(f"{directory}: model directory lacks {SKLEARN_FILE}")
    return SklearnTextModel(meta, joblib.load(path))


def _load_onnx(directory: Path, meta: ModelMeta) -> TextModel:
    from trustdesk.feedback.transformer import load_onnx

    return load_onnx(directory, meta)


def _load_stacked(directory: Path, meta: ModelMeta) -> TextModel:
    import joblib

    from trustdesk.feedback.classify import StackedClassifier

    return StackedClassifier.from_state(meta, joblib.load(directory / SKLEARN_FILE))


class EnsembleTextModel:
    """Members' probabilities pooled log-linearly: p ∝ Π p_i^w_i (a product of experts).

    The members run at once on threads (the ONNX one releases the GIL while it computes)."""

    def __init__(
        self, meta: ModelMeta, members: Sequence[TextModel], weights: Sequence[float]
    ) -> None:
        self.meta = meta
        self.members = list(members)
        self.weights = [float(w) for w in weights]
        self._columns = [[m.meta.labels.index(label) for label in meta.labels] for m in members]

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, len(self.meta.labels)), dtype=np.float32)
        with ThreadPoolExecutor(len(self.members)) as pool:
            outputs = list(pool.map(lambda m: m.predict_proba(texts), self.members))
        log_p = np.zeros((len(texts), len(self.meta.labels)), dtype=np.float64)
        for probs, columns, weight in zip(outputs, self._columns, self.weights, strict=True):
            log_p += weight * np.log(np.clip(probs[:, columns], 1e-7, 1.0))
        log_p -= log_p.max(axis=1, keepdims=True)
        pooled = np.exp(log_p)
        return np.asarray(pooled / pooled.sum(axis=1, keepdims=True), dtype=np.float32)


def _member_dir(directory: Path, path: str) -> Path:
    """`package:NAME` is a shipped default model; anything else is relative to the ensemble."""
    if path.startswith("package:"):
        return Path(str(files("trustdesk.feedback") / "default_models" / path[len("package:") :]))
    return (directory / path).resolve()


def _load_ensemble(directory: Path, meta: ModelMeta) -> TextModel:
    """`meta.json` lists `members` ({"path": relative to this directory, "weight": w})."""
    extra = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
    try:
        specs = [(str(m["path"]), float(m["weight"])) for m in extra["members"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"{directory}: an ensemble needs members with path and weight") from exc
    if not specs:
        raise InvalidInput(f"{directory}: an ensemble needs at least one member")
    members = [load_model(_member_dir(directory, path)) for path, _ in specs]
    for member in members:
        missing = [label for label in meta.labels if label not in member.meta.labels]
        if member.meta.task != meta.task or missing:
            raise InvalidInput(
                f"{directory}: member {member.meta.version} does not fit the ensemble "
                f"(task {member.meta.task!r}, labels {', '.join(member.meta.labels)})"
            )
    return EnsembleTextModel(meta, members, [w for _, w in specs])


_LOADERS: dict[str, Callable[[Path, ModelMeta], TextModel]] = {
    "sklearn": _load_sklearn,
    "onnx": _load_onnx,
    "stacked": _load_stacked,
    "ensemble": _load_ensemble,
}


def load_model(directory: Path) -> TextModel:
    """Load a model directory written by `trustdesk model train` (or shipped in the package)."""
    meta_path = directory / META_FILE
    if not meta_path.is_file():
        raise InvalidInput(f"{directory}: not a model directory (no {META_FILE})")
    try:
        meta = ModelMeta.from_json(json.loads(meta_path.read_text(encoding="utf-8")))
    except (KeyError, ValueError, TypeError) as exc:
        raise InvalidInput(f"{meta_path}: unreadable model description ({exc})") from exc
    loader = _LOADERS.get(meta.kind)
    if loader is None:
        raise ConfigurationError(
            f"{directory}: model kind {meta.kind!r} is not supported by this installation "
            f"(supported: {', '.join(sorted(_LOADERS))})"
        )
    return loader(directory, meta)


def predict_labels(model: TextModel, texts: Sequence[str]) -> list[str]:
    """Best label per text; for multi-label models every label over its threshold, `;`-joined."""
    probs = model.predict_proba(texts)
    labels = model.meta.labels
    if model.meta.multilabel:
        limits = np.asarray(model.meta.thresholds or [0.5] * len(labels), dtype=np.float32)
        flags = probs >= limits
        return [";".join(labels[j] for j in np.flatnonzero(row)) for row in flags]
    return [labels[j] for j in probs.argmax(axis=1)]


def predict_best(model: TextModel, texts: Sequence[str]) -> list[tuple[str, float]]:
    """Per text, the most probable label and its probability (single-label models)."""
    probs = model.predict_proba(texts)
    if not len(texts):
        return []
    best = probs.argmax(axis=1)
    labels = model.meta.labels
    return [(labels[j], float(probs[i, j])) for i, j in enumerate(best)]


@dataclass(frozen=True)
class TextAnalysis:
    """Per text: sentiment label, its probabilities (float32, SENTIMENTS order), topic mask."""

    sentiment: list[str]
    probabilities: np.ndarray
    topics_mask: np.ndarray
    version: str

    def topics(self, i: int) -> tuple[str, ...]:
        mask = int(self.topics_mask[i])
        return tuple(t for bit, t in enumerate(TOPICS) if mask & (1 << bit))


class Analyser:
    """Sentiment and trust topics of many texts at once (vectorised; one call per batch)."""

    def __init__(self, sentiment: TextModel, topics: TextModel) -> None:
        if sentiment.meta.task != "sentiment":
            raise InvalidInput(f"model for sentiment has task {sentiment.meta.task!r}")
        if topics.meta.task != "topic":
            raise InvalidInput(f"model for topics has task {topics.meta.task!r}")
        labels = sentiment.meta.labels
        if "negative" not in labels or "positive" not in labels:
            raise InvalidInput(
                "a sentiment model needs the labels 'negative' and 'positive' "
                f"(this one has {', '.join(labels)})"
            )
        unknown = [t for t in topics.meta.labels if t not in TOPICS]
        if unknown:
            raise InvalidInput(
                f"topic model labels {', '.join(unknown)} are not trust topics "
                f"({', '.join(TOPICS)}); use `model predict` for other label sets"
            )
        self.sentiment_model = sentiment
        self.topic_model = topics
        self._columns = [labels.index(s) if s in labels else -1 for s in SENTIMENTS]
        self._topic_bits = np.array([TOPICS.index(t) for t in topics.meta.labels], dtype=np.int64)
        thresholds = topics.meta.thresholds or (0.5,) * len(topics.meta.labels)
        self._thresholds = np.asarray(thresholds, dtype=np.float32)
        self.version = f"sentiment:{sentiment.meta.version};topic:{topics.meta.version}"

    def with_model(self, model: TextModel) -> Analyser:
        """This analyser with one model replaced, chosen by the model's task."""
        if model.meta.task == "sentiment":
            return Analyser(model, self.topic_model)
        if model.meta.task == "topic":
            return Analyser(self.sentiment_model, model)
        raise InvalidInput(f"model task {model.meta.task!r} is neither sentiment nor topic")

    def analyse(self, texts: Sequence[str]) -> TextAnalysis:
        with ThreadPoolExecutor(1) as pool:  # topics beside sentiment: both cores busy
            topics_done = pool.submit(self.topic_model.predict_proba, texts)
            raw = self.sentiment_model.predict_proba(texts)
            topic_probs = topics_done.result()
        probs = np.zeros((len(texts), len(SENTIMENTS)), dtype=np.float32)
        for out, col in enumerate(self._columns):
            if col >= 0:
                probs[:, out] = raw[:, col]
        total = probs.sum(axis=1, keepdims=True)
        probs = np.divide(probs, total, out=np.full_like(probs, 1 / 3), where=total > 0)
        sentiment = [SENTIMENTS[j] for j in probs.argmax(axis=1)] if len(texts) else []
        if self.topic_model.meta.multilabel:
            flags = topic_probs >= self._thresholds
        else:  # a single-label topic model: its most probable topic
            flags = np.zeros(topic_probs.shape, dtype=bool)
            if len(texts):
                flags[np.arange(len(texts)), topic_probs.argmax(axis=1)] = True
        full = np.zeros((len(texts), len(TOPICS)), dtype=bool)
        full[:, self._topic_bits] = flags
        return TextAnalysis(sentiment, probs, masks_from_matrix(full), self.version)


def default_model_dir(task: str) -> Path:
    """Where the shipped default model of a task lives (inside the installed package)."""
    name = {
        "sentiment": "sentiment_transformer",  # MiniLM-4L int8: 0.849 on unseen tweets
        # the transformer pooled with the TF-IDF tier: 0.858 on unseen tweets but far worse on
        # other text (Amazon reviews 0.64 against 0.74), so an option, not the default
        "sentiment-ensemble": "sentiment_ensemble",
        "sentiment-fast": "sentiment",  # fast tier: TF-IDF + LR, ~0.82 accuracy, ~6,000 texts/s
        "topic": "topics",
    }[task]
    return Path(str(files("trustdesk.feedback") / "default_models" / name))


def default_analyser(data_dir: Path | None = None) -> Analyser:
    """The active models: the versions activated under `data_dir` (`trustdesk model activate`),
    else the shipped defaults. Loaded once per process per pair of model directories."""
    if data_dir is None:
        return _analyser_for(default_model_dir("sentiment"), default_model_dir("topic"))
    from trustdesk.feedback.active_models import active_version_dir

    return _analyser_for(
        active_version_dir(data_dir, "sentiment") or default_model_dir("sentiment"),
        active_version_dir(data_dir, "topic") or default_model_dir("topic"),
    )


@lru_cache(maxsize=4)
def _analyser_for(sentiment_dir: Path, topic_dir: Path) -> Analyser:
    try:
        sentiment = load_model(sentiment_dir)
        topics = load_model(topic_dir)
    except InvalidInput as exc:
        raise ConfigurationError(
            f"the text models are missing ({exc.detail}); "
            "run `trustdesk model build-defaults` or `trustdesk model rollback`"
        ) from exc
    return Analyser(sentiment, topics)
