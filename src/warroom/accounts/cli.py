"""`warroom user …` and `warroom token …`: account scripting from the server's shell."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from warroom.accounts import queries, service
from warroom.actors import Role
from warroom.clikit import operator, state, stdout
from warroom.errors import InvalidInput, NotFound

users = typer.Typer(help="Create, list and disable user accounts.", no_args_is_help=True)
tokens = typer.Typer(help="Create, list and revoke API tokens.", no_args_is_help=True)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InvalidInput("no terminal to prompt on: pass --password-stdin and pipe the password")
    first = typer.prompt("Password", hide_input=True)
    second = typer.prompt("Repeat password", hide_input=True)
    if first != second:
        raise InvalidInput("the passwords do not match")
    return str(first)


@users.command("create")
def create_user(
    ctx: typer.Context,
    email: str,
    role: Annotated[Role, typer.Option(help="admin, responder, viewer or external")],
    name: Annotated[str, typer.Option(help="Display name")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
) -> None:
    """Create a user; the password is prompted for (or read from stdin)."""
    data = service.parse_user_create(
        email=email, display_name=name, role=role.value, password=_read_password(password_stdin)
    )
    user = service.create_user(state(ctx).uow(), operator(), data=data)
    stdout.print(f"created user {user.email} ({user.role.value}), id {user.id}")


@users.command("list")
def list_users(ctx: typer.Context) -> None:
    """List every account with its role and status."""
    table = Table("id", "email", "name", "role", "status")
    for user in queries.list_users(state(ctx).database(), operator()):
        status = "disabled" if user.disabled else "active"
        table.add_row(str(user.id), user.email, user.display_name, user.role.value, status)
    stdout.print(table)


@users.command("disable")
def disable_user(ctx: typer.Context, email: str) -> None:
    """Disable an account: its sessions end and its API tokens stop working."""
    user = service.disable_user(state(ctx).uow(), operator(), email=email)
    stdout.print(f"disabled {user.email}")


@tokens.command("create")
def create_token(
    ctx: typer.Context,
    email: str,
    name: Annotated[str, typer.Option(help="What the token is for")],
) -> None:
    """Create an API token for a user and print only the token (for scripts)."""
    db = state(ctx).database()
    user = queries.find_user_by_email(db, email=email)
    if user is None:
        raise NotFound(f"user {email}")
    created = service.create_token(state(ctx).uow(), operator(), user_id=user.id, name=name)
    typer.echo(created.token)


@tokens.command("list")
def list_tokens(ctx: typer.Context, email: Annotated[str | None, typer.Argument()] = None) -> None:
    """List API tokens (of one user when EMAIL is given)."""
    db = state(ctx).database()
    user_id = None
    if email:
        user = queries.find_user_by_email(db, email=email)
        if user is None:
            raise NotFound(f"user {email}")
        user_id = user.id
    table = Table("id", "user", "name", "prefix", "last used", "status")
    for token in queries.list_tokens(db, operator(), user_id=user_id):
        last = token.last_used_at.isoformat(timespec="seconds") if token.last_used_at else "never"
        status = "revoked" if token.revoked_at else "active"
        table.add_row(str(token.id), str(token.user_id), token.name, token.prefix, last, status)
    stdout.print(table)


@tokens.command("revoke")
def revoke_token(ctx: typer.Context, token_id: int) -> None:
    """Revoke an API token by id."""
    token = service.revoke_token(state(ctx).uow(), operator(), token_id=token_id)
    stdout.print(f"revoked token {token.id} ({token.name})")
