"""The classify model's pure parts: score standardisation, calibrated probabilities, encoder check."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from trustdesk.errors import ConfigurationError
from trustdesk.feedback.classify import StackedClassifier, _softmax, _standardise, _temperature
from trustdesk.feedback.model_meta import ModelMeta

META = ModelMeta("stacked", "classify", ("a", "b", "c"), "test")
finite = st.floats(-1e3, 1e3, allow_nan=False, width=32)


@given(arrays(np.float64, st.tuples(st.integers(1, 20), st.integers(2, 8)), elements=finite))
def test_probabilities_sum_to_one_and_keep_the_best_label(scores):
    z = _standardise(scores)
    for temperature in (0.3, 1.0, 30.0):
        p = _softmax(z, temperature)
        assert np.allclose(p.sum(axis=1), 1.0, atol=1e-5)
        assert np.all((p >= 0) & (p <= 1))
        best = p.max(axis=1)
        assert np.all(p[np.arange(len(z)), z.argmax(axis=1)] == best)


def test_two_class_scores_become_two_columns():
    z = _standardise(np.array([2.0, -1.0]))
    assert z.shape == (2, 2)
    assert list(z.argmax(axis=1)) == [1, 0]  # scikit-learn's one column scores the second class


def test_the_temperature_is_sharper_when_the_scores_are_right():
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 3, 300)
    scores = rng.normal(size=(300, 3))
    scores[np.arange(300), gold] += 3.0
    right = _temperature(_standardise(scores), gold)
    wrong = _temperature(_standardise(scores), (gold + 1) % 3)
    assert right > wrong


def test_a_model_stacked_on_another_encoder_refuses_to_load():
    state = {"tfidf": object(), "embedding": object(), "encoder": "some-other-encoder"}
    with pytest.raises(ConfigurationError, match="retrain"):
        StackedClassifier.from_state(META, state)
    StackedClassifier.from_state(META, {**state, "embedding": None})  # TF-IDF tier: no encoder


def test_the_shipped_encoder_is_the_one_saved_models_name():
    """A rebuilt encoder must change ENCODER_NAME, or models stacked on the old vectors would load."""
    import hashlib
    import json

    from trustdesk.feedback.encoder import ENCODER_NAME, encoder_available, shipped_encoder_dir

    if not encoder_available():
        pytest.skip("slim build without the encoder")
    directory = shipped_encoder_dir()
    meta = json.loads((directory / "encoder.json").read_text(encoding="utf-8"))
    assert meta["name"] == ENCODER_NAME
    assert hashlib.sha256((directory / "model.onnx").read_bytes()).hexdigest() == meta["sha256"]


def test_the_encoder_gives_the_same_vectors_on_one_thread_or_several():
    """Batches run in parallel; a text's vector must not depend on how many cores ran it."""
    from trustdesk.feedback.encoder import TextEncoder, encoder_available, shipped_encoder_dir

    if not encoder_available():
        pytest.skip("slim build without the encoder")
    texts = [f"my card {i} was {'declined' if i % 2 else 'charged twice'} " * (i % 9 + 1)
             for i in range(300)]  # fmt: skip
    one = TextEncoder(shipped_encoder_dir(), threads=1).encode(texts)
    two = TextEncoder(shipped_encoder_dir(), threads=2).encode(texts)
    assert one.shape == (300, 384) and np.array_equal(one, two)
    assert np.allclose(np.linalg.norm(one, axis=1), 1, atol=1e-3)
    # each row is its own text's vector, whatever batch it was sorted into
    alone = TextEncoder(shipped_encoder_dir(), threads=2).encode(texts[:1])
    assert np.allclose(alone[0], one[0], atol=0.05)
    assert TextEncoder(shipped_encoder_dir()).encode([]).shape == (0, 384)
