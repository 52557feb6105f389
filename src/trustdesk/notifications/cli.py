"""`trustdesk notifications …`: subscribe staff to alert kinds by email or signed webhook."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from trustdesk.console import cli_actor, open_platform, out, print_json
from trustdesk.db import utcnow
from trustdesk.errors import InvalidInput
from trustdesk.notifications import service
from trustdesk.notifications.schemas import KINDS, SubscriptionIn

app = typer.Typer(
    help="Staff notifications: trust alerts, overdue privacy requests, fraud queue, "
    "job failures, incident clocks, case SLA breaches.",
    no_args_is_help=True,
)

_KIND_HELP = "; ".join(f"{k}: {v}" for k, v in KINDS.items())


@app.command("subscribe")
def subscribe(
    kind: Annotated[str, typer.Option(help=_KIND_HELP)],
    email: Annotated[str | None, typer.Option(help="Send email to this address.")] = None,
    webhook: Annotated[
        str | None, typer.Option(help="POST signed, Slack-compatible JSON to this URL.")
    ] = None,
    secret: Annotated[
        str | None, typer.Option(help="Webhook signing secret (generated if left out).")
    ] = None,
    threshold: Annotated[
        int | None, typer.Option(help="fraud_queue: notify when the queue is longer than this.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Subscribe an address or webhook to one kind of alert."""
    try:
        wanted = SubscriptionIn.model_validate(
            {"kind": kind, "email": email, "webhook_url": webhook, "webhook_secret": secret,
             "threshold": threshold}
        )  # fmt: skip
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        reason = str(first["msg"]).removeprefix("Value error, ")
        raise InvalidInput(f"{where}: {reason}" if where else reason) from None
    platform = open_platform()
    with platform.db.transaction() as session:
        made = service.subscribe(session, platform.vault, wanted, actor=cli_actor(), now=utcnow())
    if as_json:
        print_json(made)
        return
    out.print(f"subscription {made.id}: {made.kind} by {made.channel} to {made.target}")
    if made.webhook_secret:
        out.print(
            f"webhook signing secret (shown once): {made.webhook_secret}",
            markup=False,
            highlight=False,
        )


@app.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Active subscriptions (addresses masked)."""
    platform = open_platform()
    with platform.db.reading() as session:
        subs = service.list_subscriptions(session, platform.vault)
    if as_json:
        print_json(subs)
        return
    table = Table("id", "kind", "by", "to", "threshold", "since", title="Subscriptions")
    for s in subs:
        table.add_row(
            str(s.id), s.kind, s.channel, s.target, str(s.threshold or ""),
            s.created_at.strftime("%Y-%m-%d"),
        )  # fmt: skip
    out.print(table)


@app.command("unsubscribe")
def unsubscribe(sub_id: Annotated[int, typer.Argument(min=1, help="The subscription id.")]) -> None:
    """End a subscription."""
    platform = open_platform()
    with platform.db.transaction() as session:
        service.unsubscribe(session, sub_id, actor=cli_actor(), now=utcnow())
    out.print(f"subscription {sub_id} ended")
