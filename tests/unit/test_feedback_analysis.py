"""The shipped text models work offline, and trained models load back through their directory."""

from __future__ import annotations

import json

import numpy as np
import pytest

from trustdesk.errors import ConfigurationError, InvalidInput
from trustdesk.feedback.analysis import (
    EnsembleTextModel,
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


def test_a_scikit_learn_model_without_its_pipeline_is_refused_when_loaded(tmp_path):
    (tmp_path / "meta.json").write_text(
        json.dumps({"kind": "sklearn", "task": "topic", "labels": ["billing_honesty"]})
    )
    with pytest.raises(InvalidInput, match=r"model\.joblib"):
        load_model(tmp_path)


def test_the_default_sentiment_model_is_the_accurate_transformer_tier():
    model = load_model(default_model_dir("sentiment"))
    assert model.meta.kind == "onnx" and model.meta.metrics["accuracy"] >= 0.85
    probs = model.predict_proba(
        ["Thank you so much, the crew was wonderful!", "You lost my bag again. Terrible."]
    )
    assert list(probs.argmax(axis=1)) == [2, 0]


def test_the_sentiment_ensemble_pools_the_transformer_and_the_tfidf_tier():
    model = load_model(default_model_dir("sentiment-ensemble"))
    assert isinstance(model, EnsembleTextModel)
    assert [m.meta.kind for m in model.members] == ["onnx", "sklearn"]
    texts = ["Thank you so much, the crew was wonderful!", "You lost my bag again. Terrible."]
    probs = model.predict_proba(texts)
    assert probs.shape == (2, 3)
    assert np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    assert list(probs.argmax(axis=1)) == [2, 0]
    assert model.predict_proba([]).shape == (0, 3)
    # the product of the members' probabilities, renormalised (equal weights)
    product = np.prod([m.predict_proba(texts) for m in model.members], axis=0) ** 0.5
    assert np.allclose(probs, product / product.sum(axis=1, keepdims=True), atol=1e-4)


def test_the_transformer_gives_the_same_scores_on_one_thread_or_several():
    from trustdesk.feedback.transformer import OnnxTextModel

    directory = default_model_dir("sentiment")
    meta = load_model(directory).meta
    texts = [
        f"flight {i} was {'great' if i % 2 else 'late again'} " * (i % 7 + 1) for i in range(100)
    ]
    one = OnnxTextModel(directory, meta, threads=1).predict_proba(texts)
    two = OnnxTextModel(directory, meta, threads=2).predict_proba(texts)
    assert meta.kind == "onnx" and np.array_equal(one, two)


def test_an_ensemble_whose_member_lacks_a_label_is_refused(tmp_path):
    (tmp_path / "meta.json").write_text(
        json.dumps(
            {
                "kind": "ensemble",
                "task": "sentiment",
                "labels": ["negative", "neutral", "positive", "mixed"],
                "members": [{"path": str(default_model_dir("sentiment-fast")), "weight": 1}],
            }
        )
    )
    with pytest.raises(InvalidInput, match="does not fit"):
        load_model(tmp_path)
