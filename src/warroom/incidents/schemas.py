"""Input and output shapes for incidents, and the vocabularies they use."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from warroom.validation import parse_fields

Model = TypeVar("Model", bound=BaseModel)


class Severity(StrEnum):
    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"


class Status(StrEnum):
    TRIAGE = "triage"
    INVESTIGATING = "investigating"
    MITIGATING = "mitigating"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    LEARNING = "learning"
    CLOSED = "closed"
    DECLINED = "declined"
    MERGED = "merged"
    CANCELLED = "cancelled"


class ResponderRole(StrEnum):
    COMMANDER = "commander"
    COMMUNICATIONS = "communications"
    OPERATIONS = "operations"
    SCRIBE = "scribe"
    SME = "sme"
    OBSERVER = "observer"


class Confidence(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class AssumptionStatus(StrEnum):
    OPEN = "open"
    VALIDATED = "validated"
    INVALIDATED = "invalidated"


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class HypothesisStatus(StrEnum):
    OPEN = "open"
    TESTING = "testing"
    CONFIRMED = "confirmed"
    REFUTED = "refuted"


class Audience(StrEnum):
    EXECUTIVE = "executive"
    CUSTOMER = "customer"
    ENGINEERING = "engineering"


class ChangeKind(StrEnum):
    CODE = "code"
    CONFIG = "config"
    INFRASTRUCTURE = "infrastructure"
    FLAG = "flag"


class ResponseMode(StrEnum):
    CONTAIN = "contain"
    INVESTIGATE = "investigate"


Text = Field(default="", max_length=10_000)


# --- inputs ------------------------------------------------------------------------------


class IncidentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    severity: Severity = Severity.SEV3
    summary: str = Field(default="", max_length=10_000)
    services: list[str] = Field(default_factory=list, max_length=100)
    customer_impact: str = Field(default="", max_length=10_000)
    impact_ongoing: bool = False
    started_at: datetime | None = None
    detected_at: datetime | None = None


class IncidentUpdate(BaseModel):
    """Fields any responder may edit, and (severity, scope, services) that only the IC may."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=200)
    summary: str | None = Field(default=None, max_length=10_000)
    customer_impact: str | None = Field(default=None, max_length=10_000)
    impact_ongoing: bool | None = None
    eta: str | None = Field(default=None, max_length=200)
    started_at: datetime | None = None
    severity: Severity | None = None
    services: list[str] | None = Field(default=None, max_length=100)
    in_scope: list[str] | None = Field(default=None, max_length=100)
    out_of_scope: list[str] | None = Field(default=None, max_length=100)


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Status
    note: str = Field(default="", max_length=10_000)


class RoleAssign(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str = Field(min_length=3, max_length=320, description="e-mail address")
    role: ResponderRole


class NoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=10_000)


class DecisionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: str = Field(min_length=1, max_length=10_000)
    rationale: str = Field(default="", max_length=10_000)
    alternatives: list[str] = Field(default_factory=list, max_length=20)


class StakeholderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="engineering, product, …")
    success: str = Field(min_length=1, max_length=5000, description="their definition of done")


class AssumptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    statement: str = Field(min_length=1, max_length=5000)
    evidence: str = Field(default="", max_length=5000)
    confidence: Confidence = Confidence.MEDIUM
    owner: str = Field(default="", max_length=320)
    review_by: datetime | None = None


class AssumptionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: AssumptionStatus | None = None
    evidence: str | None = Field(default=None, max_length=5000)
    confidence: Confidence | None = None
    review_by: datetime | None = None


class HypothesisCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    statement: str = Field(min_length=1, max_length=5000)
    test_plan: str = Field(default="", max_length=5000)
    production_risk: Risk = Risk.LOW


class HypothesisUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: HypothesisStatus | None = None
    result: str | None = Field(default=None, max_length=5000)


class UpdateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    audience: Audience
    body: str = Field(min_length=1, max_length=10_000)


class ResponseModeChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: ResponseMode
    rationale: str = Field(default="", max_length=5000)


class WorkstreamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    lead: str | None = Field(default=None, max_length=320, description="e-mail of the lead")
    services: list[str] = Field(default_factory=list, max_length=100)


class MergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    into: int = Field(ge=1, description="the incident this one duplicates")


class EscalationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    team: str = Field(min_length=1, max_length=320, description="team name or a person")
    reason: str = Field(min_length=1, max_length=5000)


class ProposalVerdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accept: bool
    rationale: str = Field(default="", max_length=5000)


class SeverityDefinitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    description: str = Field(min_length=1, max_length=5000)
    update_every_minutes: int = Field(ge=5, le=10_080)


# --- outputs -----------------------------------------------------------------------------


class SeverityDefinition(BaseModel):
    severity: Severity
    name: str
    description: str
    update_every_minutes: int
    customised: bool = False


class RoleOut(BaseModel):
    id: int
    role: ResponderRole | str
    user_id: int
    email: str
    display_name: str
    assigned_at: datetime


class TimelineOut(BaseModel):
    id: int
    at: datetime
    kind: str
    text: str
    data: dict[str, Any]
    actor: str


class DecisionOut(BaseModel):
    id: int
    kind: str
    decision: str
    rationale: str
    alternatives: list[str]
    decided_by: str
    decided_at: datetime


class StakeholderOut(BaseModel):
    id: int
    name: str
    success: str


class AssumptionOut(BaseModel):
    id: int
    statement: str
    evidence: str
    confidence: Confidence
    owner: str
    status: AssumptionStatus
    review_by: datetime | None
    overdue: bool


class HypothesisOut(BaseModel):
    id: int
    statement: str
    test_plan: str
    production_risk: Risk
    status: HypothesisStatus
    result: str
    created_by: str


class UpdateOut(BaseModel):
    id: int
    audience: Audience
    body: str
    author: str
    published_at: datetime


class WorkstreamOut(BaseModel):
    id: int
    title: str
    status: Status
    lead: str | None
    services: list[str]
    last_entry: str | None


class IncidentSummary(BaseModel):
    """A row of the incident list."""

    id: int
    title: str
    severity: Severity
    status: Status
    services: list[str]
    commander: str | None
    parent_id: int | None
    detected_at: datetime
    resolved_at: datetime | None
    update_overdue: bool


class IncidentOut(BaseModel):
    id: int
    title: str
    summary: str
    severity: Severity
    severity_definition: SeverityDefinition
    status: Status
    allowed_transitions: list[Status]
    source: str
    customer_impact: str
    impact_ongoing: bool
    eta: str
    response_mode: ResponseMode | None
    services: list[str]
    in_scope: list[str]
    out_of_scope: list[str]
    parent_id: int | None
    merged_into_id: int | None
    recurrence_of_id: int | None
    started_at: datetime | None
    detected_at: datetime
    acknowledged_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    last_update_at: datetime | None
    next_update_due: datetime | None
    update_overdue: bool
    roles: list[RoleOut]


class IncidentDetail(IncidentOut):
    """Everything the incident page shows, read in one go."""

    timeline: list[TimelineOut]
    decisions: list[DecisionOut]
    stakeholders: list[StakeholderOut]
    assumptions: list[AssumptionOut]
    hypotheses: list[HypothesisOut]
    updates: list[UpdateOut]
    workstreams: list[WorkstreamOut]


class ChangeOut(BaseModel):
    id: int
    service_name: str
    summary: str
    source: str
    kind: ChangeKind
    happened_at: datetime
    details: dict[str, Any]


class Recommendation(BaseModel):
    mode: ResponseMode
    reasons: list[str]
    suggested_action: str
    changes: list[ChangeOut]
    chosen: ResponseMode | None


class ProposedWorkstream(BaseModel):
    title: str
    origin: str
    services: list[str]
    reason: str


class SplitProposal(BaseModel):
    workstreams: list[ProposedWorkstream]
    reasoning: list[str]


class SuggestedResponder(BaseModel):
    email: str
    display_name: str
    reasons: list[str]


class UpdateDraft(BaseModel):
    audience: Audience
    body: str


class PublicIncident(BaseModel):
    """What the public status page may show: no titles, services or internals."""

    reference: str
    state: str
    started: datetime
    updates: list[UpdateOut]


def parse(model: type[Model], fields: Mapping[str, object], *, what: str = "input") -> Model:
    """Validate raw fields (a form, CLI options) into `model`, naming each bad field."""
    return parse_fields(model, fields, what=what)
