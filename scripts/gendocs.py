"""Generators for the reference pages in docs/, run by cog (`cog -r docs/*.md`).

CI runs `cog --check`, so the settings and CLI references can never drift from the code.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer

from warroom.cli import app
from warroom.config import Settings
from warroom.errors import ALL_ERRORS


def settings_reference() -> str:
    rows = ["| Setting | Environment variable | Default | Meaning |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default if field.default_factory is None else "(platform data dir)"
        shown = f"`{default}`" if default not in ("", None) else "(empty)"
        env = f"`WARROOM_{name.upper()}`"
        rows.append(f"| `{name}` | {env} | {shown} | {field.description} |")
    return "\n".join(rows)


def problem_types() -> str:
    rows = [
        "| `type` (after https://warroom.dev/problems/) | Status | Title | Meaning |",
        "|---|---|---|---|",
    ]
    for error in ALL_ERRORS:
        doc = (error.__doc__ or "").strip().splitlines()[0]
        rows.append(f"| `{error.slug}` | {error.status} | {error.title} | {doc} |")
    return "\n".join(rows)


def cli_reference() -> str:
    root = typer.main.get_command(app)
    return "\n".join(_command_sections(root, ["warroom"]))


def _command_sections(command: Any, path: list[str]) -> Iterator[str]:
    children = getattr(command, "commands", None)
    if children:
        if len(path) > 1:
            yield f"## `{' '.join(path)}`\n\n{_first_paragraph(command.help)}\n"
        for name in sorted(children):
            yield from _command_sections(children[name], [*path, name])
        return
    yield f"### `{' '.join(path)}`\n"
    yield _first_paragraph(command.help) + "\n"
    usage = " ".join([*path, *_usage_pieces(command)])
    yield f"```\n{usage}\n```\n"
    options = [p for p in command.params if p.name != "help"]
    if options:
        yield "| Argument / option | Meaning |"
        yield "|---|---|"
        for param in options:
            yield f"| {_param_name(param)} | {_param_help(param)} |"
        yield ""


def _usage_pieces(command: Any) -> list[str]:
    pieces = []
    for param in command.params:
        if param.param_type_name == "argument":
            name = param.name.upper()
            pieces.append(name if param.required else f"[{name}]")
    if any(p.param_type_name == "option" for p in command.params):
        pieces.append("[OPTIONS]")
    return pieces


def _param_name(param: Any) -> str:
    if param.param_type_name == "argument":
        return f"`{param.name.upper()}`"
    names = [*param.opts, *getattr(param, "secondary_opts", [])]
    return ", ".join(f"`{n}`" for n in names)


def _param_help(param: Any) -> str:
    text = getattr(param, "help", None) or ""
    if param.required:
        text += " (required)"
    elif param.param_type_name == "option" and param.default not in (None, False, ""):
        text += f" (default: `{param.default}`)"
    return text.strip() or "—"


def _first_paragraph(text: str | None) -> str:
    return (text or "").strip().split("\n\n")[0].replace("\n", " ")
