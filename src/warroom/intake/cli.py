"""`warroom integration …`, `warroom alert send` and `warroom intake …` commands."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from warroom.clikit import operator, state, stderr, stdout
from warroom.db.base import utcnow
from warroom.engines import alertgrouping as grouping
from warroom.errors import FieldError, InvalidInput
from warroom.intake import queries, service
from warroom.intake.schemas import IntegrationUpdate, MaintenanceCreate, ReplayReport
from warroom.integrations.signals import Action, AlertSignal, severity_of

integrations = typer.Typer(help="Alert integrations and their credentials.", no_args_is_help=True)
alerts = typer.Typer(help="Alerts.", no_args_is_help=True)
intake = typer.Typer(help="Grouping rules, replay, dead letters.", no_args_is_help=True)
dead_letters = typer.Typer(help="Deliveries that could not be read.", no_args_is_help=True)
maintenance = typer.Typer(help="Maintenance windows (silences).", no_args_is_help=True)
rules = typer.Typer(help="The live grouping rules.", no_args_is_help=True)
intake.add_typer(dead_letters, name="dead-letters")
intake.add_typer(maintenance, name="maintenance")
intake.add_typer(rules, name="rules")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {path}: {exc}") from exc


def _duration(text: str, name: str) -> timedelta:
    try:
        return grouping.parse_duration(text)
    except ValueError as exc:
        raise InvalidInput(str(exc), [FieldError(name, str(exc))]) from exc


@integrations.command("create")
def create_integration(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="alertmanager, pagerduty, opsgenie or generic")],
    name: str,
    default_service: Annotated[
        str, typer.Option("--service", help="Service for alerts that name none")
    ] = "",
    mapping: Annotated[
        Path | None, typer.Option(help="Field mapping file, JSON or YAML (generic only)")
    ] = None,
    max_body_bytes: Annotated[int | None, typer.Option(help="Per-integration body limit")] = None,
) -> None:
    """Create an integration; prints its credential alone on stdout (shown only once)."""
    fields: dict[str, object] = {"kind": kind, "name": name, "default_service": default_service}
    if mapping is not None:
        fields["mapping"] = service.parse_mapping_text(_read(mapping))
    if max_body_bytes is not None:
        fields["max_body_bytes"] = max_body_bytes
    data = service.parse_integration_create(**fields)
    created = service.create_integration(state(ctx).uow(), operator(), data=data)
    stderr.print(f"created {created.kind.value} integration {created.name}: {created.endpoint}")
    typer.echo(created.credential)


@integrations.command("list")
def list_integrations(ctx: typer.Context) -> None:
    """List integrations with their endpoints and credential prefixes."""
    table = Table("name", "kind", "endpoint", "credential", "service", "status")
    for item in queries.list_integrations(state(ctx).database(), operator()):
        status = "disabled" if item.disabled_at else "active"
        table.add_row(
            item.name,
            item.kind.value,
            item.endpoint,
            item.credential_prefix + "…",
            item.default_service,
            status,
        )
    stdout.print(table)


@integrations.command("update")
def update_integration(
    ctx: typer.Context,
    name: str,
    default_service: Annotated[
        str | None, typer.Option("--service", help="Default service")
    ] = None,
    mapping: Annotated[Path | None, typer.Option(help="New field mapping file (generic)")] = None,
) -> None:
    """Change an integration's default service or field mapping."""
    new_mapping = service.parse_mapping_text(_read(mapping)) if mapping else None
    data = IntegrationUpdate(default_service=default_service, mapping=new_mapping)
    service.update_integration(state(ctx).uow(), operator(), name=name, data=data)
    stdout.print(f"integration {name} updated")


@integrations.command("rotate")
def rotate(ctx: typer.Context, name: str) -> None:
    """Issue a new credential (printed alone on stdout); the old one stops working."""
    created = service.rotate_credential(state(ctx).uow(), operator(), name=name)
    typer.echo(created.credential)


@integrations.command("disable")
def disable(ctx: typer.Context, name: str) -> None:
    """Stop accepting deliveries from an integration."""
    service.disable_integration(state(ctx).uow(), operator(), name=name)
    stdout.print(f"integration {name} disabled")


@alerts.command("send")
def send_alert(
    ctx: typer.Context,
    integration: Annotated[str, typer.Argument(help="Integration name")],
    title: Annotated[str, typer.Option(help="Alert title")] = "Test alert from warroom",
    severity: Annotated[str, typer.Option(help="SEV1..SEV4, critical, warning, P1..P5")] = "SEV4",
    service_name: Annotated[str, typer.Option("--service", help="Affected service")] = "",
    dedup_key: Annotated[str, typer.Option(help="Dedup key (default: from the title)")] = "",
    resolve: Annotated[bool, typer.Option(help="Resolve the alert instead")] = False,
) -> None:
    """Send a test alert through an integration's grouping path, as a delivery would."""
    signal = AlertSignal(
        action=Action.RESOLVE if resolve else Action.TRIGGER,
        dedup_key=dedup_key or f"test:{title}",
        title=title,
        severity=severity_of(severity, default="SEV4"),
        service=service_name,
        source="warroom alert send",
    )
    result = service.send_test_alert(
        state(ctx).uow(), operator(), integration_name=integration, signal=signal
    )
    for item in result.alerts:
        incident = f", incident #{item.incident_id}" if item.incident_id else ""
        stdout.print(f"alert {item.alert_id}: {item.outcome}{incident}")


