"""Input and output shapes for integrations, alerts, dead letters, silences and replay."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class IntegrationKind(StrEnum):
    ALERTMANAGER = "alertmanager"
    PAGERDUTY = "pagerduty"
    OPSGENIE = "opsgenie"
    GENERIC = "generic"


ENDPOINTS = {
    IntegrationKind.ALERTMANAGER: "/api/v1/intake/alertmanager",
    IntegrationKind.PAGERDUTY: "/api/v1/intake/pagerduty/v2/enqueue",
    IntegrationKind.OPSGENIE: "/api/v1/intake/opsgenie/v2/alerts",
    IntegrationKind.GENERIC: "/api/v1/intake/generic",
}


class IntegrationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: IntegrationKind
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    default_service: str = Field(default="", max_length=100)
    mapping: dict[str, Any] = Field(default_factory=dict)
    max_body_bytes: int | None = Field(default=None, ge=1024)

    @model_validator(mode="after")
    def _mapping_only_for_generic(self) -> IntegrationCreate:
        if self.kind is IntegrationKind.GENERIC and not self.mapping:
            raise ValueError("a generic integration needs a field mapping (at least `title`)")
        if self.kind is not IntegrationKind.GENERIC and self.mapping:
            raise ValueError("only generic integrations take a field mapping")
        return self


class IntegrationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_service: str | None = Field(default=None, max_length=100)
    mapping: dict[str, Any] | None = None
    max_body_bytes: int | None = Field(default=None, ge=1024)


class IntegrationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: IntegrationKind
    name: str
    credential_prefix: str
    default_service: str
    mapping: dict[str, Any]
    max_body_bytes: int | None
    created_at: datetime
    disabled_at: datetime | None

    @property
    def endpoint(self) -> str:
        return ENDPOINTS[self.kind]


class IntegrationCreated(IntegrationOut):
    """Returned once, at creation or rotation: the only time the credential is visible."""

    credential: str


class AcceptedAlert(BaseModel):
    """What one signal did: `created`, `repeated`, `acknowledged`, `resolved` or `ignored`."""

    alert_id: int | None
    dedup_key: str
    outcome: str
    incident_id: int | None = None


class DeliveryResult(BaseModel):
    alerts: list[AcceptedAlert] = Field(default_factory=list)
    change_id: int | None = None


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    integration_id: int
    dedup_key: str
    title: str
    severity: str
    service: str
    source: str
    status: str
    labels: dict[str, Any]
    occurrences: int
    started_at: datetime
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    suppressed: str
    silenced_by: int | None
    group_id: int | None
    incident_id: int | None


class DeadLetterOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    integration_id: int | None
    endpoint: str
    received_at: datetime
    reason: str
    errors: list[Any]
    content_type: str
    status: str
    replayed_at: datetime | None
    replay_note: str
    size: int = 0


class DeadLetterDetail(DeadLetterOut):
    body: str


class MaintenanceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    starts_at: datetime
    ends_at: datetime
    services: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _ordered(self) -> MaintenanceCreate:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("times need a timezone (e.g. 2026-11-27T02:00:00Z)")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if not self.services and not self.labels:
            raise ValueError("name at least one service or label, or every alert is silenced")
        return self


class MaintenanceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    starts_at: datetime
    ends_at: datetime
    services: list[str]
    labels: dict[str, str]
    created_by: str


class RulesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(max_length=100_000, description="The rules as YAML (or JSON).")


class RulesOut(BaseModel):
    source: str
    document: dict[str, Any]
    updated_at: datetime | None
    updated_by: str


class TickReport(BaseModel):
    opened: list[int] = Field(default_factory=list)
    expired: int = 0
    waiting: int = 0


class ReplayIncident(BaseModel):
    change: str
    rule: str
    title: str
    severity: str
    opened_at: datetime | None
    services: list[str]
    alerts: list[int]
    actual_incident: int | None
    actual_alerts: list[int]


class ReplayReport(BaseModel):
    since: datetime
    until: datetime
    alerts: int
    deliveries: int
    incidents: list[ReplayIncident]

    def count(self, change: str) -> int:
        return sum(1 for incident in self.incidents if incident.change == change)
