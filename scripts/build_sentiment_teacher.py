#!/usr/bin/env python3
"""Build a sentiment teacher for distillation (a developer's tool, not run by users).

The teacher is a product of experts: the mean log-probability of fine-tuned transformers (their
`train_sentiment_transformer.py --save-logits` files) and of the fast tier's word+char TF-IDF
logistic regression. The TF-IDF member's probabilities on the training rows are out-of-fold (5
folds), so the student learns where it is unsure rather than what it memorised; on validation rows
it is fitted on all training rows. Validation rows are scored for the report only: the student
trains on training rows alone (`train_sentiment_transformer.py --teacher`).

Example (the teacher of src/trustdesk/feedback/default_models/sentiment_transformer):
    PYTHONPATH=src python scripts/train_sentiment_transformer.py --data tweets.csv \
        --out /tmp/t6 --layers 6 --save-logits /tmp/t6.npz
    PYTHONPATH=src python scripts/train_sentiment_transformer.py --data tweets.csv \
        --out /tmp/t4 --layers 4 --save-logits /tmp/t4.npz
    PYTHONPATH=src python scripts/build_sentiment_teacher.py --data tweets.csv \
        --member /tmp/t6.npz --member /tmp/t4.npz --out /tmp/teacher.npz
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

from trustdesk.feedback.training import is_validation, single_label_pipeline


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def tfidf_log_proba(texts: list[str], y: np.ndarray, train: np.ndarray, folds: int) -> np.ndarray:
    """Out-of-fold on the training rows, fitted on all of them for the others."""

    proba = np.zeros((len(texts), int(y.max()) + 1))
    rows = np.flatnonzero(train)
    for fit, held in StratifiedKFold(folds, shuffle=True, random_state=0).split(rows, y[rows]):
        m = single_label_pipeline().fit([texts[i] for i in rows[fit]], y[rows[fit]])
        proba[rows[held]] = m.predict_proba([texts[i] for i in rows[held]])
    rest = np.flatnonzero(~train)
    if len(rest):
        m = single_label_pipeline().fit([texts[i] for i in rows], y[rows])
        proba[rest] = m.predict_proba([texts[i] for i in rest])
    return np.log(np.clip(proba, 1e-7, 1.0))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", required=True)
    ap.add_argument("--text-column", default="text")
    ap.add_argument("--label-column", default="airline_sentiment")
    ap.add_argument("--id-column", default="tweet_id")
    ap.add_argument("--labels", default="negative,neutral,positive")
    ap.add_argument("--member", action="append", default=[], help="a --save-logits file")
    ap.add_argument("--tfidf", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)

    labels = args.labels.split(",")
    with Path(args.data).open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r[args.label_column] in labels]
    keys = np.array([r[args.id_column] for r in rows])
    texts = [r[args.text_column] for r in rows]
    y = np.array([labels.index(r[args.label_column]) for r in rows])
    train = np.array([not is_validation(k) for k in keys])

    members: list[tuple[str, np.ndarray]] = []
    if args.tfidf:
        members.append(("word+char TF-IDF LR", tfidf_log_proba(texts, y, train, args.folds)))
    for path in args.member:
        saved = np.load(path)
        index = {k: i for i, k in enumerate(saved["keys"].tolist())}
        members.append((Path(path).name, log_softmax(saved["logits"][[index[k] for k in keys]])))
    if not members:
        raise SystemExit("a teacher needs at least one member")
    teacher = np.mean([lp for _, lp in members], axis=0)
    for name, lp in [*members, ("teacher (mean log-probability)", teacher)]:
        acc = (lp[~train].argmax(1) == y[~train]).mean() if (~train).any() else float("nan")
        print(f"{name:<34} validation accuracy {acc:.4f}")
    np.savez(args.out, keys=keys, logits=teacher.astype(np.float32))
    print(f"wrote {args.out}: {len(keys)} rows, {len(members)} members")


if __name__ == "__main__":
    main()
