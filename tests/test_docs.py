"""Documentation is part of the product: every setting, command and problem type is in docs/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer

from warroom.cli import app
from warroom.config import Settings
from warroom.errors import ALL_ERRORS

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _all_docs() -> str:
    return "\n".join(path.read_text() for path in DOCS.glob("*.md"))


def _command_paths(command: Any, path: tuple[str, ...]) -> list[str]:
    children = getattr(command, "commands", None)
    if not children:
        return [" ".join(path)]
    paths = []
    for name, child in children.items():
        paths += _command_paths(child, (*path, name))
    return paths


@pytest.mark.parametrize("name", list(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    text = (DOCS / "settings.md").read_text()
    assert f"`{name}`" in text and f"`WARROOM_{name.upper()}`" in text


@pytest.mark.parametrize("name", list(Settings.model_fields))
def test_every_setting_has_a_description(name: str) -> None:
    assert Settings.model_fields[name].description


@pytest.mark.parametrize("command", _command_paths(typer.main.get_command(app), ("warroom",)))
def test_every_cli_command_is_documented(command: str) -> None:
    assert f"`{command}`" in _all_docs()


@pytest.mark.parametrize("error", ALL_ERRORS, ids=lambda e: e.slug)
def test_every_problem_type_is_documented(error: type) -> None:
    assert f"`{error.slug}`" in (DOCS / "api.md").read_text()  # type: ignore[attr-defined]
