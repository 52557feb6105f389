"""`trustdesk trustcentre …` (statements, promises, sections) and `trustdesk risks …` (the
register)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from trustdesk.bounds import parse_row_id
from trustdesk.console import cli_actor, open_platform, out, run_and_show
from trustdesk.db import utcnow
from trustdesk.errors import InvalidInput
from trustdesk.serving import public_base_url
from trustdesk.trustcentre import documents
from trustdesk.trustcentre import risks as register
from trustdesk.trustcentre.promises import Promise, compute_promises
from trustdesk.trustcentre.sections import KINDS, list_sections, set_section
from trustdesk.trustcentre.statements import list_statements, publish_statement

__all__ = ["app", "risks_app"]

app = typer.Typer(
    help="The public trust centre: statements, promises with live proof, practice sections.",
    no_args_is_help=True,
)
statement_app = typer.Typer(help="Public statements (page and Atom feed).", no_args_is_help=True)
section_app = typer.Typer(help="Markdown sections: practices, FAQs, documents.")
app.add_typer(statement_app, name="statement")
app.add_typer(section_app, name="section")
document_app = typer.Typer(
    help="Documents and certificates: public, or on request with staff approval.",
    no_args_is_help=True,
)
app.add_typer(document_app, name="document")

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@statement_app.command("publish")
def statement_publish(
    title: Annotated[str, typer.Option(help="The statement's title.")],
    body: Annotated[str, typer.Option(help="The statement's text.")],
    incident: Annotated[
        int | None, typer.Option(parser=parse_row_id, help="The incident it is about.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Publish a statement on /trust-centre and in its feed."""
    run_and_show(
        lambda _, session: publish_statement(
            session, title=title, body=body, incident_id=incident, actor=cli_actor(),
            now=utcnow(),
        ).id,
        as_json=as_json, write=True, json_of=lambda statement_id: {"id": statement_id},
        text=lambda statement_id: [f"statement {statement_id} published"],
    )  # fmt: skip


@statement_app.command("list")
def statement_list(as_json: AsJson = False) -> None:
    """Published statements, newest first."""
    run_and_show(
        lambda _, session: [
            {"id": s.id, "title": s.title, "incident_id": s.incident_id,
             "published_at": _iso(s.published_at)}
            for s in list_statements(session)
        ],
        as_json=as_json,
        text=lambda rows: [f"{r['id']}  {r['published_at']}  {r['title']}" for r in rows],
    )  # fmt: skip


@app.command("promises")
def promises(as_json: AsJson = False) -> None:
    """Each promise with the figure measured from our records, its target, count and period."""

    def lines(found: list[Promise]) -> Iterator[str]:
        for p in found:
            state = "not enough data" if p.kept is None else ("kept" if p.kept else "NOT KEPT")
            yield f"{p.promise}\n  {p.measure}: {p.shown} (target {p.target_shown}) - {state}"

    run_and_show(
        lambda _, session: compute_promises(session, utcnow()),
        as_json=as_json,
        json_of=lambda found: [p.as_json() for p in found],
        text=lines,
    )


@section_app.command("set")
def section_set(
    key: Annotated[str, typer.Argument(help="e.g. encryption, faq-refunds")],
    title: Annotated[str, typer.Option()],
    owner: Annotated[str, typer.Option(help="The staff user who keeps it up to date.")],
    body: Annotated[str | None, typer.Option(help="Markdown text.")] = None,
    file: Annotated[Path | None, typer.Option(help="A Markdown file instead of --body.")] = None,
    kind: Annotated[str, typer.Option(help=f"One of {', '.join(KINDS)}.")] = "practice",
    review_due: Annotated[str | None, typer.Option(help="ISO date of the next review.")] = None,
    position: Annotated[int, typer.Option(min=0, max=10_000)] = 100,
) -> None:
    """Create or replace a section of the public page."""
    if (body is None) == (file is None):
        raise InvalidInput("give --body or --file")
    text = body if body is not None else _read(file)
    due = None
    if review_due is not None:
        try:
            due = datetime.fromisoformat(review_due)
        except ValueError:
            raise InvalidInput(f"--review-due {review_due!r}: expected an ISO date") from None
    run_and_show(
        lambda _, session: set_section(
            session, key=key, title=title, body=text, owner=owner, kind=kind, review_due=due,
            position=position, actor=cli_actor(), now=utcnow(),
        ),
        as_json=False, write=True, text=lambda _: [f"section {key} saved"],
    )  # fmt: skip


def _read(file: Path | None) -> str:
    assert file is not None
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{file}: cannot read it ({exc.__class__.__name__})") from None


@section_app.command("list")
def section_list(as_json: AsJson = False) -> None:
    run_and_show(
        lambda _, session: [
            {"key": s.key, "title": s.title, "kind": s.kind, "owner": s.owner,
             "review_due": _iso(s.review_due) if s.review_due else None}
            for s in list_sections(session)
        ],
        as_json=as_json,
        text=lambda rows: [
            f"{r['key']}  {r['kind']}  {r['title']}  (owner {r['owner']})" for r in rows
        ],
    )  # fmt: skip


