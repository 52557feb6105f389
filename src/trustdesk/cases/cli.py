"""`trustdesk cases …` commands."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
import yaml

from trustdesk.bounds import parse_row_id
from trustdesk.cases import service
from trustdesk.cases.calendar import BusinessCalendar, add_business_time, parse_hours
from trustdesk.cases.config import current_config, parse_config, save_config
from trustdesk.cases.counts import recount_cases
from trustdesk.cases.errors import InvalidCalendar, InvalidCase
from trustdesk.cases.from_alerts import open_from_alerts
from trustdesk.cases.from_feedback import open_from_feedback
from trustdesk.cases.intake import open_case, open_cases, parse_case
from trustdesk.cases.public import evaluate_sla, send_csat_surveys
from trustdesk.cases.routing import classifier_for
from trustdesk.cases.stats import case_figures
from trustdesk.console import cli_actor, err, open_platform, out, print_json
from trustdesk.errors import InvalidInput
from trustdesk.tabular import read_rows

app = typer.Typer(help="Complaint cases: intake, routing, SLA clocks.", no_args_is_help=True)
config_app = typer.Typer(help="Routing rules, playbooks, SLA policies, calendars.")
app.add_typer(config_app, name="config")

CaseId = Annotated[int, typer.Argument(parser=parse_row_id, help="The case id.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _parse_moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise InvalidCalendar(f"time {text!r}: expected ISO 8601 with an offset") from exc
    if moment.tzinfo is None:
        raise InvalidCalendar(f"time {text!r}: give an offset (e.g. +00:00 or Z)")
    return moment


@app.command("sla-calc")
def sla_calc(
    start: Annotated[str, typer.Option(help="ISO 8601 time with offset, e.g. 2026-12-24T16:00Z.")],
    hours: Annotated[str, typer.Option(help="Business hours to add (decimals allowed).")],
    timezone: Annotated[str, typer.Option(help="IANA time zone of the calendar.")],
    holidays: Annotated[str, typer.Option(help="Holiday code CC or CC-SUBDIV (GB, US-CA, DE-BY).")],
    open_: Annotated[str, typer.Option("--open", help="Opening hours, local.")] = "09:00-17:00",
    as_json: AsJson = False,
) -> None:
    """The moment H business hours after START (weekends, closed hours and holidays skipped)."""
    calendar = BusinessCalendar.build(timezone, holidays, open_)
    due = add_business_time(calendar, _parse_moment(start), parse_hours(hours))
    if as_json:
        print_json({"due_at": due.isoformat(), "calendar": calendar.describe()})
    else:
        out.print(due.isoformat())


@app.command("open")
def open_(
    external_id: Annotated[str, typer.Option(help="The channel's id of the complaint.")],
    subject: Annotated[str, typer.Option()],
    body: Annotated[str, typer.Option()],
    channel: Annotated[str, typer.Option()] = "api",
    customer: Annotated[str | None, typer.Option(help="The customer's external id.")] = None,
    email: Annotated[str | None, typer.Option(help="The sender's email.")] = None,
    as_json: AsJson = False,
) -> None:
    """Open a case (the same channel and external id again returns the existing case)."""
    data: dict[str, object] = {
        "channel": channel, "external_id": external_id, "subject": subject, "body": body,
    }  # fmt: skip
    if customer is not None:
        data["customer"] = customer
    if email is not None:
        data["email"] = email
    case = parse_case(data)
    platform = open_platform()
    with platform.db.transaction() as session:
        opened = open_case(
            session,
            platform.vault,
            case,
            classify=classifier_for(platform.settings),
            actor=cli_actor(),
        )
    if as_json:
        print_json(opened.model_dump(mode="json", exclude={"created", "status"}))
    else:
        out.print(
            f"case {opened.id}: {opened.category} ({opened.probability:.2f}) -> {opened.queue}, "
            f"{opened.priority}, first response due {opened.first_response_due}"
        )


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV or JSONL: external_id, subject, body, …")],
    as_json: AsJson = False,
) -> None:
    """Open cases from a file; idempotent per (channel, external id), bad rows named."""
    platform = open_platform()
    created = unchanged = 0
    rejected: list[dict[str, object]] = []
    with platform.db.transaction() as session:
        rows = ((r.number, r.fields) for r in read_rows(file, ("external_id", "subject", "body")))
        for number, result in open_cases(
            session,
            platform.vault,
            rows,
            classify=classifier_for(platform.settings),
            actor=cli_actor(),
        ):
            if isinstance(result, str):
                rejected.append({"row": number, "reason": result})
            elif result.created:
                created += 1
            else:
                unchanged += 1
    report = {"created": created, "unchanged": unchanged, "rejected": rejected}
    if as_json:
        print_json(report)
    else:
        out.print(f"created {created}, unchanged {unchanged}, rejected {len(rejected)}")
        for bad in rejected:
            err.print(f"row {bad['row']}: {bad['reason']}", markup=False, highlight=False)
    if rejected:
        raise typer.Exit(code=InvalidInput.exit_code)


@app.command("from-feedback")
def from_feedback(
    min_negative: Annotated[float, typer.Option(min=0.5, max=1.0)] = 0.9,
    as_json: AsJson = False,
) -> None:
    """Open a case for every very negative feedback item from a known customer (idempotent)."""
    platform = open_platform()
    with platform.db.transaction() as session:
        report = open_from_feedback(
            session,
            platform.vault,
            classify=classifier_for(platform.settings),
            actor=cli_actor(),
            min_negative=min_negative,
        )
    if as_json:
        print_json(report.__dict__)
    else:
        out.print(f"{report.candidates} very negative item(s), {report.opened} case(s) opened")


@app.command("from-alerts")
def from_alerts(as_json: AsJson = False) -> None:
    """Open a case for each unacknowledged trust-index drop alert of the last 30 days, once per
    alert (the cases.from_alerts job runs the same)."""
    platform = open_platform()
    with platform.db.transaction() as session:
        run = open_from_alerts(session, platform.vault, actor=cli_actor())
    if as_json:
        print_json(run.__dict__)
    else:
        out.print(f"{run.alerts} trust-drop alert(s), {run.opened} case(s) opened")


@app.command("list")
def list_(
    queue: Annotated[str | None, typer.Option()] = None,
    status: Annotated[str | None, typer.Option()] = None,
    cursor: Annotated[int | None, typer.Option(parser=parse_row_id)] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    as_json: AsJson = False,
) -> None:
    """The inbox, newest first."""
    platform = open_platform()
    with platform.db.reading() as session:
        items, next_cursor = service.list_inbox(
            session, queue=queue, status=status, before_id=cursor, limit=limit
        )
    if as_json:
        print_json(
            {"items": [i.model_dump(mode="json") for i in items], "next_cursor": next_cursor}
        )
        return
    for i in items:
        out.print(f"{i.id}\t{i.queue}\t{i.priority}\t{i.status}\t{i.sla_state}\t{i.category}")


@app.command("show")
def show(case_id: CaseId, reveal: bool = False, as_json: AsJson = False) -> None:
    """One case with its timeline (text decrypted with --reveal)."""
    platform = open_platform()
    with platform.db.reading() as session:
        detail = service.get_case(session, platform.vault, case_id, reveal=reveal)
    if as_json:
        print_json(detail)
        return
    out.print(f"case {detail.id} [{detail.status}] {detail.queue}/{detail.priority}")
    for event in detail.events:
        out.print(f"  {event.at:%Y-%m-%d %H:%M} {event.actor}: {event.kind} {event.detail}")


def _write(change: service.Change, as_json: bool) -> None:
    """Run one change in a transaction; show the case it returns."""
    platform = open_platform()
    with platform.db.transaction() as session:
        detail = service.apply(session, platform.vault, change, actor=cli_actor())
    if as_json:
        print_json(detail)
    else:
        out.print(f"case {detail.id}: {detail.status}, {detail.sla_state}")


@app.command("status")
def status(case_id: CaseId, to: Annotated[str, typer.Argument()], as_json: AsJson = False) -> None:
    """Move a case (open, waiting_on_customer, waiting_on_third_party, resolved, closed ...)."""
    _write(lambda s, v, a: service.change_status(s, case_id, to, actor=a), as_json)


@app.command("assign")
def assign(
    case_id: CaseId,
    team: Annotated[str | None, typer.Option()] = None,
    agent: Annotated[str | None, typer.Option()] = None,
    as_json: AsJson = False,
) -> None:
    """Assign a case to a team and/or an agent."""
    _write(lambda s, v, a: service.assign(s, case_id, team=team, assignee=agent, actor=a), as_json)


@app.command("note")
def note(case_id: CaseId, text: Annotated[str, typer.Argument()], as_json: AsJson = False) -> None:
    """Add an internal note (encrypted)."""
    _write(lambda s, v, a: service.add_note(s, v, case_id, text, actor=a), as_json)


@app.command("reply")
def reply(case_id: CaseId, text: Annotated[str, typer.Argument()], as_json: AsJson = False) -> None:
    """Record an answer to the customer (first response, restarts the update clock)."""
    _write(lambda s, v, a: service.reply(s, v, case_id, text, actor=a), as_json)


@app.command("step")
def step(case_id: CaseId, as_json: AsJson = False) -> None:
    """Tick the next playbook step."""
    _write(lambda s, v, a: service.complete_step(s, case_id, actor=a), as_json)


@app.command("link")
def link(
    case_id: CaseId,
    kind: Annotated[str, typer.Argument(help="case, fraud_review, incident, privacy_request")],
    target: Annotated[str, typer.Argument()],
    as_json: AsJson = False,
) -> None:
    """Link a case to another case, a fraud review, an incident or a privacy request."""
    _write(lambda s, v, a: service.link(s, case_id, kind, target, actor=a), as_json)


@app.command("merge")
def merge(
    case_id: CaseId,
    into: Annotated[int, typer.Option(parser=parse_row_id)],
    as_json: AsJson = False,
) -> None:
    """Merge a duplicate case into another."""
    _write(lambda s, v, a: service.merge_cases(s, case_id, into, actor=a), as_json)


@app.command("merge-contact")
def merge_contact(
    contact_id: Annotated[int, typer.Argument(parser=parse_row_id)],
    customer: Annotated[str, typer.Option(help="The customer's external id.")],
) -> None:
    """A contact is a known customer: move their cases to the customer."""
    platform = open_platform()
    with platform.db.transaction() as session:
        moved = service.merge_contact(
            session, platform.vault, contact_id, customer, actor=cli_actor()
        )
    out.print(f"{moved} case(s) moved to customer {customer}")


@app.command("sla-evaluate")
def sla_evaluate(as_json: AsJson = False) -> None:
    """Refresh SLA states; escalate breaches (the scheduled job runs the same)."""
    report = evaluate_sla(open_platform())
    if as_json:
        print_json(report)
    else:
        out.print(f"{report.evaluated} active, {report.amber} amber, {report.breached} breached")


@app.command("recount")
def recount() -> None:
    """Count the cases per queue, status and SLA state again (the inbox's counts; kept with every
    case write, so needed only after a bulk load that bypassed the service)."""
    platform = open_platform()
    with platform.db.transaction() as session:
        counted = recount_cases(session, actor=cli_actor())
    out.print(f"{counted} case(s) counted")


@app.command("csat-send")
def csat_send(as_json: AsJson = False) -> None:
    """Ask "did we fix it?" after each resolution, where consent allows (the job runs the same)."""
    run = send_csat_surveys(open_platform())
    if as_json:
        print_json({"sent": run.sent, "not_allowed": run.not_allowed})
    else:
        out.print(f"{run.sent} surveys sent, {run.not_allowed} not allowed by consent")


@app.command("stats")
def stats(as_json: AsJson = False) -> None:
    """Timely-response rate, median first response and resolution, reopen rate."""
    platform = open_platform()
    with platform.db.reading() as session:
        figures = case_figures(session)
    if as_json:
        print_json(figures)
        return
    for name, value in figures["overall"].items():
        out.print(f"{name}: {value}")


@config_app.command("show")
def config_show() -> None:
    """Print the configuration in force (YAML)."""
    platform = open_platform()
    with platform.db.reading() as session:
        config = current_config(session)
    # soft_wrap: never folded at the terminal's width (a folded long line is not YAML any more)
    document = yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
    out.print(document, markup=False, highlight=False, soft_wrap=True)


@config_app.command("load")
def config_load(file: Annotated[Path, typer.Argument(help="YAML or JSON configuration.")]) -> None:
    """Validate and store a new configuration version (audited)."""
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InvalidCase(f"{file}: cannot read the configuration ({type(exc).__name__})") from None
    config = parse_config(data)
    platform = open_platform()
    with platform.db.transaction() as session:
        version = save_config(session, config, actor=cli_actor())
    out.print(f"configuration version {version} in force")


@config_app.command("set-rule")
def config_set_rule(
    category: Annotated[str, typer.Argument(help="The classifier's label.")],
    queue: Annotated[str, typer.Option()],
    priority: Annotated[str, typer.Option()] = "normal",
    playbook: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Route one category (put first, ahead of the rules already there)."""
    platform = open_platform()
    with platform.db.transaction() as session:
        current = current_config(session).model_dump(mode="json")
        rule = {"categories": [category], "queue": queue, "priority": priority}
        if playbook:
            rule["playbook"] = playbook
        current["rules"] = [rule, *current["rules"]]
        version = save_config(
            session, parse_config(json.loads(json.dumps(current))), actor=cli_actor()
        )
    out.print(f"configuration version {version} in force")


