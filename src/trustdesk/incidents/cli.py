"""`trustdesk incidents …`: the register, affected customers, obligations and their clocks."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.table import Table

from trustdesk.bounds import parse_row_id
from trustdesk.console import cli_actor, err, open_platform, out, print_json
from trustdesk.dask_engine import (
    ENGINE_HELP,
    SCHEDULER_HELP,
    Engine,
    check_engine_options,
    dask_client,
)
from trustdesk.db import utcnow
from trustdesk.errors import InvalidInput
from trustdesk.incidents import recovery as trust_recovery
from trustdesk.incidents.affected import counts as affected_counts
from trustdesk.incidents.affected.derive import derive_affected
from trustdesk.incidents.affected.importing import import_affected_file
from trustdesk.incidents.notices import delivery, offers
from trustdesk.incidents.notices import service as notices
from trustdesk.incidents.obligations import service as obligations
from trustdesk.incidents.register import service as register
from trustdesk.incidents.schemas import DecisionIn, IncidentIn, IncidentPatch, TaskIn, UpdateIn

app = typer.Typer(help="Incidents and breach response.", no_args_is_help=True)
affected_app = typer.Typer(help="Customers an incident exposed.", no_args_is_help=True)
task_app = typer.Typer(help="Tasks with owners and due times.", no_args_is_help=True)
rules_app = typer.Typer(help="The breach-notification rules (law as data).", no_args_is_help=True)
app.add_typer(affected_app, name="affected")
app.add_typer(task_app, name="task")
notices_app = typer.Typer(help="Breach notices: drafts, versions, approval.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
app.add_typer(notices_app, name="notices")

M = TypeVar("M", bound=BaseModel)
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
IncidentId = Annotated[int, typer.Argument(help="The incident's id.", parser=parse_row_id)]
RulesDir = Annotated[
    Path | None, typer.Option("--rules", help="A directory of rule files (default: shipped).")
]


def _model(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]).replace("_", "-")
        message = str(first["msg"]).removeprefix("Value error, ")
        raise InvalidInput(f"--{where}: {message}") from None


def _show(found: BaseModel, as_json: bool) -> None:
    if as_json:
        print_json(found)
    else:
        for key, value in found.model_dump(mode="json").items():
            if key not in ("tasks", "timeline"):
                out.print(f"{key}: {value}", markup=False, highlight=False)


@app.command("open")
def open_(
    title: Annotated[str, typer.Option(help="A short title.")],
    aware_at: Annotated[str, typer.Option(help="When we became aware (ISO 8601; no zone = UTC).")],
    determined_at: Annotated[
        str | None, typer.Option(help="When it was determined to be a breach.")
    ] = None,
    description: Annotated[str, typer.Option()] = "",
    severity: Annotated[str, typer.Option(help="low, medium, high or critical.")] = "medium",
    kind: Annotated[str, typer.Option(help="e.g. hacking, insider, lost_device.")] = "unknown",
    occurred_from: Annotated[str | None, typer.Option()] = None,
    occurred_to: Annotated[str | None, typer.Option()] = None,
    system: Annotated[list[str] | None, typer.Option(help="A data-map system (repeat).")] = None,
    category: Annotated[list[str] | None, typer.Option(help="A data category (repeat).")] = None,
    sector: Annotated[list[str] | None, typer.Option(help="Sector rules: hipaa.")] = None,
    commander: Annotated[str | None, typer.Option(help="A staff username.")] = None,
    as_json: AsJson = False,
) -> None:
    """Open an incident; prints its id."""
    data = _model(
        IncidentIn,
        {
            "title": title,
            "aware_at": aware_at,
            "determined_at": determined_at,
            "description": description,
            "severity": severity,
            "kind": kind,
            "occurred_from": occurred_from,
            "occurred_to": occurred_to,
            "systems": system or [],
            "categories": category or [],
            "sectors": sector or [],
            "commander": commander,
        },
    )
    platform = open_platform()
    with platform.db.transaction() as session:
        incident_id = register.open_incident(session, data, actor=cli_actor(), now=utcnow()).id
    if as_json:
        print_json({"id": incident_id})
    else:
        out.print(f"incident {incident_id} opened")


@app.command("list")
def list_(
    status: Annotated[str | None, typer.Option(help="A status, or open.")] = None,
    as_json: AsJson = False,
) -> None:
    """Incidents, newest first."""
    if status is not None and status != "open":
        from trustdesk.incidents.register.lifecycle import parse_status

        parse_status(status)
    platform = open_platform()
    with platform.db.reading() as session:
        found = register.list_incidents(session, status=status)
    if as_json:
        print_json([f.model_dump(mode="json") for f in found])
        return
    table = Table("id", "title", "status", "severity", "aware", "affected")
    for i in found:
        table.add_row(
            str(i.id), i.title, i.status, i.severity, i.aware_at.isoformat(), str(i.affected)
        )
    out.print(table)


@app.command("show")
def show(incident_id: IncidentId, as_json: AsJson = False) -> None:
    """One incident with its tasks and timeline."""
    platform = open_platform()
    with platform.db.reading() as session:
        found = register.get(session, incident_id)
    _show(found, as_json)


@app.command("update")
def update(
    incident_id: IncidentId,
    status: Annotated[str | None, typer.Option(help="Move to this status.")] = None,
    title: Annotated[str | None, typer.Option()] = None,
    description: Annotated[str | None, typer.Option()] = None,
    severity: Annotated[str | None, typer.Option()] = None,
    aware_at: Annotated[str | None, typer.Option()] = None,
    determined_at: Annotated[str | None, typer.Option()] = None,
    occurred_from: Annotated[str | None, typer.Option()] = None,
    occurred_to: Annotated[str | None, typer.Option()] = None,
    contained_at: Annotated[str | None, typer.Option()] = None,
    system: Annotated[list[str] | None, typer.Option(help="Replaces the systems.")] = None,
    category: Annotated[list[str] | None, typer.Option(help="Replaces the categories.")] = None,
    sector: Annotated[list[str] | None, typer.Option(help="Replaces the sectors.")] = None,
    risk: Annotated[str | None, typer.Option(help="unlikely, risk or high.")] = None,
    encrypted: Annotated[bool | None, typer.Option("--encrypted/--not-encrypted")] = None,
    key_compromised: Annotated[bool | None, typer.Option("--key-compromised/--key-safe")] = None,
    commander: Annotated[str | None, typer.Option()] = None,
    public_statement: Annotated[str | None, typer.Option()] = None,
    as_json: AsJson = False,
) -> None:
    """Change fields or move the status (only allowed moves)."""
    patch = _model(
        IncidentPatch,
        {
            "status": status,
            "title": title,
            "description": description,
            "severity": severity,
            "aware_at": aware_at,
            "determined_at": determined_at,
            "occurred_from": occurred_from,
            "occurred_to": occurred_to,
            "contained_at": contained_at,
            "systems": system,
            "categories": category,
            "sectors": sector,
            "risk": risk,
            "data_encrypted": encrypted,
            "key_compromised": key_compromised,
            "commander": commander,
            "public_statement": public_statement,
        },
    )
    platform = open_platform()
    with platform.db.transaction() as session:
        register.update_incident(session, incident_id, patch, actor=cli_actor(), now=utcnow())
        found = register.get(session, incident_id)
    _show(found, as_json)


@app.command("participant")
def participant(incident_id: IncidentId, username: str) -> None:
    """Add a staff user to the incident."""
    platform = open_platform()
    with platform.db.transaction() as session:
        register.add_participant(session, incident_id, username, actor=cli_actor())
    out.print(f"{username} works incident {incident_id}", markup=False)


@app.command("note")
def note(
    incident_id: IncidentId,
    text: str,
    public: Annotated[bool, typer.Option("--public", help="Visible to the public.")] = False,
) -> None:
    """Post a timeline update (internal unless --public)."""
    data = _model(UpdateIn, {"text": text, "visibility": "public" if public else "internal"})
    platform = open_platform()
    with platform.db.transaction() as session:
        entry = register.add_update(session, incident_id, data, actor=cli_actor(), now=utcnow())
    out.print(f"update {entry.id} posted")


@app.command("decide")
def decide(
    incident_id: IncidentId,
    text: str,
    reason: Annotated[str, typer.Option(help="Why.")],
) -> None:
    """Record a decision and its reason."""
    data = _model(DecisionIn, {"text": text, "reason": reason})
    platform = open_platform()
    with platform.db.transaction() as session:
        entry = register.add_decision(session, incident_id, data, actor=cli_actor(), now=utcnow())
    out.print(f"decision {entry.id} recorded")


@task_app.command("add")
def task_add(
    incident_id: IncidentId,
    title: Annotated[str, typer.Option()],
    owner: Annotated[str, typer.Option(help="A staff username.")],
    due_at: Annotated[str | None, typer.Option()] = None,
) -> None:
    data = _model(TaskIn, {"title": title, "owner": owner, "due_at": due_at})
    platform = open_platform()
    with platform.db.transaction() as session:
        task = register.add_task(session, incident_id, data, actor=cli_actor(), now=utcnow())
    out.print(f"task {task.id} added")


@task_app.command("done")
def task_done(
    incident_id: IncidentId,
    task_id: Annotated[int, typer.Argument(parser=parse_row_id)],
) -> None:
    platform = open_platform()
    with platform.db.transaction() as session:
        register.complete_task(session, incident_id, task_id, actor=cli_actor(), now=utcnow())
    out.print(f"task {task_id} done")


@affected_app.command("import")
def affected_import(
    incident_id: IncidentId,
    file: Annotated[
        Path, typer.Argument(help="CSV: external_id (or email), data_categories (;-separated).")
    ],
    rejects: Annotated[
        Path | None, typer.Option(help="Where bad rows go; default <FILE>.rejects.csv.")
    ] = None,
    as_json: AsJson = False,
    engine: Annotated[Engine, typer.Option(help=ENGINE_HELP)] = Engine.embedded,
    scheduler: Annotated[str | None, typer.Option(help=SCHEDULER_HELP)] = None,
) -> None:
    """Import the forensic list; idempotent. Bad rows are named, good rows kept.

    With --engine dask, FILE may be a directory of CSV or Parquet partitions: the workers parse
    the rows and match external ids; rows naming only an email are matched here."""
    check_engine_options(engine, scheduler)
    platform = open_platform()
    with ExitStack() as stack:
        # The cluster first: a LocalCluster takes seconds to start, no transaction waits on it.
        client = stack.enter_context(dask_client(scheduler)) if engine is Engine.dask else None
        session = stack.enter_context(platform.db.transaction())
        if client is not None:
            from trustdesk.incidents.affected.partitions import import_affected_partitions

            report = import_affected_partitions(
                session, platform.vault, incident_id, file, client,
                actor=cli_actor(), rejects_path=rejects,
            )  # fmt: skip
        else:
            report = import_affected_file(
                session, platform.vault, incident_id, file, actor=cli_actor(), rejects_path=rejects
            )
    result = {
        "rows": report.rows,
        "imported": report.imported,
        "added": report.added,
        "changed": report.changed,
        "unchanged": report.unchanged,
        "rejected": len(report.rejected),
        "rejects_file": report.rejects_file,
    }
    if as_json:
        print_json(result)
    else:
        out.print(
            f"added {report.added}, changed {report.changed}, unchanged {report.unchanged}, "
            f"rejected {len(report.rejected)}"
        )
    for bad in report.rejected[:50]:
        err.print(f"row {bad.row}: {bad.reason}", markup=False, highlight=False, soft_wrap=True)
    if len(report.rejected) > 50:
        err.print(f"… and {len(report.rejected) - 50} more", markup=False)
    if report.rejects_file:
        err.print(f"rejected rows written to {report.rejects_file}", markup=False, soft_wrap=True)
    if report.rejected:
        raise typer.Exit(code=InvalidInput.exit_code)


@affected_app.command("derive")
def affected_derive(incident_id: IncidentId, as_json: AsJson = False) -> None:
    """Add the customers whose records lived in the breached systems during the window."""
    platform = open_platform()
    with platform.db.transaction() as session:
        found = derive_affected(session, incident_id, actor=cli_actor())
    result = {
        "systems": found.systems,
        "not_derivable": found.not_derivable,
        "added": found.report.added,
        "changed": found.report.changed,
        "unchanged": found.report.unchanged,
    }
    if as_json:
        print_json(result)
        return
    out.print(f"added {found.report.added}, changed {found.report.changed} from {found.systems}")
    if found.not_derivable:
        err.print(
            f"no per-customer index for {', '.join(found.not_derivable)}: import the forensic list",
            markup=False,
        )


@affected_app.command("counts")
def affected_counts_(incident_id: IncidentId, as_json: AsJson = False) -> None:
    """Affected customers per jurisdiction and per data category."""
    platform = open_platform()
    with platform.db.reading() as session:
        register.load(session, incident_id)
        total, places, categories = affected_counts.counts(
            affected_counts.exposure_groups(session, incident_id)
        )
    if as_json:
        print_json({"total": total, "by_jurisdiction": places, "by_category": categories})
        return
    out.print(f"{total} affected customers")
    table = Table("jurisdiction", "customers")
    for k, v in places.items():
        table.add_row(k, str(v))
    out.print(table)
    table = Table("data category", "customers")
    for k, v in categories.items():
        table.add_row(k, str(v))
    out.print(table)


@app.command("recovery")
def recovery_(
    incident_id: IncidentId,
    window_days: Annotated[
        int, typer.Option("--window-days", min=7, max=730, help="Days before and after aware-at.")
    ] = trust_recovery.DEFAULT_WINDOW_DAYS,
    as_json: AsJson = False,
) -> None:
    """Trust recovery: affected vs unaffected customers' trust before and after (difference in
    differences, 95% interval), time to recover, feedback about privacy and security."""
    platform = open_platform()
    with platform.db.reading() as session:
        found = trust_recovery.recovery(session, incident_id, window_days=window_days)
    if as_json:
        print_json(trust_recovery.as_dict(found))
        return
    table = Table("customers", "seen", "before", "after", "change")
    for label, g in (("affected", found.affected), ("unaffected", found.unaffected)):
        table.add_row(label, str(g.customers), _pts(g.before), _pts(g.after), _pts(g.change))
    out.print(table)
    if found.effect is None:
        out.print(found.note)
    else:
        out.print(
            f"effect {found.effect:+.1f} points (95% interval {found.ci_low:+.1f} to "
            f"{found.ci_high:+.1f}), compared with {found.comparison}"
        )
    out.print(
        f"recovered after {found.days_to_recover} days"
        if found.recovered
        else f"not recovered within {found.window_days} days"
    )
    if found.feedback is not None:
        f = found.feedback
        out.print(
            f"affected customers' feedback about privacy/security: {f.privacy_before} of "
            f"{f.affected_before} before, {f.privacy_after} of {f.affected_after} after"
        )


def _pts(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _when(value: datetime | None) -> str:
    return "-" if value is None else value.isoformat().replace("+00:00", "Z")


@app.command("obligations")
def obligations_(
    incident_id: IncidentId,
    rules: RulesDir = None,
    required_only: Annotated[bool, typer.Option("--required-only")] = False,
    as_json: AsJson = False,
) -> None:
    """One obligation per (jurisdiction, audience): required or not and why, due, affected."""
    ruleset = obligations.rules_from(rules)
    platform = open_platform()
    with platform.db.reading() as session:
        found = obligations.clocks(session, incident_id, ruleset, utcnow())
    rows = [
        {**c.obligation.as_dict(), "clock": c.state, "seconds_left": c.seconds_left}
        for c in found
        if c.obligation.required or not required_only
    ]
    if as_json:
        print_json(rows)
        return
    table = Table("jurisdiction", "audience", "required", "due", "clock", "affected", "law")
    for r in rows:
        table.add_row(
            str(r["jurisdiction"]),
            str(r["audience"]),
            "yes" if r["required"] else "no",
            str(r["due_at"] or "-"),
            str(r["clock"]),
            str(r["affected"]),
            str(r["law"]),
        )
    out.print(table)


@app.command("fulfil")
def fulfil(
    incident_id: IncidentId,
    jurisdiction: Annotated[str, typer.Option()],
    audience: Annotated[str, typer.Option()],
    reference: Annotated[str, typer.Option(help="e.g. the regulator's case number.")] = "",
) -> None:
    """Record that an obligation was met (its clock stops)."""
    platform = open_platform()
    with platform.db.transaction() as session:
        obligations.fulfil(
            session,
            incident_id,
            jurisdiction,
            audience,
            reference=reference,
            actor=cli_actor(),
            now=utcnow(),
        )
    out.print(f"{audience} in {jurisdiction}: done", markup=False)


@app.command("clocks")
def clocks(as_json: AsJson = False) -> None:
    """Evaluate every open incident's clocks now: re-evaluate under the shipped rules and raise
    alerts for clocks that turned amber, red or overdue (what the scheduler runs)."""
    from trustdesk.incidents.public import evaluate_clocks

    run = evaluate_clocks(open_platform())
    if as_json:
        print_json({"alerts": run.alerts, "reevaluated": run.reevaluated})
    else:
        out.print(f"{run.alerts} new alerts; {run.reevaluated} incidents re-evaluated")


@app.command("alerts")
def alerts(as_json: AsJson = False) -> None:
    """Clock alerts, newest first."""
    from sqlalchemy import select

    from trustdesk.incidents.models import IncidentAlert

    platform = open_platform()
    with platform.db.reading() as session:
        rows = [
            {
                "incident_id": a.incident_id,
                "jurisdiction": a.jurisdiction,
                "audience": a.audience,
                "level": a.level,
                "due_at": _when(a.due_at),
                "raised_at": _when(a.raised_at),
            }
            for a in session.scalars(
                select(IncidentAlert).order_by(
                    IncidentAlert.raised_at.desc(), IncidentAlert.id.desc()
                )
            )
        ]
    if as_json:
        print_json(rows)
        return
    table = Table("incident", "jurisdiction", "audience", "level", "due", "raised")
    for r in rows:
        table.add_row(*(str(v) for v in r.values()))
    out.print(table)


@rules_app.command("list")
def rules_list(rules: RulesDir = None, as_json: AsJson = False) -> None:
    """Every rule: the law, where it applies, citation, last reviewed."""
    ruleset = obligations.rules_from(rules)
    rows = [
        {
            "id": r.id,
            "name": r.name,
            "applies_to": list(r.applies_to),
            "sector": r.sector,
            "audiences": sorted(r.audiences),
            "citation": r.citation,
            "source": r.source,
            "last_reviewed": r.last_reviewed.isoformat(),
        }
        for r in ruleset.rules
    ]
    if as_json:
        print_json({"version": ruleset.version, "files": ruleset.files, "rules": rows})
        return
    out.print(f"rules version {ruleset.version}")
    table = Table("id", "law", "applies to", "audiences", "reviewed")
    for r in rows:
        codes = r["applies_to"]
        assert isinstance(codes, list)
        table.add_row(
            str(r["id"]),
            str(r["name"]),
            ", ".join(codes[:6]) + (f" (+{len(codes) - 6})" if len(codes) > 6 else ""),
            ", ".join(r["audiences"]),  # type: ignore[arg-type]
            str(r["last_reviewed"]),
        )
    out.print(table)


@rules_app.command("apply")
def rules_apply(rules: RulesDir = None, as_json: AsJson = False) -> None:
    """Re-evaluate every open incident under these rules and say what changed."""
    ruleset = obligations.rules_from(rules)
    platform = open_platform()
    with platform.db.transaction() as session:
        report = obligations.reevaluate_open(session, ruleset, actor=cli_actor(), now=utcnow())
    rows = [
        {
            "incident_id": r.incident_id,
            "previous_version": r.previous_version,
            "version": r.version,
            "changes": r.changes,
        }
        for r in report
    ]
    if as_json:
        print_json(rows)
        return
    for r in report:
        out.print(
            f"incident {r.incident_id}: rules {r.previous_version} → {r.version}, "
            f"{len(r.changes)} changes",
            markup=False,
        )
        for c in r.changes:
            out.print(f"  {c}", markup=False, highlight=False)
    if not report:
        out.print("no open incident changed")


NoticeId = Annotated[int, typer.Argument(help="The notice's id.", parser=parse_row_id)]


def _print_notice(found: notices.NoticeOut, as_json: bool) -> None:
    if as_json:
        print_json(found.as_dict())
        return
    state = f"approved by {found.approved_by}" if found.approved_by else "draft"
    out.print(
        f"notice {found.id}: {found.audience} ({found.jurisdiction}) version {found.version}, "
        f"{state}; readability (Flesch reading ease) {found.readability}",
        markup=False,
    )
    out.print(f"Subject: {found.subject}\n\n{found.body}", markup=False, highlight=False)


@notices_app.command("draft")
def notices_draft(
    incident_id: IncidentId,
    audience: Annotated[str, typer.Option(help="individuals, regulator, …")] = "individuals",
    jurisdiction: Annotated[str, typer.Option(help="A code, or * for all.")] = "*",
    offer: Annotated[
        str | None, typer.Option(help="The remedy offered (e.g. 12 months of credit monitoring).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Draft a new version from the incident's facts (plain language, readability shown)."""
    platform = open_platform()
    with platform.db.transaction() as session:
        found = notices.draft(
            session, incident_id, audience, jurisdiction=jurisdiction, offer=offer,
            actor=cli_actor(), now=utcnow(),
        )  # fmt: skip
    _print_notice(found, as_json)


