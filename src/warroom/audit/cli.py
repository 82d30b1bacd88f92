"""`warroom audit …`: verify the hash chain, list entries."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from warroom.audit import queries, service
from warroom.clikit import operator, state, stderr, stdout

app = typer.Typer(help="Inspect and verify the audit trail.", no_args_is_help=True)


@app.command("verify")
def verify(ctx: typer.Context) -> None:
    """Check the hash chain; exit 1 naming the first entry that was edited, removed or moved."""
    report = service.verify_chain(state(ctx).database(), operator())
    if report.intact:
        stdout.print(f"audit chain intact: {report.entries_checked} entries verified")
        return
    stderr.print(
        f"audit chain BROKEN at entry seq={report.first_bad_seq} (id {report.first_bad_id}): "
        f"{report.reason}; {report.entries_checked} entries before it verified"
    )
    raise typer.Exit(1)


@app.command("list")
def list_entries(
    ctx: typer.Context,
    action: Annotated[str | None, typer.Option(help="e.g. user.create")] = None,
    object_type: Annotated[str | None, typer.Option(help="e.g. service")] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first")] = 50,
) -> None:
    """Show the newest audit entries."""
    page = queries.list_entries(
        state(ctx).database(), operator(), action=action, object_type=object_type, limit=limit
    )
    table = Table("seq", "at", "actor", "action", "object", "summary")
    for entry in page.items:
        table.add_row(
            str(entry.seq),
            entry.at.isoformat(timespec="seconds"),
            entry.actor_label,
            entry.action,
            f"{entry.object_type} {entry.object_id}",
            str(entry.summary),
        )
    stdout.print(table)
