"""Typer root: mounts every capability's commands and maps domain errors to exit codes.

The command groups come from the manifest (`trustdesk.capabilities`, each entry's `commands`) and
are imported only when invoked: `trustdesk --help` lists them from the manifest's help lines, and
`trustdesk customers list` imports the customers commands, not the fraud model's libraries. This
module and the ones it imports at the top stay light for the same reason (a test checks that
importing it loads no machine-learning library and no Alembic).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from trustdesk.capabilities import Command, installed, resolve
from trustdesk.console import (
    cli_actor,
    close_platform,
    err,
    open_platform,
    out,
    print_json,
    progress,
)
from trustdesk.errors import DomainError, InvalidInput


class _LazyGroup(TyperGroup):
    """A manifest command group that imports its Typer app only when it is invoked.

    It stands in the root's command list with the manifest's help line; once the group is
    chosen, the real group (built from the imported Typer app) parses the rest of the line.
    """

    def __init__(self, command: Command) -> None:
        super().__init__(name=command.name, help=command.help or None)
        self._ref = command.app
        self._real: Any = None

    def real(self) -> Any:
        if self._real is None:
            group = typer.main.get_group(resolve(self._ref, typer.Typer))
            group.name = self.name
            self._real = group
            if not self.help:  # the manifest gave no help line: show the group's own
                self.help = group.help
        return self._real

    def get_short_help_str(self, limit: int = 45) -> str:
        if not self.help:
            self.real()
        return super().get_short_help_str(limit)

    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:
        return self.real().make_context(info_name, args, parent=parent, **extra)


class _DomainErrorsToExitCodes(TyperGroup):
    """The root group: manifest groups mounted lazily; every command's domain error becomes a
    one-line reason and its exit code."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        # The core groups first, then the capabilities' in manifest order, then the rest.
        core = {name: cmd for name, cmd in self.commands.items() if name in _CORE_GROUPS}
        lazy = {c.name: _LazyGroup(c) for cap in installed() for c in cap.commands}
        rest = {n: c for n, c in self.commands.items() if n not in core and n not in lazy}
        self.commands = {**core, **lazy, **rest}

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


_CORE_GROUPS = ("db", "config", "keys")

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


@db_app.command("upgrade")
def db_upgrade(revision: str = "heads") -> None:
    """Apply migrations (creates the database on first run)."""
    from trustdesk import migrate

    platform = open_platform(check_schema=False)
    migrate.upgrade(platform.db, revision)
    out.print(f"database at revision {migrate.current_revision(platform.db)}")


@db_app.command("current")
def db_current() -> None:
    """The database's revision and the one this version needs (exit 1 when they differ)."""
    from trustdesk import migrate

    missing = _missing_database()
    if missing is not None:
        out.print(missing, markup=False, highlight=False)
        raise typer.Exit(code=1)
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
    from trustdesk import migrate

    migrate.revision(open_platform(check_schema=False).db, message)


