"""Training text models from labelled texts, and building the shipped defaults from shipped data.

Sentiment and topic models are TF-IDF over word 1-2 grams and character 2-5 grams with logistic
regression: multinomial for sentiment, one-vs-rest with a tuned threshold per label for topics
(multi-label: a text can be about billing and about service). Topic data with exactly one label on
every row is trained like sentiment (multinomial), so prediction gives exactly one label a row.
The classify task (one label per text, any label set) stacks TF-IDF and sentence-embedding models
(`classify.py`). A fixed fifth of the rows, chosen by a hash, is held out for the reported figures
and the thresholds.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import numpy as np

from trustdesk.errors import InvalidInput
from trustdesk.feedback.analysis import SKLEARN_FILE, SklearnTextModel, default_model_dir
from trustdesk.feedback.classify import (
    CLASSIFY_KIND,
    StackedClassifier,
    fit_classifier,
    validate_classify_labels,
)
from trustdesk.feedback.model_meta import META_FILE, ModelMeta

__all__ = [
    "TASKS",
    "TrainedModel",
    "build_default_models",
    "is_validation",
    "merge_examples",
    "save_model",
    "shipped_classify_rows",
    "shipped_rows",
    "single_label_pipeline",
    "split_labels",
    "train_text_model",
]

TASKS = ("sentiment", "topic", "classify")
MODEL_VERSION = "tfidf-lr-1"
_THRESHOLD_GRID = np.round(np.arange(0.05, 0.96, 0.05), 2)


def is_validation(key: str) -> bool:
    """The one validation rule used for every reported figure: sha1(key) mod 5 == 0."""
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest(), 16) % 5 == 0  # noqa: S324


def split_labels(value: str) -> tuple[str, ...]:
    """A topic label cell: `;`-separated names; empty means no topic."""
    return tuple(sorted({p.strip() for p in value.split(";") if p.strip()}))


def merge_examples(
    texts: Sequence[str],
    labels: Sequence[str],
    keys: Sequence[str] | None,
    extra_texts: Sequence[str],
    extra_labels: Sequence[str],
    extra_keys: Sequence[str],
) -> tuple[list[str], list[str], list[str]]:
    """Training rows plus extra labelled examples (staff corrections): an extra example whose
    text is already a row replaces that row's label (the correction wins); others are added."""
    merged_texts, merged_labels = list(texts), list(labels)
    merged_keys = list(keys) if keys is not None else list(texts)
    where = {text: i for i, text in enumerate(merged_texts)}
    for text, label, key in zip(extra_texts, extra_labels, extra_keys, strict=True):
        if text in where:
            merged_labels[where[text]] = label
        else:
            where[text] = len(merged_texts)
            merged_texts.append(text)
            merged_labels.append(label)
            merged_keys.append(key)
    return merged_texts, merged_labels, merged_keys


def single_label_pipeline() -> Any:
    """The fast tier (and any single-label text model): `text_features` + multinomial logistic
    regression, C = 2. Unfitted."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    return Pipeline(
        [("features", text_features()), ("classifier", LogisticRegression(C=2.0, max_iter=2000))]
    )


def text_features() -> Any:
    """Word 1-2 grams and character 2-5 grams, TF-IDF weighted: the fast tier's features."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_union

    return make_union(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, dtype=np.float32),
        TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(2, 5),
            min_df=3,
            max_features=60_000,
            sublinear_tf=True,
            dtype=np.float32,
        ),
    )


def _slim(pipeline: Any) -> Any:
    """Drop what prediction does not need (the pruned vocabulary can be megabytes)."""
    for _, vectoriser in pipeline.steps[0][1].transformer_list:
        if hasattr(vectoriser, "stop_words_"):
            vectoriser.stop_words_ = None
    return pipeline


@dataclass(frozen=True)
class TrainedModel:
    model: SklearnTextModel | StackedClassifier
    train_rows: int
    validation_rows: int


