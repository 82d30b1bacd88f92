"""`warroom kb|postmortem|actions|adr|chaos …`: the learning domain on the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from warroom.clikit import operator, state, stdout
from warroom.errors import InvalidInput
from warroom.learning import actions, decisions, knowledge, postmortems, problems, queries
from warroom.learning.exports import ExportFormat, export_actions
from warroom.learning.markdown import postmortem_markdown
from warroom.learning.schemas import ActionStatus, DocKind, SearchFilters

kb = typer.Typer(help="The knowledge base: import history, search, reindex.", no_args_is_help=True)
postmortem = typer.Typer(help="Postmortems as Markdown files.", no_args_is_help=True)
action_items = typer.Typer(help="Action items in Jira and GitHub.", no_args_is_help=True)
adr = typer.Typer(help="Architecture decision records.", no_args_is_help=True)
chaos = typer.Typer(help="Chaos Toolkit experiments from recurring problems.", no_args_is_help=True)

Output = Annotated[Path | None, typer.Option("-o", "--output", help="File to write")]


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {file}: {exc}") from exc


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        stdout.print(f"wrote {output}")


@kb.command("import")
def kb_import(ctx: typer.Context, file: Path) -> int:
    """Import historical postmortems (JSON Lines); idempotent, bad lines reported, good kept."""
    report = knowledge.import_jsonl(state(ctx).uow(), operator(), text=_read(file))
    stdout.print(
        f"imported {file}: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged, {len(report.errors)} rejected"
    )
    for error in report.errors:
        stdout.print(f"  {error}")
    return 1 if report.errors else 0


@kb.command("search")
def kb_search(
    ctx: typer.Context,
    query: str,
    kind: Annotated[DocKind | None, typer.Option(help="Only this kind of record")] = None,
    service: Annotated[str | None, typer.Option(help="Only records about this service")] = None,
    factor: Annotated[str | None, typer.Option(help="Only this contributing factor")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 10,
) -> None:
    """Ranked full-text search over incidents, postmortems, runbooks, ADRs and action items."""
    filters = SearchFilters(kind=kind, service=service, factor=factor)
    result = knowledge.search(
        state(ctx).database(), operator(), query=query, filters=filters, limit=limit
    )
    stdout.print(f"{result.total} results for {query!r}")
    for hit in result.hits:
        stdout.print(f"{hit.rank:8.3f}  {hit.kind.value:10}  {hit.url:24}  {hit.title}")


@kb.command("reindex")
def kb_reindex(ctx: typer.Context) -> None:
    """Refresh the search documents of incidents and postmortems."""
    count = knowledge.reindex(state(ctx).uow(), operator())
    stdout.print(f"reindexed {count} incidents and every postmortem")


@postmortem.command("export")
def postmortem_export(ctx: typer.Context, postmortem_id: int, output: Output = None) -> None:
    """Write a postmortem as Markdown (stdout, or a file with -o)."""
    pm = queries.get_postmortem(state(ctx).database(), operator(), postmortem_id=postmortem_id)
    _emit(postmortem_markdown(pm), output)


@postmortem.command("import")
def postmortem_import(ctx: typer.Context, file: Path) -> None:
    """Create a draft postmortem (and its action items) from a Markdown file."""
    pm = postmortems.import_markdown(state(ctx).uow(), operator(), text=_read(file))
    stdout.print(f"imported postmortem {pm.id}: {pm.title} ({len(pm.actions)} action items)")


@action_items.command("export")
def actions_export(
    ctx: typer.Context,
    format: Annotated[ExportFormat, typer.Option(help="jira-json, jira-csv or github")] = (
        ExportFormat.JIRA_JSON
    ),
    project: Annotated[str, typer.Option(help="Jira project key")] = "OPS",
    status: Annotated[ActionStatus | None, typer.Option(help="Only items in this status")] = None,
    postmortem_id: Annotated[int | None, typer.Option(help="Only this postmortem's items")] = None,
    base_url: Annotated[str, typer.Option(help="Warroom's address, for links")] = "",
    output: Output = None,
) -> None:
    """Export action items for a tracker's importer."""
    items = queries.list_actions(
        state(ctx).database(), operator(), status=status, postmortem_id=postmortem_id
    )
    _emit(export_actions(items, format, project=project, base_url=base_url.rstrip("/")), output)


@action_items.command("sync")
def actions_sync(ctx: typer.Context, file: Path) -> int:
    """Read statuses back from a Jira or GitHub export (JSON or CSV)."""
    report = actions.sync_statuses(state(ctx).uow(), operator(), text=_read(file))
    stdout.print(
        f"synced {file}: {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
        f"{len(report.problems)} problems"
    )
    for problem in report.problems:
        stdout.print(f"  {problem}")
    return 1 if report.problems else 0


@adr.command("export")
def adr_export(ctx: typer.Context, directory: Path) -> None:
    """Write every decision record as DIRECTORY/NNNN-title.md (MADR)."""
    written = decisions.export_adrs(state(ctx).database(), operator(), directory=directory)
    stdout.print(f"wrote {len(written)} decision records to {directory}")


@chaos.command("experiment")
def chaos_experiment(
    ctx: typer.Context,
    class_id: str,
    service: Annotated[str | None, typer.Option(help="Service under test")] = None,
    health_url: Annotated[str | None, typer.Option(help="Health URL of the service")] = None,
    output: Output = None,
) -> None:
    """Draft a Chaos Toolkit experiment (JSON) from a recurring problem class."""
    text = problems.chaos_experiment(
        state(ctx).database(),
        operator(),
        class_id=class_id,
        service=service,
        health_url=health_url,
    )
    _emit(text, output)


@chaos.command("classes")
def chaos_classes(ctx: typer.Context) -> None:
    """List recurring problem classes (their ids are what `chaos experiment` takes)."""
    for problem in problems.list_classes(state(ctx).database(), operator()):
        stdout.print(f"{problem.id:8}  {len(problem.members):3} events  {problem.title}")
