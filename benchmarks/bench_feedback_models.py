"""Text models on the airline validation fifth (tweet ids with sha1 mod 5 == 0), with baselines.

Sentiment: the shipped default (trained on the other four fifths). Complaint reasons: the topic
trainer (`trustdesk model train --task topic`) retrained on the airline `negativereason` labels
("Can't Tell" and empty left out), against majority class, word-unigram naive Bayes and word TF-IDF
+ logistic regression. Also the analysis throughput (texts/s) of the shipped models.
"""

from __future__ import annotations

import csv
import gzip
import os
import time
from collections import Counter
from importlib.resources import files

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline

from trustdesk.feedback.analysis import default_analyser, default_model_dir, load_model
from trustdesk.feedback.training import is_validation, train_text_model

QUICK = os.environ.get("TRUSTDESK_BENCH_QUICK") == "1"


def _figures(name: str, gold: list[str], predicted: list[str]) -> None:
    acc = accuracy_score(gold, predicted)
    f1 = f1_score(gold, predicted, average="macro")
    print(f"  {name:<44} accuracy {acc:.3f}  macro-F1 {f1:.3f}")


def main() -> None:
    with gzip.open(
        str(files("trustdesk.data") / "airline_tweets.csv.gz"), "rt", encoding="utf-8"
    ) as fh:
        tweets = list(csv.DictReader(fh))
    val = [is_validation(t["tweet_id"]) for t in tweets]
    test = [t for t, v in zip(tweets, val, strict=True) if v]
    train = [t for t, v in zip(tweets, val, strict=True) if not v]

    analyser = default_analyser()
    texts = [t["text"] for t in test]
    start = time.perf_counter()
    analyser.analyse(texts)
    rate = len(test) / (time.perf_counter() - start)
    print(
        f"sentiment, airline validation fifth ({len(test)} tweets; target >= 0.85 at >= 1,000/s):"
    )
    gold = [t["airline_sentiment"] for t in test]
    tiers = {
        "accurate tier, default (MiniLM-4L int8, ONNX)": load_model(default_model_dir("sentiment")),
        "baseline: fast tier (word+char TF-IDF, LR)": load_model(
            default_model_dir("sentiment-fast")
        ),
    }
    speeds = {}
    for name, model in tiers.items():
        start = time.perf_counter()
        probs = model.predict_proba(texts)
        speeds[name] = len(texts) / (time.perf_counter() - start)
        _figures(name, gold, [model.meta.labels[i] for i in probs.argmax(axis=1)])
    for name, speed in speeds.items():
        print(f"  {name:<44} {speed:8,.0f} texts/s")
    _figures(
        "baseline: majority class",
        gold,
        [Counter(t["airline_sentiment"] for t in train).most_common(1)[0][0]] * len(test),
    )
    print(f"analysis throughput (sentiment + topics): {rate:,.0f} texts/s on {os.cpu_count()} CPUs")
    if QUICK:
        return

    usable = [t for t in tweets if t["negativereason"] not in ("", "Can't Tell")]
    rtrain = [t for t in usable if not is_validation(t["tweet_id"])]
    rtest = [t for t in usable if is_validation(t["tweet_id"])]
    gold = [t["negativereason"] for t in rtest]
    print(f"complaint reason ({len(rtrain)} train / {len(rtest)} validation tweets, 10 reasons):")
    trained = train_text_model(
        "topic",
        [t["text"] for t in usable],
        [t["negativereason"] for t in usable],
        split_keys=[t["tweet_id"] for t in usable],
    )
    probs = trained.model.predict_proba([t["text"] for t in rtest])
    labels = trained.model.meta.labels
    _figures(
        "topic trainer (word+char TF-IDF, OvR LR), top-1",
        gold,
        [labels[j] for j in probs.argmax(axis=1)],
    )
    metrics = trained.model.meta.metrics or {}
    print(
        f"  {'  multi-label with tuned thresholds':<44} micro-F1 {metrics.get('micro_f1')}  macro-F1 {metrics.get('macro_f1')}"
    )
    texts = [t["text"] for t in rtrain]
    y = [t["negativereason"] for t in rtrain]
    _figures("baseline: majority class", gold, [Counter(y).most_common(1)[0][0]] * len(rtest))
    nb = make_pipeline(CountVectorizer(), MultinomialNB()).fit(texts, y)
    _figures(
        "baseline: word-unigram naive Bayes", gold, list(nb.predict([t["text"] for t in rtest]))
    )
    lr = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        LogisticRegression(max_iter=2000, C=4.0),
    )
    lr.fit(texts, y)
    _figures(
        "baseline: word 1-2 gram TF-IDF + LR",
        gold,
        list(np.asarray(lr.predict([t["text"] for t in rtest]))),
    )


if __name__ == "__main__":
    main()
