"""`trustdesk feedback …` and `trustdesk model …` commands."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from trustdesk.bounds import parse_row_id
from trustdesk.console import cli_actor, err, open_platform, out, print_json, progress, working
from trustdesk.dask_engine import ENGINE_HELP, SCHEDULER_HELP, Engine, check_engine_options
from trustdesk.errors import InvalidInput
from trustdesk.feedback import service
from trustdesk.feedback.analysis import Analyser, default_analyser, load_model
from trustdesk.feedback.file_analysis import (
    analyse_csv,
    analyse_partitions,
    predict_csv,
    read_labelled,
)
from trustdesk.feedback.importing import ColumnMap, analyse_pending, import_feedback_file
from trustdesk.feedback.ratings import DEFAULT_SCALE, SCALES
from trustdesk.feedback.reindexing import ReindexReport, feedback_count, reindex_feedback
from trustdesk.feedback.schemas import ImportReport
from trustdesk.feedback.training import (
    TASKS,
    build_default_models,
    merge_examples,
    save_model,
    shipped_classify_rows,
    train_text_model,
)
from trustdesk.jobs import public as jobs
from trustdesk.platform import Platform
from trustdesk.terminal_tables import Col, print_table
from trustdesk.wording import counted

app = typer.Typer(help="Customer feedback: import, analyse, list.", no_args_is_help=True)
model_app = typer.Typer(help="Offline text models: train, predict, build the defaults.")
model_app.info.no_args_is_help = True

_SCALE_HELP = "; ".join(f"{s.name}: {s.description}" for s in SCALES.values())


def _analyser(models: list[Path] | None) -> Analyser:
    from trustdesk.config import get_settings

    analyser = default_analyser(get_settings().data_dir)
    for directory in models or []:
        analyser = analyser.with_model(load_model(directory))
    return analyser


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV or JSONL (optionally .gz).")],
    source: Annotated[str, typer.Option(help="Where it came from: survey, review, social, …")],
    id_column: Annotated[str, typer.Option(help="Column with the source's id.")] = "external_id",
    text_column: Annotated[str, typer.Option()] = "text",
    time_column: Annotated[str, typer.Option(help="When it was said (ISO 8601).")] = "at",
    segment_column: Annotated[str | None, typer.Option()] = None,
    customer_column: Annotated[
        str | None, typer.Option(help="Customer external id (links and encrypts under them).")
    ] = None,
    rating_column: Annotated[str | None, typer.Option()] = None,
    rating_scale: Annotated[str, typer.Option(help=_SCALE_HELP)] = DEFAULT_SCALE,
    channel_column: Annotated[str | None, typer.Option()] = None,
    language_column: Annotated[str | None, typer.Option(help="ISO 639-1; default en.")] = None,
    rejects: Annotated[
        Path | None, typer.Option(help="Where bad rows go; default <FILE>.rejects.csv.")
    ] = None,
    model: Annotated[
        list[Path] | None, typer.Option(help="Model dir replacing a default (repeatable).")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=50_000)] = 5000,
    analyse: Annotated[
        bool, typer.Option("--analyse/--no-analyse", help="Analyse and index right after storing.")
    ] = True,
    recompute: Annotated[
        bool,
        typer.Option(
            "--recompute/--no-recompute",
            help="Bring the trust index up to date before returning (else a worker or the "
            "server does it shortly).",
        ),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Import feedback; idempotent on (source, external id). Bad rows reported, good rows kept.

    Rows are stored first, then analysed (sentiment, topics) and indexed for search in batches;
    then the trust recompute the new rows made due runs (unless --no-recompute)."""
    platform = open_platform()
    columns = ColumnMap(
        external_id=id_column,
        text=text_column,
        at=time_column,
        segment=segment_column,
        customer=customer_column,
        rating=rating_column,
        rating_scale=None,
        channel=channel_column,
        language=language_column,
        source=None,
    )
    analyser = _analyser(model)
    started = time.perf_counter()
    with progress("storing feedback") as bar:
        task = bar.add_task("import", total=None)

        def advance(report: ImportReport) -> None:
            bar.update(task, completed=report.stored + len(report.rejected))

        report = import_feedback_file(
            platform.db,
            platform.vault,
            file,
            None,  # store first, at storage speed; analysed below
            actor=cli_actor(),
            source=source,
            columns=columns,
            rating_scale=rating_scale,
            rejects_path=rejects,
            batch_size=batch_size,
            on_batch=advance,
        )
    report.store_seconds = round(time.perf_counter() - started, 3)
    if analyse:
        report.analysed, report.analyse_seconds = _analyse_pending(platform, analyser)
    ran = jobs.run_triggered(platform, service.ANALYSED) if analyse and recompute else []
    if as_json:
        print_json(report)
    else:
        out.print(
            f"created {report.created}, unchanged {report.unchanged}, "
            f"rejected {len(report.rejected)}"
            + (f", repeated in the file {report.repeated}" if report.repeated else "")
        )
        out.print(
            f"stored in {report.store_seconds:.2f} s; analysed and indexed {report.analysed} "
            f"in {report.analyse_seconds:.2f} s"
            + ("" if analyse else " (run `trustdesk feedback process` to analyse)")
        )
        for run in ran:
            out.print(
                f"{run.job}: {run.status} in {run.duration_ms} ms"
                + (f" ({run.summary or run.error})" if run.summary or run.error else ""),
                markup=False,
                highlight=False,
            )
        for bad in report.rejected[:50]:
            err.print(f"row {bad.row}: {bad.reason}", markup=False, highlight=False, soft_wrap=True)
        if len(report.rejected) > 50:
            err.print(f"… and {len(report.rejected) - 50} more", markup=False)
        if report.rejects_file:
            err.print(
                f"rejected rows written to {report.rejects_file}", markup=False, soft_wrap=True
            )
    if report.rejected:
        raise typer.Exit(code=InvalidInput.exit_code)


