"""Opsgenie Alert API compatibility: create (`POST /v2/alerts`) and close by alias.

For teams leaving Opsgenie: point the same tooling at Warroom with a `GenieKey` credential.
The alias is the dedup key (a create with the alias of an open alert counts a repeat); an
alert without alias gets a fresh one, as Opsgenie does.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from warroom.integrations.signals import (
    Action,
    AlertSignal,
    PayloadError,
    problems_from,
    severity_of,
    string_map,
)


class _Create(BaseModel):
    model_config = ConfigDict(extra="allow")

    message: str = Field(min_length=1, max_length=130)
    alias: str = Field(default="", max_length=512)
    description: str = Field(default="", max_length=15000)
    priority: Literal["P1", "P2", "P3", "P4", "P5"] = "P3"
    tags: list[str] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)
    entity: str = Field(default="", max_length=512)
    source: str = Field(default="", max_length=100)
    user: str = ""
    note: str = ""


def parse_create(document: Any) -> AlertSignal:
    """A create request as a trigger signal.

    Raises:
        PayloadError: naming the offending fields.
    """
    try:
        create = _Create.model_validate(document)
    except ValidationError as exc:
        raise PayloadError("Request body is not valid", problems_from(exc)) from exc
    details = string_map(create.details)
    tag_service = next((t.split(":", 1)[1] for t in create.tags if t.startswith("service:")), "")
    return AlertSignal(
        action=Action.TRIGGER,
        dedup_key=create.alias or str(uuid.uuid4()),
        title=create.message,
        severity=severity_of(create.priority),
        service=details.get("service") or tag_service,
        source=create.source or create.entity,
        labels={"entity": create.entity, **{f"tag:{t}": "true" for t in create.tags}},
        details={"description": create.description, "details": details, "tags": create.tags},
    )


def close_signal(
    identifier: str, identifier_type: str, action: Action = Action.RESOLVE
) -> AlertSignal:
    """A close (or acknowledge) request for the open alert with this alias or Warroom id."""
    if not identifier.strip():
        raise PayloadError("identifier is required", [("identifier", "must not be empty")])
    key = identifier if identifier_type == "alias" else f"#id:{identifier}"
    return AlertSignal(action=action, dedup_key=key)
