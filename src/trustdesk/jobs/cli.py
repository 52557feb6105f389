"""`trustdesk jobs …` (what is declared, runs, failures, durations; run one now) and
`trustdesk worker` (run due jobs until stopped)."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer
from rich.table import Table

from trustdesk.console import cli_actor, open_platform, out, print_json
from trustdesk.db import utcnow
from trustdesk.errors import Conflict, InvalidInput
from trustdesk.jobs import service
from trustdesk.jobs.registry import declared_jobs, job_named
from trustdesk.jobs.runner import Runner
from trustdesk.jobs.schemas import JobOut, RunOut

app = typer.Typer(help="Background jobs: schedules, runs, failures.", no_args_is_help=True)
worker_app = typer.Typer(help="Run due background jobs until stopped (Ctrl-C).")

_STATUSES = ("running", "succeeded", "failed", "lost")


def _when(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if hasattr(value, "strftime") else "-"


@app.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every declared job: schedule, triggers, next due time, last run and failures in 24 h."""
    platform = open_platform()
    with platform.db.reading() as session:
        views = [
            JobOut.model_validate(v) for v in service.job_views(session, declared_jobs(), utcnow())
        ]
    if as_json:
        print_json(views)
        return
    table = Table("job", "runs", "next due (UTC)", "last", "ms", "fails 24h", title="Jobs")
    for v in views:
        runs = f"every {v.every_s}s" if v.every_s else ""
        if v.triggered_by:
            runs = f"{runs} + on {', '.join(v.triggered_by)}".lstrip(" +")
        due = "now" if v.pending_since or v.retry_at else _when(v.next_due_at)
        table.add_row(
            v.name,
            runs,
            due,
            v.last_status or "-",
            str(v.last_duration_ms or "-"),
            str(v.failures_24h),
        )
    out.print(table)


@app.command("runs")
def runs(
    job: Annotated[str | None, typer.Option(help="Only this job's runs.")] = None,
    status: Annotated[str | None, typer.Option(help="running, succeeded, failed or lost.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Recent runs, newest first: status, attempt, duration, error."""
    if status is not None and status not in _STATUSES:
        raise InvalidInput(f"--status must be one of {', '.join(_STATUSES)}")
    if job is not None:
        job_named(job)
    platform = open_platform()
    with platform.db.reading() as session:
        found = [
            RunOut.model_validate(r)
            for r in service.recent_runs(session, job=job, status=status, limit=limit)
        ]
    if as_json:
        print_json(found)
        return
    table = Table(
        "id", "job", "started (UTC)", "why", "try", "status", "ms", "result", title="Runs"
    )
    for r in found:
        result = r.error or r.summary or ""
        if r.retry_at:
            result = f"{result} (retry at {_when(r.retry_at)})"
        table.add_row(
            str(r.id),
            r.job_name,
            _when(r.started_at),
            r.reason,
            str(r.attempt),
            r.status,
            str(r.duration_ms if r.duration_ms is not None else "-"),
            result,
        )
    out.print(table)


@app.command("run")
def run(
    name: Annotated[str, typer.Argument(help="The job to run now (see `trustdesk jobs list`).")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run one job now, here, and wait for it (it is recorded like any other run)."""
    platform = open_platform()
    job_named(name)
    with platform.db.transaction() as session:
        service.request_run(session, name, actor=cli_actor(), now=utcnow())
    outcomes = Runner(platform).run_due(only=name, limit=1)
    if not outcomes:
        raise Conflict(
            f"{name} was not run: it is paused (`trustdesk jobs resume {name}`) or running on "
            "another worker (`trustdesk jobs list`)"
        )
    outcome = outcomes[0]
    if as_json:
        print_json(outcome.__dict__)
    else:
        out.print(
            f"{outcome.job}: {outcome.status} in {outcome.duration_ms} ms"
            + (f": {outcome.summary}" if outcome.summary else "")
            + (f": {outcome.error}" if outcome.error else ""),
            markup=False,
            highlight=False,
        )
    if outcome.status != "succeeded":
        raise typer.Exit(code=1)


@app.command("pause")
def pause(name: Annotated[str, typer.Argument(help="The job to stop running.")]) -> None:
    """Stop a job from being run by any worker until it is resumed."""
    platform = open_platform()
    with platform.db.transaction() as session:
        service.set_paused(session, name, True, actor=cli_actor(), now=utcnow())
    out.print(f"{name} paused; `trustdesk jobs resume {name}` starts it again")


@app.command("resume")
def resume(name: Annotated[str, typer.Argument(help="The paused job to run again.")]) -> None:
    """Let workers run a paused job again (from its next due time)."""
    platform = open_platform()
    with platform.db.transaction() as session:
        service.set_paused(session, name, False, actor=cli_actor(), now=utcnow())
    out.print(f"{name} resumed")


@app.command("due")
def due(
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run every job that is due now, once, and stop (for cron or a one-off catch-up)."""
    outcomes = Runner(open_platform()).run_due()
    if as_json:
        print_json([o.__dict__ for o in outcomes])
        return
    for o in outcomes:
        out.print(f"{o.job}: {o.status} in {o.duration_ms} ms", markup=False, highlight=False)
    if not outcomes:
        out.print("nothing due")


@worker_app.callback(invoke_without_command=True)
def worker(
    poll_s: Annotated[
        float | None, typer.Option(min=0.1, max=3600, help="Seconds between looks for due jobs.")
    ] = None,
) -> None:
    """Run due jobs until stopped. Several workers (and servers) may share one PostgreSQL
    database: each due run is claimed by exactly one of them."""
    platform = open_platform()
    runner = Runner(platform)
    stopped = threading.Event()

    def _stop(*_: object) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    out.print(f"worker {runner.owner}: {len(runner.jobs)} jobs; Ctrl-C stops")
    halt = runner.start(poll_s or platform.settings.jobs_poll_s)
    stopped.wait()
    halt()
