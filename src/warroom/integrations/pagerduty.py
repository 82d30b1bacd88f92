"""PagerDuty Events API v2 (`/v2/enqueue`) and Change Events (`/v2/change/enqueue`).

The `routing_key` in the body is the credential. Semantics follow PagerDuty's: a trigger
without `dedup_key` always opens a new alert (the key is generated and returned); acknowledge
and resolve need the key of an open alert; after a resolve the key opens a new alert.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from warroom.integrations.signals import (
    Action,
    AlertSignal,
    ChangeSignal,
    PayloadError,
    problems_from,
    severity_of,
)

CHANGE_KINDS = ("code", "config", "infrastructure", "flag")


class _Payload(BaseModel):
    model_config = ConfigDict(extra="allow")

    summary: str = Field(min_length=1, max_length=1024)
    source: str = Field(min_length=1, max_length=255)
    severity: Literal["critical", "error", "warning", "info"]
    timestamp: datetime | None = None
    component: str = ""
    group: str = ""
    class_: str = Field(default="", alias="class")
    custom_details: Any = None


class _Event(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    routing_key: str = Field(min_length=1, max_length=200)
    event_action: Literal["trigger", "acknowledge", "resolve"]
    dedup_key: str | None = Field(default=None, max_length=255)
    payload: _Payload | None = None
    client: str = ""
    client_url: str = ""
    links: list[dict[str, Any]] = Field(default_factory=list)
    images: list[dict[str, Any]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _needs(self) -> _Event:
        if self.event_action == "trigger" and self.payload is None:
            raise ValueError("a trigger event needs a payload")
        if self.event_action != "trigger" and not self.dedup_key:
            raise ValueError(f"an {self.event_action} event needs a dedup_key")
        return self


class _ChangePayload(BaseModel):
    model_config = ConfigDict(extra="allow")

    summary: str = Field(min_length=1, max_length=1024)
    source: str = Field(default="", max_length=255)
    timestamp: datetime | None = None
    custom_details: dict[str, Any] = Field(default_factory=dict)


class _ChangeEvent(BaseModel):
    model_config = ConfigDict(extra="allow")

    routing_key: str = Field(min_length=1, max_length=200)
    payload: _ChangePayload
    links: list[dict[str, Any]] = Field(default_factory=list)


def routing_key_of(document: Any) -> str | None:
    """The credential, when the body is readable enough to carry one."""
    if isinstance(document, dict) and isinstance(document.get("routing_key"), str):
        return document["routing_key"] or None
    return None


def parse_event(document: Any) -> AlertSignal:
    """An Events API v2 event as a signal.

    Raises:
        PayloadError: naming the offending fields.
    """
    try:
        event = _Event.model_validate(document)
    except ValidationError as exc:
        raise PayloadError("Event object is invalid", problems_from(exc)) from exc
    if event.payload is None:
        return AlertSignal(action=Action(event.event_action), dedup_key=event.dedup_key)
    payload = event.payload
    details = payload.custom_details
    details = details if isinstance(details, dict) else {"details": details}
    labels = {"component": payload.component, "group": payload.group, "class": payload.class_}
    return AlertSignal(
        action=Action.TRIGGER,
        dedup_key=event.dedup_key,
        title=payload.summary,
        severity=severity_of(payload.severity),
        service=str(details.get("service") or payload.component or ""),
        source=payload.source,
        labels={k: v for k, v in labels.items() if v},
        details={**details, "client": event.client, "images": event.images},
        links=tuple(event.links),
        started_at=payload.timestamp,
    )


def parse_change(document: Any) -> ChangeSignal:
    """A change event as a signal (kind from `custom_details.kind`, default `code`)."""
    try:
        event = _ChangeEvent.model_validate(document)
    except ValidationError as exc:
        raise PayloadError("Change event object is invalid", problems_from(exc)) from exc
    details = event.payload.custom_details
    kind = str(details.get("kind", "code"))
    if kind not in CHANGE_KINDS:
        raise PayloadError(
            "Change event object is invalid",
            [("payload.custom_details.kind", f"must be one of {', '.join(CHANGE_KINDS)}")],
        )
    return ChangeSignal(
        summary=event.payload.summary,
        source=event.payload.source,
        service=str(details.get("service", "")),
        kind=kind,
        happened_at=event.payload.timestamp,
        details={**details, "links": event.links},
    )