@notices_app.command("edit")
def notices_edit(
    incident_id: IncidentId,
    notice_id: NoticeId,
    file: Annotated[Path, typer.Argument(help="The new body (UTF-8 text).")],
    subject: Annotated[str | None, typer.Option()] = None,
    as_json: AsJson = False,
) -> None:
    """Save an edited text as a new version (the old one is kept)."""
    from trustdesk.input_files import read_text_file

    body = read_text_file(file)
    platform = open_platform()
    with platform.db.transaction() as session:
        found = notices.edit(
            session, incident_id, notice_id, subject=subject, body=body, actor=cli_actor(),
            now=utcnow(),
        )  # fmt: skip
    _print_notice(found, as_json)


@notices_app.command("approve")
def notices_approve(incident_id: IncidentId, notice_id: NoticeId, as_json: AsJson = False) -> None:
    """Approve a version for sending."""
    platform = open_platform()
    with platform.db.transaction() as session:
        found = notices.approve(session, incident_id, notice_id, actor=cli_actor(), now=utcnow())
    _print_notice(found, as_json)


@notices_app.command("list")
def notices_list(incident_id: IncidentId, as_json: AsJson = False) -> None:
    """Every version of every notice."""
    platform = open_platform()
    with platform.db.reading() as session:
        found = notices.list_notices(session, incident_id)
    if as_json:
        print_json([n.as_dict() for n in found])
        return
    table = Table("id", "audience", "jurisdiction", "version", "readability", "approved by")
    for n in found:
        table.add_row(
            str(n.id), n.audience, n.jurisdiction, str(n.version), str(n.readability),
            n.approved_by or "-",
        )  # fmt: skip
    out.print(table)