def _single_label(
    texts: list[str], labels: list[str], val: np.ndarray
) -> tuple[Any, tuple[str, ...], dict[str, Any]]:
    from sklearn.metrics import accuracy_score, f1_score

    y = np.asarray(labels, dtype=object)
    pipeline = single_label_pipeline()
    pipeline.fit([t for t, v in zip(texts, val, strict=True) if not v], y[~val])
    classes = tuple(str(c) for c in pipeline.classes_)
    metrics: dict[str, Any] = {}
    if val.any():
        predicted = pipeline.predict([t for t, v in zip(texts, val, strict=True) if v])
        metrics = {
            "accuracy": round(float(accuracy_score(y[val], predicted)), 4),
            "macro_f1": round(float(f1_score(y[val], predicted, average="macro")), 4),
        }
    return _slim(pipeline), classes, metrics


def _one_label_a_row(labels: Sequence[str]) -> bool:
    """Whether every row names exactly one topic (no empty, no `;`-joined cells)."""
    return all(len(split_labels(label)) == 1 for label in labels)


def _tune_thresholds(truth: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Per label, the probability cut-off with the best F1 on the held-out rows."""
    best = np.full(truth.shape[1], 0.5)
    for j in range(truth.shape[1]):
        if not truth[:, j].any():
            continue
        scores = []
        for cut in _THRESHOLD_GRID:
            predicted = probs[:, j] >= cut
            tp = float((predicted & truth[:, j]).sum())
            denom = float(predicted.sum() + truth[:, j].sum())
            scores.append(2 * tp / denom if denom else 0.0)
        best[j] = float(_THRESHOLD_GRID[int(np.argmax(scores))])
    return best


def _multi_label(
    texts: list[str], labels: list[str], val: np.ndarray
) -> tuple[Any, tuple[str, ...], tuple[float, ...], dict[str, Any]]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import Pipeline

    sets = [split_labels(label) for label in labels]
    classes = tuple(sorted({name for s in sets for name in s}))
    if len(classes) < 2:
        raise InvalidInput("topic training needs at least two distinct labels")
    y = np.array([[name in s for name in classes] for s in sets], dtype=bool)
    train_texts = [t for t, v in zip(texts, val, strict=True) if not v]
    missing = [c for j, c in enumerate(classes) if not y[~val, j].any()]
    if missing:
        raise InvalidInput(f"no training rows for label(s) {', '.join(missing)}")
    pipeline = Pipeline(
        [
            ("features", text_features()),
            (
                "classifier",
                OneVsRestClassifier(
                    LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced")
                ),
            ),
        ]
    )
    pipeline.fit(train_texts, y[~val].astype(int))
    thresholds = np.full(len(classes), 0.5)
    metrics: dict[str, Any] = {}
    if val.any():
        probs = pipeline.predict_proba([t for t, v in zip(texts, val, strict=True) if v])
        truth = y[val]
        thresholds = _tune_thresholds(truth, probs)
        flags = probs >= thresholds
        metrics = {
            "micro_f1": round(float(f1_score(truth, flags, average="micro", zero_division=0)), 4),
            "macro_f1": round(float(f1_score(truth, flags, average="macro", zero_division=0)), 4),
        }
        single = truth.sum(axis=1) == 1
        if single.any():  # rows with exactly one label: is the most probable label right?
            gold = truth[single].argmax(axis=1)
            top = probs[single].argmax(axis=1)
            metrics["top1_accuracy"] = round(float(accuracy_score(gold, top)), 4)
            metrics["top1_macro_f1"] = round(float(f1_score(gold, top, average="macro")), 4)
    return _slim(pipeline), classes, tuple(float(t) for t in thresholds), metrics


def train_text_model(
    task: str,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    split_keys: Sequence[str] | None = None,
    version: str | None = None,
    embeddings: bool = True,
) -> TrainedModel:
    """Fit on the rows outside the validation fifth; figures and thresholds from the rest.

    `split_keys` (e.g. the source's ids) decide the fifth; by default the texts themselves.
    `embeddings` (classify only): stack the sentence encoder's model with the TF-IDF one.
    """
    if task not in TASKS:
        raise InvalidInput(f"task must be one of {', '.join(TASKS)}")
    if len(texts) != len(labels) or len(texts) < 10:
        raise InvalidInput("training needs at least 10 labelled rows")
    keys = split_keys if split_keys is not None else texts
    val = np.array([is_validation(k) for k in keys], dtype=bool)
    if val.all():
        raise InvalidInput("every row fell into the validation split")
    texts = list(texts)
    labels = [str(label).strip() for label in labels]
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    name = version or f"{task}-{MODEL_VERSION}-{stamp}"
    if task == "classify":
        return _classify(texts, labels, val, name, embeddings=embeddings)
    if task == "sentiment" or (task == "topic" and _one_label_a_row(labels)):
        # Topic data with exactly one label a row is a single-label problem: one label out.
        pipeline, classes, metrics = _single_label(texts, labels, val)
        meta = ModelMeta("sklearn", task, classes, name, metrics=metrics)
    else:
        pipeline, classes, thresholds, metrics = _multi_label(texts, labels, val)
        meta = ModelMeta("sklearn", task, classes, name, True, thresholds, metrics)
    return TrainedModel(SklearnTextModel(meta, pipeline), int((~val).sum()), int(val.sum()))


def _classify(
    texts: list[str], labels: list[str], val: np.ndarray, name: str, *, embeddings: bool
) -> TrainedModel:
    from trustdesk.feedback.encoder import encoder_available

    classes = validate_classify_labels(labels)
    use_embeddings = embeddings and encoder_available()
    meta = ModelMeta(CLASSIFY_KIND, "classify", classes, name)
    fitted = fit_classifier(meta, texts, labels, val, embeddings=use_embeddings)
    metrics = {**fitted.metrics, "embeddings": use_embeddings}
    fitted.model.meta = replace(meta, metrics=metrics)
    # The saved model is refitted on every row; the figures are from the validation fifth.
    return TrainedModel(fitted.model, len(texts), int(val.sum()))


def save_model(trained: TrainedModel, directory: Path) -> None:
    import joblib

    directory.mkdir(parents=True, exist_ok=True)
    model = trained.model
    state = model.state() if isinstance(model, StackedClassifier) else model.pipeline
    joblib.dump(state, directory / SKLEARN_FILE, compress=("zlib", 3))
    meta = trained.model.meta.to_json()
    meta["train_rows"] = trained.train_rows
    meta["validation_rows"] = trained.validation_rows
    (directory / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def shipped_rows(name: str) -> list[dict[str, str]]:
    with as_file(files("trustdesk.data") / name) as path, gzip.open(path, "rb") as raw:
        return list(csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline="")))


SHIPPED_CLASSIFY_DATA = "banking77_train.csv.gz"


def shipped_classify_rows() -> tuple[list[str], list[str]]:
    """Texts and intents of the shipped Banking77 train split (10,003 queries, 77 intents)."""
    rows = shipped_rows(SHIPPED_CLASSIFY_DATA)
    return [r["text"] for r in rows], [r["category"] for r in rows]


def build_default_models(out: Path | None = None) -> dict[str, TrainedModel]:
    """Train the shipped scikit-learn defaults from the shipped data: the fast sentiment tier and
    the topic model. (The accurate sentiment tier, a transformer, is built by
    scripts/train_sentiment_transformer.py, which needs torch.)"""
    tweets = shipped_rows("airline_tweets.csv.gz")
    sentiment = train_text_model(
        "sentiment",
        [r["text"] for r in tweets],
        [r["airline_sentiment"] for r in tweets],
        split_keys=[r["tweet_id"] for r in tweets],
        version=f"sentiment-{MODEL_VERSION}-airline",
    )
    topic_rows = shipped_rows("topic_training.csv.gz")
    topics = train_text_model(
        "topic",
        [r["text"] for r in topic_rows],
        [r["topics"] for r in topic_rows],
        version=f"topic-{MODEL_VERSION}-airline-banking77-cfpb",
    )
    built = {"sentiment-fast": sentiment, "topic": topics}
    for task, trained in built.items():
        target = (out / task) if out else default_model_dir(task)
        save_model(trained, target)
    return built