@document_app.command("add")
def document_add(
    key: Annotated[str, typer.Argument(help="e.g. soc2-report")],
    file: Annotated[Path, typer.Argument(help="A .pdf, .txt or .md file.")],
    title: Annotated[str, typer.Option()],
    access: Annotated[str, typer.Option(help="public or request")] = "public",
    terms: Annotated[str, typer.Option(help="Click-through terms (request only).")] = "",
    description: Annotated[str, typer.Option()] = "",
) -> None:
    """Add or replace a document on the trust centre."""
    try:
        content = file.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{file}: cannot read it ({exc.__class__.__name__})") from None
    run_and_show(
        lambda _, session: documents.add_document(
            session, key=key, title=title, description=description, access=access, terms=terms,
            filename=file.name, content=content, actor=cli_actor(), now=utcnow(),
        ),
        as_json=False, write=True,
        text=lambda info: [f"document {info.key} saved ({info.access}, {info.size} bytes)"],
    )  # fmt: skip


@document_app.command("requests")
def document_requests(
    all_: Annotated[bool, typer.Option("--all", help="Decided ones too.")] = False,
    as_json: AsJson = False,
) -> None:
    """Requests for documents (pending ones unless --all); the requester's email is not shown."""
    run_and_show(
        lambda _, session: [
            {"id": r.id, "document": r.document_key, "company": r.company, "status": r.status,
             "requested_at": _iso(r.requested_at), "downloads": r.downloads}
            for r in documents.list_requests(session, status=None if all_ else "pending")
        ],
        as_json=as_json,
        text=lambda rows: [
            f"{r['id']}  {r['document']}  {r['company']}  {r['status']}" for r in rows
        ],
    )  # fmt: skip


def _decide(request_id: int, approve: bool) -> None:
    run_and_show(
        lambda platform, session: documents.decide_request(
            session, platform.vault, request_id, approve=approve,
            base_url=public_base_url(platform.settings), actor=cli_actor(), now=utcnow(),
        ),
        as_json=False, write=True, text=lambda status: [f"document request {request_id}: {status}"],
    )  # fmt: skip


@document_app.command("approve")
def document_approve(
    request_id: Annotated[int, typer.Argument(parser=parse_row_id)],
) -> None:
    """Approve a request: a download link valid 7 days is emailed through the outbox."""
    _decide(request_id, True)


@document_app.command("refuse")
def document_refuse(
    request_id: Annotated[int, typer.Argument(parser=parse_row_id)],
) -> None:
    _decide(request_id, False)


risks_app = typer.Typer(
    help="The risk register: likelihood x impact, owners, reviews, linked events.",
    no_args_is_help=True,
)
RiskId = Annotated[int, typer.Argument(parser=parse_row_id, help="The risk id.")]
Scale = Annotated[int, typer.Option(min=1, max=5)]


def _line(view: register.RiskView) -> str:
    residual = f", residual {view.residual_score}" if view.residual_score is not None else ""
    flag = " OVERDUE REVIEW" if view.overdue else ""
    return (
        f"risk {view.id}: {view.title} [{view.category}] score {view.inherent_score}{residual}, "
        f"owner {view.owner}{flag}"
    )


def _risk(
    call: Callable[[Session], register.RiskView], as_json: bool, *, write: bool = True
) -> None:
    """One risk changed (or read) by `call`, then shown as JSON or one line."""
    run_and_show(
        lambda _, session: call(session), as_json=as_json, write=write,
        json_of=lambda view: view.as_json(), text=lambda view: [_line(view)],
    )  # fmt: skip


@risks_app.command("add")
def risks_add(
    title: Annotated[str, typer.Option()],
    category: Annotated[str, typer.Option(help=f"One of {', '.join(register.CATEGORIES)}.")],
    likelihood: Scale,
    impact: Scale,
    owner: Annotated[str, typer.Option(help="The staff user who owns the risk.")],
    description: Annotated[str, typer.Option()] = "",
    controls: Annotated[str, typer.Option()] = "",
    residual_likelihood: Annotated[int | None, typer.Option(min=1, max=5)] = None,
    residual_impact: Annotated[int | None, typer.Option(min=1, max=5)] = None,
    treatment: Annotated[str, typer.Option(help="mitigate, accept, transfer or avoid")] = (
        "mitigate"
    ),
    treatment_plan: Annotated[str, typer.Option()] = "",
    review_every_days: Annotated[int, typer.Option(min=1, max=3650)] = 90,
    as_json: AsJson = False,
) -> None:
    """Add a risk to the register."""
    values = {
        "title": title, "category": category, "likelihood": likelihood, "impact": impact,
        "owner": owner, "description": description, "controls": controls,
        "residual_likelihood": residual_likelihood, "residual_impact": residual_impact,
        "treatment": treatment, "treatment_plan": treatment_plan,
        "review_every_days": review_every_days,
    }  # fmt: skip
    _risk(
        lambda session: register.add_risk(session, values, actor=cli_actor(), now=utcnow()), as_json
    )


