"""`trustdesk fraud …` commands."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from trustdesk.console import err, out, print_json
from trustdesk.errors import InvalidInput
from trustdesk.fraud.backtest import Protocol, load_transactions, run_backtest

app = typer.Typer(help="Fraud risk: backtests and models.", no_args_is_help=True)


@app.command("backtest")
def backtest(
    transactions: Annotated[
        Path,
        typer.Option(
            help="CSV(.gz) with transaction_id, tx_datetime, customer_id, terminal_id, "
            "tx_amount, tx_fraud"
        ),
    ],
    train_start: Annotated[str, typer.Option(help="First training day, YYYY-MM-DD.")],
    output: Annotated[
        Path, typer.Option(help="Where to write transaction_id,score for the test period.")
    ],
    train_days: Annotated[int, typer.Option(min=1)] = 7,
    delay_days: Annotated[int, typer.Option(min=0, help="How late fraud labels become known.")] = 7,
    test_days: Annotated[int, typer.Option(min=1)] = 7,
    baseline: Annotated[
        bool, typer.Option(help="Also score the handbook's logistic regression.")
    ] = False,
    model_out: Annotated[Path | None, typer.Option(help="Save the trained model here.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Train on a week, skip the label delay, score the test week; print AUC, AP and CP@100."""
    try:
        start = datetime.strptime(train_start, "%Y-%m-%d").date()
    except ValueError as exc:
        raise InvalidInput("--train-start must be a date like 2018-07-25") from exc
    protocol = Protocol(start, train_days, delay_days, test_days)
    err.print(f"reading {transactions} …")
    frame = load_transactions(transactions)
    result = run_backtest(frame, protocol, with_baseline=baseline)
    output.parent.mkdir(parents=True, exist_ok=True)
    result.scores.to_csv(output, index=False, columns=["transaction_id", "score"])
    if model_out:
        result.model.save(model_out)
    if as_json:
        print_json(result.summary())
        return
    out.print(
        f"test period {protocol.test_start:%Y-%m-%d} … {protocol.test_end:%Y-%m-%d} "
        f"({result.test_rows} transactions scored → {output})"
    )
    rows = [("model (LightGBM)", result.metrics)]
    if result.baseline:
        rows.append(("baseline (logistic regression)", result.baseline))
    rows.append(("model, all test transactions", result.metrics_all))
    for name, m in rows:
        out.print(f"{name:<32} AUC {m.auc:.3f}  AP {m.ap:.3f}  CP@100 {m.cp_at_100:.3f}")
