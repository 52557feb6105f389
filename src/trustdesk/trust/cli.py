"""`trustdesk trust …` and `trustdesk alerts …` commands."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime
from typing import Annotated, Any

import typer

from trustdesk.console import cli_actor, open_platform, out, print_json, working
from trustdesk.dask_engine import (
    ENGINE_HELP,
    SCHEDULER_HELP,
    Engine,
    check_engine_options,
    dask_client,
)
from trustdesk.errors import InvalidInput
from trustdesk.terminal_tables import Col, print_table
from trustdesk.trust import alert_reads, explanations, score_reads, service
from trustdesk.trust.partitions import DaskStats
from trustdesk.trust.schemas import Explanation
from trustdesk.wording import counted

app = typer.Typer(help="The trust index, its drivers and explanations.", no_args_is_help=True)
alerts_app = typer.Typer(help="Trust drops and negative-topic surges.", no_args_is_help=True)

_BY = ("segment", "customer", "overall")


def _params() -> service.TrustParams:
    return service.TrustParams.from_settings(open_platform().settings)


@app.command("recompute")
def recompute(
    full: Annotated[bool, typer.Option("--full", help="Rebuild from all feedback.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    engine: Annotated[Engine, typer.Option(help=ENGINE_HELP)] = Engine.embedded,
    scheduler: Annotated[str | None, typer.Option(help=SCHEDULER_HELP)] = None,
    batch_size: Annotated[
        int, typer.Option(min=1, help="Observations per batch (a Dask partition).")
    ] = 100_000,
) -> None:
    """Fold new feedback into the index (incremental from the watermark) and raise alerts.

    With --engine dask, each batch is mapped to statistics on a Dask worker and the partial
    sums are added there; this process reads the observations and stores the totals."""
    check_engine_options(engine, scheduler)
    platform = open_platform()
    with ExitStack() as stack:
        stats = None
        if engine is Engine.dask:
            stats = DaskStats(stack.enter_context(dask_client(scheduler)))
        stack.enter_context(working("recomputing the trust index"))
        session = stack.enter_context(platform.db.transaction())
        report = service.recompute(
            session, _params(), full=full, batch_size=batch_size, stats=stats
        )
    if as_json:
        print_json(report)
        return
    out.print(
        f"{report.mode}: {counted(report.observations, 'new observation')}, "
        f"{counted(report.stat_rows, 'statistic')} updated, "
        f"{counted(report.alerts_raised, 'alert')} in {report.seconds:.2f} s"
    )


@app.command("show")
def show(
    by: Annotated[str, typer.Option(help="segment, customer or overall.")] = "segment",
    dimension: Annotated[str | None, typer.Option(help="Score one trust dimension.")] = None,
    bucket: Annotated[str | None, typer.Option(help="day or week: one score per bucket.")] = None,
    as_of: Annotated[datetime | None, typer.Option(help="Only data up to this UTC time.")] = None,
    since: Annotated[datetime | None, typer.Option(help="Only data from this UTC time.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000, help="Customers per page.")] = 100,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    wide: Annotated[bool, typer.Option("--wide", help="Every column, however wide.")] = False,
) -> None:
    """The trust index with its 95% interval, per segment (default), customer or overall."""
    if by not in _BY:
        raise InvalidInput(f"--by must be one of {', '.join(_BY)}")
    platform = open_platform()
    with platform.db.reading() as session:
        if by == "customer":
            found = score_reads.customer_scores(
                session, _params(), dimension=dimension, limit=limit
            )
        else:
            found = score_reads.scores(
                session,
                _params(),
                by=by,
                dimension=dimension,
                bucket=bucket,
                as_of=_utc(as_of),
                since=_utc(since),
            )
    rows: list[dict[str, Any]] = []
    for s in found:
        row: dict[str, Any] = {} if by == "overall" else {by: s.key}
        if s.bucket_start is not None:
            row["bucket_start"] = s.bucket_start.isoformat()
        row |= {
            "trust_index": s.trust_index,
            "ci_low": s.ci_low,
            "ci_high": s.ci_high,
            "n": s.n,
            "dimensions": s.dimensions,
            "as_of": s.as_of.isoformat() if s.as_of else None,
            "evidence_up_to": s.evidence_up_to.isoformat() if s.evidence_up_to else None,
        }
        if s.as_of_earliest is not None:
            row["as_of_earliest"] = s.as_of_earliest.isoformat()
        rows.append(row)
    if as_json:
        print_json(rows)
        return
    columns = [
        *([Col(by, key=by == "customer")] if by != "overall" else []),
        Col("bucket", drop=1 if bucket is None else 0, wrap=False),
        Col("index", justify="right", wrap=False),
        Col("95% interval"),
        Col("n", justify="right", wrap=False),
        Col("as of", drop=2, wrap=False),
        Col("dimensions"),
    ]
    table = [
        (
            *([s.key] if by != "overall" else []),
            s.bucket_start.date().isoformat() if s.bucket_start else "all",
            f"{s.trust_index:.1f}",
            f"{s.ci_low:.1f} - {s.ci_high:.1f}",
            str(s.n),
            _as_of_text(s),
            ", ".join(f"{k} {v:.0f}" for k, v in s.dimensions.items()),
        )
        for s in found
    ]
    print_table(out, columns, table, wide=wide)


def _as_of_text(s: Any) -> str:
    if s.as_of is None:
        return ""
    if s.as_of_earliest is not None and s.as_of_earliest != s.as_of:
        return f"{s.as_of_earliest:%Y-%m-%d}..{s.as_of:%Y-%m-%d}"
    return f"{s.as_of:%Y-%m-%d}"


def _utc(value: datetime | None) -> datetime | None:
    from datetime import UTC

    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@app.command("explain")
def explain(
    segment: Annotated[str | None, typer.Option(help="Explain this segment's index.")] = None,
    customer: Annotated[
        str | None, typer.Option(help="Explain this customer (external id).")
    ] = None,
    text: Annotated[bool, typer.Option("--text/--no-text", help="Show feedback text.")] = True,
    top: Annotated[int, typer.Option(min=1, max=50)] = 5,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Which signals and which feedback moved a segment's or a customer's index."""
    if (segment is None) == (customer is None):
        raise InvalidInput("give exactly one of --segment or --customer")
    platform = open_platform()
    with platform.db.reading() as session:
        if segment is not None:
            found = explanations.explain_segment(
                session, platform.vault, _params(), segment, with_text=text, top=top
            )
        else:
            assert customer is not None
            found = explanations.explain_customer(
                session, platform.vault, _params(), customer, with_text=text, top=top
            )
    if as_json:
        print_json(found)
        return
    _print_explanation(found)


