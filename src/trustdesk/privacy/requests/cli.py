"""`trustdesk privacy …`: data-subject requests, the access export and verified erasure.

Like every command they act as the local operator, whose access to this machine is the identity
check recorded for requests made here (`export`, `erase`).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from trustdesk.bounds import parse_row_id
from trustdesk.console import cli_actor, err, open_platform, out, print_json
from trustdesk.db import utcnow
from trustdesk.errors import InvalidInput
from trustdesk.platform import Platform
from trustdesk.privacy.consent.policy import Policy, load_policy
from trustdesk.privacy.datamap.cli import datamap_app, notice_app
from trustdesk.privacy.export.archive import to_zip
from trustdesk.privacy.requests import fulfilment
from trustdesk.privacy.requests import service as requests
from trustdesk.privacy.requests.schemas import RequestKind, RequestOut, RequestSource
from trustdesk.private_files import write_private
from trustdesk.terminal_tables import Col, print_table

app = typer.Typer(
    help="Data-subject requests, exports, erasure, the data map and the notice.",
    no_args_is_help=True,
)
requests_app = typer.Typer(help="The queue of data-subject requests.", no_args_is_help=True)
app.add_typer(requests_app, name="requests")
app.add_typer(datamap_app, name="datamap")
app.add_typer(notice_app, name="notice")

Customer = Annotated[str, typer.Option("--customer", help="The customer's external id.")]
AsJson = Annotated[bool, typer.Option("--json")]
RequestId = Annotated[int, typer.Argument(help="The request's number.", parser=parse_row_id)]
OPERATOR_CHECK = "operator on the command line (identity checked before running it)"


def _policy(platform: Platform) -> Policy:
    return load_policy(platform.settings.consent_policy_file)


def _carry_out(
    platform: Platform, customer: str, kind: RequestKind, output: Path | None = None
) -> fulfilment.Completed:
    """Opens, verifies and completes a request in one transaction (nothing stays half done).

    An access export is written to `output` before the commit: if the file cannot be written,
    no completed request is recorded.
    """
    with platform.db.transaction() as session:
        done = fulfilment.carry_out_at_once(
            session,
            platform.vault,
            platform.settings,
            _policy(platform),
            external_id=customer,
            kind=kind,
            source=RequestSource.CLI,
            verification=OPERATOR_CHECK,
            actor=cli_actor(),
            now=utcnow(),
        )
        if output is not None and done.export is not None:
            write_private(output, to_zip(done.export))  # plaintext personal data: 0600
        return done


@app.command("export")
def export(
    customer: Customer,
    output: Annotated[Path, typer.Option("--output", help="The ZIP file to write.")],
) -> None:
    """Write everything held on the customer, decrypted, to a ZIP (an access request, audited)."""
    done = _carry_out(open_platform(), customer, RequestKind.ACCESS, output)
    assert done.export is not None
    counts = ", ".join(f"{k} {len(v)}" for k, v in done.export.sections.items())
    out.print(
        f"export of {customer} written to {output} (request {done.request.id}): {counts}",
        markup=False,
        highlight=False,
    )


@app.command("erase")
def erase(customer: Customer, as_json: AsJson = False) -> None:
    """Crypto-shred the customer's personal data, then verify nothing of it is readable."""
    platform = open_platform()
    done = _carry_out(platform, customer, RequestKind.ERASURE)
    report = (done.request.outcome or {})["verification"]
    if as_json:
        print_json(report)
        return
    out.print(f"{customer} erased (request {done.request.id}); verification:", markup=False)
    out.print(f"  data key destroyed:          {'yes' if report['key_destroyed'] else 'NO'}")
    stored = report["stored_personal_fields"]
    out.print(f"  personal ciphertext left:    {', '.join(stored) if stored else 'none'}")
    out.print(f"  feedback texts readable:     {report['readable_feedback_texts']}")
    out.print(f"  export empty:                {'yes' if report['export_empty'] else 'NO'}")
    out.print("verified" if report["verified"] else "NOT verified")


def _show(items: list[RequestOut], *, wide: bool = False) -> None:
    columns = (
        Col("id", key=True, justify="right"),
        Col("customer", key=True),
        Col("type"),
        Col("status"),
        Col("regime", drop=1),
        Col("due", wrap=False),
        Col("flag"),
    )
    rows = [
        (
            str(r.id),
            r.customer_id,
            r.type.value,
            r.status.value,
            r.regime.value,
            f"{r.due_at:%Y-%m-%d}",
            "OVERDUE" if r.overdue else ("due soon" if r.due_soon else ""),
        )
        for r in items
    ]
    print_table(out, columns, rows, wide=wide)


