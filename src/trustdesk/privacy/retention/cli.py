"""`trustdesk retention plan|apply`: the data map's retention rules, dry run first."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table

from trustdesk.console import cli_actor, open_platform, out, print_json
from trustdesk.db import utcnow
from trustdesk.privacy.retention import service
from trustdesk.privacy.retention.service import RetentionItem

app = typer.Typer(
    help="Retention from the data map: what is past its period, deleted or anonymised.",
    no_args_is_help=True,
)


def _show(items: list[RetentionItem], title: str, *, applied: bool) -> None:
    table = Table("system", "records", "rule", "cutoff (UTC)", "past period", title=title)
    if applied:
        table.add_column("done")
    for i in items:
        rule = f"{i.action} after {i.days} days" if i.action else "none"
        row = [
            i.system,
            i.records,
            rule + (f" ({i.problem})" if i.problem and i.action else ""),
            i.cutoff.strftime("%Y-%m-%d") if i.cutoff else "-",
            str(i.due),
        ]
        table.add_row(*row, *([str(i.done)] if applied else []))
    out.print(table)


@app.command("plan")
def plan(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Dry run: what applying the rules now would delete or anonymise (nothing is changed)."""
    platform = open_platform()
    with platform.db.reading() as session:
        items = service.plan(session, utcnow())
    if as_json:
        print_json([asdict(i) for i in items])
        return
    _show(items, "Retention plan (dry run)", applied=False)


@app.command("apply")
def apply(
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Delete or anonymise what is past its period now (the daily job does the same), audited."""
    platform = open_platform()
    if not yes:
        with platform.db.reading() as session:
            due = sum(i.due for i in service.plan(session, utcnow()) if not i.problem)
        if due == 0:
            out.print("nothing is past its retention period")
            return
        typer.confirm(
            f"{due} records are past their retention period; apply the rules?", abort=True
        )
    with platform.db.transaction() as session:
        items = service.apply(session, utcnow(), actor=cli_actor())
    if as_json:
        print_json([asdict(i) for i in items])
        return
    _show(items, "Retention applied", applied=True)
