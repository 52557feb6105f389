"""Running a small ONNX text model over many texts on every core it is given.

Rows are sorted by length so batches pad little, and whole batches run on `threads` threads at
once with one ONNX thread each (onnxruntime releases the GIL): within one small batch the
intra-op thread pool kept the second core mostly idle. Batch composition does not depend on the
thread count, so results are the same on 1 or 4 threads (dynamic int8 scales per batch).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Encoding

__all__ = ["inference_threads", "run_by_length", "single_thread_session"]


def inference_threads() -> int:
    """Threads for model inference: the cores, at most 4 (`TRUSTDESK_MODEL_THREADS` overrides)."""
    configured = os.environ.get("TRUSTDESK_MODEL_THREADS", "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return max(1, min(4, os.cpu_count() or 1))


def single_thread_session(path: str) -> Any:
    """An onnxruntime session that uses one thread per `run` call (callers run batches in
    parallel instead), without spinning threads that burn a shared machine's CPU."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def run_by_length(
    encoded: Sequence[Encoding],
    batch_size: int,
    threads: int,
    run: Callable[[np.ndarray, np.ndarray], np.ndarray],
    columns: int,
) -> np.ndarray:
    """`run(input_ids, attention_mask)` over padded batches; rows come back in input order."""
    out = np.zeros((len(encoded), columns), dtype=np.float32)
    if not len(encoded):
        return out
    lengths = np.fromiter((len(e.ids) for e in encoded), dtype=np.int64, count=len(encoded))
    order = np.argsort(lengths, kind="stable")
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]

    def one(batch: np.ndarray) -> np.ndarray:
        width = max(int(lengths[batch].max()), 1)
        ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, i in enumerate(batch):
            tokens = encoded[i].ids
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1
        return run(ids, mask)

    if threads > 1 and len(batches) > 1:
        with ThreadPoolExecutor(min(threads, len(batches))) as pool:
            results = list(pool.map(one, batches))
    else:
        results = [one(batch) for batch in batches]
    for batch, values in zip(batches, results, strict=True):
        out[batch] = values
    return out
