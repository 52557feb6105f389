"""`trustdesk privacy datamap …` and `trustdesk privacy notice …`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.table import Table

from trustdesk.bounds import parse_row_id
from trustdesk.console import cli_actor, open_platform, out, print_json
from trustdesk.db import utcnow
from trustdesk.errors import InvalidInput
from trustdesk.input_files import read_text_file
from trustdesk.privacy.datamap import datamap, notice, publishing
from trustdesk.privacy.datamap.notice_pages import render_notice

datamap_app = typer.Typer(
    help="The data map the privacy notice is made from.", no_args_is_help=True
)
notice_app = typer.Typer(help="The public privacy notice and its versions.", no_args_is_help=True)

AsJson = Annotated[bool, typer.Option("--json")]
Version = Annotated[
    int | None,
    typer.Option("--version", help="Default: the current one.", parser=parse_row_id),
]


@datamap_app.command("show")
def show(version: Version = None, as_json: AsJson = False) -> None:
    """The data map (YAML, or JSON with --json)."""
    platform = open_platform()
    with platform.db.reading() as session:
        found = (
            datamap.current(session) if version is None else datamap.load_version(session, version)
        )
    data = found.datamap.model_dump(mode="json")
    if as_json:
        print_json({"version": found.version, "datamap": data})
        return
    sys.stdout.write(f"# data map version {found.version}\n")
    sys.stdout.write(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


@datamap_app.command("load")
def load(file: Annotated[Path, typer.Argument(help="A YAML data map.")]) -> None:
    """Validate FILE and save it as a new version; the notice is regenerated from it."""
    text = read_text_file(file)
    platform = open_platform()
    with platform.db.transaction() as session:
        published = publishing.update_datamap(session, text, actor=cli_actor(), now=utcnow())
    if published.changed:
        out.print(
            f"data map version {published.datamap_version} saved; "
            f"privacy notice version {published.notice_version} published"
        )
    else:
        out.print(f"unchanged: the data map is already version {published.datamap_version}")


@datamap_app.command("versions")
def datamap_versions(as_json: AsJson = False) -> None:
    """Every saved version, newest first (0 is the shipped map)."""
    platform = open_platform()
    with platform.db.reading() as session:
        items = datamap.versions(session)
    rows = [
        {
            "version": v.version,
            "created_at": v.created_at.isoformat() if v.created_at else None,
            "actor": v.actor,
            "systems": len(v.datamap.systems),
        }
        for v in items
    ]
    if as_json:
        print_json(rows)
        return
    table = Table("version", "saved", "by", "systems")
    for r in rows:
        table.add_row(
            str(r["version"]), str(r["created_at"] or "shipped"), str(r["actor"]), str(r["systems"])
        )
    out.print(table)


@notice_app.command("show")
def notice_show(
    version: Version = None,
    fmt: Annotated[str, typer.Option("--format", help="md or html.")] = "md",
) -> None:
    """The privacy notice as Markdown or as an HTML document."""
    if fmt not in {"md", "html"}:
        raise InvalidInput(f"--format must be md or html, not {fmt!r}")
    platform = open_platform()
    with platform.db.reading() as session:
        found = (
            notice.current(session) if version is None else notice.load_version(session, version)
        )
        latest = notice.current(session).version
    text = (
        found.markdown if fmt == "md" else render_notice(found, is_current=found.version == latest)
    )
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


@notice_app.command("diff")
def notice_diff(
    a: Annotated[int, typer.Argument(help="The older version.", parser=parse_row_id)],
    b: Annotated[int, typer.Argument(help="The newer version.", parser=parse_row_id)],
) -> None:
    """A unified diff of two notice versions' Markdown (nothing when identical)."""
    platform = open_platform()
    with platform.db.reading() as session:
        sys.stdout.write(notice.diff(session, a, b))


@notice_app.command("versions")
def notice_versions(as_json: AsJson = False) -> None:
    platform = open_platform()
    with platform.db.reading() as session:
        items = notice.versions(session)
    rows = [
        {"version": v, "datamap_version": d, "published": c.isoformat() if c else None}
        for v, d, c in items
    ]
    if as_json:
        print_json(rows)
        return
    table = Table("version", "data map version", "published")
    for r in rows:
        table.add_row(
            str(r["version"]), str(r["datamap_version"]), str(r["published"] or "shipped")
        )
    out.print(table)
