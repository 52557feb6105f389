"""`trustdesk users …` and `trustdesk tokens …` commands."""

from __future__ import annotations

from typing import Annotated

import typer

from trustdesk.access.roles import Role
from trustdesk.auth import service
from trustdesk.bounds import parse_row_id
from trustdesk.console import cli_actor, err, open_platform, out, print_json
from trustdesk.terminal_tables import Col, print_table

users = typer.Typer(help="Staff users.", no_args_is_help=True)
tokens = typer.Typer(help="API tokens (shown once, stored hashed).", no_args_is_help=True)


@users.command("create")
def create_user(
    username: str,
    role: Annotated[Role, typer.Option(help="admin, analyst, agent, privacy_officer or viewer")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="TRUSTDESK_NEW_USER_PASSWORD",
        ),
    ],
    totp: Annotated[
        bool | None, typer.Option("--totp/--no-totp", help="Second factor (always on for admin).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create a staff user; the first admin bootstraps everything else."""
    platform = open_platform()
    with platform.db.transaction() as session:
        created = service.create_user(
            session,
            platform.vault,
            username=username,
            password=password,
            role=role,
            with_totp=totp,
            actor=cli_actor(),
        )
    if as_json:
        print_json(
            {
                "id": created.id,
                "username": created.username,
                "role": created.role.value,
                "totp_uri": created.totp_uri,
            }
        )
        return
    out.print(f"created {created.role.value} user {created.username!r}")
    if created.totp_uri:
        out.print("Add this to an authenticator app now (it is not shown again):")
        out.print(created.totp_uri, markup=False, highlight=False, soft_wrap=True)


@users.command("totp-code")
def totp_code(username: str) -> None:
    """The user's current second-factor code (demo and local use; refused in production)."""
    platform = open_platform()
    with platform.db.transaction() as session:
        code, seconds = service.show_totp_code(
            session,
            platform.vault,
            username,
            environment=platform.settings.environment,
            actor=cli_actor(),
        )
    out.print(code, markup=False, highlight=False)
    err.print(f"(current for {seconds} more seconds; each code logs in once)")


@tokens.command("create")
def create_token(
    name: str,
    role: Annotated[Role, typer.Option(help="Role the token acts with.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create an API token; the token is printed once."""
    platform = open_platform()
    with platform.db.transaction() as session:
        created = service.create_token(session, name=name, role=role, actor=cli_actor())
    if as_json:
        print_json(
            {
                "id": created.id,
                "name": created.name,
                "role": created.role.value,
                "token": created.token,
            }
        )
    else:
        out.print(created.token, markup=False, highlight=False)


@tokens.command("list")
def list_tokens(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    wide: Annotated[bool, typer.Option("--wide", help="Every column, however wide.")] = False,
) -> None:
    """Every API token: id, name, its first characters, role and dates (never the token)."""
    platform = open_platform()
    with platform.db.reading() as session:
        rows = service.list_tokens(session)
    if as_json:
        print_json(
            [
                {
                    "id": t.id,
                    "name": t.name,
                    "prefix": t.prefix,
                    "role": t.role,
                    "created_at": t.created_at.isoformat(),
                    "expires_at": t.expires_at.isoformat() if t.expires_at else None,
                    "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
                }
                for t in rows
            ]
        )
        return
    columns = (
        Col("id", key=True, justify="right"),
        Col("name"),
        Col("prefix", key=True),
        Col("role"),
        Col("created", wrap=False),
        Col("revoked", wrap=False),
    )
    table = [
        (
            str(t.id),
            t.name,
            t.prefix,
            t.role,
            f"{t.created_at:%Y-%m-%d}",
            f"{t.revoked_at:%Y-%m-%d}" if t.revoked_at else "",
        )
        for t in rows
    ]
    print_table(out, columns, table, wide=wide)


@tokens.command("revoke")
def revoke_token(
    token_id: Annotated[int, typer.Argument(parser=parse_row_id)],
) -> None:
    platform = open_platform()
    with platform.db.transaction() as session:
        service.revoke_token(session, token_id, actor=cli_actor())
    out.print(f"token {token_id} revoked")
