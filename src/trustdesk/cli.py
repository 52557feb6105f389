"""Typer root: mounts every capability's commands and maps domain errors to exit codes.

The command groups come from the manifest (`trustdesk.capabilities`, each entry's `commands`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from trustdesk import migrate
from trustdesk.capabilities import installed, resolve
from trustdesk.config import get_settings
from trustdesk.console import close_platform, err, open_platform, out, print_json
from trustdesk.errors import DomainError
from trustdesk.serving import record_address


class _DomainErrorsToExitCodes(TyperGroup):
    """Every command's domain error becomes a one-line reason and its exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except DomainError as exc:
            err.print(f"error: {exc.detail}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(code=exc.exit_code) from None
        except OSError as exc:
            if exc.filename is None:  # not about a path the user named
                raise
            # A file or folder named on the command line cannot be read or written.
            reason = f"{exc.filename}: {exc.strerror or exc}"
            err.print(f"error: {reason}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(code=3 if isinstance(exc, FileNotFoundError) else 2) from None


app = typer.Typer(
    help="TrustDesk: measure, earn, protect and rebuild customer trust.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=_DomainErrorsToExitCodes,
)
db_app = typer.Typer(help="The main database.", no_args_is_help=True)
config_app = typer.Typer(help="Configuration.", no_args_is_help=True)
keys_app = typer.Typer(help="The master key and data keys.", no_args_is_help=True)

app.add_typer(db_app, name="db")
app.add_typer(config_app, name="config")
app.add_typer(keys_app, name="keys")
for _capability in installed():
    for _command in _capability.commands:
        app.add_typer(resolve(_command.app, typer.Typer), name=_command.name)


@db_app.command("upgrade")
def db_upgrade(revision: str = "heads") -> None:
    """Apply migrations (creates the database on first run)."""
    platform = open_platform(check_schema=False)
    migrate.upgrade(platform.db, revision)
    out.print(f"database at revision {migrate.current_revision(platform.db)}")


@db_app.command("current")
def db_current() -> None:
    platform = open_platform(check_schema=False)
    current, head = migrate.current_revision(platform.db), migrate.head_revision()
    out.print(f"current {current}, head {head}")
    if current != head:
        raise typer.Exit(code=1)


@db_app.command("backup")
def db_backup(file: Annotated[Path, typer.Argument(help="New file to write the copy to.")]) -> None:
    """A consistent copy of the main database (the key store is deliberately not included)."""
    from trustdesk.backup import backup_database

    platform = open_platform()
    backup_database(platform.db.url, file)
    out.print(
        f"database copied to {file} (personal data inside stays encrypted; keys not included)"
    )


@db_app.command("revision", hidden=True)
def db_revision(message: Annotated[str, typer.Option("-m")]) -> None:
    """(developers) Autogenerate a migration from the models."""
    migrate.revision(open_platform(check_schema=False).db, message)


@config_app.command("show")
def config_show(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Effective settings, secrets masked."""
    view = get_settings().public_view()
    if as_json:
        print_json(view)
        return
    for key, value in view.items():
        out.print(f"{key:>20} = {value}", markup=False, highlight=False)


@keys_app.command("rotate-master")
def rotate_master() -> None:
    """Re-wrap every data key under a new master key (the encrypted data is not rewritten)."""
    from trustdesk.keys import rotate_master_key

    settings = get_settings()
    platform = open_platform()
    key_file = settings.effective_master_key_file
    new, count = rotate_master_key(
        platform.vault, key_file, key_in_file=settings.master_key is None
    )
    out.print(f"re-wrapped {count} data keys under master key {new.key_id}")
    if settings.master_key is not None:
        out.print(
            f"set TRUSTDESK_MASTER_KEY to the content of {key_file}.next, then delete that file"
        )


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Run the API and web pages."""
    import uvicorn

    from trustdesk.app import create_app

    settings = get_settings()
    application = create_app(settings, platform=open_platform())
    host, port = host or settings.host, port or settings.port
    record_address(settings, host, port)  # `consent link` makes links with this port
    uvicorn.run(application, host=host, port=port, log_config=None)


@app.command("demo")
def demo(
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the server at the end.")
    ] = True,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Set up the embedded database with the shipped sample data, then serve the dashboard."""
    from trustdesk.demo import prepare_demo

    settings = get_settings()
    platform = open_platform(check_schema=False)
    summary = prepare_demo(
        platform, echo=lambda line: out.print(line, markup=False, highlight=False)
    )
    url = f"http://{settings.host}:{port or settings.port}/"
    out.print(f"\nTrustDesk demo ready: {url}")
    out.print(f"log in as {summary.username!r} with password {summary.password!r}")
    if serve_after:
        serve(host=settings.host, port=port or settings.port)


def main() -> None:
    try:
        app()
    finally:
        close_platform()
