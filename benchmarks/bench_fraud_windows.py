"""Fraud models on windows they never saw: rolling-origin backtests over every possible window.

The handbook's protocol (train 7 days, skip the 7-day label delay, test 7 days), moved 7 days at a
time over the shared simulated card transactions: every window whose first training day has the
longest feature window (60 days) of history before it and whose test week ends inside the data.
Each window is one run of the CLI contract, exactly as a user runs it:

    trustdesk fraud backtest --transactions F --train-start D --forest --baseline --json --output S

which trains our model and, in the same run, the handbook-style random forest and logistic
regression on the handbook's features. Printed: each window's AUC, AP and CP@100 (handbook test set)
per model, who wins it, and the mean ± spread (sample standard deviation) and range over windows.

Quick mode (TRUSTDESK_BENCH_QUICK=1 or --quick): the three latest windows only.
`--windows N`: the N latest. `--json-out F`: every window's figures as JSON.
Reads ../shared/data/card-transactions/transactions.csv.gz (or TRUSTDESK_BENCH_TRANSACTIONS).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from trustdesk.fraud.learning.backtest import rolling_windows

SHARED = Path("shared/data/card-transactions/transactions.csv.gz")
# The shared data sits next to the checkout (../shared), or next to the folder of worktrees.
DEFAULT = next(
    (p / SHARED for p in Path(__file__).resolve().parents if (p / SHARED).is_file()),
    Path(__file__).resolve().parents[2] / SHARED,
)
TRAIN, DELAY, TEST, STEP = 7, 7, 7, 7
MODELS = {
    "model": "ours (LightGBM)",
    "baseline_random_forest": "random forest (handbook)",
    "baseline_logistic_regression": "logistic regression",
}
METRICS = {"auc_roc": "AUC", "average_precision": "AP", "card_precision_at_100": "CP@100"}


def _cli() -> list[str]:
    exe = shutil.which("trustdesk", path=str(Path(sys.executable).parent))
    if exe is None:
        return [sys.executable, "-c", "from trustdesk.cli import main; main()"]
    return [exe]


def backtest(path: Path, train_start: date, workdir: Path) -> dict[str, Any]:
    out = workdir / f"scores-{train_start}.csv"
    args = [
        *_cli(),
        "fraud",
        "backtest",
        "--transactions",
        str(path),
        "--train-start",
        train_start.isoformat(),
        "--train-days",
        str(TRAIN),
        "--delay-days",
        str(DELAY),
        "--test-days",
        str(TEST),
        "--forest",
        "--baseline",
        "--json",
        "--output",
        str(out),
    ]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"fraud backtest {train_start} failed: {done.stderr.strip()[-500:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _spread(values: list[float]) -> str:
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{mean:.3f} ± {sd:.3f} [{min(values):.3f}, {max(values):.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--windows", type=int, default=0, help="only the N latest windows")
    parser.add_argument("--json-out", type=Path)
    options = parser.parse_args()
    path = Path(os.environ.get("TRUSTDESK_BENCH_TRANSACTIONS", DEFAULT))
    if not path.is_file():
        print(f"skipped: {path} not found")
        return
    quick = options.quick or os.environ.get("TRUSTDESK_BENCH_QUICK") == "1"
    days = pd.read_csv(path, usecols=["tx_datetime"])["tx_datetime"]
    first = pd.Timestamp(days.min()).date()
    last = pd.Timestamp(days.max()).date()
    starts = [
        w.train_start
        for w in rolling_windows(
            first, last, train_days=TRAIN, delay_days=DELAY, test_days=TEST, step_days=STEP
        )
    ]
    print(
        f"{len(starts)} possible windows in {first} … {last} (train {TRAIN}, delay {DELAY}, ",
        end="",
    )
    print(f"test {TEST}, step {STEP} days)")
    keep = options.windows or (3 if quick else 0)
    if keep:
        starts = starts[-keep:]
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for train_start in starts:
            begun = time.perf_counter()
            summary = backtest(path, train_start, Path(tmp))
            test_start = train_start + timedelta(days=TRAIN + DELAY)
            results[str(train_start)] = summary
            m, rf = summary["model"], summary["baseline_random_forest"]
            wins = " ".join(
                f"{label}:{'ours' if m[key] > rf[key] else 'RF'}" for key, label in METRICS.items()
            )
            print(
                f"test {test_start} | ours AUC {m['auc_roc']:.3f} AP {m['average_precision']:.3f} "
                f"CP@100 {m['card_precision_at_100']:.3f} | RF AUC {rf['auc_roc']:.3f} "
                f"AP {rf['average_precision']:.3f} CP@100 {rf['card_precision_at_100']:.3f} | "
                f"{wins} ({time.perf_counter() - begun:.0f} s)",
                flush=True,
            )
    n = len(results)
    print(f"\nover {n} windows: mean ± sd [min, max]")
    for model, name in MODELS.items():
        cells = "  ".join(
            f"{label} {_spread([r[model][key] for r in results.values()])}"
            for key, label in METRICS.items()
        )
        print(f"{name:28}{cells}")
    ours, rf_all = (
        [r["model"] for r in results.values()],
        [r["baseline_random_forest"] for r in results.values()],
    )
    for key, label in METRICS.items():
        won = sum(o[key] > f[key] for o, f in zip(ours, rf_all, strict=True))
        ratio = statistics.fmean(o[key] for o in ours) / statistics.fmean(f[key] for f in rf_all)
        print(
            f"{label}: ours ahead of the random forest in {won}/{n} windows, mean ratio {ratio:.3f}"
        )
    ap = statistics.fmean(o["average_precision"] for o in ours)
    cp = statistics.fmean(o["card_precision_at_100"] for o in ours)
    print(f"targets: mean AP {ap:.3f} (≥ 0.70), mean CP@100 {cp:.3f} (≥ 0.33)")
    if options.json_out:
        options.json_out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
