"""``warroom analyze``: the standalone cross-system diagnosis command (no server, no database).

Why this exists: during an outage a responder has a pile of logs and a terminal.  This module
only parses options, reads the change file, shows a progress bar (Rich, on a terminal only) and
writes the rendered report; the work is done by :func:`warroom.diagnosis.analyze.analyze`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

from warroom.diagnosis.analyze import AnalyzeOptions, Report
from warroom.diagnosis.analyze import analyze as run_analysis
from warroom.diagnosis.reading import total_size
from warroom.diagnosis.render import FORMATS, write_report
from warroom.engines.suspects import Change
from warroom.engines.timestamps import TimestampParser

app = typer.Typer(help="Cross-system diagnosis of log files.", no_args_is_help=True)


@app.callback()
def main() -> None:
    """Cross-system diagnosis of log files."""


def parse_named(values: list[str]) -> dict[str, Path]:
    """``NAME=PATH`` options to a mapping; raises typer.BadParameter on bad syntax."""
    named: dict[str, Path] = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not (sep and name and path):
            raise typer.BadParameter(f"{value!r}: expected NAME=PATH", param_hint="--source")
        named[name] = Path(path)
    return named


def _change(item: Any, index: int) -> Change:
    if not isinstance(item, dict) or "time" not in item:
        raise typer.BadParameter(
            f"change #{index + 1} needs at least a 'time'", param_hint="--changes"
        )  # noqa: E501
    found = TimestampParser().search(str(item["time"]))
    if found is None:
        raise typer.BadParameter(
            f"change #{index + 1}: unreadable time {item['time']!r}", param_hint="--changes"
        )  # noqa: E501
    return Change(
        str(item.get("id", f"change-{index + 1}")),
        str(item.get("kind", "other")),
        str(item.get("service", "")),
        found.ns,
        str(item.get("description", "")),
    )


def load_changes(path: Path) -> tuple[list[Change], dict[str, list[str]]]:
    """Changes (and optional service dependencies) from a YAML or JSON file.

    Accepted shapes: a list of changes, or ``{"changes": [...], "dependencies": {svc: [...]}}``.
    """
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if isinstance(data, dict):
        items, deps = data.get("changes", []), data.get("dependencies", {})
    else:
        items, deps = data or [], {}
    if not isinstance(items, list) or not isinstance(deps, dict):
        raise typer.BadParameter("expected a list of changes", param_hint="--changes")
    dependencies = {str(k): [str(v) for v in (vs or [])] for k, vs in deps.items()}
    return [_change(item, i) for i, item in enumerate(items)], dependencies


@contextmanager
def _progress(total: int, enabled: bool) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    columns = (TextColumn("analysing"), BarColumn(), DownloadColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("analyse", total=max(total, 1))
        yield lambda advance: bar.advance(task, advance)
        bar.update(task, completed=total)


def _write(report: Report, fmt: str, output: Path | None) -> None:
    if output is None:
        out: TextIO = sys.stdout
        write_report(report, fmt, out)
        return
    with output.open("w", encoding="utf-8") as handle:
        write_report(report, fmt, handle)


@app.command("analyze")
def analyze(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files, directories, archives.")
    ] = None,  # noqa: E501
    source: Annotated[
        list[str] | None, typer.Option("--source", help="NAME=PATH: a named source.")
    ] = None,  # noqa: E501
    reference: Annotated[str | None, typer.Option(help="Reference clock (source name).")] = None,
    changes: Annotated[Path | None, typer.Option(help="Change events, YAML or JSON.")] = None,
    rule: Annotated[
        list[str] | None, typer.Option("--rule", help="'A:REGEX -> B:REGEX': A happens before B.")
    ] = None,  # noqa: E501
    fmt: Annotated[str, typer.Option("--format", help="text|json|markdown|html")] = "text",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to FILE.")] = None,
    max_events: Annotated[int, typer.Option(min=0, help="Events kept in the output.")] = 1_000_000,  # noqa: E501
    redact_ips: Annotated[
        bool, typer.Option("--redact-ips", help="Also redact IP addresses.")
    ] = False,  # noqa: E501
) -> None:
    """Merge logs from several systems into one clock-corrected timeline with onset and suspects."""
    if fmt not in FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(FORMATS)}", param_hint="--format")
    named = parse_named(source or [])
    if not paths and not named:
        raise typer.BadParameter("give at least one PATH or --source NAME=PATH")
    change_list, dependencies = load_changes(changes) if changes else ([], {})
    options = AnalyzeOptions(
        reference=reference, rules=tuple(rule or ()), changes=tuple(change_list),
        dependencies=dependencies, max_events=max_events, redact_ips=redact_ips,
    )  # fmt: skip
    interactive = sys.stderr.isatty()
    with _progress(total_size(paths or [], named), interactive) as advance:
        try:
            report = run_analysis(paths or [], named=named, options=options, progress=advance)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--rule") from exc
    _write(report, fmt, output)
    if output is not None:
        Console(stderr=True).print(f"wrote {fmt} report to {output}")