@intake.command("replay")
def replay(
    ctx: typer.Context,
    rules_file: Annotated[
        Path | None, typer.Option("--rules", help="Rules YAML to try (default: the live rules)")
    ] = None,
    since: Annotated[str, typer.Option(help="How far back, e.g. 7d, 12h")] = "7d",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Re-run grouping rules over stored alerts; print the incidents, diffed against reality."""
    db = state(ctx).database()
    if rules_file is None:
        document = queries.get_rules(db, operator()).document
    else:
        document = service.parse_rules_text(_read(rules_file))
    report = queries.replay(
        db,
        operator(),
        rules=grouping.parse_rules(document),
        since=utcnow() - _duration(since, "since"),
    )
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    _print_replay(report)


def _print_replay(report: ReplayReport) -> None:
    table = Table("change", "opened", "severity", "rule", "title", "alerts", "actual incident")
    for line in report.incidents:
        opened = line.opened_at.strftime("%Y-%m-%d %H:%M") if line.opened_at else "-"
        actual = f"#{line.actual_incident}" if line.actual_incident else "-"
        alert_ids = ", ".join(str(a) for a in (line.alerts or line.actual_alerts)[:8])
        table.add_row(line.change, opened, line.severity, line.rule, line.title, alert_ids, actual)
    stdout.print(table)
    stdout.print(
        f"{report.deliveries} deliveries of {report.alerts} alerts since "
        f"{report.since:%Y-%m-%d %H:%M}: {report.count('same')} same, "
        f"{report.count('changed')} changed, {report.count('new')} new, "
        f"{report.count('gone')} would not open"
    )


@intake.command("tick")
def tick(ctx: typer.Context) -> None:
    """Evaluate time-based opening rules now (servers also do this every 15 s)."""
    report = service.tick(state(ctx).uow())
    opened = ", ".join(f"#{i}" for i in report.opened) or "none"
    stdout.print(f"opened: {opened}; expired: {report.expired}; waiting: {report.waiting}")


@rules.command("show")
def show_rules(ctx: typer.Context) -> None:
    """Print the live grouping rules (YAML as set)."""
    current = queries.get_rules(state(ctx).database(), operator())
    typer.echo(current.source or "# no rules set: every alert uses the default rule")


@rules.command("set")
def set_rules(ctx: typer.Context, file: Path) -> None:
    """Replace the live grouping rules with a YAML file (validated first)."""
    result = service.set_rules(state(ctx).uow(), operator(), source=_read(file))
    names = ", ".join(str(r.get("name")) for r in result.document.get("rules", []))
    stdout.print(f"grouping rules set: {names or 'none'}")


@dead_letters.command("list")
def list_dead_letters(ctx: typer.Context) -> None:
    """The most recent dead letters."""
    table = Table("id", "received", "endpoint", "integration", "reason", "size", "status")
    for item in queries.list_dead_letters(state(ctx).database(), operator()):
        table.add_row(
            str(item.id),
            f"{item.received_at:%Y-%m-%d %H:%M:%S}",
            item.endpoint,
            str(item.integration_id or "-"),
            item.reason,
            f"{item.size} B",
            item.status,
        )
    stdout.print(table)


@dead_letters.command("show")
def show_dead_letter(ctx: typer.Context, dead_letter_id: int) -> None:
    """One dead letter: why it was refused, and its body as received."""
    item = queries.get_dead_letter(state(ctx).database(), operator(), dead_letter_id=dead_letter_id)
    stdout.print(f"dead letter {item.id} ({item.endpoint}, {item.status}): {item.reason}")
    for error in item.errors:
        stdout.print(f"  {error.get('field')}: {error.get('message')}")
    typer.echo(item.body)


@dead_letters.command("replay")
def replay_dead_letter(ctx: typer.Context, dead_letter_id: int) -> None:
    """Run a dead letter through intake again."""
    item = service.replay_dead_letter(state(ctx).uow(), operator(), dead_letter_id=dead_letter_id)
    stdout.print(f"dead letter {item.id}: {item.status} ({item.replay_note})")


@maintenance.command("add")
def add_maintenance(
    ctx: typer.Context,
    name: str,
    duration: Annotated[str, typer.Option(help="How long from now (or from --start)")] = "1h",
    start_in: Annotated[str, typer.Option(help="Starts after this delay, e.g. 30m")] = "0s",
    service_names: Annotated[
        list[str] | None, typer.Option("--service", help="Silenced service (repeatable)")
    ] = None,
    labels: Annotated[
        list[str] | None, typer.Option("--label", help="Silenced label NAME=VALUE (repeatable)")
    ] = None,
) -> None:
    """Schedule a maintenance window: matching alerts are recorded but open nothing."""
    starts = utcnow() + _duration(start_in, "start_in")
    pairs = [item.partition("=") for item in labels or []]
    data = MaintenanceCreate(
        name=name,
        starts_at=starts,
        ends_at=starts + _duration(duration, "duration"),
        services=service_names or [],
        labels={key: value for key, _, value in pairs},
    )
    window = service.create_maintenance(state(ctx).uow(), operator(), data=data)
    stdout.print(f"maintenance window {window.id} until {window.ends_at:%Y-%m-%d %H:%M} UTC")


@maintenance.command("list")
def list_maintenance(ctx: typer.Context) -> None:
    """Maintenance windows, past and future."""
    for item in queries.list_maintenance(state(ctx).database(), operator()):
        scope = json.dumps({"services": item.services, "labels": item.labels})
        stdout.print(
            f"{item.id}  {item.starts_at:%Y-%m-%d %H:%M} → {item.ends_at:%Y-%m-%d %H:%M}  "
            f"{item.name}  {scope}"
        )


@maintenance.command("end")
def end_maintenance(ctx: typer.Context, window_id: int) -> None:
    """End a maintenance window now."""
    service.end_maintenance(state(ctx).uow(), operator(), window_id=window_id)
    stdout.print(f"maintenance window {window_id} ended")
