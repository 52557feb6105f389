"""`trustdesk customers …` commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trustdesk.bounds import parse_row_id
from trustdesk.console import cli_actor, err, open_platform, out, print_json, progress
from trustdesk.customers import erasure, service
from trustdesk.customers.importing import import_customer_file
from trustdesk.customers.schemas import ImportReport
from trustdesk.errors import InvalidInput, NotFound
from trustdesk.terminal_tables import Col, print_table

app = typer.Typer(help="Customers and their encrypted personal data.", no_args_is_help=True)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV or JSONL (optionally .gz) with external_id, …")],
    batch_size: Annotated[int, typer.Option(min=1, max=10000)] = 500,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Import customers; idempotent on external_id. Bad rows are reported, good rows stored."""
    platform = open_platform()
    with progress("importing customers") as bar:
        task = bar.add_task("import", total=None)

        def advance(report: ImportReport) -> None:
            bar.update(task, completed=report.stored + len(report.rejected))

        report = import_customer_file(
            platform.db,
            platform.vault,
            file,
            actor=cli_actor(),
            batch_size=batch_size,
            on_batch=advance,
        )
    if as_json:
        print_json(report)
    else:
        out.print(
            f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}, "
            f"rejected {len(report.rejected)}"
        )
        for bad in report.rejected:
            err.print(f"row {bad.row}: {bad.reason}", markup=False, highlight=False, soft_wrap=True)
    if report.rejected:
        raise typer.Exit(code=InvalidInput.exit_code)


@app.command("list")
def list_(
    segment: Annotated[str | None, typer.Option(help="Only this segment.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    cursor: Annotated[int, typer.Option(help="Id to continue after.", parser=parse_row_id)] = 0,
    reveal: Annotated[bool, typer.Option(help="Decrypt personal data.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    wide: Annotated[bool, typer.Option("--wide", help="Every column, however wide.")] = False,
) -> None:
    """List customers, personal data masked unless --reveal."""
    platform = open_platform()
    with platform.db.reading() as session:
        items, next_cursor = service.list_customers(
            session, platform.vault, reveal=reveal, after_id=cursor, limit=limit, segment=segment
        )
    if as_json:
        print_json(
            {"items": [i.model_dump(mode="json") for i in items], "next_cursor": next_cursor}
        )
        return
    columns = (
        Col("external id", key=True),
        Col("segments"),
        Col("jurisdiction", drop=1),
        Col("name"),
        Col("email"),
        Col("personal data", drop=2),
    )
    rows = [
        (
            c.external_id,
            ", ".join(c.segments),
            c.jurisdiction or "",
            c.name or "",
            c.email or "",
            c.personal_data,
        )
        for c in items
    ]
    print_table(out, columns, rows, wide=wide)
    if next_cursor:
        out.print(f"more: --cursor {next_cursor}")


@app.command("show")
def show(
    external_id: str,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """One customer with decrypted personal data."""
    platform = open_platform()
    with platform.db.reading() as session:
        customer = service.get_customer(session, platform.vault, external_id, reveal=True)
    if as_json:
        print_json(customer)
        return
    for key, value in customer.model_dump().items():
        out.print(f"{key:>14}: {value}", markup=False, highlight=False)


@app.command("lookup")
def lookup(
    email: Annotated[str, typer.Option(help="Exact email address.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Find customers by exact email through the blind index (exit 3 when none)."""
    platform = open_platform()
    with platform.db.reading() as session:
        found = service.find_by_email(session, platform.vault, email, reveal=True)
    if as_json:
        print_json([c.model_dump(mode="json") for c in found])
    else:
        for c in found:
            out.print(c.external_id)
    if not found:
        err.print("no customer has that email")
        raise typer.Exit(code=NotFound.exit_code)


@app.command("forget")
def forget(
    external_id: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Destroy the customer's data key: their personal data becomes unreadable everywhere."""
    if not yes:
        typer.confirm(f"Irreversibly destroy the personal data of {external_id}?", abort=True)
    platform = open_platform()
    with platform.db.transaction() as session:
        erasure.erase_customer(session, platform.vault, external_id, actor=cli_actor())
    out.print(f"{external_id}: data key destroyed; personal data is unreadable")