@app.command("notify")
def notify(
    incident_id: IncidentId,
    audience: Annotated[str, typer.Option(help="individuals")] = "individuals",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count.")] = False,
    send: Annotated[bool, typer.Option("--send", help="Deliver the queue now.")] = False,
    as_json: AsJson = False,
) -> None:
    """Send the approved notice to every affected customer through the outbox: counts queued,
    sent and unreachable (erased). Marketing opt-outs do not apply; no email → postal export."""
    platform = open_platform()
    with platform.db.transaction() as session:
        result = delivery.notify(
            session, platform.vault, incident_id, audience, dry_run=dry_run, actor=cli_actor(),
            now=utcnow(),
        )  # fmt: skip
    counts = {
        "customers": result.customers,
        "queued": result.queued,
        "sent": result.sent,
        "unreachable": result.unreachable,
        "postal": result.postal,
    }
    if send and not dry_run:
        from trustdesk.outbox.public import deliver_due

        deliver_due(platform, until_empty=True)
        with platform.db.reading() as session:
            now_counts = delivery.delivery_counts(session, incident_id, audience)
        counts.update(
            queued=now_counts["queued"],
            sent=now_counts["delivered"],
            unreachable=now_counts["unreachable"],
            postal=now_counts["handed_over"],
        )
    payload = {
        "incident_id": incident_id,
        "audience": audience,
        "dry_run": dry_run,
        "notice_id": result.notice_id,
        "notice_version": result.notice_version,
        "approved": result.approved,
        **counts,
    }
    if as_json:
        print_json(payload)
    else:
        out.print(
            f"{counts['customers']} customers: {counts['queued']} queued, {counts['sent']} sent, "
            f"{counts['unreachable']} unreachable (erased), {counts['postal']} by post"
            + (" (dry run)" if dry_run else "")
        )