@risks_app.command("list")
def risks_list(
    category: Annotated[str | None, typer.Option()] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue reviews.")] = False,
    include_closed: Annotated[bool, typer.Option("--all", help="Closed risks too.")] = False,
    as_json: AsJson = False,
) -> None:
    """The register, highest inherent score first."""
    run_and_show(
        lambda _, session: register.list_risks(
            session, now=utcnow(), category=category, overdue_only=overdue,
            include_closed=include_closed,
        ),
        as_json=as_json, json_of=lambda found: [r.as_json() for r in found],
        text=lambda found: [_line(view) for view in found],
    )  # fmt: skip


@risks_app.command("show")
def risks_show(risk_id: RiskId, as_json: AsJson = False) -> None:
    _risk(lambda session: register.get_risk(session, risk_id, now=utcnow()), as_json, write=False)


@risks_app.command("update")
def risks_update(
    risk_id: RiskId,
    likelihood: Annotated[int | None, typer.Option(min=1, max=5)] = None,
    impact: Annotated[int | None, typer.Option(min=1, max=5)] = None,
    residual_likelihood: Annotated[int | None, typer.Option(min=1, max=5)] = None,
    residual_impact: Annotated[int | None, typer.Option(min=1, max=5)] = None,
    owner: Annotated[str | None, typer.Option()] = None,
    controls: Annotated[str | None, typer.Option()] = None,
    treatment: Annotated[str | None, typer.Option()] = None,
    treatment_plan: Annotated[str | None, typer.Option()] = None,
    status: Annotated[str | None, typer.Option(help="open or closed")] = None,
    review_every_days: Annotated[int | None, typer.Option(min=1, max=3650)] = None,
    as_json: AsJson = False,
) -> None:
    """Change a risk (audited with what changed)."""
    given = {
        "likelihood": likelihood, "impact": impact, "residual_likelihood": residual_likelihood,
        "residual_impact": residual_impact, "owner": owner, "controls": controls,
        "treatment": treatment, "treatment_plan": treatment_plan, "status": status,
        "review_every_days": review_every_days,
    }  # fmt: skip
    changes = {k: v for k, v in given.items() if v is not None}
    _risk(
        lambda session: register.update_risk(
            session, risk_id, changes, actor=cli_actor(), now=utcnow()
        ),
        as_json,
    )


@risks_app.command("review")
def risks_review(risk_id: RiskId, as_json: AsJson = False) -> None:
    """Record a review: the next one is due one cadence from now."""
    _risk(
        lambda session: register.review_risk(session, risk_id, actor=cli_actor(), now=utcnow()),
        as_json,
    )


@risks_app.command("link")
def risks_link(
    risk_id: RiskId,
    kind: Annotated[str, typer.Option(help=f"One of {', '.join(register.LINK_KINDS)}.")],
    ref: Annotated[str, typer.Option(help="The event's id (incident, alert, case …).")],
    note: Annotated[str, typer.Option()] = "",
    as_json: AsJson = False,
) -> None:
    """Link an event that materialised the risk."""
    _risk(
        lambda session: register.link_event(
            session, risk_id, kind=kind, ref=ref, note=note, actor=cli_actor(), now=utcnow()
        ),
        as_json,
    )


@risks_app.command("export")
def risks_export(
    out_file: Annotated[Path | None, typer.Option("--out", help="Write here, not stdout.")] = None,
) -> None:
    """The whole register as CSV."""
    platform = open_platform()
    with platform.db.reading() as session:
        text = register.export_csv(register.list_risks(session, now=utcnow(), include_closed=True))
    if out_file is None:
        typer.echo(text, nl=False)
    else:
        out_file.write_text(text, encoding="utf-8")
        out.print(f"{out_file}: written")


@risks_app.command("heatmap")
def risks_heatmap(
    residual: Annotated[bool, typer.Option("--residual", help="After controls.")] = False,
    as_json: AsJson = False,
) -> None:
    """Open risks per likelihood (columns 1-5) and impact (rows 5-1)."""

    def lines(cells: list[list[int]]) -> Iterator[str]:
        yield "impact \\ likelihood  1  2  3  4  5"
        for impact in range(5, 0, -1):
            yield f"{impact:>19} " + "".join(f"{n:3d}" for n in cells[impact - 1])

    run_and_show(
        lambda _, session: register.heat_map(
            register.list_risks(session, now=utcnow()), residual=residual
        ),
        as_json=as_json,
        json_of=lambda cells: {"cells": cells, "rows": "impact 1-5", "columns": "likelihood 1-5"},
        text=lines,
    )
