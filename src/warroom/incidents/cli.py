"""`warroom incident …`: declare, list, show, update and resolve incidents from a shell.

Commands act as the operator (an administrator, audited by OS user) and call the same service
functions as the API and the pages.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from warroom.clikit import operator, state, stdout
from warroom.incidents import queries, service
from warroom.incidents.markdown import render as render_markdown
from warroom.incidents.schemas import (
    IncidentCreate,
    IncidentDetail,
    IncidentUpdate,
    Severity,
    Status,
    parse,
)

app = typer.Typer(help="Declare, list, show, update and resolve incidents.", no_args_is_help=True)


@app.command("declare")
def declare(
    ctx: typer.Context,
    title: str,
    severity: Annotated[Severity, typer.Option("--severity", "-s", help="SEV1..SEV4")] = (
        Severity.SEV3
    ),
    services: Annotated[
        list[str] | None, typer.Option("--service", help="Impacted service (repeatable)")
    ] = None,
    summary: Annotated[str, typer.Option(help="What is happening")] = "",
    impact: Annotated[str, typer.Option(help="Customer impact, in plain language")] = "",
) -> None:
    """Declare an incident; prints its number."""
    data = parse(
        IncidentCreate,
        {
            "title": title,
            "severity": severity,
            "services": services or [],
            "summary": summary,
            "customer_impact": impact,
            "impact_ongoing": bool(impact),
        },
        what="incident",
    )
    out = service.declare_incident(state(ctx).uow(), operator(), data=data)
    stdout.print(f"declared incident #{out.id}: {out.title} ({out.severity.value}, {out.status})")


@app.command("list")
def list_incidents(
    ctx: typer.Context,
    status: Annotated[Status | None, typer.Option(help="Only this status")] = None,
    severity: Annotated[Severity | None, typer.Option(help="Only this severity")] = None,
    service_name: Annotated[str | None, typer.Option("--service", help="Impacted service")] = None,
    search: Annotated[str | None, typer.Option("--search", "-q", help="Title/summary")] = None,
    active: Annotated[bool, typer.Option("--active", help="Only active incidents")] = False,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
) -> None:
    """List incidents, newest first."""
    page = queries.list_incidents(
        state(ctx).database(),
        operator(),
        status=status,
        severity=severity,
        service=service_name,
        search=search,
        active_only=active,
        limit=limit,
    )
    table = Table("#", "Severity", "Status", "Title", "Commander", "Services")
    for item in page.items:
        title = item.title + (" (update overdue)" if item.update_overdue else "")
        table.add_row(
            str(item.id),
            item.severity.value,
            item.status.value,
            title,
            item.commander or "-",
            ", ".join(item.services) or "-",
        )
    stdout.print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    incident_id: int,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the Markdown export")] = False,
) -> None:
    """Show one incident (or its Markdown export)."""
    detail = queries.get_incident(state(ctx).database(), operator(), incident_id=incident_id)
    if markdown:
        typer.echo(render_markdown(detail), nl=False)
        return
    _print_detail(detail)


def _print_detail(detail: IncidentDetail) -> None:
    stdout.print(f"#{detail.id} {detail.title}")
    stdout.print(f"{detail.severity.value} ({detail.severity_definition.name}) · {detail.status}")
    roles = ", ".join(f"{r.role}: {r.email}" for r in detail.roles) or "none"
    stdout.print(f"roles: {roles}")
    stdout.print(f"services: {', '.join(detail.services) or '-'}")
    stdout.print(f"customer impact: {detail.customer_impact or '-'}")
    if detail.update_overdue:
        stdout.print("stakeholder update overdue")
    allowed = ", ".join(s.value for s in detail.allowed_transitions) or "none"
    stdout.print(f"next statuses: {allowed}")
    for entry in detail.timeline[-10:]:
        stdout.print(f"  {entry.at:%Y-%m-%d %H:%M:%S}  {entry.actor}: {entry.text}", markup=False)


@app.command("update")
def update(
    ctx: typer.Context,
    incident_id: int,
    status: Annotated[Status | None, typer.Option(help="Move to this status")] = None,
    severity: Annotated[Severity | None, typer.Option(help="New severity")] = None,
    title: Annotated[str | None, typer.Option(help="New title")] = None,
    summary: Annotated[str | None, typer.Option(help="New summary")] = None,
    impact: Annotated[str | None, typer.Option(help="Customer impact")] = None,
    eta: Annotated[str | None, typer.Option(help="Expected time to resolution")] = None,
    note: Annotated[str | None, typer.Option(help="Add a timeline note")] = None,
) -> None:
    """Change fields, move the status and/or add a note."""
    cli_state, actor = state(ctx), operator()
    fields: dict[str, Any] = {
        "severity": severity,
        "title": title,
        "summary": summary,
        "customer_impact": impact,
        "eta": eta,
    }
    fields = {k: v for k, v in fields.items() if v is not None}
    if fields:
        data = parse(IncidentUpdate, fields, what="change")
        service.update_incident(cli_state.uow(), actor, incident_id=incident_id, data=data)
    if status is not None:
        service.change_status(
            cli_state.uow(), actor, incident_id=incident_id, status=status, note=note or ""
        )
    elif note:
        service.add_note(cli_state.uow(), actor, incident_id=incident_id, text=note)
    stdout.print(f"updated incident #{incident_id}")


@app.command("resolve")
def resolve(
    ctx: typer.Context,
    incident_id: int,
    note: Annotated[str, typer.Option(help="Why it is resolved")] = "",
) -> None:
    """Resolve an incident."""
    out = service.resolve_incident(state(ctx).uow(), operator(), incident_id=incident_id, note=note)
    stdout.print(f"resolved incident #{out.id}: {out.title}")
