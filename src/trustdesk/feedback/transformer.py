"""The accurate sentiment tier: a fine-tuned small transformer run by onnxruntime.

The first 4 layers of MiniLM-L6, fine-tuned on the airline tweets and quantised to int8
(`scripts/train_sentiment_transformer.py` builds it; torch is needed only there). Inference needs
onnxruntime, tokenizers and numpy, and nothing from the network.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from trustdesk.errors import InvalidInput
from trustdesk.feedback.model_meta import META_FILE, ModelMeta
from trustdesk.feedback.onnx_batches import inference_threads, run_by_length, single_thread_session

__all__ = ["OnnxTextModel", "inference_threads", "load_onnx"]

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@\w+")


def normalise(text: str) -> str:
    """What the model saw in training: links and handles carry no sentiment, only noise."""
    return " ".join(_MENTION.sub("@user", _URL.sub("http", text)).split())


class OnnxTextModel:
    """A sentiment classifier's logits as probabilities, batches in parallel (`onnx_batches`)."""

    def __init__(self, directory: Path, meta: ModelMeta, threads: int | None = None) -> None:
        from tokenizers import Tokenizer

        extra = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        self.meta = meta
        # Dynamic int8 scales activations per batch: a fixed batch size keeps results repeatable.
        self.batch_size = int(extra.get("batch_size", 32))
        self.tokenizer = Tokenizer.from_file(str(directory / TOKENIZER_FILE))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=int(extra.get("max_length", 64)))
        self.threads = threads or inference_threads()
        self.session = single_thread_session(str(directory / MODEL_FILE))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
            logits = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            logits = logits - logits.max(axis=1, keepdims=True)
            weights = np.exp(logits)
            return np.asarray(weights / weights.sum(axis=1, keepdims=True), dtype=np.float32)

        encoded = self.tokenizer.encode_batch([normalise(t) for t in texts]) if len(texts) else []
        return run_by_length(encoded, self.batch_size, self.threads, run, len(self.meta.labels))


def load_onnx(directory: Path, meta: ModelMeta) -> OnnxTextModel:
    missing = [f for f in (MODEL_FILE, TOKENIZER_FILE) if not (directory / f).is_file()]
    if missing:
        raise InvalidInput(f"{directory}: ONNX model directory lacks {', '.join(missing)}")
    return OnnxTextModel(directory, meta)
