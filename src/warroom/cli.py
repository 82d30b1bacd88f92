"""The `warroom` command: the CLI composition root. Every domain's sub-app is mounted here."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from warroom import __version__, demo
from warroom.accounts import cli as accounts_cli
from warroom.audit import cli as audit_cli
from warroom.catalog import cli as catalog_cli
from warroom.clikit import CliState, state, stderr, stdout
from warroom.db.migrate import current_revision, head_revision, upgrade
from warroom.diagnosis import cli as diagnosis_cli
from warroom.diagnosis import jobs_cli as diagnosis_jobs_cli
from warroom.errors import WarroomError
from warroom.incidents import cli as incidents_cli
from warroom.intake import cli as intake_cli
from warroom.learning import cli as learning_cli

app = typer.Typer(
    name="warroom",
    help="Warroom: from the first alert to the lesson learned.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema management.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(accounts_cli.users, name="user")
app.add_typer(accounts_cli.tokens, name="token")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(catalog_cli.app, name="catalog")
app.add_typer(intake_cli.integrations, name="integration")
app.add_typer(intake_cli.alerts, name="alert")
app.add_typer(intake_cli.intake, name="intake")
app.add_typer(incidents_cli.app, name="incident")
app.add_typer(learning_cli.kb, name="kb")
app.add_typer(learning_cli.postmortem, name="postmortem")
app.add_typer(learning_cli.action_items, name="actions")
app.add_typer(learning_cli.adr, name="adr")
app.add_typer(learning_cli.chaos, name="chaos")
app.command("analyze")(diagnosis_cli.analyze)
app.add_typer(diagnosis_jobs_cli.app, name="diagnosis")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"warroom {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    _version_flag: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version")
    ] = False,
) -> None:
    """Settings come from WARROOM_* environment variables and ./warroom.toml (docs/settings.md)."""
    if not isinstance(ctx.obj, CliState):
        ctx.obj = CliState()


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create or migrate the schema to this version's head. Safe to run again."""
    db = state(ctx).database(check=False)
    before, after = upgrade(db.writer)
    if before == after:
        stdout.print(f"database already at {after}: nothing to do")
    else:
        stdout.print(f"database migrated from {before or 'empty'} to {after}")


@db_app.command("current")
def db_current(ctx: typer.Context) -> None:
    """Show the schema revision of the database and the one this code needs."""
    db = state(ctx).database(check=False)
    stdout.print(f"database: {current_revision(db.writer) or 'empty'}")
    stdout.print(f"code:     {head_revision(db.writer)}")


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Bind address [setting: host]")] = None,
    port: Annotated[int | None, typer.Option(help="Port [setting: port]")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes")] = 1,
) -> None:
    """Serve the web app and API (the database must be migrated)."""
    settings = state(ctx).settings
    state(ctx).database()  # fail here, clearly, rather than in every worker
    _run_server(host or settings.host, port or settings.port, workers)


@app.command("demo")
def demo_command(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where the demo database lives [setting: data_dir]")
    ] = None,
    host: Annotated[str | None, typer.Option(help="Bind address [setting: host]")] = None,
    port: Annotated[int | None, typer.Option(help="Port [setting: port]")] = None,
    serve_app: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the web app after seeding")
    ] = True,
) -> None:
    """Create and migrate the embedded database, seed the demo organisation, and serve it."""
    cli_state = state(ctx)
    if data_dir is not None:
        os.environ["WARROOM_DATA_DIR"] = str(data_dir)
        cli_state.settings_overrides["data_dir"] = data_dir
    db = cli_state.database(check=False)
    upgrade(db.writer)
    login = demo.seed(cli_state.uow, cli_state.settings.data_dir)
    settings = cli_state.settings
    host, port = host or settings.host, port or settings.port
    stdout.print(f"Warroom demo database: {settings.database_url}")
    stdout.print(f"Open http://{host}:{port}/ and log in as {login.email} / {login.password}")
    cli_state.close()
    if serve_app:
        _run_server(host, port, 1)


def _run_server(host: str, port: int, workers: int) -> None:
    uvicorn.run(
        "warroom.serve:build",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,
        log_level="info",
    )


def main() -> None:
    """Entry point of the `warroom` script."""
    sys.exit(run(sys.argv[1:]))


def run(argv: Sequence[str], *, cli_state: CliState | None = None) -> int:
    """Run one command line and return its exit code.

    Warroom errors become one clear line (plus one per offending field) and exit code 1;
    usage errors print click's message and exit 2. Tests pass `cli_state` to point the
    command at their own settings.
    """
    try:
        result = app(args=list(argv), prog_name="warroom", standalone_mode=False, obj=cli_state)
    except WarroomError as exc:
        stderr.print(f"error: {exc.detail}")
        for item in exc.errors:
            where = f" (line {item.line})" if item.line else ""
            stderr.print(f"  {item.field}{where}: {item.message}")
        return 1
    except typer.Abort:
        stderr.print("aborted")
        return 1
    except typer.TyperException as exc:  # usage errors: typer's own click
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        return int(getattr(exc, "exit_code", 2))
    return result if isinstance(result, int) else 0