@app.command("mail-serve")
def mail_serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 2526,
) -> None:
    """Listen for inbound email (SMTP): each message opens a case or threads onto its case."""
    import signal
    import threading

    from trustdesk.cases.mail_listener import start_listener

    controller = start_listener(open_platform(), host, port)
    out.print(f"inbound email listening on {host}:{port}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


@app.command("mail-ingest")
def mail_ingest(
    files: Annotated[list[Path], typer.Argument(help="Messages as .eml files.")],
    as_json: AsJson = False,
) -> None:
    """Take saved messages (.eml) as if they had arrived by email; idempotent on Message-ID."""
    from trustdesk.cases.errors import MessageRefused
    from trustdesk.cases.inbound import ingest_mail

    platform = open_platform()
    results: list[dict[str, object]] = []
    refused = False
    for file in files:
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"{file}: cannot be read ({exc.strerror})") from None
        try:
            with platform.db.transaction() as session:
                result = ingest_mail(
                    session, platform.vault, raw,
                    classify=classifier_for(platform.settings), actor=cli_actor(),
                )  # fmt: skip
            results.append({"file": str(file), "outcome": result.outcome, "case": result.case_id})
        except MessageRefused as exc:
            refused = True
            results.append({"file": str(file), "outcome": "refused", "reason": exc.detail})
    if as_json:
        print_json(results)
    else:
        for r in results:
            out.print(f"{r['file']}: {r['outcome']} {r.get('case') or r.get('reason') or ''}")
    if refused:
        raise typer.Exit(code=MessageRefused.exit_code)


@app.command("quarantine")
def quarantine(as_json: AsJson = False) -> None:
    """Inbound messages kept for a person to look at (no sender, unreadable): id, when, why."""
    from trustdesk.cases.inbound import quarantined

    platform = open_platform()
    with platform.db.reading() as session:
        rows = quarantined(session)
    if as_json:
        print_json(rows)
    else:
        for r in rows:
            out.print(f"{r['id']}  {r['at']}  {r['reason']}", markup=False, highlight=False)
