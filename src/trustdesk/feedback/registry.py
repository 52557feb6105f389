"""Versions of the feedback models: retrain with staff corrections, list, activate, roll back.

Versions live under `<data_dir>/models/<task>/<version>/` (ordinary model directories) with
`active.json` beside them: the active version (None: the shipped default) and the versions active
before it, newest last, so a rollback returns to the previous one. Retraining never activates on
its own: a person compares the new version's validation figures with the active one's and chooses.

* sentiment: the shipped transformer pooled with a TF-IDF tier retrained on the shipped airline
  training rows plus every sentiment correction (an `ensemble` directory, the transformer named by
  `package:` so no copy of it is made).
* topic: the TF-IDF topic model retrained on the shipped topic training data plus every topic
  correction.

Figures come from rows the version never trained on: the airline validation fifth (sentiment) or
the topic data's held-out fifth, plus corrections whose key falls into the same fifth. Sentiment
versions also report the held-out corrections alone (the user's own text) and the active model's
figures on the same rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from trustdesk.errors import InvalidInput, NotFound
from trustdesk.feedback.active_models import (
    DEFAULT_VERSION,
    REGISTRY_TASKS,
    active_version,
    active_version_dir,
    read_state,
    task_dir,
    write_state,
)
from trustdesk.feedback.analysis import (
    SENTIMENTS,
    EnsembleTextModel,
    TextModel,
    default_model_dir,
    load_model,
)
from trustdesk.feedback.model_meta import META_FILE, ModelMeta
from trustdesk.feedback.training import (
    TrainedModel,
    is_validation,
    merge_examples,
    save_model,
    shipped_rows,
    train_text_model,
)

__all__ = [
    "DEFAULT_VERSION",
    "REGISTRY_TASKS",
    "ModelVersion",
    "activate",
    "active_model_dir",
    "active_version",
    "list_versions",
    "retrain",
    "rollback",
]


@dataclass(frozen=True)
class ModelVersion:
    task: str
    version: str
    path: Path
    metrics: dict[str, Any]
    train_rows: int | None
    corrections: int | None
    created_at: str | None
    active: bool


def active_model_dir(data_dir: Path, task: str) -> Path:
    """The directory `feedback import/process/analyze` and the API use for `task`."""
    return active_version_dir(data_dir, task) or default_model_dir(task)


def _describe(task: str, version: str, path: Path, active: str) -> ModelVersion:
    meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
    return ModelVersion(
        task=task,
        version=version,
        path=path,
        metrics=dict(meta.get("metrics") or {}),
        train_rows=meta.get("train_rows"),
        corrections=meta.get("corrections"),
        created_at=meta.get("created_at"),
        active=version == active,
    )


def list_versions(data_dir: Path, task: str) -> list[ModelVersion]:
    """The shipped default first, then the retrained versions, oldest first."""
    active = active_version(data_dir, task)
    found = [_describe(task, DEFAULT_VERSION, default_model_dir(task), active)]
    directory = task_dir(data_dir, task)
    if directory.is_dir():
        for path in sorted(p for p in directory.iterdir() if (p / META_FILE).is_file()):
            found.append(_describe(task, path.name, path, active))
    return found


def activate(data_dir: Path, task: str, version: str) -> tuple[str, str]:
    """Make `version` (or "default") the active model of `task`; returns (before, after)."""
    if version != DEFAULT_VERSION:
        directory = task_dir(data_dir, task) / version
        if not (directory / META_FILE).is_file():
            raise NotFound(f"no {task} model version {version!r}")
        load_model(directory)  # refuse a version that does not load, before it is live
    state = read_state(data_dir, task)
    before = str(state.get("active") or DEFAULT_VERSION)
    if before != version:
        state["history"] = [*state.get("history", []), before]
        state["active"] = None if version == DEFAULT_VERSION else version
        write_state(data_dir, task, state)
    return before, version


def rollback(data_dir: Path, task: str) -> tuple[str, str]:
    """Return to the version active before the current one; returns (before, after)."""
    state = read_state(data_dir, task)
    history = list(state.get("history", []))
    if not history:
        raise InvalidInput(f"no earlier {task} model to roll back to")
    before = str(state.get("active") or DEFAULT_VERSION)
    after = history.pop()
    state["active"] = None if after == DEFAULT_VERSION else after
    state["history"] = history
    write_state(data_dir, task, state)
    return before, after


def _figures(model: TextModel, texts: list[str], labels: list[str], prefix: str) -> dict[str, Any]:
    from sklearn.metrics import f1_score

    if not texts:
        return {f"{prefix}rows": 0}
    probs = model.predict_proba(texts)
    predicted = [model.meta.labels[j] for j in probs.argmax(axis=1)]
    correct = np.mean([p == g for p, g in zip(predicted, labels, strict=True)])
    return {
        f"{prefix}accuracy": round(float(correct), 4),
        f"{prefix}macro_f1": round(float(f1_score(labels, predicted, average="macro")), 4),
        f"{prefix}rows": len(texts),
    }


def _sentiment_figures(
    model: TextModel, texts: list[str], labels: list[str], keys: list[str], prefix: str = ""
) -> dict[str, Any]:
    """On the held-out fifth: all of it, and its staff corrections alone (the user's own text)."""
    held = [i for i, key in enumerate(keys) if is_validation(key)]
    mine = [i for i in held if keys[i].startswith("correction:")]
    figures = _figures(model, [texts[i] for i in held], [labels[i] for i in held], prefix)
    return figures | _figures(
        model, [texts[i] for i in mine], [labels[i] for i in mine], f"{prefix}corrections_"
    )


def retrain(
    data_dir: Path,
    task: str,
    corrections: tuple[list[str], list[str], list[str]],
) -> ModelVersion:
    """Train a new version of `task` from the shipped data plus corrections (texts, labels, keys)
    and store it, inactive. Its figures are on rows it never trained on."""
    stamp = datetime.now(UTC)
    version = f"{task}-{stamp:%Y%m%d-%H%M%S}"
    target = task_dir(data_dir, task) / version
    if target.exists():
        raise InvalidInput(f"model version {version} exists already; try again in a second")
    extra_texts, extra_labels, extra_keys = corrections
    if task == "sentiment":
        rows = shipped_rows("airline_tweets.csv.gz")
        texts, labels, keys = merge_examples(
            [r["text"] for r in rows],
            [r["airline_sentiment"] for r in rows],
            [r["tweet_id"] for r in rows],
            extra_texts,
            extra_labels,
            extra_keys,
        )
        trained = train_text_model(
            "sentiment", texts, labels, split_keys=keys, version=f"{version}-tfidf"
        )
        _save(trained, target / "tfidf", len(extra_texts), stamp)
        meta = ModelMeta("ensemble", "sentiment", SENTIMENTS, version)
        members = [("package:sentiment_transformer", 0.5), ("tfidf", 0.5)]
        ensemble = EnsembleTextModel(
            meta,
            [load_model(default_model_dir("sentiment")), trained.model],
            [w for _, w in members],
        )
        active = active_version(data_dir, task)
        metrics = {
            **_sentiment_figures(ensemble, texts, labels, keys),
            # the active model on the same rows, for the choice (it may have trained on them)
            "compared_with": active,
            **_sentiment_figures(
                load_model(active_model_dir(data_dir, task)), texts, labels, keys, "active_"
            ),
        }
        document = {
            **replace(meta, metrics=metrics).to_json(),
            "members": [{"path": p, "weight": w} for p, w in members],
            "train_rows": trained.train_rows,
            "validation_rows": metrics["rows"],
        }
        _finish(target, document, len(extra_texts), stamp)
    else:
        rows = shipped_rows("topic_training.csv.gz")
        texts, labels, keys = merge_examples(
            [r["text"] for r in rows],
            [r["topics"] for r in rows],
            None,
            extra_texts,
            extra_labels,
            extra_keys,
        )
        trained = train_text_model("topic", texts, labels, split_keys=keys, version=version)
        _save(trained, target, len(extra_texts), stamp)
    return _describe(task, version, target, active_version(data_dir, task))


def _save(trained: TrainedModel, directory: Path, corrections: int, stamp: datetime) -> None:
    save_model(trained, directory)
    document = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
    _finish(directory, document, corrections, stamp)


def _finish(directory: Path, document: dict[str, Any], corrections: int, stamp: datetime) -> None:
    document["corrections"] = corrections
    document["created_at"] = stamp.isoformat(timespec="seconds")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / META_FILE).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
