"""The classify task on Banking77 (77 intents): accuracy and throughput, with the TF-IDF + logistic
regression baseline measured in the same run.

    python benchmarks/bench_classify.py [--folds 5] [--data CSV] [--test CSV] [--threads 2]

Accuracy: stratified k-fold cross-validation on the training data (default: the shipped official
train split, 10,003 queries), mean ± sd over folds; with `--test` (e.g. the official test split,
3,080 queries, columns `text,category`), also trained on all of the data and scored on that file.
Throughput: texts/s of prediction (features, encoder, linear models) on held-out texts with the
process limited to `--threads` cores. Quick mode (TRUSTDESK_BENCH_QUICK=1): 2 folds of 5.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import sys
import time
from collections.abc import Callable, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

QUICK = os.environ.get("TRUSTDESK_BENCH_QUICK") == "1"


def _limit_threads(n: int) -> None:
    """Before numpy loads: BLAS pools, and the CPU set where the OS lets us."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, cpus[:n])


def _read(path: Path | None, text: str, label: str) -> tuple[list[str], list[str]]:
    if path is None:
        source = files("trustdesk.data") / "banking77_train.csv.gz"
        with gzip.open(str(source), "rt", encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    else:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    return [r[text] for r in rows], [r[label] for r in rows]


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=None, help="training CSV (default: shipped)")
    ap.add_argument("--test", type=Path, default=None, help="test CSV (same columns)")
    ap.add_argument("--text-column", default="text")
    ap.add_argument("--label-column", default="category")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    _limit_threads(args.threads)

    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline

    from trustdesk.feedback.classify import EMBEDDING_WEIGHT, StackedClassifier, fit_parts
    from trustdesk.feedback.encoder import default_encoder
    from trustdesk.feedback.model_meta import ModelMeta

    texts, labels = _read(args.data, args.text_column, args.label_column)
    classes = tuple(sorted(set(labels)))
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[c] for c in labels])
    meta = ModelMeta("stacked", "classify", classes, "bench")
    encoder = default_encoder()
    encoder.encode(texts[:64])  # warm-up: session and thread pools
    started = time.perf_counter()
    vectors = encoder.encode(texts)  # frozen encoder: the same vectors in every fold
    print(
        f"{len(texts):,} texts, {len(classes)} labels; encoded in "
        f"{time.perf_counter() - started:.0f} s; {args.threads} threads, "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )

    def baseline() -> Any:
        return make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32),
            LogisticRegression(C=10.0, max_iter=1000),
        )

    def models(
        train: np.ndarray,
    ) -> dict[str, Callable[[list[str]], np.ndarray]]:
        train_texts = [texts[i] for i in train]
        tfidf, embedding = fit_parts(train_texts, y[train], vectors[train])
        stacked = StackedClassifier(meta, tfidf, embedding)
        fast = StackedClassifier(meta, tfidf, None)
        lr = baseline().fit(train_texts, y[train])
        return {
            "stacked: TF-IDF SVC + MiniLM-int8 SVC (default)": stacked.predict_proba,
            "TF-IDF SVC only (--no-embeddings)": fast.predict_proba,
            "baseline: word 1-2 gram TF-IDF + LR": lr.predict_proba,
        }

    def score(predict: Callable[[list[str]], np.ndarray], idx: Sequence[str]) -> np.ndarray:
        return np.asarray(predict(list(idx))).argmax(axis=1)

    folds = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=0)
    accuracy: dict[str, list[float]] = {}
    speed: dict[str, float] = {}
    for k, (train, held) in enumerate(folds.split(texts, y)):
        if QUICK and k >= 2:
            break
        held_texts = [texts[i] for i in held]
        for name, predict in models(train).items():
            started = time.perf_counter()
            predicted = score(predict, held_texts)
            if k == 0:
                speed[name] = len(held) / (time.perf_counter() - started)
            accuracy.setdefault(name, []).append(float((predicted == y[held]).mean()))
        print(f"  fold {k + 1}: " + ", ".join(f"{v[-1]:.4f}" for v in accuracy.values()))
        sys.stdout.flush()
    n = len(next(iter(accuracy.values())))
    print(f"cross-validated accuracy ({n} of {args.folds} stratified folds, mean ± sd):")
    base = speed["baseline: word 1-2 gram TF-IDF + LR"]
    for name, values in accuracy.items():
        print(
            f"  {name:<50} {np.mean(values):.4f} ± {np.std(values):.4f}   "
            f"{speed[name]:7,.0f} texts/s ({speed[name] / base:.2f}x baseline)"
        )
    print(f"  (embedding weight {EMBEDDING_WEIGHT}; throughput on fold 1's held-out texts)")
    if args.test is None:
        return
    test_texts, test_labels = _read(args.test, args.text_column, args.label_column)
    unknown = sorted(set(test_labels) - set(classes))
    if unknown:
        raise SystemExit(f"test labels not in the training data: {', '.join(unknown)}")
    gold = np.array([index[c] for c in test_labels])
    print(f"test file {args.test.name} ({len(test_texts):,} texts), trained on all data:")
    for name, predict in models(np.arange(len(texts))).items():
        started = time.perf_counter()
        predicted = score(predict, test_texts)
        rate = len(test_texts) / (time.perf_counter() - started)
        print(f"  {name:<50} {(predicted == gold).mean():.4f}   {rate:7,.0f} texts/s")


if __name__ == "__main__":
    main()
