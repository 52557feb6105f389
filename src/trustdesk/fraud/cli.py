"""`trustdesk fraud …` commands."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from trustdesk.bounds import parse_row_id
from trustdesk.config import get_settings
from trustdesk.console import cli_actor, err, open_platform, out, print_json, progress, working
from trustdesk.csv_output import SafeWriter
from trustdesk.dask_engine import (
    ENGINE_HELP,
    SCHEDULER_HELP,
    Engine,
    check_engine_options,
    dask_client,
)
from trustdesk.db import utcnow
from trustdesk.errors import InvalidInput
from trustdesk.fraud.intake import step_up
from trustdesk.fraud.intake.bulk import import_labels_file, import_transactions_file
from trustdesk.fraud.review import cases
from trustdesk.fraud.review.monitoring import PSI_SHIFT, daily_figures, drift
from trustdesk.fraud.schemas import ImportReport, Limits, StepUpIn, StepUpOutcome
from trustdesk.fraud.scoring import versions
from trustdesk.fraud.scoring.holder import limits_from
from trustdesk.input_files import read_text_file
from trustdesk.terminal_tables import Col, print_table
from trustdesk.wording import counted

if TYPE_CHECKING:
    from trustdesk.fraud.training import Engine as TrainingEngine

app = typer.Typer(help="Fraud risk: intake, rules, models, backtests.", no_args_is_help=True)
labels_app = typer.Typer(help="Late fraud labels.", no_args_is_help=True)
models_app = typer.Typer(help="Fraud model versions.", no_args_is_help=True)
rules_app = typer.Typer(help="Fraud rules.", no_args_is_help=True)
app.add_typer(labels_app, name="labels")
app.add_typer(models_app, name="models")
app.add_typer(rules_app, name="rules")


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
    forest: Annotated[
        bool, typer.Option(help="Also score a handbook-style random forest (100 trees, depth 20).")
    ] = False,
    model_out: Annotated[Path | None, typer.Option(help="Save the trained model here.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    engine: Annotated[Engine, typer.Option(help=ENGINE_HELP)] = Engine.embedded,
    scheduler: Annotated[str | None, typer.Option(help=SCHEDULER_HELP)] = None,
) -> None:
    """Train on a week, skip the label delay, score the test week; print AUC, AP and CP@100.

    With --engine dask the per-card and per-terminal feature windows (most of the time) run on
    the cluster's workers, sharded by card and by terminal; training and scoring stay here."""
    check_engine_options(engine, scheduler)
    try:
        start = datetime.strptime(train_start, "%Y-%m-%d").date()
    except ValueError as exc:
        raise InvalidInput("--train-start must be a date like 2018-07-25") from exc
    from trustdesk.fraud.learning.backtest import Protocol, load_transactions, run_backtest

    protocol = Protocol(start, train_days, delay_days, test_days)
    with working(f"reading {transactions}"):
        frame = load_transactions(transactions)
    with ExitStack() as stack:
        group_map = None
        if engine is Engine.dask:
            from trustdesk.fraud.learning.features import DaskGroups

            client = stack.enter_context(dask_client(scheduler))
            workers = len(client.scheduler_info().get("workers", {})) or 1
            group_map = DaskGroups(client, shards=4 * workers)
        stack.enter_context(working("backtest: features, training, scoring the test week"))
        result = run_backtest(
            frame, protocol, with_baseline=baseline, with_forest=forest, group_map=group_map
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8", newline="") as fh:
        writer = SafeWriter(fh)  # transaction ids come from the input file
        writer.writerow(["transaction_id", "score"])
        writer.writerows(result.scores[["transaction_id", "score"]].itertuples(index=False))
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
    if result.forest:
        rows.append(("baseline (random forest)", result.forest))
    rows.append(("model, all test transactions", result.metrics_all))
    for name, m in rows:
        out.print(f"{name:<32} AUC {m.auc:.3f}  AP {m.ap:.3f}  CP@100 {m.cp_at_100:.3f}")


def _limits() -> Limits:
    return limits_from(get_settings())


def _print_report(report: ImportReport, as_json: bool, what: str) -> None:
    if as_json:
        print_json(report)
    else:
        out.print(
            f"{report.created} {what} stored, {report.unchanged} already there, "
            f"{report.labels} labels stored, {len(report.rejected)} rows rejected"
        )
        for bad in report.rejected[:20]:
            err.print(f"row {bad.row}: {bad.reason}", markup=False, highlight=False, soft_wrap=True)
        if len(report.rejected) > 20:
            err.print(f"… and {len(report.rejected) - 20} more")
    if report.rejected:
        raise typer.Exit(code=InvalidInput.exit_code)


@app.command("import")
def import_transactions(
    transactions: Annotated[
        Path, typer.Option(help="CSV(.gz)/JSONL: the card-transactions or the generic format.")
    ],
    currency: Annotated[str, typer.Option(help="Currency of files that name none.")] = "EUR",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Store payments (unscored) and their labels, in committed batches; safe to re-run."""
    settings = get_settings()
    platform = open_platform()
    with progress("storing payments") as bar:
        task = bar.add_task("import", total=None)

        def advance(report: ImportReport) -> None:
            done = report.created + report.unchanged + len(report.rejected)
            bar.update(task, completed=done)

        report = import_transactions_file(
            platform.db,
            transactions,
            limits=_limits(),
            actor=cli_actor(),
            currency=currency.upper(),
            label_delay=timedelta(days=settings.fraud_label_delay_days),
            on_batch=advance,
        )
    _print_report(report, as_json, "transactions")


@labels_app.command("import")
def import_labels(
    file: Annotated[Path, typer.Argument(help="CSV: transaction_id, label[, known_at, source].")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Store late labels (fraud, chargeback, genuine); one per transaction and source."""
    platform = open_platform()
    report = import_labels_file(platform.db, file, actor=cli_actor())
    _print_report(report, as_json, "transactions")


@app.command("step-up")
def report_step_up(
    transaction_id: Annotated[str, typer.Argument(help="The payment that asked for a 2nd factor.")],
    outcome: Annotated[StepUpOutcome, typer.Option(help="What the customer did.")],
    at: Annotated[
        str | None, typer.Option(help="When, ISO 8601 (without a zone: UTC). Default now.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Record what became of a payment's second-factor challenge; failed and abandoned ones go
    to the review queue. Re-running with the same outcome changes nothing."""
    try:
        when = datetime.fromisoformat(at) if at else None
    except ValueError as exc:
        raise InvalidInput(f"--at: {at!r} is not an ISO 8601 time") from exc
    report = StepUpIn(outcome=outcome, at=when)
    platform = open_platform()
    with platform.db.transaction() as session:
        stored, created = step_up.record_step_up(
            session,
            transaction_id,
            report,
            actor=cli_actor(),
            now=utcnow(),
            clock_skew_s=platform.settings.fraud_clock_skew_s,
        )
    if as_json:
        print_json(stored)
        return
    what = "recorded" if created else "was already recorded"
    queue = " (it goes to the review queue)" if stored.outcome.needs_review and created else ""
    out.print(
        f"step-up of {stored.transaction_id}: {stored.outcome} at "
        f"{stored.at:%Y-%m-%d %H:%M:%S} UTC {what}{queue}",
        markup=False,
        highlight=False,
    )


@app.command("train")
def train(
    transactions: Annotated[
        Path | None, typer.Option(help="Train from this file instead of the stored payments.")
    ] = None,
    train_days: Annotated[int, typer.Option(min=1)] = 7,
    delay_days: Annotated[
        int | None, typer.Option(min=0, help="Gap for late labels (default: the setting).")
    ] = None,
    valid_days: Annotated[int, typer.Option(min=1)] = 7,
    activate: Annotated[
        bool | None,
        typer.Option(
            "--activate/--no-activate", help="Default: activate if no trained model is active."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    engine: Annotated[Engine, typer.Option(help=ENGINE_HELP)] = Engine.embedded,
    scheduler: Annotated[str | None, typer.Option(help=SCHEDULER_HELP)] = None,
) -> None:
    """Train a model version on the latest data, validate it on the last days, record it.

    With --engine dask the feature windows run on the cluster's workers (sharded by card and by
    terminal) and the trees grow there with LightGBM's data-parallel learner (`lightgbm.dask`;
    the workers connect to each other on ports LightGBM picks). The version is an ordinary one."""
    check_engine_options(engine, scheduler)
    settings = get_settings()
    platform = open_platform()
    from trustdesk.fraud.learning.backtest import load_transactions
    from trustdesk.fraud.training import EMBEDDED, TrainingWindow, train_and_register

    window = TrainingWindow(
        train_days,
        settings.fraud_label_delay_days if delay_days is None else delay_days,
        valid_days,
    )
    with ExitStack() as stack:
        where = EMBEDDED
        if engine is Engine.dask:
            where = _dask_training(stack.enter_context(dask_client(scheduler)))
        stack.enter_context(working("training a fraud model"))
        frame = load_transactions(transactions) if transactions else None
        info = train_and_register(
            platform.db,
            settings.data_dir,
            frame,
            window,
            actor=cli_actor(),
            activate=activate,
            engine=where,
        )
    if as_json:
        print_json({"version": info.version, "active": info.active, **info.metrics})
        return
    m = info.metrics
    out.print(
        f"model v{info.version} → {info.path}{' (active)' if info.active else ''}\n"
        f"validation {m['validation_window']['start']} … {m['validation_window']['end']}: "
        f"AUC {m['auc_roc']:.3f}  AP {m['average_precision']:.3f}  "
        f"CP@100 {m['card_precision_at_100']:.3f}"
    )


def _dask_training(client: object) -> TrainingEngine:
    """Features and trees on the cluster of `client` (a `training.Engine`)."""
    from trustdesk.fraud.learning.distributed import DaskTrainer
    from trustdesk.fraud.learning.features import DaskGroups
    from trustdesk.fraud.training import Engine as TrainingEngine

    trainer = DaskTrainer(client)
    shards = 4 * max(1, len(trainer.workers))
    return TrainingEngine(DaskGroups(client, shards=shards), trainer, trainer.describe)


@app.command("monitoring")
def monitoring(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    wide: Annotated[bool, typer.Option("--wide", help="Every column, however wide.")] = False,
) -> None:
    """Per day of the last 30 days of payments: decisions, review precision, fraud caught,
    false declines, and score drift (PSI; above 0.25 marked as a shift)."""
    from trustdesk.fraud.training import validation_bins

    platform = open_platform()
    with platform.db.reading() as session:
        baseline = validation_bins(session)
        edges = baseline["edges"] if baseline else [i / 10 for i in range(11)]
        days = daily_figures(
            cases.decision_tallies(session, edges), baseline["shares"] if baseline else None
        )
    if as_json:
        print_json([{**asdict(d), "drift": drift(d.psi)} for d in days])
        return
    if not days:
        out.print("no scored payments yet")
        return

    def pct(value: float | None) -> str:
        return "—" if value is None else f"{100 * value:.0f}%"

    def psi_cell(value: float | None) -> Text | str:
        level = drift(value)
        if value is None:
            return "—"
        if level == "shift":
            return Text(f"{value:.3f} shift", style="bold red")
        return f"{value:.3f}" + (" watch" if level == "watch" else "")

    columns = (
        Col("day", wrap=False),
        Col("decided", justify="right", wrap=False),
        Col("reviewed", justify="right", wrap=False, drop=2),
        Col("declined", justify="right", wrap=False, drop=1),
        Col("review precision", justify="right"),
        Col("fraud caught", justify="right"),
        Col("false declines", justify="right"),
        Col("PSI", justify="right", wrap=False),
    )
    rows = [
        (
            d.day.isoformat(),
            f"{d.decided:,}",
            f"{d.reviewed:,}",
            f"{d.declined:,}",
            pct(d.review_precision),
            pct(d.fraud_caught),
            pct(d.false_declines),
            psi_cell(d.psi),
        )
        for d in days
    ]
    print_table(out, columns, rows, wide=wide)
    shifted = sum(drift(d.psi) == "shift" for d in days)
    if shifted:
        err.print(
            f"score drift above {PSI_SHIFT} on {counted(shifted, 'day')}: the scores no longer "
            "look like the model's validation scores (retrain: `trustdesk fraud train`)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


@models_app.command("list")
def models_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Trained model versions and their validation figures (v0: the shipped model)."""
    platform = open_platform()
    with platform.db.reading() as session:
        found = versions.list_models(session)
    if as_json:
        print_json([{"version": m.version, "active": m.active, **m.metrics} for m in found])
        return
    if not any(m.active for m in found):
        out.print("v0 (shipped, trained on simulated payments) is active")
    for m in found:
        out.print(
            f"v{m.version}{' *active*' if m.active else ''}  {m.created_at:%Y-%m-%d %H:%M}  "
            f"AUC {m.metrics.get('auc_roc', float('nan')):.3f}  "
            f"AP {m.metrics.get('average_precision', float('nan')):.3f}  "
            f"CP@100 {m.metrics.get('card_precision_at_100', float('nan')):.3f}"
        )


@models_app.command("build-default")
def models_build_default(
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Write here instead of into the package.")
    ] = None,
) -> None:
    """(developers) Retrain the shipped model (v0) from the package's simulator."""
    from trustdesk.fraud import training

    m = training.build_default_model(out_dir)
    out.print(
        f"shipped model rebuilt: validation AUC {m['auc_roc']:.3f}  "
        f"AP {m['average_precision']:.3f}  CP@100 {m['card_precision_at_100']:.3f}"
    )


@models_app.command("activate")
def models_activate(version: Annotated[int, typer.Argument(parser=parse_row_id)]) -> None:
    """Score with this model version from now on (running servers pick it up within 30 s)."""
    platform = open_platform()
    with platform.db.transaction() as session:
        versions.activate_model(session, version, actor=cli_actor())
    out.print(f"model v{version} is active")


@rules_app.command("show")
def rules_show() -> None:
    """The rule set in force."""
    platform = open_platform()
    with platform.db.reading() as session:
        info = versions.active_rules(session)
    err.print(f"rules version {info.version}{' (shipped)' if info.version == 0 else ''}")
    out.print(info.content, markup=False, highlight=False)


@rules_app.command("load")
def rules_load(file: Annotated[Path, typer.Argument(help="YAML rule file.")]) -> None:
    """Validate a rule file and make it the next active version (a bad rule changes nothing)."""
    text = read_text_file(file)
    platform = open_platform()
    with platform.db.transaction() as session:
        info = versions.load_rules(session, text, actor=cli_actor(), now=utcnow())
    out.print(f"rules version {info.version} is active")


@rules_app.command("versions")
def rules_versions() -> None:
    """Every loaded rule-set version, newest first."""
    platform = open_platform()
    with platform.db.reading() as session:
        found = versions.list_rule_sets(session)
    for r in found:
        when = f"{r.created_at:%Y-%m-%d %H:%M}" if r.created_at else "shipped"
        out.print(f"v{r.version}{' *active*' if r.active else ''}  {when}  {r.actor}")
