"""`trustdesk surveys …` commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from sqlalchemy.orm import Session

from trustdesk.bounds import parse_row_id
from trustdesk.console import cli_actor, err, open_platform, out, print_json
from trustdesk.errors import InvalidInput
from trustdesk.jobs.public import run_triggered
from trustdesk.serving import public_base_url
from trustdesk.surveys.answers import ImportReport, check_columns, import_responses
from trustdesk.surveys.bank import template_names
from trustdesk.surveys.builder import (
    KINDS,
    QuestionIn,
    add_question,
    parse_show_if,
    remove_question,
)
from trustdesk.surveys.distribution import INVITED, invite, public_link, response_stats
from trustdesk.surveys.results import open_answers, survey_results, trust_gap, trust_trend
from trustdesk.surveys.service import SurveyOut, create_survey, load_survey
from trustdesk.tabular import read_header, read_rows

if TYPE_CHECKING:
    from trustdesk.platform import Platform

app = typer.Typer(
    help="Trust surveys: validated items, responses, the leaders' trust gap.", no_args_is_help=True
)
responses_app = typer.Typer(help="Survey responses: import.", no_args_is_help=True)
app.add_typer(responses_app, name="responses")

T = TypeVar("T")

SurveyId = Annotated[int, typer.Argument(parser=parse_row_id, help="The survey id.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _call(work: Callable[[Session, Platform], T], *, write: bool = False) -> T:
    """Open the platform, run one service call in a transaction (`write`) or a read."""
    platform = open_platform()
    with platform.db.transaction() if write else platform.db.reading() as session:
        return work(session, platform)


def _emit(found: T, as_json: bool, table: Callable[[T], None], *, data: Any = None) -> None:
    """Print `found` as JSON (`data` when given: the JSON form) or as the command's table."""
    if as_json:
        print_json(found if data is None else data)
    else:
        table(found)


def _survey_json(survey: SurveyOut, *, full: bool = False) -> dict[str, Any]:
    items = []
    for i in survey.items:
        item: dict[str, Any] = {"id": i.id, "dimension": i.dimension, "min": i.min, "max": i.max}
        if full:
            item |= {"kind": i.kind, "text": i.text, "labels": list(i.labels), "source": i.source}
            item["show_if"] = (
                {"item": i.show_if[0], "in": list(i.show_if[1])} if i.show_if else None
            )
        items.append(item)
    found: dict[str, Any] = {"id": survey.id, "items": items}
    if full:
        found |= {
            "title": survey.title,
            "template": survey.template,
            "status": survey.status,
            "version": survey.version,
            "created_at": survey.created_at.isoformat(),
        }
    return found


@app.command("templates")
def templates() -> None:
    """The shipped item banks."""
    for name in template_names():
        out.print(name)


@app.command("create")
def create(
    template: Annotated[str, typer.Option(help="Item bank, e.g. trust-core.")],
    title: Annotated[str, typer.Option(help="The survey's title.")],
    company: Annotated[str, typer.Option(help="How items name you (default 'this company').")] = "",
    quiet_hours: Annotated[
        str, typer.Option(help="No emails then (UTC, HH:MM-HH:MM; equal ends: none).")
    ] = "21:00-08:00",
    reminder_after_h: Annotated[int, typer.Option(help="One reminder after these hours.")] = 72,
    link_days: Annotated[int, typer.Option(help="Invitation links work this many days.")] = 14,
    as_json: AsJson = False,
) -> None:
    """Create a survey from a template of validated items (each with its source)."""
    survey = _call(
        lambda session, platform: create_survey(
            session, platform.vault, template=template, title=title, actor=cli_actor(),
            company=company, quiet_hours=quiet_hours, reminder_after_h=reminder_after_h,
            link_days=link_days,
        ),
        write=True,
    )  # fmt: skip
    _emit(
        survey, as_json, lambda s: out.print(f"survey {s.id}: {s.title} ({len(s.items)} items)"),
        data=_survey_json(survey),
    )  # fmt: skip