def _analyse_pending(platform: Platform, analyser: Analyser) -> tuple[int, float]:
    started = time.perf_counter()
    with progress("analysing feedback") as bar:
        task = bar.add_task("analyse", total=None)
        done = analyse_pending(
            platform.db,
            platform.vault,
            analyser,
            on_batch=lambda n: bar.update(task, completed=n),
        )
    return done, round(time.perf_counter() - started, 3)


@app.command("process")
def process(
    model: Annotated[
        list[Path] | None, typer.Option(help="Model dir replacing a default (repeatable).")
    ] = None,
) -> None:
    """Analyse and index feedback stored with `import --no-analyse` (safe to re-run)."""
    done, seconds = _analyse_pending(open_platform(), _analyser(model))
    out.print(f"analysed and indexed {counted(done, 'feedback row')} in {seconds:.2f} s")


@app.command("reindex")
def reindex(
    batch_size: Annotated[int, typer.Option(min=1, max=50_000)] = 5000,
) -> None:
    """(Re)build the search index of stored feedback (decrypts in batches; safe to re-run)."""
    platform = open_platform()
    with progress("indexing feedback") as bar:
        task = bar.add_task("reindex", total=feedback_count(platform.db))

        def advance(report: ReindexReport) -> None:
            bar.update(task, completed=report.rows)

        report = reindex_feedback(
            platform.db, platform.vault, actor=cli_actor(), batch_size=batch_size, on_batch=advance
        )
    out.print(
        f"indexed {counted(report.rows, 'feedback row')} ({counted(report.postings, 'term')})"
    )


