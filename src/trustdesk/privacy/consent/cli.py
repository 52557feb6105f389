"""`trustdesk consent …` commands; like every command they act as the local operator (admin)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from trustdesk.console import cli_actor, err, open_platform, out, print_json
from trustdesk.db import utcnow
from trustdesk.errors import InvalidInput, VerificationFailed
from trustdesk.privacy.consent import enforcement, projection, proof, service
from trustdesk.privacy.consent.links import signer_for
from trustdesk.privacy.consent.policy import ConsentState, Policy, load_policy
from trustdesk.privacy.consent.schemas import ConsentVerifyOut, Source
from trustdesk.private_files import write_private
from trustdesk.serving import public_base_url
from trustdesk.wording import counted

app = typer.Typer(help="Customers' consent: record, check, prove.", no_args_is_help=True)

Customer = Annotated[str, typer.Option("--customer", help="The customer's external id.")]
Purpose = Annotated[str, typer.Option("--purpose", help="e.g. marketing, breach_notice.")]
Channel = Annotated[str, typer.Option("--channel", help="e.g. email, sms, post.")]
AsJson = Annotated[bool, typer.Option("--json")]


def _policy() -> Policy:
    return load_policy(open_platform().settings.consent_policy_file)


def _choice(value: str, allowed: type[ConsentState] | type[Source], option: str) -> str:
    names = [m.value for m in allowed]
    if value not in names:
        raise InvalidInput(f"{option} must be one of {', '.join(names)}, not {value!r}")
    return value


@app.command("set")
def set_(
    customer: Customer,
    purpose: Purpose,
    channel: Channel,
    state: Annotated[str, typer.Option("--state", help="granted or withdrawn.")],
    source: Annotated[str, typer.Option(help="staff, import or api.")] = "staff",
    notice_version: Annotated[
        str | None, typer.Option(help="The notice shown; default: the current policy version.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Grant or withdraw one purpose on one channel (appended to the ledger, audited)."""
    _choice(state, ConsentState, "--state")
    if _choice(source, Source, "--source") == Source.PREFERENCE_CENTRE:
        raise InvalidInput("--source preference_centre is reserved for the preference centre")
    platform = open_platform()
    with platform.db.transaction() as session:
        event = service.set_consent(
            session,
            _policy(),
            external_id=customer,
            purpose=purpose,
            channel=channel,
            state=ConsentState(state),
            source=Source(source),
            actor=cli_actor(),
            notice_version=notice_version,
        )
    if as_json:
        print_json(event)
        return
    out.print(
        f"{customer}: {purpose} by {channel} {event.state.value} (event {event.id})",
        markup=False,
        highlight=False,
    )


@app.command("check")
def check(customer: Customer, purpose: Purpose, channel: Channel, as_json: AsJson = False) -> None:
    """May we use this customer's data for PURPOSE over CHANNEL? Prints allowed/denied and why."""
    platform = open_platform()
    with platform.db.reading() as session:
        result = enforcement.check(
            session, _policy(), external_id=customer, purpose=purpose, channel=channel
        )
    if as_json:
        print_json({"allowed": result.allowed, "reason": result.reason.value})
        return
    verdict = "allowed" if result.allowed else "denied"
    out.print(f"{verdict} ({result.reason.value})", markup=False, highlight=False)


@app.command("show")
def show(customer: Customer, as_json: AsJson = False) -> None:
    """Every optional purpose and channel of one customer, as checks answer now."""
    platform = open_platform()
    with platform.db.reading() as session:
        items = service.preferences(session, _policy(), customer)
    if as_json:
        print_json(items)
        return
    table = Table("purpose", "channel", "allowed", "reason", "version")
    for p in items:
        table.add_row(p.purpose, p.channel, "yes" if p.allowed else "no", p.reason, str(p.version))
    out.print(table)


@app.command("verify")
def verify(
    as_json: AsJson = False,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Rebuild the consent_state projection from the ledger where they differ "
            "(only when the ledger's chain is intact).",
        ),
    ] = False,
) -> None:
    """Check every link of the consent ledger and the projection against it; exit 1 naming the
    first bad event or the preferences where the projection differs."""
    platform = open_platform()
    if repair:
        with platform.db.transaction() as session:
            report = projection.verify_and_repair(session, actor=cli_actor())
    else:
        with platform.db.reading() as session:
            report = projection.verify(session)
    if as_json:
        print_json(report)
    else:
        _print_verification(report)
    if not report.ok or (not report.projection.ok and not report.repaired):
        raise typer.Exit(code=VerificationFailed.exit_code)


def _print_verification(report: ConsentVerifyOut) -> None:
    if report.ok:
        out.print(f"consent ledger intact: {counted(report.checked, 'event')} verified")
    else:
        err.print(f"consent ledger broken at event {report.broken_id}: {report.reason}")
    found = report.projection
    if found.ok:
        out.print(f"consent projection matches the ledger: {counted(found.checked, 'preference')}")
        return
    if report.repaired:
        out.print(f"consent projection rebuilt from the ledger: {report.repaired} corrected")
        return
    hint = "" if report.ok else " (no repair while the ledger itself is broken)"
    err.print(
        f"consent projection differs from the ledger in "
        f"{counted(found.mismatches, 'preference')}{hint}; "
        "checks read the ledger; fix with `trustdesk consent verify --repair`:",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    for m in found.first:
        at = f" (event {m.ledger_event_id})" if m.ledger_event_id else ""
        err.print(
            f"  customer {m.customer_id}, {m.purpose}/{m.channel}: projection "
            f"{m.projection_state or 'no row'}, ledger {m.ledger_state or 'no event'}{at}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


@app.command("proof")
def proof_(
    customer: Customer,
    output: Annotated[Path, typer.Option("--output", help="Where to write the JSON proof.")],
) -> None:
    """Export the customer's ledger entries, hashes and verification (exit 1 if not verified)."""
    platform = open_platform()
    with platform.db.reading() as session:
        package = proof.export(session, customer)
    write_private(output, (package.model_dump_json(indent=2) + "\n").encode())
    verdict = "verified" if package.verified else "NOT verified"
    out.print(
        f"{counted(len(package.entries), 'event')} for {customer} written to {output}: {verdict}",
        markup=False,
        highlight=False,
    )
    if not package.verified:
        raise typer.Exit(code=VerificationFailed.exit_code)


@app.command("link")
def link(
    customer: Customer,
    base_url: Annotated[
        str | None,
        typer.Option(
            help="Address customers reach; default: TRUSTDESK_PUBLIC_URL, else the address "
            "`trustdesk serve` last listened on."
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Make a signed, expiring preference-centre link to send to the customer."""
    platform = open_platform()
    settings = platform.settings
    base = base_url or public_base_url(settings)
    with platform.db.transaction() as session:
        made = service.create_link(
            session, signer_for(platform), customer, base_url=base, actor=cli_actor(), now=utcnow()
        )
    if as_json:
        print_json(made)
        return
    out.print(made.url, markup=False, highlight=False, soft_wrap=True)
    err.print(f"valid until {made.expires_at:%Y-%m-%d %H:%M} UTC")
