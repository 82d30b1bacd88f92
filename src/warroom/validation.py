"""Pydantic validation at the edges, reported the Warroom way: InvalidInput naming each field.

Forms, CLI options and files are validated with the same schemas as JSON bodies; this turns
their `ValidationError` into the one error type every entry point already renders.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from warroom.errors import FieldError, InvalidInput

Model = TypeVar("Model", bound=BaseModel)


def field_errors(exc: ValidationError, *, root: str = "body") -> list[FieldError]:
    """One FieldError per problem, located by its dotted path (`root` when it has none)."""
    return [
        FieldError(".".join(str(part) for part in err["loc"]) or root, err["msg"])
        for err in exc.errors()
    ]


def parse_fields(
    model: type[Model], fields: Mapping[str, object], *, what: str, root: str = "body"
) -> Model:
    """Validate raw fields into `model`, or raise InvalidInput("the WHAT is not valid")."""
    try:
        return model.model_validate(dict(fields))
    except ValidationError as exc:
        raise InvalidInput(f"the {what} is not valid", field_errors(exc, root=root)) from exc