@app.command("show")
def show(survey_id: SurveyId, as_json: AsJson = False) -> None:
    """A survey's items: wording, scale, dimension and source."""
    survey = _call(lambda session, _: load_survey(session, survey_id))

    def table(survey: SurveyOut) -> None:
        out.print(f"survey {survey.id}: {survey.title} ({survey.status}, version {survey.version})")
        for i in survey.items:
            scale = f"{i.min}..{i.max}" if i.min is not None else i.kind
            if i.show_if:
                scale += f" if {i.show_if[0]} in {','.join(map(str, i.show_if[1]))}"
            out.print(f"  {i.id:<14} {i.dimension or '-':<12} {scale:<6} {i.text}", markup=False)

    _emit(survey, as_json, table, data=_survey_json(survey, full=True))


@app.command("add-question")
def add_question_(
    survey_id: SurveyId,
    id: Annotated[str, typer.Option("--id", help="The question's id (a-z, 0-9, _).")],
    kind: Annotated[str, typer.Option(help=f"One of: {', '.join(KINDS)}.")],
    text: Annotated[str, typer.Option(help="The wording.")],
    option: Annotated[
        list[str] | None, typer.Option(help="An option of a single/multi question; repeat.")
    ] = None,
    show_if: Annotated[
        str | None, typer.Option(help="Ask only when an earlier answer is in a set: q1=1,2")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Add an own question next to the bank's items (a sent survey gets a new version)."""
    item, wanted = parse_show_if(show_if)
    question = QuestionIn(id, kind, text, tuple(option or ()), item, tuple(wanted))
    survey = _call(
        lambda session, _: add_question(session, survey_id, question, actor=cli_actor()),
        write=True,
    )
    _emit_version(survey, as_json)


def _emit_version(survey: SurveyOut, as_json: bool) -> None:
    """What an edit of the questions prints: the survey's version and question count."""
    _emit(
        survey, as_json,
        lambda s: out.print(f"survey {s.id} version {s.version}: {len(s.items)} questions"),
        data=_survey_json(survey, full=True),
    )  # fmt: skip


@app.command("remove-question")
def remove_question_(
    survey_id: SurveyId,
    item: Annotated[str, typer.Argument(help="The question's id.")],
    as_json: AsJson = False,
) -> None:
    """Remove a question (a sent survey gets a new version; answers keep theirs)."""
    survey = _call(
        lambda session, _: remove_question(session, survey_id, item, actor=cli_actor()),
        write=True,
    )
    _emit_version(survey, as_json)


@responses_app.command("import")
def import_(
    survey_id: SurveyId,
    file: Annotated[
        Path,
        typer.Argument(help="CSV/JSONL: external_id or respondent=leader, one column per item"),
    ],
    as_json: AsJson = False,
) -> None:
    """Import responses; idempotent per respondent, bad rows named and not stored."""

    def work(session: Session, platform: Platform) -> ImportReport:
        check_columns(load_survey(session, survey_id), read_header(file))
        rows = ((r.number, r.error if r.error else r.fields) for r in read_rows(file))
        return import_responses(
            session, platform.vault, survey_id, rows, actor=cli_actor(),
            data_dir=platform.settings.data_dir,
        )  # fmt: skip

    def table(report: ImportReport) -> None:
        out.print(
            f"created {report.created}, unchanged {report.unchanged}, rejected {len(rejected)}"
        )
        for bad in rejected:
            err.print(f"row {bad['row']}: {bad['reason']}", markup=False, highlight=False)

    report = _call(work, write=True)
    rejected = report.rejected or []
    _emit(report, as_json, table, data=report.as_dict())
    if rejected:
        raise typer.Exit(code=InvalidInput.exit_code)


@app.command("gap")
def gap(survey_id: SurveyId, as_json: AsJson = False) -> None:
    """The leaders' trust gap per dimension: leaders' belief - customers' answers (0..100),
    with a Welch 95% interval."""

    def table(found: list[dict[str, Any]]) -> None:
        for row in found:
            ci = "(too few)"
            if row["ci_low"] is not None:
                ci = f"[{row['ci_low']}, {row['ci_high']}]"
            out.print(
                f"{row['dimension']:<12} customers {row['customers']} (n={row['n_customers']})  "
                f"leaders {row['leaders']} (n={row['n_leaders']})  gap {row['gap']} {ci}",
                markup=False,
            )

    _emit(_call(lambda session, _: trust_gap(session, survey_id)), as_json, table)


@app.command("distribute")
def distribute(
    survey_id: SurveyId,
    segment: Annotated[str | None, typer.Option(help="Invite this segment's customers.")] = None,
    customer: Annotated[
        list[str] | None, typer.Option(help="Invite this customer (external id); repeatable.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Invite customers whose consent allows research by email; the delivery job emails their
    signed single-use links (outside quiet hours) and one reminder."""
    result = _call(
        lambda session, platform: invite(
            session, survey_id, segment=segment, external_ids=customer or [], actor=cli_actor(),
            policy_file=platform.settings.consent_policy_file,
        ),
        write=True,
    )  # fmt: skip
    run_triggered(open_platform(), INVITED)
    _emit(
        result, as_json,
        lambda r: out.print(
            f"invited {r.invited}, already invited {r.already}, "
            f"not invited (no research consent by email) {r.no_consent}"
        ),
        data=result.__dict__,
    )  # fmt: skip


@app.command("public-link")
def public_link_(survey_id: SurveyId) -> None:
    """The survey's anonymous public link (the same each time)."""
    token = _call(lambda session, _: public_link(session, survey_id, actor=cli_actor()), write=True)
    out.print(f"{public_base_url(open_platform().settings)}/s/open/{token}", markup=False)


@app.command("stats")
def stats(survey_id: SurveyId, as_json: AsJson = False) -> None:
    """Invited, sent, opened, partial and answered; response rate and time to answer."""
    found = _call(lambda session, _: response_stats(session, survey_id)).__dict__

    def table(found: dict[str, Any]) -> None:
        for key, value in found.items():
            out.print(f"{key.replace('_', ' '):<28} {value}", markup=False)

    _emit(found, as_json, table)


@app.command("results")
def results(survey_id: SurveyId, as_json: AsJson = False) -> None:
    """Customers' trust per dimension, overall and per segment with 95% intervals; NPS with its
    interval; which items go with likelihood to recommend (drivers, BH-adjusted)."""

    def table(found: dict[str, Any]) -> None:
        for facet, e in found["overall"].items():
            ci = f"[{e['ci_low']}, {e['ci_high']}]" if e["ci_low"] is not None else ""
            out.print(f"{facet:<12} {e['value']} {ci} n={e['n']}", markup=False)
        for d in found["drivers"]:
            mark = "*" if d["significant"] else " "
            out.print(f"driver {d['item']:<14} r={d['r']:+.2f} q={d['q_value']:.3g}{mark}")

    _emit(_call(lambda session, _: survey_results(session, survey_id)), as_json, table)


@app.command("trend")
def trend(
    template: Annotated[str, typer.Option(help="Waves are the surveys of this template.")] = (
        "trust-core"
    ),
    as_json: AsJson = False,
) -> None:
    """Trust, NPS and the leaders' gap over waves (surveys of one template, oldest first)."""

    def table(found: list[dict[str, Any]]) -> None:
        for w in found:
            out.print(
                f"{w['created_at'][:10]} {w['title']}: trust {w['overall']['value']}, "
                f"NPS {w['nps']['value']}, gap {w['gap']}",
                markup=False,
            )

    _emit(_call(lambda session, _: trust_trend(session, template)), as_json, table)


@app.command("open-answers")
def open_answers_(survey_id: SurveyId, as_json: AsJson = False) -> None:
    """Customers' open answers through the feedback models: sentiment shares and trust topics."""
    _emit(
        _call(lambda session, platform: open_answers(session, platform.vault, survey_id)),
        as_json,
        lambda f: out.print(
            f"{f['n']} open answers; sentiment {f['sentiment']}; topics {f['topics']}"
        ),
    )
