"""Prometheus Alertmanager webhook payloads, version 4.

Alertmanager posts one notification per alert group: `status`, `groupKey`, `groupLabels`,
`commonLabels` and every alert of the group with its `fingerprint`, which is the dedup key.
A resolved alert comes back with `status: resolved` and a real `endsAt`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from warroom.integrations.signals import (
    Action,
    AlertSignal,
    PayloadError,
    problems_from,
    severity_of,
    stable_key,
)


class _Alert(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: datetime | None = None
    endsAt: datetime | None = None
    generatorURL: str = ""
    fingerprint: str = ""


class _Notification(BaseModel):
    model_config = ConfigDict(extra="allow")

    version: Literal["4"]
    groupKey: str = ""
    status: Literal["firing", "resolved"]
    receiver: str = ""
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = ""
    alerts: list[_Alert] = Field(min_length=1)


def parse(document: Any) -> list[AlertSignal]:
    """Every alert of one notification as a signal (trigger for firing, resolve for resolved).

    Raises:
        PayloadError: naming the offending fields.
    """
    try:
        notification = _Notification.model_validate(document)
    except ValidationError as exc:
        raise PayloadError("not an Alertmanager webhook (version 4)", problems_from(exc)) from exc
    return [_signal(alert, notification) for alert in notification.alerts]


def _signal(alert: _Alert, notification: _Notification) -> AlertSignal:
    labels = alert.labels
    title = alert.annotations.get("summary") or labels.get("alertname", "Alertmanager alert")
    links = ({"href": alert.generatorURL, "text": "Source"},) if alert.generatorURL else ()
    details: dict[str, Any] = {
        "annotations": alert.annotations,
        "group_key": notification.groupKey,
        "receiver": notification.receiver,
    }
    return AlertSignal(
        action=Action.TRIGGER if alert.status == "firing" else Action.RESOLVE,
        dedup_key=alert.fingerprint or stable_key(sorted(labels.items())),
        title=title,
        severity=severity_of(labels.get("severity")),
        service=labels.get("service", ""),
        source=labels.get("instance") or labels.get("job", "alertmanager"),
        labels=labels,
        details=details,
        links=links,
        started_at=alert.startsAt,
    )