offers_app = typer.Typer(
    help="Remediation offers: code pools, redemption, uptake.", no_args_is_help=True
)
app.add_typer(offers_app, name="offers")


@offers_app.command("import")
def offers_import(
    incident_id: IncidentId,
    file: Annotated[Path, typer.Argument(help="One code per line.")],
) -> None:
    """Import a pool of codes (e.g. credit monitoring); idempotent."""
    platform = open_platform()
    with platform.db.transaction() as session:
        new = offers.import_codes(session, incident_id, file, actor=cli_actor())
    out.print(f"{new} new codes")


@offers_app.command("redeem")
def offers_redeem(incident_id: IncidentId, code: str) -> None:
    """Record that a given code was used."""
    platform = open_platform()
    with platform.db.transaction() as session:
        offers.redeem(session, incident_id, code, actor=cli_actor(), now=utcnow())
    out.print("redeemed")


@offers_app.command("uptake")
def offers_uptake(incident_id: IncidentId, as_json: AsJson = False) -> None:
    """Codes in the pool, given, redeemed, and the uptake rate."""
    platform = open_platform()
    with platform.db.reading() as session:
        found = offers.uptake(session, incident_id)
    result = {
        "pool": found.pool,
        "given": found.given,
        "redeemed": found.redeemed,
        "rate": found.rate,
    }
    if as_json:
        print_json(result)
    else:
        rate = "-" if found.rate is None else f"{found.rate:.1%}"
        out.print(
            f"pool {found.pool}, given {found.given}, redeemed {found.redeemed}: uptake {rate}"
        )