@app.command("analyze")
def analyze(
    file: Annotated[Path, typer.Argument(help="CSV (or JSONL) with a text column.")],
    output: Annotated[Path, typer.Option(help="CSV to write.")],
    text_column: Annotated[str, typer.Option()] = "text",
    model: Annotated[
        list[Path] | None, typer.Option(help="Model dir replacing a default (repeatable).")
    ] = None,
    engine: Annotated[Engine, typer.Option(help=ENGINE_HELP)] = Engine.embedded,
    scheduler: Annotated[str | None, typer.Option(help=SCHEDULER_HELP)] = None,
) -> None:
    """Add sentiment, p_negative, p_neutral, p_positive and topics to every row (offline).

    With --engine dask, FILE may also be a directory of CSV or Parquet partitions, and an
    --output without a suffix is a directory that receives one CSV per partition."""
    check_engine_options(engine, scheduler)
    with working(f"analysing {file}"):
        if engine is Engine.dask:
            from trustdesk.config import get_settings

            count = analyse_partitions(
                file,
                output,
                text_column=text_column,
                scheduler=scheduler,
                models=model or (),
                data_dir=get_settings().data_dir,
            )
        else:
            count = analyse_csv(file, output, _analyser(model), text_column=text_column)
    out.print(f"analysed {counted(count, 'row')} -> {output}")


