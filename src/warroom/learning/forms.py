"""Form parsing shared by the learning pages: blank means "unchanged", lists are one per line."""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel
from starlette.datastructures import FormData

from warroom.errors import FieldError, InvalidInput
from warroom.validation import parse_fields

M = TypeVar("M", bound=BaseModel)


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def raw(form: FormData, name: str) -> str:
    """A textarea as typed (Markdown keeps its indentation), line endings normalised."""
    value = form.get(name)
    return value.replace("\r\n", "\n") if isinstance(value, str) else ""


def lines(form: FormData, name: str) -> list[str]:
    return [
        line.strip() for line in text(form, name).replace(",", "\n").splitlines() if line.strip()
    ]


def number(form: FormData, name: str) -> int:
    value = text(form, name)
    if not value.isdigit():
        raise InvalidInput(f"{name} is not a number", [FieldError(name, "expected a number")])
    return int(value)


def day(form: FormData, name: str) -> date | None:
    value = text(form, name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(
            f"{name} is not a date", [FieldError(name, "expected YYYY-MM-DD")]
        ) from exc


def parse(model: type[M], fields: dict[str, Any]) -> M:
    """Validate form fields into `model`, naming each bad field."""
    return parse_fields(model, fields, what="form", root="form")