@requests_app.command("list")
def list_(
    include_closed: Annotated[bool, typer.Option("--all", help="Closed ones too.")] = False,
    as_json: AsJson = False,
    wide: Annotated[bool, typer.Option("--wide", help="Every column, however wide.")] = False,
) -> None:
    """Open requests, soonest due first, with overdue and due-soon flags."""
    platform = open_platform()
    with platform.db.reading() as session:
        items = requests.list_requests(session, now=utcnow(), include_closed=include_closed)
    if as_json:
        print_json([i.model_dump(mode="json") for i in items])
        return
    if not items:
        out.print("no open requests")
        return
    _show(items, wide=wide)


@requests_app.command("show")
def show(request_id: RequestId) -> None:
    """One request with its steps (JSON)."""
    platform = open_platform()
    with platform.db.reading() as session:
        found = requests.get(session, request_id, now=utcnow())
        steps = requests.steps(session, request_id)
    print_json(
        {
            **found.model_dump(mode="json"),
            "steps": [s.model_dump(mode="json") for s in steps],
        }
    )


@requests_app.command("open")
def open_(
    customer: Customer,
    kind: Annotated[str, typer.Option("--type", help="access, erasure, rectification, objection.")],
    purpose: Annotated[
        list[str] | None, typer.Option("--purpose", help="Objection: a purpose objected to.")
    ] = None,
    change: Annotated[
        list[str] | None, typer.Option("--change", help="Rectification: FIELD=VALUE.")
    ] = None,
    received: Annotated[
        datetime | None, typer.Option(help="When it reached us (UTC); default now.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Record a new request; its due date follows from the customer's jurisdiction."""
    names = [k.value for k in RequestKind]
    if kind not in names:
        raise InvalidInput(f"--type must be one of {', '.join(names)}, not {kind!r}")
    changes: dict[str, str | None] = {}
    for item in change or []:
        field, sep, value = item.partition("=")
        if not sep:
            raise InvalidInput(f"--change {item!r}: write FIELD=VALUE")
        changes[field.strip()] = value.strip() or None
    received_at = received.replace(tzinfo=received.tzinfo or utcnow().tzinfo) if received else None
    platform = open_platform()
    with platform.db.transaction() as session:
        opened = requests.open_request(
            session,
            platform.vault,
            _policy(platform),
            external_id=customer,
            kind=RequestKind(kind),
            source=RequestSource.CLI,
            actor=cli_actor(),
            now=utcnow(),
            received_at=received_at,
            purposes=purpose or [],
            changes=changes,
        )
    _result(opened, as_json)


def _result(item: RequestOut, as_json: bool) -> None:
    if as_json:
        print_json(item)
        return
    out.print(
        f"request {item.id} ({item.type.value}, {item.customer_id}): {item.status.value}, "
        f"due {item.due_at:%Y-%m-%d %H:%M} UTC",
        markup=False,
        highlight=False,
    )


@requests_app.command("verify")
def verify(
    request_id: RequestId,
    method: Annotated[str, typer.Option("--method", help="How identity was checked.")],
    as_json: AsJson = False,
) -> None:
    """Record that the requester's identity was verified, and how."""
    platform = open_platform()
    with platform.db.transaction() as session:
        done = requests.verify_identity(
            session, request_id, method=method, actor=cli_actor(), now=utcnow()
        )
    _result(done, as_json)


@requests_app.command("extend")
def extend(
    request_id: RequestId,
    reason: Annotated[str, typer.Option("--reason", help="Why more time is needed.")],
    as_json: AsJson = False,
) -> None:
    """Use the one extension the regime allows (GDPR: +2 months; CCPA: +45 days)."""
    platform = open_platform()
    with platform.db.transaction() as session:
        done = requests.extend(session, request_id, reason=reason, actor=cli_actor(), now=utcnow())
    _result(done, as_json)


@requests_app.command("complete")
def complete(
    request_id: RequestId,
    output: Annotated[
        Path | None, typer.Option("--output", help="Access requests: where to write the ZIP.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Carry out a verified request and close it (access requests need --output)."""
    platform = open_platform()
    with platform.db.transaction() as session:
        done = fulfilment.complete(
            session,
            platform.vault,
            platform.settings,
            _policy(platform),
            request_id,
            actor=cli_actor(),
            now=utcnow(),
        )
        if done.export is not None:
            if output is None:
                raise InvalidInput("an access request needs --output FILE.zip for the export")
            write_private(output, to_zip(done.export))
    _result(done.request, as_json)
    if output is not None and done.export is not None:
        err.print(f"export written to {output}")


@requests_app.command("reject")
def reject(
    request_id: RequestId,
    reason: Annotated[str, typer.Option("--reason")],
    as_json: AsJson = False,
) -> None:
    """Close a request without carrying it out, saying why."""
    platform = open_platform()
    with platform.db.transaction() as session:
        done = requests.reject(session, request_id, reason=reason, actor=cli_actor(), now=utcnow())
    _result(done, as_json)