@app.command("list")
def list_(
    q: Annotated[
        str | None, typer.Option("--q", help="Words that must all occur in the text.")
    ] = None,
    source: Annotated[str | None, typer.Option()] = None,
    segment: Annotated[str | None, typer.Option()] = None,
    sentiment: Annotated[str | None, typer.Option()] = None,
    topic: Annotated[str | None, typer.Option()] = None,
    since: Annotated[datetime | None, typer.Option()] = None,
    until: Annotated[datetime | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    cursor: Annotated[int, typer.Option(help="Id to continue after.", parser=parse_row_id)] = 0,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    wide: Annotated[bool, typer.Option("--wide", help="Every column, however wide.")] = False,
) -> None:
    """List stored feedback with its analysis (text decrypted)."""
    platform = open_platform()
    filters = service.FeedbackFilter(
        text=q,
        source=source,
        segment=segment,
        sentiment=sentiment,
        topic=topic,
        since=since,
        until=until,
    )
    with platform.db.reading() as session:
        items, next_cursor = service.list_feedback(
            session, platform.vault, filters, after_id=cursor, limit=limit
        )
    if as_json:
        print_json(
            {"items": [i.model_dump(mode="json") for i in items], "next_cursor": next_cursor}
        )
        return
    columns = (
        Col("id", key=True, justify="right"),
        Col("source", drop=2),
        Col("at", wrap=False),
        Col("segment"),
        Col("sentiment"),
        Col("topics", drop=1),
        Col("text"),
    )
    rows = [
        (
            str(f.id),
            f.source,
            f"{f.at:%Y-%m-%d %H:%M}",
            f.segment or "",
            f.sentiment or "",
            ", ".join(f.topics),
            (f.text if f.text is not None else "[erased]") if wide else _clip(f.text),
        )
        for f in items
    ]
    print_table(out, columns, rows, wide=wide)
    if next_cursor:
        out.print(f"more: --cursor {next_cursor}")


def _clip(text: str | None, limit: int = 60) -> str:
    """The start of a text for a table row (`--wide` shows it whole)."""
    if text is None:
        return "[erased]"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@model_app.command("train")
def train(
    task: Annotated[str, typer.Option(help=f"One of {', '.join(TASKS)}.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Model directory to write.")],
    data: Annotated[
        Path | None,
        typer.Option(
            help="Labelled CSV or JSONL. Optional for classify: the shipped Banking77 train "
            "split (77 banking intents) is used."
        ),
    ] = None,
    text_column: Annotated[str, typer.Option()] = "text",
    label_column: Annotated[
        str,
        typer.Option(help="Label; for topics `;`-separated names, empty = none; classify: one."),
    ] = "label",
    split_column: Annotated[
        str | None, typer.Option(help="Key of the validation fifth (default: the text).")
    ] = None,
    exclude_label: Annotated[
        list[str] | None, typer.Option(help="Leave out rows with this label (repeatable).")
    ] = None,
    embeddings: Annotated[
        bool,
        typer.Option(
            "--embeddings/--no-embeddings",
            help="classify: stack the shipped sentence encoder with TF-IDF (more accurate, "
            "slower); without it, TF-IDF only.",
        ),
    ] = True,
    include_corrections: Annotated[
        bool,
        typer.Option(
            "--include-corrections",
            help="Add staff corrections from the database (they override the same text's label).",
        ),
    ] = False,
) -> None:
    """Train a model from your labelled data; `--model DIR` then uses it anywhere.

    sentiment and classify are single-label (classify: any label set, e.g. intents, with a
    probability per prediction); topic is multi-label, except that data with exactly one label on
    every row gives exactly one label a row."""
    if task not in TASKS:
        raise typer.BadParameter(f"must be one of {', '.join(TASKS)}", param_hint="--task")
    keys: list[str] | None
    if data is None:
        if task != "classify":
            raise typer.BadParameter("is required for this task", param_hint="--data")
        texts, labels = shipped_classify_rows()
        keys = None
    else:
        texts, labels, keys = read_labelled(
            data,
            text_column=text_column,
            label_column=label_column,
            split_column=split_column,
            exclude=frozenset(exclude_label or ()),
            keep_empty_labels=task == "topic",
        )
    added = ""
    if include_corrections:
        from trustdesk.feedback.corrections import correction_examples

        platform = open_platform()
        with platform.db.reading() as session:
            extra = correction_examples(session, platform.vault, task)
        texts, labels, keys = merge_examples(
            texts, labels, keys, extra.texts, extra.labels, extra.keys
        )
        added = f", {len(extra.texts)} staff correction(s) included"
    with working(f"training the {task} model"):
        trained = train_text_model(task, texts, labels, split_keys=keys, embeddings=embeddings)
    save_model(trained, out_dir)
    metrics = ", ".join(f"{k} {v}" for k, v in (trained.model.meta.metrics or {}).items())
    if task == "classify":
        out.print(
            f"trained classify model ({len(trained.model.meta.labels)} labels) on "
            f"{trained.train_rows} rows; validation fifth ({trained.validation_rows} rows, "
            f"fitted without them first): {metrics or 'no figures'} -> {out_dir}"
        )
        return
    out.print(
        f"trained {task} model on {trained.train_rows} rows "
        f"({trained.validation_rows} held out: {metrics or 'no figures'}{added}) -> {out_dir}"
    )


@model_app.command("predict")
def predict(
    file: Annotated[Path, typer.Argument(help="CSV (or JSONL) with a text column.")],
    model: Annotated[Path, typer.Option(help="Model directory.")],
    output: Annotated[
        Path,
        typer.Option(
            help="CSV to write: input columns + label (+ probability for single-label models)."
        ),
    ],
    text_column: Annotated[str, typer.Option()] = "text",
) -> None:
    """Label every row with a trained model (single-label models add the label's probability)."""
    count = predict_csv(file, output, load_model(model), text_column=text_column)
    out.print(f"labelled {counted(count, 'row')} -> {output}")


@model_app.command("build-defaults")
def build_defaults(
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Write here instead of into the package.")
    ] = None,
) -> None:
    """(developers) Retrain the shipped default models from the shipped data."""
    built = build_default_models(out_dir)
    for task, trained in built.items():
        out.print(f"{task}: {trained.model.meta.version} {trained.model.meta.metrics}")


def _figures(metrics: dict[str, object]) -> str:
    wanted = (
        "accuracy",
        "macro_f1",
        "micro_f1",
        "top1_accuracy",
        "rows",
        "corrections_accuracy",
        "corrections_rows",
        "compared_with",
        "active_accuracy",
        "active_corrections_accuracy",
    )
    return ", ".join(f"{k} {metrics[k]}" for k in wanted if k in metrics) or "-"


