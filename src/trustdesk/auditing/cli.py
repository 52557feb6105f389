"""`trustdesk audit …` commands."""

from __future__ import annotations

from typing import Annotated

import typer

from trustdesk import audit
from trustdesk.console import err, open_platform, out, print_json
from trustdesk.errors import VerificationFailed
from trustdesk.wording import counted

app = typer.Typer(help="The hash-chained audit trail.", no_args_is_help=True)


@app.command("verify")
def verify(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Check every link of the chain; exit 1 naming the first broken entry."""
    platform = open_platform()
    with platform.db.reading() as session:
        report = audit.verify(session)
    if as_json:
        print_json(
            {
                "ok": report.ok,
                "checked": report.checked,
                "broken_id": report.broken_id,
                "reason": report.reason,
            }
        )
    elif report.ok:
        out.print(f"audit chain intact: {counted(report.checked, 'entry', 'entries')} verified")
    else:
        err.print(f"audit chain broken at entry {report.broken_id}: {report.reason}")
    if not report.ok:
        raise typer.Exit(code=VerificationFailed.exit_code)


@app.command("list")
def list_(
    entity_type: Annotated[str | None, typer.Option()] = None,
    entity_id: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    platform = open_platform()
    with platform.db.reading() as session:
        rows = audit.entries(session, entity_type=entity_type, entity_id=entity_id, limit=limit)
    if as_json:
        print_json(
            [
                {
                    "id": r.id,
                    "at": r.at,
                    "actor": r.actor,
                    "action": r.action,
                    "entity_type": r.entity_type,
                    "entity_id": r.entity_id,
                    "changes": r.diff,
                }
                for r in rows
            ]
        )
        return
    for r in rows:
        out.print(
            f"{r.id:>6} {r.at:%Y-%m-%d %H:%M:%S} {r.actor:<24} {r.action:<20} "
            f"{r.entity_type}:{r.entity_id} {r.diff}",
            markup=False,
            highlight=False,
        )
