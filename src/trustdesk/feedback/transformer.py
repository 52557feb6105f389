"""The accurate sentiment tier: a fine-tuned small transformer run by onnxruntime.

The first 4 layers of MiniLM-L6, fine-tuned on the airline tweets and quantised to int8
(`scripts/train_sentiment_transformer.py` builds it; torch is needed only there). Inference needs
onnxruntime, tokenizers and numpy, and nothing from the network.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from trustdesk.errors import InvalidInput
from trustdesk.feedback.model_meta import META_FILE, ModelMeta

__all__ = ["OnnxTextModel", "inference_threads", "load_onnx"]

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@\w+")


def normalise(text: str) -> str:
    """What the model saw in training: links and handles carry no sentiment, only noise."""
    return " ".join(_MENTION.sub("@user", _URL.sub("http", text)).split())


def inference_threads() -> int:
    """Threads for model inference: the cores, at most 4 (`TRUSTDESK_MODEL_THREADS` overrides)."""
    configured = os.environ.get("TRUSTDESK_MODEL_THREADS", "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return max(1, min(4, os.cpu_count() or 1))


class OnnxTextModel:
    """Batches run on `threads` threads at once, one ONNX thread each (onnxruntime releases the
    GIL): within one small batch the intra-op thread pool kept the second core mostly idle."""

    def __init__(self, directory: Path, meta: ModelMeta, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        extra = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        self.meta = meta
        # Dynamic int8 scales activations per batch: a fixed batch size keeps results repeatable.
        self.batch_size = int(extra.get("batch_size", 32))
        self.tokenizer = Tokenizer.from_file(str(directory / TOKENIZER_FILE))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=int(extra.get("max_length", 64)))
        options = ort.SessionOptions()
        self.threads = threads or inference_threads()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(
            str(directory / MODEL_FILE), options, providers=["CPUExecutionProvider"]
        )

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(self.meta.labels)), dtype=np.float32)
        if not len(texts):
            return out
        encoded = self.tokenizer.encode_batch([normalise(t) for t in texts])
        lengths = np.fromiter((len(e.ids) for e in encoded), dtype=np.int64, count=len(encoded))
        order = np.argsort(lengths, kind="stable")  # similar lengths together: little padding
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]

        def run(batch: np.ndarray) -> np.ndarray:
            width = max(int(lengths[batch].max()), 1)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                tokens = encoded[i].ids
                ids[row, : len(tokens)] = tokens
                mask[row, : len(tokens)] = 1
            logits = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            logits = logits - logits.max(axis=1, keepdims=True)
            weights = np.exp(logits)
            return np.asarray(weights / weights.sum(axis=1, keepdims=True), dtype=np.float32)

        if self.threads > 1 and len(batches) > 1:
            with ThreadPoolExecutor(self.threads) as pool:
                results = list(pool.map(run, batches))
        else:
            results = [run(batch) for batch in batches]
        for batch, probs in zip(batches, results, strict=True):
            out[batch] = probs
        return out


def load_onnx(directory: Path, meta: ModelMeta) -> OnnxTextModel:
    missing = [f for f in (MODEL_FILE, TOKENIZER_FILE) if not (directory / f).is_file()]
    if missing:
        raise InvalidInput(f"{directory}: ONNX model directory lacks {', '.join(missing)}")
    return OnnxTextModel(directory, meta)
