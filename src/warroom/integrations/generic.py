"""A generic JSON webhook with a declarative field mapping kept on the integration.

The mapping names, as dotted paths into the body, where the title, severity, service, dedup
key and status are; `items` (optional) points at a list of alerts in one body. Status values
are mapped with `resolved_values` / `acknowledged_values`; everything else is firing.
Example::

    {"items": "alerts", "title": "name", "severity": "level", "service": "tags.service",
     "dedup_key": "id", "status": "state", "resolved_values": ["ok", "resolved"]}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from warroom.integrations.signals import (
    Action,
    AlertSignal,
    PayloadError,
    problems_from,
    severity_of,
    stable_key,
)

_MISSING = object()


class FieldMapping(BaseModel):
    """Where each alert field is in the body (dotted paths; list indexes as numbers)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1)
    dedup_key: str = ""
    severity: str = ""
    service: str = ""
    status: str = ""
    source: str = ""
    items: str = ""
    resolved_values: list[str] = Field(default_factory=lambda: ["resolved", "ok", "closed"])
    acknowledged_values: list[str] = Field(default_factory=lambda: ["acknowledged", "ack"])
    severity_map: dict[str, str] = Field(default_factory=dict)


def validate_mapping(raw: Mapping[str, Any]) -> FieldMapping:
    """Check a mapping when the integration is created, naming bad fields."""
    try:
        return FieldMapping.model_validate(raw)
    except ValidationError as exc:
        raise PayloadError("the field mapping is not valid", problems_from(exc)) from exc


def lookup(document: Any, path: str) -> Any:
    """The value at a dotted path, or a sentinel when it is absent."""
    value = document
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def parse(document: Any, mapping: FieldMapping) -> list[AlertSignal]:
    """Every alert in the body as a signal.

    Raises:
        PayloadError: a mapped path is missing or the items path is not a list.
    """
    items = lookup(document, mapping.items) if mapping.items else [document]
    if not isinstance(items, list) or not items:
        raise PayloadError("no alerts in the body", [(mapping.items or "body", "not a list")])
    return [
        _signal(item, mapping, f"{mapping.items}.{i}" if mapping.items else "")
        for i, item in enumerate(items)
    ]


def _text(item: Any, path: str, where: str, *, required: bool = False) -> str:
    if not path:
        return ""
    value = lookup(item, path)
    if value is _MISSING or value is None:
        if required:
            raise PayloadError("a mapped field is missing", [(_join(where, path), "missing")])
        return ""
    return str(value)


def _join(where: str, path: str) -> str:
    return f"{where}.{path}" if where else path


def _signal(item: Any, mapping: FieldMapping, where: str) -> AlertSignal:
    title = _text(item, mapping.title, where, required=True)
    service = _text(item, mapping.service, where)
    status = _text(item, mapping.status, where).lower()
    if status in mapping.resolved_values:
        action = Action.RESOLVE
    elif status in mapping.acknowledged_values:
        action = Action.ACKNOWLEDGE
    else:
        action = Action.TRIGGER
    severity_word = _text(item, mapping.severity, where)
    severity = mapping.severity_map.get(severity_word) or severity_of(severity_word)
    key = _text(item, mapping.dedup_key, where) or stable_key(title, service)
    return AlertSignal(
        action=action,
        dedup_key=key,
        title=title,
        severity=severity,
        service=service,
        source=_text(item, mapping.source, where),
        details={"body": item} if isinstance(item, dict) else {},
    )
