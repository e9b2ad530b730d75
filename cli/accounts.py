"""`sohoa user …` and `sohoa token …`: people who log in, and tokens for services."""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from typing import Annotated

import typer

from cli.common import cli_actor, ready_services
from cli.exit_codes import ExitCode
from schemas.auth import Role, Scope

user_app = typer.Typer(help="People who log in to the web interface.", no_args_is_help=True)
token_app = typer.Typer(help="Bearer tokens for other services.", no_args_is_help=True)

PASSWORD_ENV = "SOHOA_NEW_PASSWORD"


def _read_password() -> str:
    """From SOHOA_NEW_PASSWORD (scripts), a pipe (one line), or a prompt typed twice."""
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Mật khẩu / password", hide_input=True, confirmation_prompt=True)


@user_app.command("create")
def user_create(
    username: str,
    role: Annotated[Role, typer.Option(help="staff, supervisor or admin")] = Role.staff,
    unit: Annotated[
        list[str] | None, typer.Option(help="Unit the person works for (repeat); staff need one")
    ] = None,
    full_name: Annotated[str | None, typer.Option(help="Họ và tên")] = None,
) -> None:
    """Create a person's account. The password is read from SOHOA_NEW_PASSWORD, standard
    input, or a prompt; never from the command line, where other users could see it."""
    from store import unit_of_work
    from store.accounts.auth import AuthError, create_user

    password = _read_password()
    svc = ready_services()
    try:
        with unit_of_work(svc.sessions) as session:
            create_user(
                session,
                username,
                password,
                role,
                units=unit or (),
                full_name=full_name,
                actor=cli_actor(),
            )
    except AuthError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(ExitCode.usage) from None
    typer.echo(f"user {username} created ({role.value})")


@user_app.command("password")
def user_password(username: str) -> None:
    """Set a new password (and log the person out everywhere)."""
    from store import unit_of_work
    from store.accounts.auth import AuthError, set_password

    password = _read_password()
    svc = ready_services()
    try:
        with unit_of_work(svc.sessions) as session:
            set_password(session, username, password, actor=cli_actor())
    except AuthError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(ExitCode.usage) from None
    typer.echo(f"password of {username} changed")


@user_app.command("list")
def user_list() -> None:
    from store import unit_of_work
    from store.accounts.auth import list_users

    svc = ready_services()
    with unit_of_work(svc.sessions) as session:
        for user in list_users(session):
            units = ",".join(user.units) or "*"
            state = "" if user.active else "\t(disabled)"
            typer.echo(f"{user.username}\t{user.role.value}\t{units}{state}")


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="Who uses it, e.g. e-office")],
    scope: Annotated[
        list[str] | None,
        typer.Option(help="Repeat: " + ", ".join(s.value for s in Scope)),
    ] = None,
    unit: Annotated[
        list[str] | None, typer.Option(help="Limit the token to these units (repeat)")
    ] = None,
    days: Annotated[int | None, typer.Option(min=1, help="Expires after this many days")] = None,
) -> None:
    """Create a service token (default scope records:read). The token is printed once, on
    the last line; only its hash is kept."""
    from store import unit_of_work
    from store.accounts.auth import AuthError, create_token
    from store.platform.models import utcnow

    expires = utcnow() + timedelta(days=days) if days else None
    svc = ready_services()
    try:
        with unit_of_work(svc.sessions) as session:
            plaintext, row = create_token(
                session,
                name,
                scope or [Scope.records_read.value],
                units=unit,
                expires_at=expires,
                actor=cli_actor(),
            )
            summary = f"token {row.id} for {name}: {' '.join(row.scopes)}"
            if row.units is not None:
                summary += f" (units: {', '.join(row.units)})"
    except AuthError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(ExitCode.usage) from None
    typer.echo(summary, err=True)
    typer.echo(plaintext)


@token_app.command("list")
def token_list() -> None:
    from store import unit_of_work
    from store.accounts.auth import list_tokens

    svc = ready_services()
    with unit_of_work(svc.sessions) as session:
        for t in list_tokens(session):
            units = ",".join(t.units) if t.units is not None else "*"
            state = "revoked" if t.revoked else "active"
            scopes = " ".join(s.value for s in t.scopes)
            typer.echo(f"{t.id}\t{t.name}\t{t.prefix}…\t{scopes}\t{units}\t{state}")


@token_app.command("revoke")
def token_revoke(token_id: int) -> None:
    from store import unit_of_work
    from store.accounts.auth import revoke_token

    svc = ready_services()
    with unit_of_work(svc.sessions) as session:
        if not revoke_token(session, token_id, actor=cli_actor()):
            typer.echo(f"no active token {token_id}", err=True)
            raise typer.Exit(ExitCode.usage)
    typer.echo(f"token {token_id} revoked")