@model_app.command("retrain")
def retrain(
    task: Annotated[str, typer.Option(help="sentiment or topic.")],
) -> None:
    """Train a new version of a feedback model with the staff corrections; it is not active
    until `trustdesk model activate` (compare its validation figures with `model versions`)."""
    from trustdesk import audit
    from trustdesk.feedback import registry
    from trustdesk.feedback.corrections import correction_examples

    if task not in registry.REGISTRY_TASKS:
        raise typer.BadParameter("must be sentiment or topic", param_hint="--task")
    platform = open_platform()
    with platform.db.reading() as session:
        extra = correction_examples(session, platform.vault, task)
    with working(f"training a new {task} model ({counted(len(extra.texts), 'correction')})"):
        made = registry.retrain(
            platform.settings.data_dir, task, (extra.texts, extra.labels, extra.keys)
        )
    with platform.db.transaction() as session:
        audit.record(
            session,
            actor=cli_actor(),
            action="model.trained",
            entity_type="model",
            entity_id=made.version,
            changes={"task": task, "corrections": len(extra.texts), "metrics": made.metrics},
        )
    active = registry.active_version(platform.settings.data_dir, task)
    out.print(
        f"{made.version}: {_figures(made.metrics)} (trained with "
        f"{counted(len(extra.texts), 'correction')}; not active: the active {task} model is "
        f"{active}). Activate it with `trustdesk model activate --task {task} {made.version}`.",
        markup=False,
        highlight=False,
    )


@model_app.command("versions")
def versions(task: Annotated[str, typer.Option(help="sentiment or topic.")]) -> None:
    """The versions of a feedback model, their validation figures and which one is active."""
    from trustdesk.config import get_settings
    from trustdesk.feedback import registry

    if task not in registry.REGISTRY_TASKS:
        raise typer.BadParameter("must be sentiment or topic", param_hint="--task")
    found = registry.list_versions(get_settings().data_dir, task)
    print_table(
        out,
        (
            Col("version", key=True),
            Col("active"),
            Col("validation figures"),
            Col("corrections", justify="right"),
            Col("created", drop=1),
        ),
        [
            (
                v.version,
                "active" if v.active else "",
                _figures(v.metrics),
                "" if v.corrections is None else str(v.corrections),
                v.created_at or "shipped",
            )
            for v in found
        ],
    )


def _switch(task: str, action: str, switch: Callable[[Path], tuple[str, str]]) -> None:
    """Switch the active version and audit it in one transaction (a refused switch: no entry)."""
    from trustdesk import audit

    platform = open_platform()
    with platform.db.transaction() as session:
        before, after = switch(platform.settings.data_dir)
        audit.record(
            session,
            actor=cli_actor(),
            action=f"model.{action}",
            entity_type="model",
            entity_id=task,
            changes={"before": before, "after": after},
        )
    out.print(
        f"{task} model: {before} -> {after} (used by the next analysis; "
        "`trustdesk feedback process` does not re-analyse stored feedback)",
        markup=False,
        highlight=False,
    )


@model_app.command("activate")
def activate(
    version: Annotated[str, typer.Argument(help="A version from `model versions`, or default.")],
    task: Annotated[str, typer.Option(help="sentiment or topic.")],
) -> None:
    """Make a model version the one feedback is analysed with (audited; `model rollback` undoes)."""
    from trustdesk.feedback import registry

    if task not in registry.REGISTRY_TASKS:
        raise typer.BadParameter("must be sentiment or topic", param_hint="--task")
    _switch(task, "activated", lambda data_dir: registry.activate(data_dir, task, version))


@model_app.command("rollback")
def rollback(task: Annotated[str, typer.Option(help="sentiment or topic.")]) -> None:
    """Return to the model version that was active before the current one (audited)."""
    from trustdesk.feedback import registry

    if task not in registry.REGISTRY_TASKS:
        raise typer.BadParameter("must be sentiment or topic", param_hint="--task")
    _switch(task, "rolled_back", lambda data_dir: registry.rollback(data_dir, task))
