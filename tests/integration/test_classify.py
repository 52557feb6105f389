"""The classify task through the real CLI and the public API: train on a labelled CSV (a sample of
the shipped Banking77 split), predict with a probability, and clear errors for bad training data."""

from __future__ import annotations

import csv
import gzip
import json
from collections import defaultdict
from importlib.resources import files
from pathlib import Path

import pytest

from trustdesk.errors import InvalidInput
from trustdesk.feedback import public

INTENTS = ("card_arrival", "lost_or_stolen_card", "exchange_rate", "top_up_failed", "pin_blocked")


def _shipped_sample(per_intent: int) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Rows of five intents from the shipped split: `per_intent` each to train on, 10 more held out."""
    with gzip.open(
        str(files("trustdesk.data") / "banking77_train.csv.gz"), "rt", encoding="utf-8"
    ) as fh:
        by_intent: dict[str, list[dict[str, str]]] = defaultdict(list)
        for row in csv.DictReader(fh):
            if row["category"] in INTENTS:
                by_intent[row["category"]].append(row)
    train = [r for i in INTENTS for r in by_intent[i][:per_intent]]
    held_out = [r for i in INTENTS for r in by_intent[i][per_intent : per_intent + 10]]
    return train, held_out


def _write(path: Path, rows: list[dict[str, str]], text: str = "query", label: str = "intent"):
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", text, label])
        for i, row in enumerate(rows):
            writer.writerow([i, row["text"], row["category"]])
    return path


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, list[dict[str, str]]]:
    train, held_out = _shipped_sample(40)
    return _write(tmp_path_factory.mktemp("b77") / "labelled.csv", train), held_out


@pytest.mark.parametrize("embeddings", ["--embeddings", "--no-embeddings"])
def test_train_then_predict_labels_with_probabilities(cli, tmp_path, sample, embeddings):
    data, held_out = sample
    model = tmp_path / "model"
    trained = cli(
        "model", "train", "--task", "classify", "--data", str(data), "--text-column", "query",
        "--label-column", "intent", "--out", str(model), embeddings,
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    meta = json.loads((model / "meta.json").read_text())
    assert (meta["task"], meta["multilabel"]) == ("classify", False)
    assert sorted(meta["labels"]) == sorted(INTENTS)
    assert meta["metrics"]["embeddings"] is (embeddings == "--embeddings")
    inputs = tmp_path / "new.csv"
    with inputs.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["ref", "query"])
        writer.writerows([[f"r{i}", r["text"]] for i, r in enumerate(held_out)])
        writer.writerow(["empty", ""])
    output = tmp_path / "pred.csv"
    result = cli(
        "model", "predict", "--model", str(model), str(inputs), "--text-column", "query",
        "--output", str(output),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(output.open(encoding="utf-8")))
    assert list(rows[0]) == ["ref", "query", "label", "probability"]
    assert rows[-1]["label"] == rows[-1]["probability"] == ""  # no text, no guess
    predicted = rows[:-1]
    correct = sum(r["label"] == h["category"] for r, h in zip(predicted, held_out, strict=True))
    assert correct / len(held_out) >= 0.8  # five distinct intents, 40 examples each
    probabilities = [float(r["probability"]) for r in predicted]
    assert all(1 / len(INTENTS) <= p <= 1.0 for p in probabilities)  # the best of five
    right = [p for p, r, h in zip(probabilities, predicted, held_out, strict=True)
             if r["label"] == h["category"]]  # fmt: skip
    assert sum(right) / len(right) > 0.5  # confident when right


def test_the_public_api_predicts_what_the_cli_trained(cli, tmp_path, sample):
    data, held_out = sample
    model = tmp_path / "model"
    result = cli(
        "model", "train", "--task", "classify", "--data", str(data), "--text-column", "query",
        "--label-column", "intent", "--out", str(model), "--no-embeddings",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    classifier = public.load_classifier(model)
    assert set(classifier.labels) == set(INTENTS)
    predictions = classifier.predict([h["text"] for h in held_out[:3]] + [])
    assert [label for label, _ in predictions] == [h["category"] for h in held_out[:3]]
    assert all(isinstance(p, float) and 0 < p <= 1 for _, p in predictions)
    assert classifier.predict([]) == []


def test_a_multi_label_model_is_not_a_classifier():
    from trustdesk.feedback.analysis import default_model_dir

    with pytest.raises(InvalidInput, match="multi-label"):
        public.load_classifier(default_model_dir("topic"))


def test_missing_label_column_is_a_clear_error(cli, tmp_path, sample):
    data, _ = sample
    result = cli(
        "model", "train", "--task", "classify", "--data", str(data), "--text-column", "query",
        "--label-column", "category", "--out", str(tmp_path / "m"),
    )  # fmt: skip
    assert result.exit_code == InvalidInput.exit_code
    assert "category" in result.output
    assert not (tmp_path / "m").exists()


def test_one_class_data_is_refused(cli, tmp_path):
    train, _ = _shipped_sample(40)
    data = _write(tmp_path / "one.csv", [r for r in train if r["category"] == INTENTS[0]])
    result = cli(
        "model", "train", "--task", "classify", "--data", str(data), "--text-column", "query",
        "--label-column", "intent", "--out", str(tmp_path / "m"), "--no-embeddings",
    )  # fmt: skip
    assert result.exit_code == InvalidInput.exit_code
    assert "at least two distinct labels" in result.output
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize(
    "content", [b"\x00\x01\x02\xff\xfe binary", b"\xff\xfeq\x00u\x00e\x00r\x00y\x00"]
)
def test_unreadable_file_is_a_clear_error(cli, tmp_path, content):
    data = tmp_path / "bad.csv"
    data.write_bytes(content)
    result = cli(
        "model", "train", "--task", "classify", "--data", str(data), "--text-column", "query",
        "--label-column", "intent", "--out", str(tmp_path / "m"),
    )  # fmt: skip
    assert result.exit_code == InvalidInput.exit_code
    assert "bad.csv" in result.output
    assert not (tmp_path / "m").exists()


def test_predict_refuses_an_input_that_already_has_a_probability_column(cli, tmp_path, sample):
    data, _ = sample
    model = tmp_path / "model"
    assert cli(
        "model", "train", "--task", "classify", "--data", str(data), "--text-column", "query",
        "--label-column", "intent", "--out", str(model), "--no-embeddings",
    ).exit_code == 0  # fmt: skip
    inputs = tmp_path / "in.csv"
    inputs.write_text("query,probability\nmy card has not arrived,1\n", encoding="utf-8")
    result = cli(
        "model", "predict", "--model", str(model), str(inputs), "--text-column", "query",
        "--output", str(tmp_path / "out.csv"),
    )  # fmt: skip
    assert result.exit_code == InvalidInput.exit_code
    assert "probability" in result.output
