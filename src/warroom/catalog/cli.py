"""`warroom catalog …`: import and export the service catalog."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
import yaml

from warroom.catalog import queries, service
from warroom.clikit import operator, state, stdout
from warroom.errors import InvalidInput

app = typer.Typer(help="Import and export the service catalog.", no_args_is_help=True)


class ExportFormat(StrEnum):
    WARROOM = "warroom"
    BACKSTAGE = "backstage"


@app.command("import")
def import_catalog(ctx: typer.Context, file: Path) -> None:
    """Import a Warroom or Backstage catalog YAML file: all or nothing, idempotent."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {file}: {exc}") from exc
    report = service.import_catalog_text(
        state(ctx).uow(), operator(), text=text, filename=str(file)
    )
    stdout.print(
        f"imported {file}: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged"
    )


@app.command("export")
def export_catalog(
    ctx: typer.Context,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File to write")] = None,
    format: Annotated[ExportFormat, typer.Option(help="warroom or backstage")] = (
        ExportFormat.WARROOM
    ),
) -> None:
    """Export the catalog as YAML to stdout, or to a file with -o."""
    db = state(ctx).database()
    if format is ExportFormat.BACKSTAGE:
        text = yaml.safe_dump_all(queries.export_backstage(db, operator()), sort_keys=False)
    else:
        text = yaml.safe_dump(queries.export_catalog(db, operator()), sort_keys=False)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        stdout.print(f"wrote {output}")