@config_app.command("show")
def config_show(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Effective settings, secrets masked."""
    from trustdesk.config import get_settings

    view = get_settings().public_view()
    if as_json:
        print_json(view)
        return
    for key, value in view.items():
        out.print(f"{key:>20} = {value}", markup=False, highlight=False)


@keys_app.command("rotate-master")
def rotate_master(
    batch_size: Annotated[
        int, typer.Option(min=1, max=10_000, help="Data keys re-wrapped per transaction.")
    ] = 500,
    pause_ms: Annotated[
        int, typer.Option(min=0, max=60_000, help="Pause between batches, to spare a busy store.")
    ] = 0,
) -> None:
    """Rotate the master key while servers keep running; run again to finish an interrupted one.

    A new key joins the ring and wraps everything new at once; existing data keys are re-wrapped
    in batches; the old key is retired when it wraps nothing (the encrypted data is not rewritten).
    """
    from trustdesk.audit.chain import record
    from trustdesk.config import get_settings
    from trustdesk.keys import parse_ring, rotate_master_key

    settings = get_settings()
    platform = open_platform()
    key_file = settings.effective_master_key_file
    env_ring = parse_ring(settings.master_key.get_secret_value()) if settings.master_key else None

    def audit(action: str, key_id: str, changes: dict[str, Any]) -> None:
        with platform.db.transaction() as session:
            record(
                session,
                actor=cli_actor(),
                action=action,
                entity_type="master_key",
                entity_id=key_id,
                changes=changes,
            )

    with progress("re-wrapping data keys") as bar:
        task = bar.add_task("rewrap", total=None)

        def step(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = rotate_master_key(
            platform.vault,
            key_file,
            env_ring=env_ring,
            batch=batch_size,
            pause_s=pause_ms / 1000,
            progress=step,
            audit=audit,
        )
    if report.new_key_file is not None:
        out.print(
            f"a new master key is in {report.new_key_file}: put it first in TRUSTDESK_MASTER_KEY "
            f"(comma-separated, before the current key) for every process, restart them, delete "
            "the file, then run `trustdesk keys rotate-master` again",
            markup=False,
            highlight=False,
        )
        return
    verb = "rotated to" if report.started else "resumed rotation to"
    out.print(
        f"{verb} master key {report.current}: re-wrapped {report.rewrapped} data keys",
        markup=False,
        highlight=False,
    )
    for key_id in report.retired:
        out.print(f"retired master key {key_id} (no key is wrapped by it any more)", markup=False)
        if env_ring is not None:
            out.print(f"remove key {key_id} from TRUSTDESK_MASTER_KEY", markup=False)
    for key_id in report.still_in_use:
        out.print(f"master key {key_id} still wraps data keys: run again", markup=False)


@keys_app.command("status")
def keys_status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Keys in the ring, how many data keys each wraps, and any rotation under way."""
    from trustdesk.config import get_settings
    from trustdesk.keys import keyring_status

    settings = get_settings()
    status = keyring_status(
        open_platform().vault, source="environment" if settings.master_key else "file"
    )
    if as_json:
        print_json(status)
        return
    out.print(
        f"current master key {status['current']} (ring from the {status['source']}); "
        f"rotation {status['rotation']}, {status['pending_rewraps']} keys to re-wrap",
        markup=False,
        highlight=False,
    )
    for key in status["keys"]:
        out.print(
            f"  {key['id']}  {key['state']:<28} {key['data_keys']:>8} data keys  "
            f"{key['named_keys']} named",
            markup=False,
            highlight=False,
        )


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Server processes sharing the port (more than 1 needs PostgreSQL; docs/scale.md).",
        ),
    ] = 1,
) -> None:
    """Run the API and web pages."""
    import inspect

    import uvicorn

    from trustdesk.app import create_app
    from trustdesk.config import get_settings
    from trustdesk.serving import record_address

    settings = get_settings()
    if workers > 1 and settings.effective_database_url.startswith("sqlite"):
        raise InvalidInput(
            "--workers above 1 needs PostgreSQL (TRUSTDESK_DATABASE_URL): the embedded SQLite "
            "database takes one writer at a time"
        )
    platform = open_platform()  # checks the schema and the master key before forking
    host, port = host or settings.host, port or settings.port
    record_address(settings, host, port)  # `consent link` makes links with this port
    if workers > 1:
        # Each worker process builds its own app (and platform) from the same settings.
        close_platform()
        # A worker loading a large scorer history may not answer the supervisor's ping within
        # uvicorn's default 5 s and would be killed and restarted over and over.
        patience = (
            {"timeout_worker_healthcheck": 60}
            if "timeout_worker_healthcheck" in inspect.signature(uvicorn.Config).parameters
            else {}
        )
        uvicorn.run(
            "trustdesk.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=None,
            **patience,  # type: ignore[arg-type]
        )
        return
    uvicorn.run(create_app(settings, platform=platform), host=host, port=port, log_config=None)


@app.command("demo")
def demo(
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the server at the end.")
    ] = True,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Set up the embedded database with the shipped sample data, then serve the dashboard."""
    from trustdesk.config import get_settings
    from trustdesk.console import StepReporter
    from trustdesk.demo import prepare_demo

    settings = get_settings()
    out.print(
        f"data directory: {settings.data_dir} (TRUSTDESK_DATA_DIR chooses another)",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    platform = open_platform(check_schema=False)
    with StepReporter(out) as echo:
        summary = prepare_demo(platform, echo)
    url = f"http://{settings.host}:{port or settings.port}/"
    out.print(f"\nTrustDesk demo ready: {url}", markup=False, highlight=False, soft_wrap=True)
    out.print(f"data directory: {settings.data_dir}", markup=False, highlight=False, soft_wrap=True)
    out.print(
        f"log in at {url}login with password {summary.password!r} as one of:",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    for login in summary.logins:
        second = (
            f" + the code `trustdesk users totp-code {login.username}` prints" if login.totp else ""
        )
        out.print(
            f"  {login.username:<8} {login.role.value:<16}{second}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if summary.totp_uri:
        out.print(
            "or enrol the admin's second factor in an authenticator app with this URI "
            f"(shown once):\n  {summary.totp_uri}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if serve_after:
        serve(host=settings.host, port=port or settings.port)


def _missing_database() -> str | None:
    from trustdesk.config import get_settings
    from trustdesk.platform import missing_database

    return missing_database(get_settings())


def main() -> None:
    try:
        app()
    finally:
        close_platform()
