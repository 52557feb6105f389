"""The shipped text models work offline, and trained models load back through their directory."""

from __future__ import annotations

import json

import numpy as np
import pytest

from trustdesk.errors import ConfigurationError, InvalidInput
from trustdesk.feedback.analysis import (
    default_analyser,
    default_model_dir,
    load_model,
    predict_labels,
)
from trustdesk.feedback.training import is_validation, save_model, train_text_model


def test_default_sentiment_reads_clear_praise_and_complaints():
    result = default_analyser().analyse(
        ["Thank you so much, the crew was wonderful!", "Worst airline ever, lost my bag again"]
    )
    assert result.sentiment == ["positive", "negative"]
    assert result.probabilities.dtype == np.float32
    assert np.allclose(result.probabilities.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("They charged me twice for the same payment and won't refund the fee", "billing_honesty"),
        ("Someone stole my card details and made payments I don't recognise", "privacy_security"),
        ("My flight was cancelled and then delayed again for 5 hours", "reliability_delivery"),
        ("The agent on the phone was rude and hung up on me", "service_care"),
    ],
)
def test_default_topics_find_the_trust_topic(text, topic):
    assert topic in default_analyser().analyse([text]).topics(0)


def test_analysis_of_no_texts_is_empty():
    result = default_analyser().analyse([])
    assert result.probabilities.shape == (0, 3) and len(result.topics_mask) == 0


def test_validation_split_is_the_documented_hash_rule():
    assert is_validation("570306133677760513") == (
        int(__import__("hashlib").sha1(b"570306133677760513").hexdigest(), 16) % 5 == 0
    )


def test_a_trained_topic_model_round_trips_through_its_directory(tmp_path):
    texts = [f"refund fee charge {i}" for i in range(30)] + [
        f"late delayed flight {i}" for i in range(30)
    ]
    labels = ["billing_honesty"] * 30 + ["reliability_delivery"] * 30
    texts += [f"hello there {i}" for i in range(10)]  # rows without a topic: multi-label data
    labels += [""] * 10
    trained = train_text_model("topic", texts, labels, version="t1")
    save_model(trained, tmp_path / "m")
    model = load_model(tmp_path / "m")
    assert model.meta.labels == ("billing_honesty", "reliability_delivery")
    assert model.meta.multilabel and model.meta.version == "t1"
    assert predict_labels(model, ["refund fee charge", "late delayed flight"]) == [
        "billing_honesty",
        "reliability_delivery",
    ]
    # a topic model over trust topics can replace the default one
    swapped = default_analyser().with_model(model)
    assert "t1" in swapped.version


def test_an_unknown_model_kind_is_refused_with_the_supported_kinds(tmp_path):
    (tmp_path / "meta.json").write_text(
        json.dumps({"kind": "tensorflow", "task": "sentiment", "labels": ["negative", "positive"]})
    )
    with pytest.raises(ConfigurationError, match="sklearn"):
        load_model(tmp_path)


def test_an_onnx_model_directory_without_its_files_is_refused(tmp_path):
    (tmp_path / "meta.json").write_text(
        json.dumps({"kind": "onnx", "task": "sentiment", "labels": ["negative", "positive"]})
    )
    with pytest.raises(InvalidInput, match=r"model\.onnx"):
        load_model(tmp_path)


def test_the_default_sentiment_model_is_the_accurate_transformer_tier():
    model = load_model(default_model_dir("sentiment"))
    assert model.meta.kind == "onnx" and model.meta.metrics["accuracy"] >= 0.85
    probs = model.predict_proba(
        ["Thank you so much, the crew was wonderful!", "You lost my bag again. Terrible."]
    )
    assert probs.shape == (2, 3)
    assert np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    assert list(probs.argmax(axis=1)) == [2, 0]
    assert model.predict_proba([]).shape == (0, 3)
