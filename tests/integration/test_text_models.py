"""Trust topics that hear data-care complaints, judged on held-out real text, and topic models
trained on one-label-a-row data that predict exactly one label, through the real CLI."""

from __future__ import annotations

import csv
import gzip
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest

from trustdesk.feedback.analysis import default_analyser
from trustdesk.feedback.training import is_validation

EVAL_SET = Path(__file__).parents[2] / "benchmarks" / "data" / "topic_eval.csv.gz"


def _gz_rows(path: Path | str) -> list[dict[str, str]]:
    with gzip.open(str(path), "rt", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.mark.parametrize(
    "text",
    [
        "You leaked my data to spammers",
        "My personal data was exposed in your breach",
        "Stop selling my information",
        "Hackers stole my password from your site",
        "Someone opened accounts in my name",
    ],
)
def test_data_care_complaints_get_the_privacy_topic(cli, tmp_path, text):
    source = _write(tmp_path / "in.csv", ["id", "text"], [["1", text]])
    result = cli("feedback", "analyze", str(source), "--output", str(tmp_path / "out.csv"))
    assert result.exit_code == 0, result.output
    with (tmp_path / "out.csv").open(encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    assert "privacy_security" in row["topics"].split(";")


def test_the_topic_evaluation_set_is_not_in_the_shipped_training_data():
    held_out = {r["text"] for r in _gz_rows(EVAL_SET)}
    training = {r["text"] for r in _gz_rows(files("trustdesk.data") / "topic_training.csv.gz")}
    assert len(held_out) > 4000 and not held_out & training


def test_shipped_topics_recall_privacy_on_the_held_out_set():
    rows = _gz_rows(EVAL_SET)
    texts = [r["text"] for r in rows]
    gold = np.array(["privacy_security" in r["topics"].split(";") for r in rows])
    topics = default_analyser().topic_model
    probs = topics.predict_proba(texts)
    column = topics.meta.labels.index("privacy_security")
    found = probs[:, column] >= (topics.meta.thresholds or ())[column]
    recall = (found & gold).sum() / gold.sum()
    precision = (found & gold).sum() / found.sum()
    assert gold.sum() >= 500 and recall >= 0.6 and precision >= 0.6, (recall, precision)


def test_topic_training_with_one_label_a_row_predicts_exactly_one_label(cli, tmp_path):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    reasons = ("Late Flight", "Lost Luggage", "Customer Service Issue", "Cancelled Flight")
    tweets = [
        r
        for r in _gz_rows(files("trustdesk.data") / "airline_tweets.csv.gz")
        if r["negativereason"] in reasons
    ]
    train = [r for r in tweets if not is_validation(r["tweet_id"])][:2000]
    test = [r for r in tweets if is_validation(r["tweet_id"])]
    data = _write(
        tmp_path / "reasons.csv",
        ["tweet_id", "text", "reason"],
        [[r["tweet_id"], r["text"], r["negativereason"]] for r in train],
    )
    trained = cli(
        "model", "train", "--task", "topic", "--data", str(data), "--label-column", "reason",
        "--split-column", "tweet_id", "--out", str(tmp_path / "m"),
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    source = _write(tmp_path / "val.csv", ["text"], [[r["text"]] for r in test])
    predicted = cli(
        "model", "predict", str(source), "--model", str(tmp_path / "m"),
        "--output", str(tmp_path / "out.csv"),
    )  # fmt: skip
    assert predicted.exit_code == 0, predicted.output
    with (tmp_path / "out.csv").open(encoding="utf-8") as fh:
        labels = [r["label"] for r in csv.DictReader(fh)]
    assert all(label in reasons for label in labels)  # one label on every row, never `;`-joined
    gold = [r["negativereason"] for r in test]
    accuracy = np.mean([g == p for g, p in zip(gold, labels, strict=True)])
    baseline = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        LogisticRegression(C=4.0, max_iter=2000),
    ).fit([r["text"] for r in train], [r["negativereason"] for r in train])
    base = np.mean(baseline.predict([r["text"] for r in test]) == np.array(gold))
    assert accuracy >= base, (accuracy, base)
