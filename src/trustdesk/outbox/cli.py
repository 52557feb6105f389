"""`trustdesk outbox …` and `trustdesk mailbox …` commands."""

from __future__ import annotations

import signal
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from trustdesk.bounds import parse_row_id
from trustdesk.console import cli_actor, open_platform, out, print_json
from trustdesk.outbox import service
from trustdesk.outbox.delivery import deliver_due
from trustdesk.outbox.mailbox import list_mail, start_mailbox
from trustdesk.outbox.postal import export_postal

app = typer.Typer(
    help="The outbox: every email, webhook and postal letter TrustDesk sends.",
    no_args_is_help=True,
)
mailbox_app = typer.Typer(
    help="A local mailbox (SMTP server) that keeps what it receives: for the demo and tests.",
    no_args_is_help=True,
)


@app.command("deliver")
def deliver(
    limit: Annotated[int, typer.Option(min=1, max=1_000_000)] = 1000,
    until_empty: Annotated[
        bool, typer.Option("--until-empty", help="Keep going until nothing is due.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Send due messages now (the job system does this on a schedule)."""
    platform = open_platform()
    report = deliver_due(platform, limit=limit, until_empty=until_empty)
    if as_json:
        print_json(report)
        return
    out.print(
        f"claimed {report.claimed}: sent {report.sent}, failed {report.failed}, bounced "
        f"{report.bounced}, dead {report.dead}, unreachable {report.unreachable}, to postal "
        f"{report.to_postal}, unconfirmed {report.unconfirmed} ({report.seconds:.1f} s)"
    )


@app.command("list")
def list_(
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    cursor: Annotated[int, typer.Option(help="Id to continue after.", parser=parse_row_id)] = 0,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Messages, oldest first (no addresses or bodies: those are personal data)."""
    platform = open_platform()
    with platform.db.reading() as session:
        items, next_cursor = service.list_messages(
            session, kind=kind, status=status, after_id=cursor, limit=limit
        )
    if as_json:
        print_json(
            {"items": [i.model_dump(mode="json") for i in items], "next_cursor": next_cursor}
        )
        return
    table = Table("id", "kind", "channel", "recipient", "status", "tries")
    for m in items:
        table.add_row(str(m.id), m.kind, m.channel, m.recipient, m.status, str(m.attempts))
    out.print(table)
    if next_cursor:
        out.print(f"more: --cursor {next_cursor}")


@app.command("show")
def show(
    message_id: Annotated[int, typer.Argument(parser=parse_row_id)],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """One message and its delivery log."""
    platform = open_platform()
    with platform.db.reading() as session:
        message = service.get_message(session, message_id)
    if as_json:
        print_json(message)
        return
    for key, value in message.model_dump(exclude={"log"}).items():
        out.print(f"{key:>20}: {value}", markup=False, highlight=False)
    for entry in message.log:
        out.print(
            f"  attempt {entry.attempt} {entry.at:%Y-%m-%d %H:%M:%S} {entry.outcome} "
            f"{entry.code or ''} {entry.detail or ''}",
            markup=False,
            highlight=False,
        )


@app.command("counts")
def counts(
    kind: Annotated[str | None, typer.Option()] = None,
    key_prefix: Annotated[str | None, typer.Option()] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Messages per status."""
    platform = open_platform()
    with platform.db.reading() as session:
        found = service.status_counts(session, kind=kind, key_prefix=key_prefix)
    if as_json:
        print_json(found.as_dict())
        return
    for status, n in found.as_dict().items():
        out.print(f"{status:>12}: {n}")


@app.command("retry")
def retry(
    message_id: Annotated[int, typer.Argument(parser=parse_row_id)],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Send a failed, dead, bounced, unreachable or unconfirmed message again (exit 4 if it
    was sent: that would be a second message)."""
    platform = open_platform()
    with platform.db.transaction() as session:
        message = service.retry(session, message_id, actor=cli_actor())
    if as_json:
        print_json(message)
    else:
        out.print(f"message {message.id} is pending again")


@app.command("postal-export")
def postal_export(
    kind: Annotated[str, typer.Option(help="The kind of letters, e.g. incident.notice.")],
    out_file: Annotated[Path, typer.Option("--out", help="CSV file to write (owner-only).")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Write pending postal letters (customers without email) to a CSV for a mail house and
    mark them handed over; erased customers are counted as unreachable."""
    platform = open_platform()
    result = export_postal(platform, kind=kind, out=out_file, actor=cli_actor())
    if as_json:
        print_json(result)
    else:
        out.print(f"exported {result['exported']}, unreachable {result['unreachable']}")


@app.command("webhook-add")
def webhook_add(
    name: Annotated[str, typer.Option(help="The endpoint's name, used when enqueueing.")],
    url: Annotated[str, typer.Option(help="http(s) address to POST to.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Add a webhook endpoint (or give it a new URL and secret); prints its signing secret once."""
    platform = open_platform()
    with platform.db.transaction() as session:
        endpoint_id, secret = service.register_webhook_endpoint(
            session, platform.vault, name=name, url=url, actor=cli_actor()
        )
    if as_json:
        print_json({"id": endpoint_id, "name": name, "secret": secret})
    else:
        out.print(f"endpoint {name} ({endpoint_id}); signing secret (shown once): {secret}")


@app.command("test-email")
def test_email(
    to: Annotated[str, typer.Option(help="Address to send a test message to.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Enqueue a test email to a staff address (then `outbox deliver`)."""
    import secrets

    platform = open_platform()
    with platform.db.transaction() as session:
        ref = service.enqueue_email(
            session,
            platform.vault,
            kind="outbox.test",
            key=f"outbox-test:{secrets.token_hex(8)}",
            to_address=to,
            subject="TrustDesk outbox test",
            text="This is a test message from the TrustDesk outbox.",
            actor=cli_actor(),
        )
    if as_json:
        print_json(asdict(ref))
    else:
        out.print(f"queued message {ref.id}")


@mailbox_app.command("serve")
def mailbox_serve(
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8025,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Where to keep messages; default <data dir>/mailbox."),
    ] = None,
) -> None:
    """Run the local mailbox until interrupted (Ctrl-C)."""
    from trustdesk.config import get_settings

    folder = directory or get_settings().data_dir / "mailbox"
    controller = start_mailbox(folder, host, port)
    out.print(f"mailbox listening on {host}:{port}, keeping messages in {folder}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


@mailbox_app.command("list")
def mailbox_list(
    directory: Annotated[
        Path | None, typer.Option("--dir", help="The mailbox; default <data dir>/mailbox.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The newest messages the local mailbox received."""
    from trustdesk.config import get_settings

    folder = directory or get_settings().data_dir / "mailbox"
    mails = list_mail(folder, limit=limit)
    if as_json:
        print_json([asdict(m) for m in mails])
        return
    table = Table("received", "to", "subject")
    for m in mails:
        table.add_row(m.date, m.to, m.subject)
    out.print(table)