def _print_explanation(found: Explanation) -> None:
    s = found.score
    out.print(
        f"{s.level} {s.key}: {s.trust_index:.1f} (95% {s.ci_low:.1f} - {s.ci_high:.1f}, n={s.n}); "
        f"{found.parent_level} {s.parent:.1f}, own data weighs {s.credibility:.0%}",
        markup=False,
        highlight=False,
    )
    for part in found.signals:
        out.print(
            f"  {part.signal}: {part.points:+.1f} points from {counted(part.n, 'observation')}"
        )
    for title, items in (("pulled down by", found.pulled_down), ("pulled up by", found.pulled_up)):
        if items:
            out.print(title)
        for e in items:
            snippet = (e.text or "").replace("\n", " ")[:100]
            out.print(
                f"  {e.points:+.2f}  {e.signal} #{e.ref} ({e.value:.0f})  {snippet}",
                markup=False,
                highlight=False,
            )


@app.command("drivers")
def drivers(
    segment: Annotated[str, typer.Option(help="The segment.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    wide: Annotated[bool, typer.Option("--wide", help="Every column, however wide.")] = False,
) -> None:
    """Topics that pull the segment's trust down (first) or up, with share and effect."""
    platform = open_platform()
    with platform.db.reading() as session:
        found = score_reads.segment_drivers(session, segment)
    if as_json:
        print_json([d.model_dump(mode="json") for d in found])
        return
    columns = (
        Col("topic"),
        Col("share", justify="right", wrap=False),
        Col("effect (95%)"),
        Col("impact", justify="right", wrap=False),
        Col("direction"),
    )
    rows = [
        (
            d.label,
            f"{d.share:.0%}",
            f"{d.effect:+.1f} ({d.ci_low:+.1f} .. {d.ci_high:+.1f})",
            f"{d.impact:+.1f}",
            d.direction,
        )
        for d in found
    ]
    print_table(out, columns, rows, wide=wide)


@app.command("trend")
def trend(
    segment: Annotated[str | None, typer.Option(help="The segment (default: overall).")] = None,
    bucket: Annotated[str, typer.Option(help="day or week.")] = "day",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The index per day or week."""
    platform = open_platform()
    with platform.db.reading() as session:
        points = score_reads.trend(session, _params(), segment=segment, bucket=bucket)
    if as_json:
        print_json([p.model_dump(mode="json") for p in points])
        return
    for p in points:
        out.print(
            f"{p.bucket_start.date()}  {p.trust_index:5.1f}  ({p.ci_low:.1f} - {p.ci_high:.1f})"
            f"  n={p.n}"
        )


@alerts_app.command("list")
def list_alerts(
    segment: Annotated[str | None, typer.Option(help="Only this segment.")] = None,
    unacknowledged: Annotated[bool, typer.Option("--unacknowledged")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    wide: Annotated[bool, typer.Option("--wide", help="Every column, however wide.")] = False,
) -> None:
    """Alerts, the most recent window first."""
    platform = open_platform()
    with platform.db.reading() as session:
        found = alert_reads.list_alerts(session, segment=segment, unacknowledged=unacknowledged)
    if as_json:
        print_json(
            [
                {
                    "kind": a.kind,
                    "segment": a.segment,
                    "topic": a.topic,
                    "window_start": a.window_start.isoformat(),
                    "window_end": a.window_end.isoformat(),
                    "severity": a.severity,
                    "baseline": a.baseline,
                    "observed": a.observed,
                }
                for a in found
            ]
        )
        return
    columns = (
        Col("id", key=True, justify="right"),
        Col("kind"),
        Col("segment"),
        Col("topic"),
        Col("window", wrap=False),
        Col("severity"),
        Col("baseline", justify="right", wrap=False),
        Col("observed", justify="right", wrap=False),
        Col("acknowledged", drop=1),
    )
    rows = [
        (
            str(a.id),
            a.kind,
            a.segment,
            a.topic or "",
            a.window_start.date().isoformat(),
            a.severity,
            f"{a.baseline:.1f}",
            f"{a.observed:.1f}",
            a.acknowledged_by or "",
        )
        for a in found
    ]
    print_table(out, columns, rows, wide=wide)


@alerts_app.command("ack")
def ack(
    alert_id: Annotated[int, typer.Argument(help="The alert's id (see `alerts list`).")],
) -> None:
    """Acknowledge an alert."""
    platform = open_platform()
    with platform.db.transaction() as session:
        alert = service.acknowledge_alert(session, alert_id, actor=cli_actor())
        who = alert.acknowledged_by
    out.print(f"alert {alert_id} acknowledged by {who}", markup=False, highlight=False)
